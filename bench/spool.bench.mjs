/**
 * The durable spool's cost (issue 13): the batch writer with and without `spool`, default options
 * otherwise, rounds interleaved, each run in its own process:
 *   - into a discard-everything sink (bench/lib/sink.mjs): point objects, write() per 5000 (built in
 *     the timed phase, as bench/writer.bench.mjs does), SPOOL_BENCH_SINK_POINTS (2,000,000);
 *   - into a real influxd 1.6.7 (a fresh one per run, from dist/server): the standard workload as
 *     an Arrow table in 100k-row slices, SPOOL_BENCH_SERVER_POINTS (1,000,000).
 * Reports points/s (median of SPOOL_BENCH_ROUNDS, default 3), the ratio with/without, client CPU
 * per 1M points, and the spool's disk traffic: MB/s written and fsyncs per second.
 *   npm run build && node bench/spool.bench.mjs            # ≈ 2 min
 * Writes bench/results/spool.md (and .json) and prints the markdown. Loopback only; the spool
 * lives in a temp dir removed after each run.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const SINK_N = Number(env.SPOOL_BENCH_SINK_POINTS ?? 2_000_000);
const SERVER_N = Number(env.SPOOL_BENCH_SERVER_POINTS ?? 1_000_000);
const ROUNDS = Number(env.SPOOL_BENCH_ROUNDS ?? 3);
const SELF = fileURLToPath(import.meta.url);
const OUT = env.SPOOL_BENCH_OUT ?? fileURLToPath(new URL('results/', import.meta.url));

if (process.argv[2] === '--run') {
  process.send(await runOne(JSON.parse(process.argv[3])));
  process.exit(0);
}

/** One run in this (child) process: { pointsPerSecond, cpuSPer1M, spool stats, seconds }. */
async function runOne(cfg) {
  const { InfluxDBClient } = await import('../dist/index.js');
  const { makeWorkload, toArrowTable } = await import('./lib/workload.mjs');
  const { pointsOf } = await import('./lib/writer-runners.mjs');
  let url;
  let stop = async () => {};
  if (cfg.target === 'sink') {
    const sink = fork(fileURLToPath(new URL('lib/sink.mjs', import.meta.url)), [], { stdio: 'inherit' });
    const port = await new Promise((resolve) => sink.on('message', (/** @type {any} */ m) => m.type === 'ready' && resolve(m.port)));
    url = `http://127.0.0.1:${port}`;
    stop = async () => { sink.kill(); };
  } else {
    const { startLocalInfluxd } = await import('../dist/server/local-influxd.js');
    const srv = await startLocalInfluxd();
    url = srv.url;
    stop = () => srv.stop();
    await fetch(`${url}/query?q=CREATE+DATABASE+spool`, { method: 'POST' });
  }
  const dir = cfg.spool ? mkdtempSync(join(tmpdir(), 'fastinflux-spool-bench-')) : undefined;
  try {
    const n = cfg.n;
    const w = makeWorkload(n);
    const client = new InfluxDBClient({ url, db: 'spool' });
    const input = cfg.target === 'sink' ? undefined : toArrowTable(w);
    const writer = client.writer({ ...(cfg.target === 'sink' ? {} : { measurement: 'cpu' }), ...(dir ? { spool: { dir } } : {}) });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (input === undefined) for (let s = 0; s < n; s += 5000) await writer.write(pointsOf(w, s, Math.min(n, s + 5000)));
    else for (let s = 0; s < n; s += 100_000) await writer.write(input.slice(s, Math.min(n, s + 100_000)));
    const spool = writer.stats().spool;
    await writer.close();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const st = writer.stats();
    await client.close();
    if (st.written !== n) throw new Error(`written ${st.written}, expected ${n}`);
    return {
      pointsPerSecond: n / seconds, seconds, cpuSPer1M: (cpu.user + cpu.system) / 1e6 / (n / 1e6),
      spoolMBps: spool ? spool.bytesWritten / 1e6 / seconds : undefined, fsyncsPerS: spool ? spool.fsyncs / seconds : undefined,
    };
  } finally {
    await stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function child(cfg) {
  return new Promise((resolve, reject) => {
    const c = fork(SELF, ['--run', JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let got;
    c.on('message', (m) => { got = m; });
    c.on('exit', (code) => (got ? resolve(got) : reject(new Error(`run ${JSON.stringify(cfg)} exited ${code}`))));
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const k = (x) => `${Math.round(x / 1000)}k`;

const rows = [];
const loadStart = loadavg().map((x) => x.toFixed(2)).join(', ');
for (const target of ['sink', 'influxd']) {
  const runs = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const spool of [false, true]) {
      const res = await child({ target, spool, n: target === 'sink' ? SINK_N : SERVER_N });
      runs[spool ? 'on' : 'off'].push(res);
      console.error(`${target} spool=${spool} round ${r + 1}: ${k(res.pointsPerSecond)} points/s`);
    }
  }
  const off = median(runs.off.map((x) => x.pointsPerSecond));
  const on = median(runs.on.map((x) => x.pointsPerSecond));
  // Ratio per round (pairs ran back to back), then the median: steadier on a shared machine.
  const ratios = runs.on.map((x, i) => x.pointsPerSecond / runs.off[i].pointsPerSecond);
  rows.push({
    target, input: target === 'sink' ? 'point objects, write() per 5000' : 'Arrow table, 100k-row slices', n: target === 'sink' ? SINK_N : SERVER_N,
    off, on, ratio: median(ratios), ratios,
    cpuOff: median(runs.off.map((x) => x.cpuSPer1M)), cpuOn: median(runs.on.map((x) => x.cpuSPer1M)),
    mbps: median(runs.on.map((x) => x.spoolMBps)), fsyncs: median(runs.on.map((x) => x.fsyncsPerS)),
  });
}
const md = [
  '### The durable spool: with and without',
  '',
  `Command: \`node bench/spool.bench.mjs\` (${ROUNDS} rounds, pairs back to back, each run its own process; medians). Machine: ${cpus().length} × ${cpus()[0].model.trim()}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average at start ${loadStart}, at the end ${loadavg().map((x) => x.toFixed(2)).join(', ')}.`,
  '',
  '| into | input | points | without spool, points/s | with spool, points/s | with / without (per-round pairs) | client CPU-s per 1M without / with | spool writes MB/s | fsyncs/s |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.target === 'sink' ? 'discard-everything sink' : 'influxd 1.6.7'} | ${r.input} | ${r.n.toLocaleString('en-US')} | ${k(r.off)} | ${k(r.on)} | ${r.ratio.toFixed(2)} (${r.ratios.map((x) => x.toFixed(2)).join(', ')}) | ${r.cpuOff.toFixed(2)} / ${r.cpuOn.toFixed(2)} | ${r.mbps.toFixed(0)} | ${r.fsyncs.toFixed(0)} |`),
  '',
].join('\n');
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'spool.md'), md);
writeFileSync(join(OUT, 'spool.json'), JSON.stringify({ rows, rounds: ROUNDS, date: new Date().toISOString() }, null, 2));
console.log(md);
