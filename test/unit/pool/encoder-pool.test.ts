/**
 * The encoder pool (src/pool/) against the single-thread columnar encoder: the same bytes (in
 * bodies of at most maxBodyBytes), lines, skipped rows and errors (same message, lowest row) on
 * random tables and on the standard workload; 1 and 2 workers alike; the user's Arrow buffers
 * untouched; a dying or throwing worker; close().
 *
 * The workers run a JavaScript copy of this checkout's src/ (test/helpers/dev-workers.ts, through
 * FASTINFLUX_DEV_WORKERS): no build needed, never stale.
 *
 * One file of about 500 lines: the random tables, the workload and the worker faults share one
 * pool set-up and its clean-up; split, each part would repeat them.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeArrow, type ArrowEncodeOptions } from '../../../src/encode/arrow/index.js';
import type { EncodedBody } from '../../../src/encode/body-builder.js';
import type { ColumnarLayout } from '../../../src/encode/columnar/layout.js';
import { encodeLayoutToBodies, type ColumnarEncodeOptions } from '../../../src/encode/columnar/ts-encoder.js';
import { InvalidOptionError, InvalidPointError } from '../../../src/errors.js';
import { EncoderPool, EncoderPoolClosedError, EncoderWorkerError, type PoolEncodeResult } from '../../../src/pool/encoder-pool.js';
import { batchLayouts, buildTable, nsTimes } from '../../helpers/arrow-tables.js';
import { makeWorkload, toArrowTable } from '../../helpers/generators.js';

const kTestEnv = { ...process.env, FASTINFLUX_POOL_TEST: '1' } as Record<string, string>;
const pools: EncoderPool[] = [];
function makePool(options: ConstructorParameters<typeof EncoderPool>[0] = {}): EncoderPool {
  const p = new EncoderPool(options, { env: kTestEnv });
  pools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

type Outcome = { ok: true; bodies: EncodedBody[]; lines: number; skipped: number[] } | { ok: false; error: unknown };

function single(layout: ColumnarLayout, maxBodyBytes: number, options: ColumnarEncodeOptions = {}): Outcome {
  const skipped: number[] = [];
  try {
    const bodies = encodeLayoutToBodies(layout, maxBodyBytes, { ...options, skippedRows: skipped });
    return { ok: true, bodies, lines: bodies.reduce((n, b) => n + b.lines, 0), skipped };
  } catch (error) {
    return { ok: false, error };
  }
}

async function pooled(p: Promise<PoolEncodeResult>): Promise<Outcome> {
  try {
    const r = await p;
    return { ok: true, bodies: r.bodies, lines: r.lines, skipped: r.skippedRows };
  } catch (error) {
    return { ok: false, error };
  }
}

const bytes = (bodies: EncodedBody[]) => Buffer.concat(bodies.map((b) => b.body));

/** Same bytes, lines and skipped rows (bodies within the limit, none empty), or the same InvalidPointError. */
function expectSame(expected: Outcome, got: Outcome, maxBodyBytes: number): void {
  if (!expected.ok) {
    if (got.ok) throw new Error(`expected ${String(expected.error)}, the pool wrote ${got.lines} lines`);
    const e = expected.error as InvalidPointError;
    if (!(e instanceof InvalidPointError)) throw e;
    const g = got.error as InvalidPointError;
    if (!(g instanceof InvalidPointError)) throw g;
    expect({ message: g.message, row: g.pointIndex, element: g.element, key: g.key, reason: g.reason })
      .toEqual({ message: e.message, row: e.pointIndex, element: e.element, key: e.key, reason: e.reason });
    return;
  }
  if (!got.ok) throw got.error;
  expect(bytes(got.bodies).equals(bytes(expected.bodies))).toBe(true);
  expect(got.lines).toBe(expected.lines);
  expect(got.skipped).toEqual(expected.skipped);
  for (const b of got.bodies) {
    expect(b.body.length).toBeLessThanOrEqual(maxBodyBytes);
    expect(b.lines).toBeGreaterThan(0);
    expect(Buffer.isBuffer(b.body)).toBe(true);
  }
  expect(got.bodies.reduce((n, b) => n + b.lines, 0)).toBe(got.lines);
}

