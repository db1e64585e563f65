/**
 * Where the CPU of point objects goes (issue 12's floor), per 1M points of the standard workload,
 * each stage measured alone in its own process, warm (one pass before the timed one), 5000 points
 * per call as bench/writer.bench.mjs's point rows:
 *   user    the application building the point objects (bench/lib/writer-runners.mjs pointsOf)
 *   build   + the point builder filling columns (PointColumnBuilder.addAll, layouts not encoded)
 *   encode  + the WebAssembly encoder writing the layouts' lines into bodies (the writer's in-thread path)
 *   lanes   + each line's lane from the dictionaries (RowLanes, 8 lanes)
 * Sending the bytes is measured by writer.bench.mjs's sink row "bare loop" (the bytes encoded before
 * its clock starts). The full writer into the sink: bench/points-drive.mjs.
 *   npm run build && node bench/points-floor.mjs [runs=3]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeWorkload, median } from './lib/workload.mjs';
import { pointsOf } from './lib/writer-runners.mjs';

const n = 2_000_000;
const stages = ['user', 'build', 'encode', 'lanes'];

async function stage(mode) {
  const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
  const { PointColumnBuilder } = await import(dist('encode/columnar/point-builder.js'));
  const { encodePointsInThreadWasm } = await import(dist('encode/route.js'));
  const { resolveEncodeOptions } = await import(dist('options/index.js'));
  const { RowLanes } = await import(dist('encode/columnar/lanes.js'));
  const w = makeWorkload(n);
  const eo = resolveEncodeOptions({ precision: 'n' });
  const builder = new PointColumnBuilder({ precision: 'n' });
  const lanes = mode === 'lanes' ? new RowLanes(8) : undefined;
  let rows = 0;
  const pass = () => {
    for (let s = 0; s < n; s += 5000) {
      const points = pointsOf(w, s, s + 5000);
      if (mode === 'build') builder.addAll(points, (l) => { rows += l.rows; });
      else if (mode !== 'user') rows += encodePointsInThreadWasm(points, eo, 10 * 1024 * 1024, builder, undefined, undefined, lanes).lines;
      else rows += points.length;
    }
  };
  pass();
  const c0 = process.cpuUsage();
  pass();
  const c = process.cpuUsage(c0);
  if (rows !== 2 * n) throw new Error(`${mode}: ${rows} rows, expected ${2 * n}`);
  return (c.user + c.system) / 1e6 / (n / 1e6);
}

if (process.argv[2] === '--stage') {
  process.stdout.write(String(await stage(process.argv[3])));
} else {
  const runs = Number(process.argv[2] ?? 3);
  const self = fileURLToPath(import.meta.url);
  const got = Object.fromEntries(stages.map((s) => [s, []]));
  // Rounds, every stage once per round, so that the machine's drift hits all alike.
  for (let r = 0; r < runs; r++) for (const s of stages) got[s].push(Number(execFileSync(process.execPath, [self, '--stage', s])));
  console.log('| stage | CPU-s per 1M points (median, min–max) | this stage alone |');
  console.log('|---|---|---|');
  let before = 0;
  for (const s of stages) {
    const m = median(got[s]);
    console.log(`| ${s} | ${m.toFixed(3)} (${Math.min(...got[s]).toFixed(3)}–${Math.max(...got[s]).toFixed(3)}) | ${(m - before).toFixed(3)} |`);
    before = m;
  }
}
