/**
 * The WASM encoder next to the columnar TypeScript encoder, on the standard workload
 * (shared/reference/perf.md) as an Arrow table with dictionary-encoded tags: encode only (the
 * layout is built once), one thread, bodies of at most 5,000,000 bytes (the client's default).
 *
 *   npm run build && node bench/encode-wasm.bench.mjs [rows] [iterations]
 *
 * (Defaults 1,000,000 rows and 7 runs; FI_DIST=/some/dir picks another build of src/ than
 * ../dist, as in encode-arrow.bench.mjs.) Both encoders run in turns in one process, after one
 * warm-up round; medians and fastest runs (wall clock), the CPU time of the process per run,
 * then where the WASM encoder's time goes (copy-in / encode / copy-out into the writer) and the
 * cost of one call across the JS/WASM boundary. MB = 10^6 bytes of line protocol. Absolute
 * numbers move by ±30% on shared machines: compare within one run.
 */
import { makeWorkload, median, toArrowTable } from './lib/workload.mjs';

// dist internals, not `encode(table, { encoder })`: this times the two encoders alone over one
// prebuilt layout and reads the WASM encoder's own timings, which the public API does not expose
// (encode.bench.mjs has the public-API rows).

const dist = process.env.FI_DIST ? new URL(`file://${process.env.FI_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const { ArrowLayoutBuilder } = await import(new URL('encode/arrow/index.js', dist).href);
const { ColumnarBodyWriter, encodeLayout } = await import(new URL('encode/columnar/ts-encoder.js', dist).href);
const { WasmEncoder } = await import(new URL('encode/wasm/wasm-encoder.js', dist).href);

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ITERATIONS = Number(process.argv[3] ?? 7);
const MAX_BODY = 5_000_000;

const table = toArrowTable(makeWorkload(ROWS));
const layout = new ArrowLayoutBuilder({ measurement: 'cpu', precision: 'n' }).layout(table.batches[0], 0);
const wasm = new WasmEncoder(undefined, { timings: true });
const encoders = {
  'columnar TypeScript (encodeLayout)': (w) => encodeLayout(layout, w),
  'WASM (WasmEncoder#encodeLayout)': (w) => wasm.encodeLayout(layout, w),
};
const run = (fn) => {
  const w = new ColumnarBodyWriter(MAX_BODY);
  fn(w);
  return w.finish();
};

// Same bytes and bodies first.
const results = Object.values(encoders).map(run);
const [a, b] = results.map((bodies) => Buffer.concat(bodies.map((x) => x.body)));
if (!a.equals(b) || results[0].length !== results[1].length) throw new Error('the WASM and TypeScript encoders disagree');
const bytes = a.length;

const wall = new Map(Object.keys(encoders).map((k) => [k, []]));
const cpu = new Map(Object.keys(encoders).map((k) => [k, []]));
let before;
for (let k = 0; k <= ITERATIONS; k++) {
  if (k === 1) before = wasm.timings;
  for (const [name, fn] of Object.entries(encoders)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run(fn);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (k === 0) continue; // warm-up round
    wall.get(name).push(t);
    cpu.get(name).push((c.user + c.system) / 1000);
  }
}
const after = wasm.timings;

const names = Object.keys(encoders);
const tsMedian = median(wall.get(names[0]));
const tsBest = Math.min(...wall.get(names[0]));
const tsCpu = median(cpu.get(names[0]));
const pts = (ms) => `${((ROWS / ms) * 1000 / 1e6).toFixed(2)}M`;
console.log(`${ROWS.toLocaleString('en-US')} rows, ${bytes.toLocaleString('en-US')} bytes (${(bytes / ROWS).toFixed(1)} B/line), identical bytes and bodies from both; ${ITERATIONS} runs each, median (fastest):\n`);
console.log('| encoder | points/s | MB/s | ms per run | CPU ms per run | vs TypeScript (wall) | vs TypeScript (CPU) |');
console.log('|---|---|---|---|---|---|---|');
for (const name of names) {
  const m = median(wall.get(name));
  const best = Math.min(...wall.get(name));
  const c = median(cpu.get(name));
  console.log(`| ${name} | ${pts(m)} (${pts(best)}) | ${(bytes / m / 1000).toFixed(0)} (${(bytes / best / 1000).toFixed(0)}) | ${m.toFixed(1)} (${best.toFixed(1)}) | ${c.toFixed(1)} | ${(tsMedian / m).toFixed(2)}x (${(tsBest / best).toFixed(2)}x) | ${(tsCpu / c).toFixed(2)}x |`);
}
const per = (k) => (after[k] - before[k]) / ITERATIONS;
const total = per('copyIn') + per('encode') + per('copyOut');
const pct = (x) => `${((100 * x) / total).toFixed(0)}%`;
console.log(`\nWASM, where the time goes (mean per run): copy-in ${per('copyIn').toFixed(1)} ms (${pct(per('copyIn'))}), `
  + `encode ${per('encode').toFixed(1)} ms (${pct(per('encode'))}), copy-out into the writer ${per('copyOut').toFixed(1)} ms (${pct(per('copyOut'))}); `
  + `${Math.round((after.calls - before.calls) / ITERATIONS)} encode calls per run`);
const N = 1_000_000;
wasm.noopCalls(N);
const t = performance.now();
wasm.noopCalls(N);
console.log(`a no-op WASM call (the JS/WASM boundary): ${(((performance.now() - t) * 1e6) / N).toFixed(1)} ns`);
