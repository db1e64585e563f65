/**
 * BodyBuilder (src/encode/body-builder.ts) and the raw/point input path (src/encode/input.ts):
 * bodies never exceed the limit, are cut only at line ends, keep order and count lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyBuilder, LineTooLargeError, type EncodedBody } from '../../../src/encode/body-builder.js';
import { encode } from '../../../src/encode/encode.js';
import { encodeAny, encodeSync } from '../../../src/encode/input.js';
import { InvalidPointError } from '../../../src/errors.js';

/** Checks the invariants of a list of bodies built from `lines` (without newlines) under `limit`. */
function checkBodies(bodies: EncodedBody[], lines: string[], limit: number): void {
  let total = 0;
  for (const b of bodies) {
    expect(b.body.length).toBeGreaterThan(0);
    expect(b.body.length).toBeLessThanOrEqual(limit);
    // Cut only at line ends: each body is whole lines.
    expect(b.body[b.body.length - 1]).toBe(10);
    expect(b.body.toString().split('\n').length - 1).toBe(b.lines);
    total += b.lines;
  }
  expect(total).toBe(lines.length);
  // Nothing lost, duplicated or reordered.
  expect(Buffer.concat(bodies.map((b) => b.body)).toString()).toBe(lines.map((l) => `${l}\n`).join(''));
  // Greedy: a body was only closed because the next line did not fit.
  let next = 0;
  for (let i = 0; i < bodies.length - 1; i++) {
    next += bodies[i]!.lines;
    expect(bodies[i]!.body.length + Buffer.byteLength(lines[next]!) + 1).toBeGreaterThan(limit);
  }
}

/** Line text: ASCII and multi-byte characters (2, 3 and 4 UTF-8 bytes), no newline. */
const lineText = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', '=', ',', 'é', '€', '中', '😀'),
  minLength: 1,
  maxLength: 60,
});

