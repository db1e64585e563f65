/**
 * Encode throughput on the standard workload (shared/reference/perf.md), every encoder in one
 * run: fastinflux's point encoder, the columnar TypeScript encoder, the WASM encoder in the
 * calling thread, the worker pool with 1 and 2 workers, and the peers (the official client's
 * `Point.toLineProtocol()`, node-influx's writePoints serializer). A no-op WASM call shows the
 * boundary cost. The rows from point objects or an Arrow table go through the public
 * `encode(data, { encoder })`, which returns one Buffer; the "encode only" and pool rows encode a
 * prebuilt layout into bodies of at most 5,000,000 bytes through dist internals.
 *
 *   npm run bench                      (builds, installs the peers in bench/, runs, writes results)
 *   node --expose-gc bench/encode.bench.mjs [rows] [iterations] [--json out.json]
 *
 * Prints a markdown table; with --json also writes the figures (median of the iterations).
 * MB = 10^6 bytes of line protocol. Compare within one run: shared machines move ±30%.
 */
import { Bench } from 'tinybench';
import { encodeNodeInflux, encodeOfficial, makeNodeInflux } from './lib/peers.mjs';
import { encode } from '../dist/index.js';
import { makeWorkload, median, toArrowTable, toPoints } from './lib/workload.mjs';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
const ROWS = Number(args[0] ?? 1_000_000);
const ITERATIONS = Number(args[1] ?? 5);
const MAX_BODY = 5_000_000;
/** @type {{ measurement: string, precision: 'n' }} */
const OPTIONS = { measurement: 'cpu', precision: 'n' };

// Internals only where encode() cannot express the measurement: an encoder alone over a prebuilt
// columnar layout ("encode only": encode() always builds the layout from the table), the no-op
// boundary call, and the worker pool (encode() runs in the calling thread; write() would add HTTP).
const dist = new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { ArrowLayoutBuilder } = await load('encode/arrow/index.js');
const { ColumnarBodyWriter, encodeLayout } = await load('encode/columnar/ts-encoder.js');
const wasm = await load('encode/wasm/wasm-encoder.js').catch(() => undefined);
const pool = await load('pool/encoder-pool.js').catch(() => undefined);

const w = makeWorkload(ROWS);
const table = toArrowTable(w);
let points = toPoints(w);
const layout = new ArrowLayoutBuilder(OPTIONS).layout(table.batches[0], 0);
const influx = makeNodeInflux();

// Every fastinflux path must produce the same bytes before any of them is timed.
const reference = encode(points, { precision: 'n', encoder: 'ts' });
const same = (out, name) => {
  const got = Buffer.isBuffer(out) ? out : Buffer.concat(out.map((b) => b.body));
  if (!got.equals(reference)) throw new Error(`${name}: bytes differ from the point encoder`);
};
same(encode(points, { precision: 'n', encoder: 'wasm' }), 'WASM, point objects');
same(encode(table, { ...OPTIONS, encoder: 'ts' }), 'columnar');
same(encode(table, { ...OPTIONS, encoder: 'wasm' }), 'WASM, Arrow table');

const tasks = [];
const add = (name, group, fn) => tasks.push({ name, group, fn });
add('official client: new Point()…toLineProtocol()', 'peer', () => encodeOfficial(w));
add('node-influx: writePoints serializer', 'peer', () => encodeNodeInflux(influx, w));
add('fastinflux point encoder (point objects)', 'fastinflux', () => encode(points, { precision: 'n', encoder: 'ts' }));
add('fastinflux WASM, calling thread (point objects)', 'fastinflux', () => encode(points, { precision: 'n', encoder: 'wasm' }));
// The tasks above hold (or build) a million point objects; the ones below do not. They run in a
// second round, after the point objects are dropped, so that the GC work those cause is not
// charged to the columnar encoders.
const firstRound = tasks.length;
add('fastinflux columnar TS (Arrow table)', 'fastinflux', () => encode(table, { ...OPTIONS, encoder: 'ts' }));
add('fastinflux WASM, calling thread (Arrow table)', 'fastinflux', () => encode(table, { ...OPTIONS, encoder: 'wasm' }));
add('fastinflux columnar TS (encode only)', 'fastinflux', () => {
  const writer = new ColumnarBodyWriter(MAX_BODY);
  encodeLayout(layout, writer);
  return writer.finish();
});
const pools = [];
if (wasm) {
  const enc = new wasm.WasmEncoder();
  const run = () => {
    const writer = new ColumnarBodyWriter(MAX_BODY);
    enc.encodeLayout(layout, writer, {});
    return writer.finish();
  };
  same(run(), 'wasm');
  add('fastinflux WASM, calling thread (encode only)', 'fastinflux', run);
  // One call into the module per row, doing nothing: the JS↔WASM boundary cost.
  add('WASM no-op call (boundary cost)', 'baseline', () => { enc.noopCalls(ROWS); return []; });
}
if (pool) {
  for (const size of [1, 2]) {
    const p = new pool.EncoderPool({ size, kernel: wasm ? 'wasm' : 'ts' });
    pools.push(p);
    const run = async () => (await p.encodeLayout(layout, { maxBodyBytes: MAX_BODY })).bodies;
    same(await run(), `pool ${size}`);
    add(`fastinflux pool, ${size} worker${size > 1 ? 's' : ''} (${wasm ? 'WASM' : 'TS'})`, 'fastinflux', run);
  }
}

// Collect garbage before each iteration, outside the timed function.
const gc = () => globalThis.gc?.();
const timed = [];
for (const round of [tasks.slice(0, firstRound), tasks.slice(firstRound)]) {
  const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const t of round) bench.add(t.name, async () => { await t.fn(); }, { beforeEach: gc });
  await bench.run();
  timed.push(...bench.tasks);
  points = null;
  gc();
}
for (const p of pools) await p.close();

const results = timed.map((t, i) => {
  if (!t.result?.latency) throw new Error(`${t.name}: ${t.result?.error ?? 'no result'}`);
  const ms = median(t.result.latency.samples);
  return { name: t.name, group: tasks[i].group, seconds: ms / 1000, pointsPerSec: ROWS / (ms / 1000), mbPerSec: reference.length / (ms / 1000) / 1e6 };
});
const official = results[0].pointsPerSec;
const columnar = results.find((r) => r.name.includes('encode only'))?.pointsPerSec;
console.log(`\nEncode ${ROWS.toLocaleString('en')} points of the standard workload (${(reference.length / ROWS).toFixed(1)} B/line); median of ${ITERATIONS}; Node ${process.version}\n`);
console.log('| encoder | points/s | MB/s | vs official client | vs columnar TS |');
console.log('|---|---|---|---|---|');
for (const r of results) {
  if (r.group === 'baseline') {
    console.log(`| ${r.name} | ${(r.seconds * 1e9 / ROWS).toFixed(1)} ns per call | | | |`);
    continue;
  }
  console.log(`| ${r.name} | ${Math.round(r.pointsPerSec).toLocaleString('en')} | ${r.mbPerSec.toFixed(1)} | ${(r.pointsPerSec / official).toFixed(2)}x | ${columnar ? `${(r.pointsPerSec / columnar).toFixed(2)}x` : ''} |`);
}
if (jsonOut) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(jsonOut, JSON.stringify({ rows: ROWS, iterations: ITERATIONS, bytesPerLine: reference.length / ROWS, node: process.version, results }, null, 2));
}
