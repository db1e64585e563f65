/**
 * Where the worker pool starts to pay off: encodes tables of the standard workload of growing
 * size in the calling thread (columnar TypeScript, and WASM) and on a warm pool of 2 WASM
 * workers, and prints the median time of each. `auto` (src/encode/route.ts, POOL_MIN_TABLE_ROWS)
 * sends a write to the pool from the size where the pool is faster.
 *
 *   npm run build && node --expose-gc bench/pool-threshold.mjs
 */
import { makeWorkload, median, toArrowTable } from './lib/workload.mjs';

// dist internals, not `encode()`: the threshold is about what write() does, bodies cut at 5 MB in
// the calling thread against the pool, and encode() (one Buffer, calling thread only) can express neither.
const dist = new URL('../dist/', import.meta.url);
const { encodeArrowSync, ArrowLayoutBuilder } = await import(new URL('encode/arrow/index.js', dist).href);
const { ColumnarBodyWriter } = await import(new URL('encode/columnar/ts-encoder.js', dist).href);
const { WasmEncoder } = await import(new URL('encode/wasm/wasm-encoder.js', dist).href);
const { EncoderPool } = await import(new URL('pool/encoder-pool.js', dist).href);

const OPTIONS = { measurement: 'cpu', precision: 'n' };
const MAX_BODY = 5_000_000;
const REPS = 9;
const pool = new EncoderPool({ size: 2, kernel: 'wasm' });
const wasm = new WasmEncoder();
const big = toArrowTable(makeWorkload(1_000_000));
await pool.encodeArrow(big, OPTIONS, MAX_BODY); // start and warm the workers

async function time(fn) {
  const t = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

console.log('| rows | TS, calling thread ms | WASM, calling thread ms | pool of 2 (WASM) ms |');
console.log('|---|---|---|---|');
for (const rows of [1_000, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]) {
  const t = big.slice(0, rows);
  const ts = await time(() => encodeArrowSync(t, OPTIONS, MAX_BODY));
  const w = await time(() => {
    const writer = new ColumnarBodyWriter(MAX_BODY);
    for (const b of t.batches) wasm.encodeLayout(new ArrowLayoutBuilder(OPTIONS).layout(b, 0), writer, {});
    return writer.finish();
  });
  const p = await time(() => pool.encodeArrow(t, OPTIONS, MAX_BODY));
  console.log(`| ${rows.toLocaleString('en')} | ${ts.toFixed(2)} | ${w.toFixed(2)} | ${p.toFixed(2)} |`);
}
await pool.close();
