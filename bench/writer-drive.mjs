/**
 * One writer run, for profiling and quick comparisons: 1M points of the standard workload as an
 * Arrow table (100k-row slices) through `client.writer({ measurement: 'cpu', ...OPTIONS })` into a
 * throwaway local influxd (or the server at SINK). Prints points/s, client CPU-s (user+sys), the
 * number of requests, the final in-flight limit and the round trips.
 *   npm run build && node bench/writer-drive.mjs '{"maxInFlight":1}'
 *   node --cpu-prof bench/writer-drive.mjs '{}'
 */
import { startLocalInfluxd } from '../dist/server/local-influxd.js';
import { InfluxDBClient } from '../dist/index.js';
import { makeWorkload, toArrowTable } from './lib/workload.mjs';

const opts = JSON.parse(process.argv[2] ?? '{}');
const srv = process.env.SINK ? null : await startLocalInfluxd();
const url = process.env.SINK ?? srv.url;
try {
  await fetch(`${url}/query?q=CREATE+DATABASE+drive`, { method: 'POST' });
  const t = toArrowTable(makeWorkload(1_000_000));
  const c = new InfluxDBClient({ url, db: 'drive' });
  const w = c.writer({ measurement: 'cpu', ...opts });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 1_000_000; i += 100_000) await w.write(t.slice(i, i + 100_000));
  await w.close();
  const cpu = process.cpuUsage(cpu0);
  const s = w.stats();
  console.log(JSON.stringify({
    opts, pointsPerSecond: Math.round(1e9 / (performance.now() - t0)), clientCpuS: ((cpu.user + cpu.system) / 1e6).toFixed(2),
    requests: s.requests, retries: s.retries, limit: s.limit, latencyMs: s.latencyMs,
  }));
  await c.close();
} finally {
  await srv?.stop();
}