// ---- random tables -------------------------------------------------------------------------------

const tagValue = fc.constantFrom('host-1', 'us west', 'a,b=c', 'ü', '', 'x\ny', 'B');
const stringValue = fc.oneof(fc.constantFrom('ok', '', 'say "hi"', 'C:\\p\\', 'ünï€😀', 'two\nlines'), fc.string({ maxLength: 6 }));
const double = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -0, 63.414885615, 1e21) },
);
const columnKinds = {
  f64: { arb: double, type: () => new A.Float64() },
  i32: { arb: fc.integer(), type: () => new A.Int32() },
  i64: { arb: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), type: () => new A.Int64() },
  u64: { arb: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.constant(2n ** 63n)), type: () => new A.Uint64() },
  bool: { arb: fc.boolean(), type: () => new A.Bool() },
  utf8: { arb: stringValue, type: () => new A.Utf8() },
  tag: { arb: tagValue, type: () => new A.Dictionary(new A.Utf8(), new A.Int32()) },
  tag8: { arb: tagValue, type: () => new A.Dictionary(new A.Utf8(), new A.Int8()) },
} as const;
type KindName = keyof typeof columnKinds;

interface Spec {
  rows: number;
  columns: { name: string; kind: KindName; values: unknown[] }[];
  times: bigint[];
  slice: [number, number];
  splits: number[];
  options: ArrowEncodeOptions;
  maxBodyBytes: number;
}

const specArb: fc.Arbitrary<Spec> = fc.integer({ min: 0, max: 70 }).chain((rows) => fc.record({
  rows: fc.constant(rows),
  columns: fc.uniqueArray(fc.record({ name: fc.constantFrom('a', 'b', 'host', 'x y', 'time2', 'v'), kind: fc.constantFrom(...(Object.keys(columnKinds) as KindName[])) }), { minLength: 1, maxLength: 5, selector: (c) => c.name })
    .chain((cols) => fc.tuple(...cols.map((c) => fc.array(fc.option(columnKinds[c.kind].arb as fc.Arbitrary<unknown>, { freq: 4 }), { minLength: rows, maxLength: rows })))
      .map((vals) => cols.map((c, i) => ({ ...c, values: vals[i]! })))),
  times: fc.array(fc.oneof({ weight: 20, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 61n }) }, { weight: 1, arbitrary: fc.constant(2n ** 63n - 1n) }), { minLength: rows, maxLength: rows }),
  slice: fc.tuple(fc.nat(rows), fc.nat(rows)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]),
  splits: fc.uniqueArray(fc.nat(rows), { maxLength: 3 }),
  options: fc.record({
    measurement: fc.constantFrom('cpu', 'a b,c'),
    precision: fc.constantFrom('n' as const, 'u' as const),
    tags: fc.constantFrom<Record<string, string>>({}, { region: 'eu' }, { host: 'h0' }),
    invalidRows: fc.constantFrom('error' as const, 'skip' as const),
    nonFinite: fc.constantFrom('error' as const, 'skipField' as const),
    allowNewlinesInStrings: fc.boolean(),
  }),
  maxBodyBytes: fc.oneof(fc.constant(1_000_000), fc.integer({ min: 60, max: 400 })),
}));

/** The spec's table (its time column in nanoseconds), sliced and cut into batches. */
const tableOf = (spec: Spec): A.Table => buildTable(spec, columnKinds, { time: nsTimes(spec.times) }).table;

function layoutOptions(o: ArrowEncodeOptions, rowBase: number): ColumnarEncodeOptions {
  return { rowBase, nonFinite: o.nonFinite, invalidRows: o.invalidRows, allowNewlinesInStrings: o.allowNewlinesInStrings };
}

