/**
 * Only a point's own enumerable properties are its tags and fields (issue 11, "Callers"):
 * a property put on `Object.prototype` by other code of the application, or inherited through
 * `Object.create(proto)`, is never written, by any encoder (`ts`, `wasm`, `auto`, in the calling
 * thread here; client.write() and the batch writer: test/integration/client-callers.test.ts).
 * Every pollution is undone in `finally`, so the other tests of this worker never see it.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../../../src/encode/encode.js';
import { POOL_MIN_POINTS } from '../../../src/encode/route.js';
import type { Point } from '../../../src/encode/point-encoder.js';
import { InvalidPointError } from '../../../src/errors.js';

const kChoices = ['ts', 'wasm', 'auto'] as const;
const proto = Object.prototype as Record<string, unknown>;

/** Runs `fn` with `Object.prototype[name] = value` (an ordinary, enumerable assignment), then removes it. */
function polluted<T>(name: string, value: unknown, fn: () => T): T {
  expect(Object.hasOwn(proto, name)).toBe(false);
  proto[name] = value;
  try {
    return fn();
  } finally {
    delete proto[name];
  }
}

const lines = (b: Buffer): string[] => b.toString().split('\n').filter((l) => l !== '');
const text = (points: Point[] | Point, encoder: (typeof kChoices)[number], extra: Record<string, unknown> = {}): string[] =>
  lines(encode(points, { precision: 'n', encoder, ...extra }));

/** Enough points that `auto` takes the WebAssembly route too. */
const many = (n: number): Point[] => Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: { host: `h${i % 7}` }, fields: { v: i, s: 'x' }, time: i }));

describe.each(kChoices)('encoder %s', (encoder) => {
  it('ignores an enumerable property of Object.prototype in tags and fields', () => {
    const point: Point = { measurement: 'm', tags: { host: 'a' }, fields: { v: 1.5 }, time: 1 };
    const out = polluted('injected', 'evil', () => text([point, { ...point, time: 2 }], encoder));
    expect(out).toEqual(['m,host=a v=1.5 1', 'm,host=a v=1.5 2']);
  });

  it('ignores it on a large input as well (auto: the WebAssembly route)', () => {
    const points = many(POOL_MIN_POINTS);
    const clean = encode(points, { precision: 'n', encoder });
    const out = polluted('injected', 'evil', () => encode(points, { precision: 'n', encoder }));
    expect(out.equals(clean)).toBe(true);
    expect(out.includes('injected')).toBe(false);
  });

  it('writes no field or tag inherited through Object.create()', () => {
    const fields = Object.assign(Object.create({ inherited: 1 }) as Record<string, number>, { v: 2 });
    const tags = Object.assign(Object.create({ region: 'eu' }) as Record<string, string>, { host: 'a' });
    expect(text([{ measurement: 'm', tags, fields, time: 3 }], encoder)).toEqual(['m,host=a v=2 3']);
  });

  it('refuses a point whose only fields are inherited, as a point without fields', () => {
    const fields = Object.create({ inherited: 1 }) as Record<string, number>;
    let err: unknown;
    try {
      text([{ measurement: 'm', fields, time: 1 }], encoder);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPointError);
    expect((err as InvalidPointError).element).toBe('fields');
    expect((err as InvalidPointError).reason).toMatch(/no field with a value/);
  });

  it('takes only the own extra tags of write options', () => {
    const tags = Object.assign(Object.create({ inherited: 'x' }) as Record<string, string>, { dc: 'one' });
    expect(text([{ measurement: 'm', fields: { v: 1 }, time: 1 }], encoder, { tags })).toEqual(['m,dc=one v=1 1']);
    const out = polluted('injected', 'evil', () => text([{ measurement: 'm', fields: { v: 1 }, time: 1 }], encoder, { tags: { dc: 'one' } }));
    expect(out).toEqual(['m,dc=one v=1 1']);
  });

  it('ignores measurement, tags, time and fields put on Object.prototype', () => {
    const point = { fields: { v: 1 }, time: 5 } as Point;
    expect(polluted('measurement', 'evil', () => text([point], encoder, { measurement: 'mine' }))).toEqual(['mine v=1 5']);
    expect(polluted('tags', { injected: 'evil' }, () => text([{ ...point, measurement: 'm' }], encoder))).toEqual(['m v=1 5']);
    // No time: the clock's, not the polluted 99.
    const [line] = polluted('time', 99, () => text([{ measurement: 'm', fields: { v: 1 } }], encoder));
    expect(BigInt(line!.split(' ')[2]!)).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
    // A point without fields stays refused, rather than taking polluted ones.
    expect(() => polluted('fields', { injected: 'evil' }, () => text([{ measurement: 'm', time: 1 } as unknown as Point], encoder)))
      .toThrow(/fields: missing/);
  });

  it('still reads a point class whose getters are on its prototype', () => {
    class Reading {
      constructor(readonly host: string, readonly value: number) {}
      get measurement(): string { return 'reading'; }
      get tags(): Record<string, string> { return { host: this.host }; }
      get fields(): Record<string, number> { return { value: this.value }; }
      get time(): number { return 7; }
    }
    const out = polluted('injected', 'evil', () => text([new Reading('a', 1) as unknown as Point], encoder));
    expect(out).toEqual(['reading,host=a value=1 7']);
  });
});
