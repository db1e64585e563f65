/**
 * Point objects through the writer into a discard-everything sink (bench/lib/sink.mjs, its own
 * process): client CPU-s per 1M points, building the points inside the timed phase as
 * bench/writer.bench.mjs's part 1 does. For profiling the point path:
 *   npm run build && node bench/points-drive.mjs [points] ['{"writer":"options"}']
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/points-drive.mjs 2000000
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InfluxDBClient } from '../dist/index.js';
import { makeWorkload } from './lib/workload.mjs';
import { pointsOf } from './lib/writer-runners.mjs';

const n = Number(process.argv[2] ?? 2_000_000);
const opts = JSON.parse(process.argv[3] ?? '{}');
const sink = fork(fileURLToPath(new URL('lib/sink.mjs', import.meta.url)), [], { stdio: 'inherit' });
try {
  const port = await new Promise((resolve) => sink.on('message', (/** @type {any} */ m) => m.type === 'ready' && resolve(m.port)));
  const w = makeWorkload(n);
  const c = new InfluxDBClient({ url: `http://127.0.0.1:${port}`, db: 'drive' });
  const writer = c.writer(opts);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < n; s += 5000) await writer.write(pointsOf(w, s, Math.min(n, s + 5000)));
  await writer.close();
  const cpu = process.cpuUsage(cpu0);
  const st = writer.stats();
  await c.close();
  console.log(JSON.stringify({
    points: n, pointsPerSecond: Math.round(n / ((performance.now() - t0) / 1000)),
    cpuSPer1M: +(((cpu.user + cpu.system) / 1e6) / (n / 1e6)).toFixed(3), userS: +(cpu.user / 1e6).toFixed(2), sysS: +(cpu.system / 1e6).toFixed(2), written: st.written, requests: st.requests,
  }));
} finally {
  sink.kill();
}
