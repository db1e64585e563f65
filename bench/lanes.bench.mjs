/**
 * LaneSplitter.split on the standard workload (bench/lib/workload.mjs), in bodies of `linesPerBody`
 * lines (the writer's default batchSize: 5000). Reports CPU time per line (process.cpuUsage, best
 * of `reps`: steadier than wall time on a shared machine) of split() and of its pass-1 work alone
 * (the key walk with the series hash, then the scanner to the line end); the rest is the copy.
 * Usage: npm run build && node bench/lanes.bench.mjs [lines=1000000] [lanes=8] [linesPerBody=5000] [reps=10]
 */
import { LaneSplitter, seriesHash } from '../dist/encode/line-protocol/series.js';
import { fieldsEndAt } from '../dist/encode/line-protocol/scan.js';
import { makeWorkload, toLineProtocolBodies } from './lib/workload.mjs';

const total = Number(process.argv[2] ?? 1_000_000);
const lanes = Number(process.argv[3] ?? 8);
const perBody = Number(process.argv[4] ?? 5000);
const reps = Number(process.argv[5] ?? 10);
const bodies = toLineProtocolBodies(makeWorkload(total), perBody).map((b) => Buffer.concat([b, Buffer.from('\n')]));
const bytes = bodies.reduce((s, b) => s + b.length, 0);
console.log(`${total} lines in ${bodies.length} bodies, ${(bytes / total).toFixed(1)} bytes/line, ${lanes} lanes`);

const splitter = new LaneSplitter(lanes);
let sink = 0;
const tasks = {
  split: () => {
    for (const b of bodies) sink ^= splitter.split(b).lines[0];
  },
  'split (trusted: our encoders\' bodies)': () => {
    for (const b of bodies) sink ^= splitter.split(b, undefined, true).lines[0];
  },
  'hash (key walk)': () => {
    for (const b of bodies) {
      const n = b.length;
      for (let s = 0; s < n; s = b.indexOf(10, s) + 1) sink ^= seriesHash(b, s, n) % lanes;
    }
  },
  'scanner (fields to line end)': () => {
    for (const b of bodies) {
      const n = b.length;
      for (let s = 0; s < n;) s = fieldsEndAt(b, b.indexOf(32, s)) + 1;
    }
  },
  'indexOf loop (baseline)': () => {
    for (const b of bodies) {
      const n = b.length;
      for (let s = 0; s < n;) s = b.indexOf(10, s) + 1;
    }
  },
};
for (const [name, f] of Object.entries(tasks)) {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  console.log(`${name.padEnd(30)} ${best.toFixed(1).padStart(8)} ms per ${total} lines ${((best * 1e6) / total).toFixed(1).padStart(7)} ns/line`);
}
if (sink === 0.5) console.log(sink);
