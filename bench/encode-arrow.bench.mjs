/**
 * The standard workload (shared/reference/perf.md) as an Arrow table with dictionary-encoded
 * tags, encoded by the columnar encoder, next to the point encoder over the same rows as point
 * objects; then the memory each path needs.
 *
 *   npm run build && node --expose-gc bench/encode-arrow.bench.mjs [rows] [iterations]
 *
 * (FI_DIST=/some/dir picks another build of src/ than ../dist.) The point objects and the table
 * go through the public `encode(data, { encoder: 'ts' })` (one Buffer); the encode-only row and
 * the memory section use dist internals, since they time or sample the encoder alone over a
 * prebuilt layout, cutting bodies at `maxBodyBytes` = 5,000,000 (the client's default).
 * MB = 10^6 bytes of line protocol.
 * Absolute numbers move by ±30% on shared machines: compare within one run.
 */
import { Bench } from 'tinybench';
import { makeWorkload, median, toArrowTable, toPoints } from './lib/workload.mjs';

const dist = process.env.FI_DIST ? new URL(`file://${process.env.FI_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const { encode } = await import(new URL('index.js', dist).href);
const { ArrowLayoutBuilder } = await import(new URL('encode/arrow/index.js', dist).href);
const { ColumnarBodyWriter, encodeLayout } = await import(new URL('encode/columnar/ts-encoder.js', dist).href);
const { PointEncoder } = await import(new URL('encode/point-encoder.js', dist).href);
const { BodyBuilder } = await import(new URL('encode/body-builder.js', dist).href);

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ITERATIONS = Number(process.argv[3] ?? 5);
const MAX_BODY = 5_000_000;
const OPTIONS = { measurement: 'cpu', precision: 'n' };
const gc = globalThis.gc ?? (() => {});

const bytesOf = (bodies) => bodies.reduce((a, b) => a + b.body.length, 0);
const MiB = (b) => (b / 2 ** 20).toFixed(1);

// ---- data and a correctness check -------------------------------------------------------------

const w = makeWorkload(ROWS);
const table = toArrowTable(w);
let points = toPoints(w);
{
  const a = encode(points, { precision: 'n', encoder: 'ts' });
  const b = encode(table, { ...OPTIONS, encoder: 'ts' });
  if (!a.equals(b)) throw new Error('columnar and point encoder bytes differ');
  console.log(`${ROWS} rows, ${a.length} bytes of line protocol (${(a.length / ROWS).toFixed(1)} B/line), identical from both encoders; first line:`);
  console.log(`  ${a.subarray(0, a.indexOf(10)).toString()}`);
}

// ---- speed --------------------------------------------------------------------------------------

const layout = new ArrowLayoutBuilder(OPTIONS).layout(table.batches[0], 0);
let lineBytes = 0;
const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: 1, warmupTime: 0 });
bench
  .add('point encoder, prebuilt point objects', () => {
    lineBytes = encode(points, { precision: 'n', encoder: 'ts' }).length;
  })
  .add('columnar, Arrow table (from-arrow + encode)', () => {
    lineBytes = encode(table, { ...OPTIONS, encoder: 'ts' }).length;
  })
  .add('columnar, encode only (layout prebuilt)', () => {
    const writer = new ColumnarBodyWriter(MAX_BODY);
    encodeLayout(layout, writer);
    lineBytes = bytesOf(writer.finish());
  });
await bench.run();

const rows = bench.tasks.map((t) => {
  const samples = t.result.latency.samples;
  return { name: t.name, ms: median(samples), best: Math.min(...samples) };
});
const base = rows[0].ms;
const bestBase = rows[0].best;
const kpts = (ms) => `${Math.round(ROWS / (ms / 1000) / 1000).toLocaleString('en-US')}k`;
console.log(`\nencode, one thread, ${ITERATIONS} iterations each: median (fastest); encode only: bodies of <= ${MAX_BODY} bytes:\n`);
console.log('| encoder | points/s | MB/s | s per 1M pts | speed vs point encoder |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const s = r.ms / 1000;
  console.log(`| ${r.name} | ${kpts(r.ms)} (${kpts(r.best)}) | ${(lineBytes / s / 1e6).toFixed(1)} (${(lineBytes / (r.best / 1000) / 1e6).toFixed(1)}) | ${(s * 1e6 / ROWS).toFixed(2)} (${(r.best * 1000 / ROWS).toFixed(2)}) | ${(base / r.ms).toFixed(2)}x (${(bestBase / r.best).toFixed(2)}x) |`);
}

// ---- memory -------------------------------------------------------------------------------------

/** Runs `steps` (each a function), sampling heap and array buffers after each; returns the peaks over `base`. */
function peaks(base, steps) {
  let heap = 0;
  let buffers = 0;
  for (const step of steps) {
    step();
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed - base.heapUsed);
    buffers = Math.max(buffers, m.arrayBuffers - base.arrayBuffers);
  }
  return { heap, buffers };
}
const CHUNK = 50_000;

// Columnar: layout, then the rows in chunks of 50k (same work as one call), sampled in between.
points = null;
gc();
gc();
let m0 = process.memoryUsage();
let out;
const col = peaks(m0, [
  () => { out = { layout: new ArrowLayoutBuilder(OPTIONS).layout(table.batches[0], 0), writer: new ColumnarBodyWriter(MAX_BODY) }; },
  ...Array.from({ length: Math.ceil(ROWS / CHUNK) }, (_, k) => () => encodeLayout(out.layout, out.writer, { from: k * CHUNK, to: Math.min(ROWS, (k + 1) * CHUNK) })),
  () => { out.bodies = out.writer.finish(); },
]);
gc();
const colRetained = process.memoryUsage().heapUsed - m0.heapUsed;
out = null;

// Points: build the point objects from the same columns, then encode them in chunks of 50k.
gc();
gc();
m0 = process.memoryUsage();
let pts;
let enc;
const pt = peaks(m0, [
  () => { pts = toPoints(w); enc = { encoder: new PointEncoder({ precision: 'n' }), builder: new BodyBuilder(MAX_BODY) }; },
  ...Array.from({ length: Math.ceil(ROWS / CHUNK) }, (_, k) => () => {
    for (let i = k * CHUNK; i < Math.min(ROWS, (k + 1) * CHUNK); i++) enc.builder.addLine(enc.encoder.encode(pts[i], i));
  }),
  () => { enc.bodies = enc.builder.finish(); },
]);
pts = null;
enc = null;

console.log(`\nmemory over the baseline (table and workload columns already built), sampled every ${CHUNK.toLocaleString('en-US')} rows${globalThis.gc ? '' : ' (run with --expose-gc for a clean baseline)'}:\n`);
console.log('| path | peak heapUsed | peak arrayBuffers (bodies, layout copies) | heap kept with the bodies |');
console.log('|---|---|---|---|');
console.log(`| columnar: Arrow table -> layout -> bodies | ${MiB(col.heap)} MiB | ${MiB(col.buffers)} MiB | ${MiB(colRetained)} MiB |`);
console.log(`| points: 1M point objects -> bodies | ${MiB(pt.heap)} MiB | ${MiB(pt.buffers)} MiB | - |`);
console.log(`\nline protocol produced: ${MiB(lineBytes)} MiB; Arrow table buffers: ${MiB(table.batches.reduce((a, b) => a + b.data.children.reduce((s, c) => s + c.byteLength, 0), 0))} MiB`);