describe('pool bytes === single-thread bytes', () => {
  // Tiny tasks, so that a table of a few dozen rows is cut into many ranges (at rows that are not multiples of 8).
  let pools3: EncoderPool[];
  beforeAll(() => {
    pools3 = [makePool({ size: 1, maxRowsPerTask: 5 }), makePool({ size: 2, maxRowsPerTask: 3 }), makePool({ size: 2, maxRowsPerTask: 13 }), makePool({ size: 2 })];
  });

  it('random tables, layout by layout (property)', async () => {
    let written = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(3), async (spec, which) => {
        const table = tableOf(spec);
        let layouts: ReturnType<typeof batchLayouts>;
        try {
          layouts = batchLayouts(table, spec.options);
        } catch (e) {
          if (e instanceof InvalidPointError || e instanceof InvalidOptionError) return;
          throw e;
        }
        const pool = pools3[which]!;
        for (const { layout, rowBase } of layouts) {
          const o = layoutOptions(spec.options, rowBase);
          const expected = single(layout, spec.maxBodyBytes, o);
          expected.ok ? written++ : refused++;
          expectSame(expected, await pooled(pool.encodeLayout(layout, { ...o, maxBodyBytes: spec.maxBodyBytes })), spec.maxBodyBytes);
        }
      }),
      { numRuns: Number(process.env.POOL_RUNS ?? 300) },
    );
    expect(written).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });

  it('random tables, whole Arrow input (property)', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(3), fc.constantFrom('table', 'batches', 'async'), async (spec, which, form) => {
        const table = tableOf(spec);
        const input = form === 'table' ? table : form === 'batches' ? table.batches : (async function* () {
          for (const b of table.batches) yield b;
        })();
        let expected: Outcome;
        try {
          const r = await encodeArrow(table, spec.options, spec.maxBodyBytes);
          expected = { ok: true, bodies: r.bodies, lines: r.lines, skipped: r.skippedRows };
        } catch (error) {
          expected = { ok: false, error };
        }
        const got = await pooled(pools3[which]!.encodeArrow(input, spec.options, spec.maxBodyBytes));
        expectSame(expected, got, spec.maxBodyBytes);
      }),
      { numRuns: Number(process.env.POOL_RUNS ?? 200) },
    );
  });

  it('several layouts at once: each layout\'s single-thread result in turn (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 4 }), fc.nat(3), fc.boolean(), async (specs, which, lazy) => {
        const maxBodyBytes = specs[0]!.maxBodyBytes;
        const o: ArrowEncodeOptions = { ...specs[0]!.options };
        const items: { layout: ColumnarLayout; rowBase: number }[] = [];
        let rowBase = 0;
        for (const spec of specs) {
          try {
            for (const l of batchLayouts(tableOf(spec), o)) {
              items.push({ layout: l.layout, rowBase });
              rowBase += l.layout.rows;
            }
          } catch (e) {
            if (e instanceof InvalidPointError || e instanceof InvalidOptionError) continue;
            throw e;
          }
        }
        // The single-thread results, layout after layout, up to the first error.
        let expected: Outcome = { ok: true, bodies: [], lines: 0, skipped: [] };
        for (const it of items) {
          const r = single(it.layout, maxBodyBytes, layoutOptions(o, it.rowBase));
          if (!r.ok) {
            expected = r;
            break;
          }
          if (expected.ok) expected = { ok: true, bodies: [...expected.bodies, ...r.bodies], lines: expected.lines + r.lines, skipped: [...expected.skipped, ...r.skipped] };
        }
        const input = lazy ? (function* () {
          yield* items;
        })() : items;
        const { rowBase: _, ...encodeOptions } = layoutOptions(o, 0);
        expectSame(expected, await pooled(pools3[which]!.encodeLayouts(input, { ...encodeOptions, maxBodyBytes })), maxBodyBytes);
      }),
      { numRuns: Number(process.env.POOL_RUNS ?? 100) },
    );
  });

  it('rows from .. to with a rowBase', async () => {
    const { layout } = batchLayouts(toArrowTable(makeWorkload(5000)), { measurement: 'cpu', precision: 'n' })[0]!;
    const pool = pools3[2]!;
    for (const [from, to] of [[0, 5000], [13, 4001], [8, 9], [4999, 5000], [100, 100]] as const) {
      const o = { rowBase: 1000, from, to };
      expectSame(single(layout, 10_000, o), await pooled(pool.encodeLayout(layout, { ...o, maxBodyBytes: 10_000 })), 10_000);
    }
    await expect(pool.encodeLayout(layout, { from: 10, to: 5001, maxBodyBytes: 100 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(pool.encodeLayout(layout, { maxBodyBytes: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('the standard workload', () => {
  const w = makeWorkload(100_000);
  const table: A.Table = toArrowTable(w);
  const options: ArrowEncodeOptions = { measurement: 'cpu', precision: 'n' };
  const layout = batchLayouts(table, options)[0]!.layout;

  it('100k rows: 1 and 2 workers give the single-thread bytes, bodies within the limit', async () => {
    const one = makePool({ size: 1, maxRowsPerTask: 30_000 });
    const two = makePool({ size: 2 });
    for (const maxBodyBytes of [5_000_000, 100_000]) {
      const expected = single(layout, maxBodyBytes);
      expect(expected.ok && expected.lines).toBe(100_000);
      const a = await pooled(one.encodeLayout(layout, { maxBodyBytes }));
      const b = await pooled(two.encodeLayout(layout, { maxBodyBytes }));
      expectSame(expected, a, maxBodyBytes);
      expectSame(expected, b, maxBodyBytes);
      expectSame(expected, await pooled(two.encodeArrow(table, options, maxBodyBytes)), maxBodyBytes);
    }
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
  });

  it('the user\'s Arrow table and the layout are still readable afterwards (nothing detached)', async () => {
    const t: A.Table = toArrowTable(makeWorkload(20_000));
    const l = batchLayouts(t, options)[0]!.layout;
    const before = { user: t.getChild('usage_user')!.get(19_999) as number, status: t.getChild('status')!.get(7) as string, host: t.getChild('host')!.get(3) as string };
    const pool = makePool({ size: 2, maxRowsPerTask: 3000 });
    await pool.encodeArrow(t, options, 1_000_000);
    await pool.encodeLayout(l, { maxBodyBytes: 1_000_000 });
    expect({ user: t.getChild('usage_user')!.get(19_999), status: t.getChild('status')!.get(7), host: t.getChild('host')!.get(3) }).toEqual(before);
    for (const batch of t.batches) {
      for (const child of batch.data.children) {
        if (child.values !== undefined) expect((child.values as Uint8Array).buffer.byteLength).toBeGreaterThan(0);
      }
    }
    expect(l.time.buffer.byteLength).toBeGreaterThan(0);
    expect(l.time.length).toBe(20_000);
    // Same bytes again from the same layout.
    expectSame(single(l, 1_000_000), await pooled(pool.encodeLayout(l, { maxBodyBytes: 1_000_000 })), 1_000_000);
  });

  it('errors: the lowest failing row, with the single-thread message', async () => {
    const n = 40_000;
    const wl = makeWorkload(n);
    // NaN in several ranges (rows 31_000 and 17_003): the lower one is reported.
    wl.usageUser[31_000] = NaN;
    wl.usageUser[17_003] = NaN;
    const t: A.Table = toArrowTable(wl);
    const l = batchLayouts(t, options)[0]!.layout;
    const pool = makePool({ size: 2, maxRowsPerTask: 4_000 });
    const expected = single(l, 1_000_000);
    expect(!expected.ok && (expected.error as InvalidPointError).pointIndex).toBe(17_003);
    expectSame(expected, await pooled(pool.encodeLayout(l, { maxBodyBytes: 1_000_000 })), 1_000_000);
    expectSame(expected, await pooled(pool.encodeArrow(t, options, 1_000_000)), 1_000_000);
    // nonFinite: 'skipField' writes them.
    expectSame(single(l, 1_000_000, { nonFinite: 'skipField' }), await pooled(pool.encodeLayout(l, { maxBodyBytes: 1_000_000, nonFinite: 'skipField' })), 1_000_000);
  });

  it('errors: rows without a field are named across ranges; times out of range keep their reason', async () => {
    const rows = 64;
    const nulls = (bad: number[]) => Array.from({ length: rows }, (_, i) => (bad.includes(i) ? null : i * 1.5));
    const t = new A.Table({
      time: A.vectorFromArray(Array.from({ length: rows }, (_, i) => BigInt(i) * 1000n), new A.Int64()),
      f: A.vectorFromArray(nulls([9, 10, 17, 30, 31, 33, 40, 41, 50, 51, 60, 61, 62]), new A.Float64()),
    });
    const pool = makePool({ size: 2, maxRowsPerTask: 8 });
    for (const invalidRows of ['error', 'skip'] as const) {
      const o: ArrowEncodeOptions = { measurement: 'm', precision: 'n', invalidRows };
      const l = batchLayouts(t, o)[0]!.layout;
      const expected = single(l, 1000, layoutOptions(o, 0));
      if (invalidRows === 'error') expect((expected as { error: Error }).error.message).toContain('rows 9, 10, 17, 30, 31, 33, 40, 41, 50, 51, … have no non-null field');
      expectSame(expected, await pooled(pool.encodeLayout(l, { ...layoutOptions(o, 0), maxBodyBytes: 1000 })), 1000);
    }
    // A time out of InfluxDB's range, in the 5th range: the reason names the value.
    const tt = new A.Table({
      time: A.vectorFromArray(Array.from({ length: rows }, (_, i) => (i === 37 ? 2n ** 63n - 1n : BigInt(i))), new A.Int64()),
      f: A.vectorFromArray(nulls([]), new A.Float64()),
    });
    const o: ArrowEncodeOptions = { measurement: 'm', precision: 'n' };
    const l = batchLayouts(tt, o)[0]!.layout;
    const expected = single(l, 1000);
    expect((expected as { error: Error }).error.message).toContain('outside InfluxDB\'s time range');
    expectSame(expected, await pooled(pool.encodeLayout(l, { maxBodyBytes: 1000 })), 1000);
    // A line larger than a body.
    expectSame(single(l, 30, { to: 30 }), await pooled(pool.encodeLayout(l, { maxBodyBytes: 30, to: 30 })), 30);
  });
});

// The WASM kernel (src/encode/wasm/), when it is built: the same results as the TypeScript encoder on one thread.
const kWasmBuilt = existsSync(new URL('../../../build/encoder.wasm', import.meta.url));
describe.skipIf(!kWasmBuilt)('kernel wasm', () => {
  it('standard workload, 100k rows: 1 and 2 workers, the single-thread TypeScript bytes', async () => {
    const table: A.Table = toArrowTable(makeWorkload(100_000));
    const options: ArrowEncodeOptions = { measurement: 'cpu', precision: 'n' };
    const layout = batchLayouts(table, options)[0]!.layout;
    const one = makePool({ size: 1, kernel: 'wasm', maxRowsPerTask: 30_000 });
    const two = makePool({ size: 2, kernel: 'wasm' });
    for (const maxBodyBytes of [5_000_000, 100_000]) {
      const expected = single(layout, maxBodyBytes);
      expectSame(expected, await pooled(one.encodeLayout(layout, { maxBodyBytes })), maxBodyBytes);
      expectSame(expected, await pooled(two.encodeLayout(layout, { maxBodyBytes })), maxBodyBytes);
      expectSame(expected, await pooled(two.encodeArrow(table, options, maxBodyBytes)), maxBodyBytes);
    }
    expect(two.kernel).toBe('wasm');
  });

  it('random tables (property)', async () => {
    const wasmPools = [makePool({ size: 2, kernel: 'wasm', maxRowsPerTask: 3 }), makePool({ size: 1, kernel: 'wasm', maxRowsPerTask: 11 })];
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(1), async (spec, which) => {
        let layouts: ReturnType<typeof batchLayouts>;
        try {
          layouts = batchLayouts(tableOf(spec), spec.options);
        } catch (e) {
          if (e instanceof InvalidPointError || e instanceof InvalidOptionError) return;
          throw e;
        }
        for (const { layout, rowBase } of layouts) {
          const o = layoutOptions(spec.options, rowBase);
          expectSame(single(layout, spec.maxBodyBytes, o), await pooled(wasmPools[which]!.encodeLayout(layout, { ...o, maxBodyBytes: spec.maxBodyBytes })), spec.maxBodyBytes);
        }
      }),
      { numRuns: Number(process.env.POOL_RUNS ?? 150) },
    );
  });
});

describe('failures and close()', () => {
  const table: A.Table = toArrowTable(makeWorkload(50_000));
  const layout = batchLayouts(table, { measurement: 'cpu', precision: 'n' })[0]!.layout;
  const expected = single(layout, 1_000_000);

  it('a worker that exits: the task is run once more, then fails with a clear error; the pool goes on', async () => {
    const pool = makePool({ size: 2, maxRowsPerTask: 50_000 });
    const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'exit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderWorkerError);
    const e = err as EncoderWorkerError;
    expect(e.code).toBe('FI_ERR_ENCODER_WORKER');
    // Two tasks of 25,000 rows; the first one's failure is reported.
    expect(e.message).toBe('encoder worker exited (code 1) while encoding rows 0-24999, twice (the task was run on a new worker after the first failure)');
    expect([e.fromRow, e.toRow, e.exitCode]).toEqual([0, 24_999, 1]);
    // Dead workers are replaced: the next encode works.
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })), 1_000_000);
    // A worker that dies once: the retry on a new worker succeeds.
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'exitOnFirstAttempt' })), 1_000_000);
    expect(pool.threads).toBeGreaterThan(0);
    expect(pool.threads).toBeLessThanOrEqual(2);
  });

  it('several tasks, all dying: the error names the first range', async () => {
    const pool = makePool({ size: 2, maxRowsPerTask: 20_000 });
    const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, rowBase: 7, crashForTest: 'exit' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^encoder worker exited \(code 1\) while encoding rows 7-12506, twice/);
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })), 1_000_000);
  });

  it('the last worker dies on a task\'s last attempt while another task is queued: a new worker runs it, no hang', async () => {
    // One worker, two tasks, every attempt exits: 0 dies, 1 dies (0's retry queued behind 1's),
    // 0's retry dies, then 1's retry is queued with no worker left (piscina starts none by itself).
    const pool = makePool({ size: 1, maxRowsPerTask: 25_000 });
    const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'exit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderWorkerError);
    expect((err as Error).message).toBe('encoder worker exited (code 1) while encoding rows 0-24999, twice (the task was run on a new worker after the first failure)');
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })), 1_000_000);
    await pool.close();
    expect(pool.threads).toBe(0);
  });

  it('workers that exit while starting (before they are ready, with no task): a clear error, no hang; close() resolves', async () => {
    const pool = new EncoderPool({ size: 2, maxRowsPerTask: 10_000 }, { env: { ...kTestEnv, FASTINFLUX_POOL_TEST_START: 'exit' } });
    pools.push(pool);
    for (let k = 0; k < 2; k++) {
      const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EncoderWorkerError);
      expect((err as Error).message).toMatch(/^encoder worker could not start \(a worker exited before it was ready\) while encoding rows 0-/);
    }
    await pool.close();
    expect(pool.threads).toBe(0);
  });

  it('close() while tasks are dying and being retried: the encode settles, then close() resolves', async () => {
    const pool = makePool({ size: 1, maxRowsPerTask: 10_000 });
    const running = pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'exit' }).catch((e: unknown) => e);
    await pool.close();
    expect(await running).toBeInstanceOf(EncoderWorkerError);
    expect(pool.threads).toBe(0);
  });

  it('the crash hooks are ignored unless the workers run with FASTINFLUX_POOL_TEST=1', async () => {
    const pool = new EncoderPool({ size: 1 }, { env: { ...kTestEnv, FASTINFLUX_POOL_TEST: '0' } });
    pools.push(pool);
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'exit' })), 1_000_000);
  });

  it('an uncaught exception in a worker: retried, then a clear error', async () => {
    const pool = makePool({ size: 1 });
    const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'uncaught' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderWorkerError);
    expect((err as Error).message).toMatch(/^encoder worker died \(test: uncaught exception in the encoder worker\) while encoding rows 0-49999/);
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })), 1_000_000);
  });

  it('an exception thrown by the kernel: a clear error at once (not retried)', async () => {
    const pool = makePool({ size: 1 });
    const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000, crashForTest: 'throw' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderWorkerError);
    expect((err as Error).message).toBe('encoder worker failed while encoding rows 0-49999: Error: test: encoder kernel threw');
    expectSame(expected, await pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })), 1_000_000);
  });

  it('a worker module that cannot be loaded: a clear error, no hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastinflux-pool-'));
    const file = join(dir, 'broken-worker.mjs');
    writeFileSync(file, "throw new Error('broken worker module');\n");
    const pool = new EncoderPool({ size: 2, maxRowsPerTask: 10_000 }, { workerFile: file });
    pools.push(pool);
    for (let k = 0; k < 2; k++) {
      const err = await pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EncoderWorkerError);
      expect((err as Error).message).toMatch(/^encoder worker could not start \(broken worker module\) while encoding rows 0-/);
    }
    await pool.close();
    expect(pool.threads).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('close(): waits for the encodes under way, ends every thread, refuses later calls', async () => {
    const pool = makePool({ size: 2, maxRowsPerTask: 10_000 });
    const running = pooled(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 }));
    const closing = pool.close();
    await expect(pool.encodeLayout(layout, { maxBodyBytes: 1_000_000 })).rejects.toBeInstanceOf(EncoderPoolClosedError);
    await closing;
    expectSame(expected, await running, 1_000_000);
    expect(pool.threads).toBe(0);
    expect(pool.closed).toBe(true);
    const err = await pool.encodeArrow(table, { measurement: 'cpu', precision: 'n' }, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderPoolClosedError);
    expect((err as EncoderPoolClosedError).code).toBe('FI_ERR_CLOSED');
    expect((err as Error).message).toBe('the encoder pool is closed');
    await pool.close();
  });

  it('close() of a pool that never ran a task', async () => {
    const pool = new EncoderPool({ size: 3 });
    expect(pool.threads).toBe(0);
    await pool.close();
    expect(pool.threads).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new EncoderPool({ size: 0 })).toThrow(InvalidOptionError);
    expect(() => new EncoderPool({ size: 1.5 })).toThrow('EncoderPool options.size must be a positive integer (got 1.5)');
    expect(() => new EncoderPool({ kernel: 'c' as never })).toThrow("EncoderPool options.kernel must be 'ts' or 'wasm' (got c)");
    expect(() => new EncoderPool({ idleTimeoutMs: -1 })).toThrow(InvalidOptionError);
    expect(() => new EncoderPool({ maxRowsPerTask: 0 })).toThrow(InvalidOptionError);
    expect(new EncoderPool().size).toBeGreaterThanOrEqual(1);
    expect(new EncoderPool({ idleTimeoutMs: Infinity }).idleTimeoutMs).toBe(Infinity);
  });
});