describe('BodyBuilder.addLine', () => {
  it('property: bodies stay within maxBodyBytes, whole lines only, in order, line count right', () => {
    fc.assert(
      fc.property(fc.array(lineText, { maxLength: 200 }), fc.integer({ min: 1, max: 600 }), (lines, limit) => {
        const b = new BodyBuilder(limit, 16);
        const accepted: string[] = [];
        for (const l of lines) {
          const bytes = Buffer.byteLength(l) + 1;
          if (bytes > limit) {
            expect(() => b.addLine(l)).toThrow(LineTooLargeError);
            continue;
          }
          b.addLine(l);
          accepted.push(l);
          expect(b.lineCount).toBe(accepted.length);
        }
        checkBodies(b.finish(), accepted, limit);
      }),
      { numRuns: 1000 },
    );
  });

  it('a line exactly as long as the limit (with its newline) fits alone', () => {
    const b = new BodyBuilder(10);
    b.addLine('123456789');
    b.addLine('abc');
    const bodies = b.finish();
    expect(bodies.map((x) => x.body.toString())).toEqual(['123456789\n', 'abc\n']);
    expect(bodies.map((x) => x.lines)).toEqual([1, 1]);
  });

  it('counts bytes, not characters: a multi-byte line that overflows goes to the next body', () => {
    const b = new BodyBuilder(8);
    b.addLine('ab'); // 3 bytes
    b.addLine('€€'); // 7 bytes with its newline: 3 + 7 > 8
    expect(b.finish().map((x) => x.body.toString())).toEqual(['ab\n', '€€\n']);
  });

  it('a single line larger than the limit throws LineTooLargeError with its size', () => {
    const b = new BodyBuilder(10);
    b.addLine('ok');
    let err: unknown;
    try {
      b.addLine('0123456789');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LineTooLargeError);
    expect((err as LineTooLargeError).bytes).toBe(11);
    expect((err as LineTooLargeError).limit).toBe(10);
    expect((err as Error).message).toBe('a line of 11 bytes does not fit a request body of at most 10 bytes');
    // The builder is still usable and kept what it had.
    b.addLine('x');
    expect(b.finish().map((x) => x.body.toString())).toEqual(['ok\nx\n']);
  });

  it('finish() with nothing added gives no bodies', () => {
    expect(new BodyBuilder(1024).finish()).toEqual([]);
  });

  it('grows its buffer past the initial size without losing bytes', () => {
    const b = new BodyBuilder(1_000_000, 8);
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'é'.repeat(i % 17)}`);
    for (const l of lines) b.addLine(l);
    const bodies = b.finish();
    expect(bodies).toHaveLength(1);
    checkBodies(bodies, lines, 1_000_000);
  });
});

describe('BodyBuilder.addRaw', () => {
  it('skips blank and whitespace-only lines, and adds the missing final newline', () => {
    const b = new BodyBuilder(1024);
    b.addRaw(Buffer.from('cpu v=1 1\n\n   \n\t\r\ncpu v=2 2'));
    const bodies = b.finish();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.body.toString()).toBe('cpu v=1 1\ncpu v=2 2\n');
    expect(bodies[0]!.lines).toBe(2);
  });

  it('adds nothing for empty or whitespace-only input', () => {
    const b = new BodyBuilder(1024);
    b.addRaw(Buffer.alloc(0));
    b.addRaw(Buffer.from('\n\n \t\n'));
    expect(b.lineCount).toBe(0);
    expect(b.finish()).toEqual([]);
  });

  it('passes lines through byte for byte (no re-escaping)', () => {
    const raw = 'm,t=a\\ b s="x\\"y" 1\n';
    const b = new BodyBuilder(1024);
    b.addRaw(Buffer.from(raw));
    expect(b.finish()[0]!.body.toString()).toBe(raw);
  });

  it('throws LineTooLargeError for a raw line over the limit', () => {
    const b = new BodyBuilder(10);
    expect(() => b.addRaw(Buffer.from('short\n0123456789\n'))).toThrow(LineTooLargeError);
  });

  it('property: raw chunks are split only at newlines, within the limit, in order', () => {
    const chunk = fc.array(fc.oneof(lineText, fc.constantFrom('', '  ', '\t')), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 20 }), fc.integer({ min: 200, max: 800 }), (chunks, limit) => {
        const b = new BodyBuilder(limit, 16);
        for (const c of chunks) b.addRaw(Buffer.from(c.join('\n')));
        const expected = chunks.flat().filter((l) => l.trim() !== '');
        checkBodies(b.finish(), expected, limit);
      }),
      { numRuns: 500 },
    );
  });
});

describe('input encoding', () => {
  it('mixes points, strings and Buffers in input order', () => {
    const out = encode([
      'a v=1 1',
      { measurement: 'b', fields: { v: 2 }, time: 2 },
      Buffer.from('c v=3 3\n\nd v=4 4\n'),
      new Uint8Array(Buffer.from('e v=5 5')),
    ]);
    expect(out.toString()).toBe('a v=1 1\nb v=2 2\nc v=3 3\nd v=4 4\ne v=5 5\n');
  });

  it('accepts a single point, a single string and any iterable', () => {
    expect(encode({ measurement: 'm', fields: { v: 1 }, time: 1 }).toString()).toBe('m v=1 1\n');
    expect(encode('m v=1 1').toString()).toBe('m v=1 1\n');
    function* gen() {
      yield { measurement: 'm', fields: { v: 1 }, time: 1 };
      yield 'm v=2 2';
    }
    expect(encode(gen()).toString()).toBe('m v=1 1\nm v=2 2\n');
    expect(encode(new Set(['x v=1 1'])).toString()).toBe('x v=1 1\n');
    expect(encode([]).length).toBe(0);
  });

  it('encode() refuses async iterables', () => {
    async function* gen() {
      yield 'm v=1 1';
    }
    expect(() => encode(gen() as never)).toThrow(/encode\(\) takes synchronous input/);
  });

  it('encodeAny awaits async iterables', async () => {
    async function* gen() {
      yield { measurement: 'm', fields: { v: 1 }, time: 1 };
      await Promise.resolve();
      yield 'm v=2 2';
    }
    const { bodies } = await encodeAny(gen(), { precision: 'n' }, 1024);
    expect(Buffer.concat(bodies.map((b) => b.body)).toString()).toBe('m v=1 1\nm v=2 2\n');
  });

  it('splits a large write into several bodies under maxBodyBytes', () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ measurement: 'cpu', tags: { host: `h${i % 7}` }, fields: { v: i }, time: i }));
    const { bodies } = encodeSync(points, { precision: 'n' }, 1024);
    expect(bodies.length).toBeGreaterThan(10);
    const lines = points.map((p) => `cpu,host=${p.tags.host} v=${p.fields.v} ${p.time}`);
    checkBodies(bodies, lines, 1024);
  });

  it('a point whose line exceeds maxBodyBytes is an InvalidPointError naming it', () => {
    const points = [{ measurement: 'm', fields: { v: 1 }, time: 1 }, { measurement: 'm', fields: { s: 'x'.repeat(2000) }, time: 2 }];
    let err: unknown;
    try {
      encodeSync(points, { precision: 'n' }, 1024);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPointError);
    expect((err as InvalidPointError).pointIndex).toBe(1);
    expect((err as InvalidPointError).element).toBe('point');
    expect((err as InvalidPointError).reason).toMatch(/a line of 2009 bytes does not fit a request body of at most 1024 bytes/);
  });

  it('reproduces aioinflux\'s TL;DR point exactly', () => {
    const out = encode({
      time: '2009-11-10T23:00:00Z',
      measurement: 'cpu_load_short',
      tags: { host: 'server01', region: 'us-west' },
      fields: { value: 0.64 },
    });
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out.toString()).toBe('cpu_load_short,host=server01,region=us-west value=0.64 1257894000000000000\n');
  });

  it('encode() validates its precision option', () => {
    expect(() => encode({ measurement: 'm', fields: { v: 1 } }, { precision: 'sec' as never })).toThrow(/encode options\.precision must be one of n, u, ms, s, m, h/);
    expect(encode({ measurement: 'm', fields: { v: 1 }, time: new Date(1000) }, { precision: 'ns' as never }).toString()).toBe('m v=1 1000000000\n');
  });
});

describe('BodyBuilder.addLines (runs of whole lines, an encoder\'s)', () => {
  const line = (i: number): string => `m,k=${i % 7} v=${i}i ${i}\n`;
  it('fills bodies to maxLines exactly, splitting a run that does not fit, and keeps every line in order', () => {
    const b = new BodyBuilder(1 << 20, 1024, 10);
    const text = Array.from({ length: 95 }, (_, i) => line(i)).join('');
    const data = Buffer.from(text);
    // Runs of 1 to 4 lines.
    let at = 0;
    let i = 0;
    while (at < data.length) {
      const n = Math.min(1 + (i % 4), 95 - i);
      let end = at;
      for (let k = 0; k < n; k++) end = data.indexOf(10, end) + 1;
      b.addLines(data, at, end, n);
      at = end;
      i += n;
    }
    const bodies = b.finish();
    expect(bodies.map((x) => x.body.toString()).join('')).toBe(text);
    // Filled to the line: a run that does not fit is split between two bodies.
    expect(bodies.map((x) => x.lines)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
    for (const x of bodies) expect(x.body.toString().split('\n').length - 1).toBe(x.lines);
  });
  it('cuts by bytes too, and refuses a line no body can hold', () => {
    const b = new BodyBuilder(40, 16, 100);
    const text = Array.from({ length: 9 }, (_, i) => line(i)).join(''); // 18 or 19 bytes a line
    b.addLines(Buffer.from(text), 0, text.length, 9);
    const bodies = b.finish();
    expect(bodies.map((x) => x.body.toString()).join('')).toBe(text);
    for (const x of bodies) expect(x.body.length).toBeLessThanOrEqual(40);
    const big = `m v="${'x'.repeat(60)}" 1\n`;
    expect(() => new BodyBuilder(40, 16, 100).addLines(Buffer.from(big), 0, big.length, 1)).toThrow(LineTooLargeError);
  });
  it('a run larger than a whole body is cut at its line ends', () => {
    const b = new BodyBuilder(1 << 20, 1024, 10);
    const text = Array.from({ length: 25 }, (_, i) => line(i)).join('');
    b.addLines(Buffer.from(text), 0, text.length, 25);
    const bodies = b.finish();
    expect(bodies.map((x) => x.lines)).toEqual([10, 10, 5]);
    expect(bodies.map((x) => x.body.toString()).join('')).toBe(text);
  });
});
