/**
 * Writer benchmark: fastinflux's BatchWriter against the peers, end to end, on the standard
 * workload (shared/reference/perf.md). One run, two parts:
 *
 * Part 1, a discard-everything sink on loopback (bench/sink.mjs, its own process): every client
 * runs in its own process (bench/writer-runners.mjs), which builds its input first (not timed) and
 * then times the write phase only: wall time, process.cpuUsage() (user+sys, all threads), peak
 * RSS. The clock stops when the SINK has received all N lines, not when the client says it is done.
 *   - fastinflux writer, Arrow table with dictionary tags (toArrowTable), table slices of 100k rows
 *   - fastinflux writer, point objects, write() per 5000
 *   - @influxdata/influxdb-client 1.35 WriteApi, writePoint(new Point()) then close(): defaults (gzip) and gzip off
 *   - node-influx 5.12 writePoints(5000 points) with a schema, 1 in flight
 *
 * Part 2, a real influxd (startLocalInfluxd from dist/server): the server's own limit (a bare
 * undici loop of pre-encoded 5000-line bodies, 1 and 2 in flight), then the fastinflux writer
 * (Arrow input, maxInFlight 1 and 2), each into a fresh database, checked with SELECT count().
 *
 *   npm run build && npm --prefix bench install && node bench/writer.bench.mjs
 *
 * Environment:
 *   WRITER_BENCH_POINTS         points for fastinflux in part 1 (default 10,000,000)
 *   WRITER_BENCH_PEER_POINTS    points for the peers in part 1 (default min(1,000,000, POINTS))
 *   WRITER_BENCH_SERVER_POINTS  points per run in part 2 (default 1,000,000)
 *   WRITER_BENCH_PARTS          "1", "2" or "1,2" (default)
 *   WRITER_BENCH_CLIENTS        only the clients whose id contains one of these (comma separated)
 *   WRITER_BENCH_REPS           runs per client in part 1 (default 1; figures are medians)
 *   WRITER_BENCH_SERVER_REPS    runs per client in part 2, each on a fresh influxd (default 5: influxd alone varies ±30% run to run)
 *   WRITER_BENCH_PREBUILT=1     build the point objects before the timed phase (default: inside it, from the
 *                               workload's columns); fastinflux's point run then uses the peers' count
 *   WRITER_BENCH_WARMUP_POINTS  written to influxd before part 2's runs, not measured (default 200,000)
 *   WRITER_BENCH_FASTINFLUX     load fastinflux from this path instead of dist/index.js (marked in the output)
 *   WRITER_BENCH_TIMEOUT_S      per client process (default 900)
 *   WRITER_BENCH_OUT            output directory (default bench/results)
 *
 * Writes <out>/writer.json and <out>/writer.md (tables for the README). Loopback only.
 */
import { fork, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeWorkload, median, toLineProtocolBodies } from './workload.mjs';

const env = process.env;
const num = (name, dflt) => (env[name] !== undefined && env[name] !== '' ? Number(env[name].replace(/_/g, '')) : dflt);
const N = num('WRITER_BENCH_POINTS', 10_000_000);
const PEER_N = num('WRITER_BENCH_PEER_POINTS', Math.min(1_000_000, N));
const SERVER_N = num('WRITER_BENCH_SERVER_POINTS', 1_000_000);
const PARTS = new Set((env.WRITER_BENCH_PARTS ?? '1,2').split(',').map((s) => s.trim()));
const ONLY = env.WRITER_BENCH_CLIENTS ? env.WRITER_BENCH_CLIENTS.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
const REPS = num('WRITER_BENCH_REPS', 1);
const PREBUILT = env.WRITER_BENCH_PREBUILT === '1';
const TIMEOUT_MS = num('WRITER_BENCH_TIMEOUT_S', 900) * 1000;
const SINK_WAIT_MS = 60_000;
const SETTLE_MS = 2000;
const WARMUP = num('WRITER_BENCH_WARMUP_POINTS', 200_000);
const MAX_BUFFER_BYTES = 64 * 2 ** 20;
const RSS_BOUND_B = MAX_BUFFER_BYTES + 100e6;
const OUT = env.WRITER_BENCH_OUT ?? fileURLToPath(new URL('results/', import.meta.url));
const RUNNER_FILE = fileURLToPath(new URL('writer-runners.mjs', import.meta.url));
const SINK_FILE = fileURLToPath(new URL('sink.mjs', import.meta.url));
for (const [k, v] of Object.entries({ N, PEER_N, SERVER_N, REPS })) if (!(Number.isInteger(v) && v > 0)) throw new Error(`${k} must be a positive integer (got ${v})`);

const log = (...a) => console.error(...a);
const selected = (id) => !ONLY || ONLY.some((s) => id.includes(s));

// ---- processes: every one we start is tracked by pid and stopped at the end, even on failure ---

const live = new Map(); // pid -> ChildProcess
let server; // the local influxd, when part 2 runs
let serverStopped = false;
let interrupted = false;

function track(cp) {
  live.set(cp.pid, cp);
  cp.once('exit', () => live.delete(cp.pid));
  return cp;
}
function killLive() {
  for (const pid of [...live.keys()]) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    live.delete(pid);
  }
}
process.on('exit', () => {
  killLive();
  // Last resort only (stop() is awaited on every normal and error path): never leave influxd behind.
  if (server && !serverStopped) try { process.kill(server.pid, 'SIGKILL'); } catch { /* gone */ }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    interrupted = true;
    log(`\n${sig}: stopping child processes and influxd; no results written`);
    killLive();
    await stopServer();
    process.exit(130);
  });
}
async function stopServer() {
  if (!server || serverStopped) return;
  serverStopped = true;
  await server.stop().catch((e) => log(`influxd stop failed: ${e.message}`));
}

// ---- the sink -----------------------------------------------------------------------------------

async function startSink() {
  const cp = track(fork(SINK_FILE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const pending = new Map();
  let nextId = 1;
  const port = await new Promise((resolve, reject) => {
    cp.once('error', reject);
    cp.once('exit', (code) => reject(new Error(`sink exited (${code}) before listening`)));
    cp.on('message', (m) => {
      if (m?.type === 'ready') resolve(m.port);
      else if (m?.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
    });
  });
  const call = (cmd) => new Promise((resolve, reject) => {
    const id = nextId++;
    const t = setTimeout(() => { pending.delete(id); reject(new Error(`sink did not answer ${cmd}`)); }, 10_000);
    pending.set(id, (m) => { clearTimeout(t); resolve(m); });
    cp.send({ cmd, id });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: cp.pid,
    reset: () => call('reset'),
    stats: () => call('stats'),
    async stop() {
      await call('stop').catch(() => {});
      await new Promise((r) => (cp.exitCode !== null || cp.signalCode ? r() : cp.once('exit', r)));
    },
  };
}

// ---- one client in its own process --------------------------------------------------------------

/** Runs cfg in a child; `beforeGo` runs between its preparation and its timed phase. */
function runChild(cfg, { beforeGo } = {}) {
  return new Promise((resolve) => {
    const cp = track(fork(RUNNER_FILE, [], {
      execArgv: ['--expose-gc'],
      env: { ...env, WRITER_CHILD: JSON.stringify(cfg) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    let result;
    let settled = false;
    const done = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      result ??= { status: 'error', error: `timed out after ${TIMEOUT_MS / 1000} s` };
      try { process.kill(cp.pid, 'SIGKILL'); } catch { /* gone */ }
    }, TIMEOUT_MS);
    cp.on('message', async (m) => {
      if (m?.type === 'ready') {
        try {
          await beforeGo?.();
          cp.send({ type: 'go' });
        } catch (e) {
          result = { status: 'error', error: `before the write phase: ${e.message}` };
          try { process.kill(cp.pid, 'SIGKILL'); } catch { /* gone */ }
        }
      } else if (m?.type === 'result') {
        result = m;
      }
    });
    cp.once('error', (e) => { result ??= { status: 'error', error: e.message }; done(result); });
    cp.once('exit', (code, signal) => done(result ?? { status: 'error', error: `client process exited (${signal ?? code}) without a result` }));
  });
}

// ---- figures ------------------------------------------------------------------------------------

const MB = (b) => b / 1e6;
const per1M = (s, n) => (s * 1e6) / n;

/** The median of each numeric field over the successful reps, with min–max of the main figures. */
function aggregate(base, reps) {
  const ok = reps.filter((r) => r.status === 'ok');
  if (!ok.length) return { ...base, status: reps[0]?.status ?? 'error', reason: reps[0]?.reason, error: reps[0]?.error, reps: reps.length };
  const out = { ...base, status: 'ok', reps: reps.length, okReps: ok.length };
  for (const k of Object.keys(ok[0])) {
    if (typeof ok[0][k] === 'number') out[k] = median(ok.map((r) => r[k]));
    else if (!(k in out)) out[k] = ok[ok.length - 1][k];
  }
  for (const k of ['pointsPerSec', 'cpuPer1M']) out[`${k}Range`] = [Math.min(...ok.map((r) => r[k])), Math.max(...ok.map((r) => r[k]))];
  out.verified = ok.every((r) => r.verified);
  out.problems = [...new Set(reps.flatMap((r) => r.problems ?? []))];
  if (reps.length > ok.length) out.problems.push(`${reps.length - ok.length} of ${reps.length} runs failed: ${reps.find((r) => r.status !== 'ok').error}`);
  return out;
}

function figures(r, n) {
  return {
    status: r.status,
    n,
    wallS: r.wallS,
    clientDoneS: r.clientDoneS,
    pointsPerSec: n / r.wallS,
    mbPerSec: undefined,
    cpuS: r.cpuS,
    cpuPer1M: per1M(r.cpuS, n),
    cpuOverWall: r.cpuS / r.wallS,
    rssPeakMB: MB(r.rssPeakB),
    rssStartMB: MB(r.rssStartB),
    rssGrowthMB: MB(r.rssPeakB - r.rssStartB),
    problems: [...(r.problems ?? [])],
    writerStats: r.writerStats,
    info: r.info,
  };
}

// ---- part 1: the sink ---------------------------------------------------------------------------

const PART1 = [
  { id: 'fastinflux-arrow', group: 'fastinflux', label: 'fastinflux writer, Arrow table (dictionary tags), slices of 100k rows', runner: 'fastinflux-writer', n: N, input: 'arrow' },
  { id: 'fastinflux-points', group: 'fastinflux', label: 'fastinflux writer, point objects, write() per 5000', runner: 'fastinflux-writer', n: PREBUILT ? PEER_N : N, input: 'points' }, // 10M prebuilt objects would not fit the default heap
  { id: 'official-gzip', group: 'peer', label: 'influxdb-client 1.35 WriteApi, defaults (gzip, threshold 1000)', runner: 'official-writeapi', n: PEER_N, gzip: true },
  { id: 'official-nogzip', group: 'peer', label: 'influxdb-client 1.35 WriteApi, gzipThreshold=Infinity', runner: 'official-writeapi', n: PEER_N, gzip: false },
  { id: 'node-influx', group: 'peer', label: 'node-influx 5.12 writePoints, schema, 1 in flight', runner: 'node-influx', n: PEER_N },
];

async function part1() {
  const sink = await startSink();
  const rows = [];
  try {
    for (const c of PART1.filter((c) => selected(c.id))) {
      const reps = [];
      for (let rep = 0; rep < REPS; rep++) {
        log(`part 1: ${c.id} (${c.n.toLocaleString('en')} points)${REPS > 1 ? ` rep ${rep + 1}/${REPS}` : ''}…`);
        const cfg = { ...c, url: sink.url, db: 'bench', sinkWait: true, sinkWaitMs: SINK_WAIT_MS, prebuilt: PREBUILT };
        const r = await runChild(cfg, { beforeGo: () => sink.reset() });
        const s = await sink.stats();
        if (r.status !== 'ok') {
          log(`  ${r.status}: ${r.reason ?? r.error}`);
          reps.push(r);
          if (r.status === 'not available') break;
          continue;
        }
        const f = figures(r, c.n);
        f.sinkLines = s.lines;
        f.verified = s.lines === c.n && r.sinkWait?.reached === true;
        f.wireBytesPerPoint = s.wireBytes / c.n;
        f.lpBytesPerLine = s.lines ? s.bytes / s.lines : 0;
        f.mbPerSec = MB(s.bytes) / r.wallS;
        f.sinkCpuPer1M = per1M(s.sinkCpuS, c.n);
        f.requests = s.writeRequests;
        f.gzipRequests = s.gzipRequests;
        f.maxConcurrentRequests = s.maxConcurrent;
        f.bodyLines = [s.minBodyLines, s.maxBodyLines];
        if (!f.verified) f.problems.push(`sink received ${s.lines.toLocaleString('en')} of ${c.n.toLocaleString('en')} lines${r.sinkWait?.reached ? '' : ` (still short ${SINK_WAIT_MS / 1000} s after the client finished)`}`);
        f.closeEarlyS = r.wallS - r.clientDoneS; // > 0: the client said "done" before the sink had every line
        if (s.bodyErrors || s.otherRequests) f.problems.push(`sink: ${s.bodyErrors} body errors, ${s.otherRequests} other requests`);
        log(`  ${Math.round(f.pointsPerSec).toLocaleString('en')} points/s, ${f.cpuPer1M.toFixed(2)} CPU-s per 1M, peak RSS ${f.rssPeakMB.toFixed(0)} MB, sink ${s.lines.toLocaleString('en')} lines${f.verified ? ' ✓' : ' ✗'}`);
        reps.push(f);
      }
      rows.push(aggregate({ id: c.id, group: c.group, label: c.label, n: c.n }, reps));
    }
  } finally {
    await sink.stop();
  }
  const peers = rows.filter((r) => r.group === 'peer' && r.status === 'ok' && r.verified);
  const bestPeer = peers.length ? peers.reduce((a, b) => (b.cpuPer1M < a.cpuPer1M ? b : a)) : undefined;
  const ratios = {};
  for (const r of rows.filter((x) => x.group === 'fastinflux' && x.status === 'ok')) {
    ratios[r.id] = {
      bestPeer: bestPeer?.id,
      cpuRatioVsBestPeer: bestPeer ? bestPeer.cpuPer1M / r.cpuPer1M : undefined,
      cpuTarget: 10,
      rssPeakMB: r.rssPeakMB,
      rssGrowthMB: r.rssGrowthMB,
      rssBoundMB: MB(RSS_BOUND_B),
      rssWithinBound: r.rssGrowthMB <= MB(RSS_BOUND_B),
    };
  }
  return { rows, ratios };
}

// ---- part 2: a real influxd ---------------------------------------------------------------------

let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* default */ }
function procCpuS(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
}

async function influxQuery(q, db) {
  const u = new URL('/query', server.url);
  u.searchParams.set('q', q);
  if (db) u.searchParams.set('db', db);
  const res = await fetch(u, { method: 'POST' });
  const body = await res.json();
  if (!res.ok || body.error || body.results?.[0]?.error) throw new Error(`${q}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

const PART2 = [
  { id: 'bare-1', group: 'bare', label: 'bare undici Pool, pre-encoded 5000-line bodies', runner: 'bare-undici', inFlight: 1 },
  { id: 'fastinflux-arrow-1', group: 'fastinflux', label: 'fastinflux writer, Arrow table', runner: 'fastinflux-writer', input: 'arrow', maxInFlight: 1, inFlight: 1 },
  { id: 'bare-2', group: 'bare', label: 'bare undici Pool, pre-encoded 5000-line bodies', runner: 'bare-undici', inFlight: 2 },
  { id: 'fastinflux-arrow-2', group: 'fastinflux', label: 'fastinflux writer, Arrow table', runner: 'fastinflux-writer', input: 'arrow', maxInFlight: 2, inFlight: 2 },
];

const SERVER_REPS = Number(process.env.WRITER_BENCH_SERVER_REPS ?? 5);

async function freshServer(startLocalInfluxd, ensureInfluxd) {
  server = await startLocalInfluxd({ influxdPath: await ensureInfluxd() });
  serverStopped = false;
  if (WARMUP > 0) {
    // A fresh influxd is slower on its first writes: warm it up (not measured) in a database of its own.
    await influxQuery('CREATE DATABASE "writer_warmup"');
    for (const body of toLineProtocolBodies(makeWorkload(WARMUP), 5000)) {
      const res = await fetch(new URL('/write?db=writer_warmup&precision=n', server.url), { method: 'POST', body });
      if (res.status !== 204) throw new Error(`warm-up write: HTTP ${res.status} ${await res.text()}`);
    }
  }
}

async function part2() {
  const { ensureInfluxd, startLocalInfluxd } = await import(new URL('../dist/server/index.js', import.meta.url).href);
  const byId = new Map(PART2.filter((c) => selected(c.id)).map((c) => [c.id, []]));
  let version = '';
  // Each run gets a fresh, warmed-up influxd: a server that already holds earlier runs' data
  // compacts it in the background and slows whichever run comes later. Runs are interleaved
  // (bare, writer, bare, writer …) so that drift in the machine's load hits both alike.
  for (let rep = 0; rep < SERVER_REPS; rep++) {
    for (const c of PART2.filter((x) => byId.has(x.id))) {
      const reps = byId.get(c.id);
      if (reps.some((r) => r.status === 'not available')) continue;
      await freshServer(startLocalInfluxd, ensureInfluxd);
      try {
        version ||= (await fetch(new URL('/ping', server.url))).headers.get('x-influxdb-version') ?? '';
        const db = `writer_${c.id.replace(/-/g, '_')}_${rep}`;
        await influxQuery(`CREATE DATABASE "${db}"`);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        log(`part 2: ${c.id} rep ${rep + 1}/${SERVER_REPS} (${SERVER_N.toLocaleString('en')} points, influxd pid ${server.pid})…`);
        let srv0 = 0;
        const r = await runChild({ ...c, n: SERVER_N, url: server.url, db }, { beforeGo: () => { srv0 = procCpuS(server.pid); } });
        const serverCpuS = procCpuS(server.pid) - srv0;
        if (r.status !== 'ok') {
          log(`  ${r.status}: ${r.reason ?? r.error}`);
          reps.push(r);
          continue;
        }
        const f = figures(r, SERVER_N);
        const body = await influxQuery('SELECT count(usage_user) FROM cpu', db);
        f.stored = body.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
        f.verified = f.stored === SERVER_N;
        f.serverCpuPer1M = per1M(serverCpuS, SERVER_N);
        f.serverCoresBusy = serverCpuS / r.wallS;
        f.requests = r.requests;
        if (!f.verified) f.problems.push(`SELECT count(usage_user) = ${f.stored}, expected ${SERVER_N}`);
        log(`  ${Math.round(f.pointsPerSec).toLocaleString('en')} points/s, ${f.cpuPer1M.toFixed(2)} client CPU-s per 1M, server ${f.serverCpuPer1M.toFixed(2)} CPU-s per 1M, stored ${f.stored}${f.verified ? ' ✓' : ' ✗'}`);
        reps.push(f);
      } finally {
        await stopServer();
      }
    }
  }
  const rows = PART2.filter((c) => byId.has(c.id)).map((c) => aggregate({ id: c.id, group: c.group, label: c.label, inFlight: c.inFlight, n: SERVER_N }, byId.get(c.id)));
  const bare = rows.filter((r) => r.group === 'bare' && r.status === 'ok');
  const bareBest = bare.length ? Math.max(...bare.map((r) => r.pointsPerSec)) : undefined;
  for (const r of rows) if (r.status === 'ok' && bareBest) r.shareOfBareBest = r.pointsPerSec / bareBest;
  return { rows, bareBestPointsPerSec: bareBest, server: `InfluxDB ${version}`.trim() };
}

// ---- report -------------------------------------------------------------------------------------

const int = (x) => Math.round(x).toLocaleString('en');
const f2 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
const range = (r, k, fmt) => (r.reps > 1 && r[`${k}Range`] ? ` (${fmt(r[`${k}Range`][0])}–${fmt(r[`${k}Range`][1])})` : '');
const kpts = (x) => `${int(x / 1000)}k`;

function tablePart1(p) {
  let t = '| client | points | points/s | MB/s (LP) | wall s | client CPU s per 1M | CPU / wall | peak RSS MB (growth) | wire B/pt | requests | sink lines | sink CPU s per 1M |\n';
  t += '|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of p.rows) {
    if (r.status !== 'ok') {
      t += `| ${r.label} | ${int(r.n)} | ${r.status}${r.reason ? `: ${r.reason}` : ''} | | | | | | | | | |\n`;
      continue;
    }
    t += `| ${r.label} | ${int(r.n)} | ${kpts(r.pointsPerSec)}${range(r, 'pointsPerSec', kpts)} | ${r.mbPerSec.toFixed(1)} | ${f2(r.wallS)} | ${f2(r.cpuPer1M)}${range(r, 'cpuPer1M', f2)} | ${f2(r.cpuOverWall)} | ${int(r.rssPeakMB)} (+${int(r.rssGrowthMB)}) | ${r.wireBytesPerPoint.toFixed(1)} | ${int(r.requests)} | ${int(r.sinkLines)} ${r.verified ? '✓' : '✗'} | ${f2(r.sinkCpuPer1M)} |\n`;
  }
  return t;
}

function ratiosPart1(p) {
  let t = '';
  for (const [id, q] of Object.entries(p.ratios)) {
    const cpu = q.cpuRatioVsBestPeer === undefined ? 'no verified peer run to compare with' : `**${q.cpuRatioVsBestPeer.toFixed(1)}x** less client CPU per 1M points than the best peer (${q.bestPeer}) (target ≥ ${q.cpuTarget}x: ${q.cpuRatioVsBestPeer >= q.cpuTarget ? 'met' : 'NOT met'})`;
    t += `- ${id}: ${cpu}; peak RSS ${int(q.rssPeakMB)} MB, ${int(q.rssGrowthMB)} MB above the RSS at the start of the write phase (input already built) vs maxBufferBytes + 100 MB = ${int(q.rssBoundMB)} MB: ${q.rssWithinBound ? 'within' : 'OVER'}.\n`;
  }
  return t;
}

function tablePart2(p) {
  let t = '| client | in flight | points/s | MB/s (LP) | wall s | client CPU s per 1M | server CPU s per 1M | server cores busy | share of bare best | stored |\n';
  t += '|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of p.rows) {
    if (r.status !== 'ok') {
      t += `| ${r.label} | ${r.inFlight} | ${r.status}${r.reason ? `: ${r.reason}` : ''} | | | | | | | |\n`;
      continue;
    }
    const mbps = (r.pointsPerSec * LP_BYTES_PER_LINE) / 1e6;
    t += `| ${r.label} | ${r.inFlight} | ${kpts(r.pointsPerSec)}${range(r, 'pointsPerSec', kpts)} | ${mbps.toFixed(1)} | ${f2(r.wallS)} | ${f2(r.cpuPer1M)} | ${f2(r.serverCpuPer1M)} | ${f2(r.serverCoresBusy)} | ${r.shareOfBareBest ? `${(r.shareOfBareBest * 100).toFixed(0)}%` : '–'} | ${int(r.stored)} ${r.verified ? '✓' : '✗'} |\n`;
  }
  return t;
}
let LP_BYTES_PER_LINE = 147.1;

function problems(rows) {
  return rows.filter((r) => r.problems?.length || (r.status === 'error')).map((r) => `- ${r.id}: ${r.status === 'error' ? r.error?.split('\n')[0] : r.problems.join('; ')}`).join('\n');
}
function notes(rows) {
  return rows.filter((r) => r.status === 'ok' && r.closeEarlyS > 0.01)
    .map((r) => `- ${r.id}: the client's close() resolved ${r.closeEarlyS.toFixed(2)} s${r.reps > 1 ? ' (median)' : ''} before the sink had every line`).join('\n');
}

async function main() {
  const started = new Date();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const result = {
    date: started.toISOString(),
    library: env.WRITER_BENCH_FASTINFLUX ?? 'dist/index.js',
    loadavgAtStart: loadavg(),
    machine,
    node: process.version,
    prebuilt: PREBUILT,
    reps: REPS,
    points: { fastinflux: N, peers: PEER_N, server: SERVER_N },
  };
  let failed = false;
  if (PARTS.has('1')) {
    try {
      result.part1 = await part1();
      const lp = result.part1.rows.find((r) => r.status === 'ok' && r.lpBytesPerLine)?.lpBytesPerLine;
      if (lp) LP_BYTES_PER_LINE = lp;
    } catch (e) {
      failed = true;
      result.part1 = { error: String(e?.stack ?? e) };
      log(`part 1 failed: ${e?.stack ?? e}`);
    }
  }
  if (PARTS.has('2')) {
    try {
      result.part2 = await part2();
    } catch (e) {
      failed = true;
      result.part2 = { error: String(e?.stack ?? e) };
      log(`part 2 failed: ${e?.stack ?? e}`);
    }
  }
  killLive();

  let md = `<!-- writer-bench:start (generated by bench/writer.bench.mjs: do not edit) -->\n`;
  md += `### Writing: the writer against the peers\n\n`;
  md += `Standard workload (bench/workload.mjs, ${LP_BYTES_PER_LINE.toFixed(1)} bytes per line). Machine: ${machine}; Node ${process.version}; ${started.toISOString().slice(0, 10)}. `;
  md += `Every client runs in its own process; CPU is user+sys of that process (all threads) during the write phase only, per 1M points; `;
  md += `${PREBUILT ? 'point objects are built before the clock starts' : 'point objects are built from the workload columns inside the timed phase, as an application producing points does (the Arrow table is built before)'}. `;
  md += `${REPS > 1 ? `Median of ${REPS} runs (min–max).` : 'One run per client: compare within the run, shared machines move ±30%.'} Command: \`node bench/writer.bench.mjs\`.\n\n`;
  if (env.WRITER_BENCH_FASTINFLUX) md += `> **fastinflux loaded from ${env.WRITER_BENCH_FASTINFLUX}, not dist/: not for publication.**\n\n`;
  if (result.loadavgAtStart[0] > 0.5) md += `> Load average at start ${result.loadavgAtStart.map((x) => x.toFixed(2)).join(', ')}: other work was running on this ${cpus().length}-CPU machine.\n\n`;
  if (result.part1?.rows) {
    md += `**Into a discard-everything sink on loopback** (a separate Node process that answers 204 and counts lines; the clock stops when the sink has every line). `;
    md += `fastinflux: ${int(N)} points; peers: ${int(PEER_N)} points (they take 4–7 s per 1M).\n\n`;
    md += tablePart1(result.part1) + '\n' + ratiosPart1(result.part1);
    const nt = notes(result.part1.rows);
    if (nt) md += `\nNotes (the clock ran on until the sink had every line):\n${nt}\n`;
    const pr = problems(result.part1.rows);
    if (pr) md += `\nProblems seen:\n${pr}\n`;
    md += '\n';
  } else if (result.part1?.error) md += `Part 1 (sink) failed: ${result.part1.error.split('\n')[0]}\n\n`;
  if (result.part2?.rows) {
    md += `**Into a real ${result.part2.server} on the same machine** (${int(SERVER_N)} points per run, a fresh database each; \`SELECT count(usage_user) FROM cpu\` checks every point is stored). `;
    md += `The bare loop posts pre-encoded 5000-line bodies: the server's own limit.\n\n`;
    md += tablePart2(result.part2);
    const pr = problems(result.part2.rows);
    if (pr) md += `\nProblems seen:\n${pr}\n`;
  } else if (result.part2?.error) md += `Part 2 (influxd) failed: ${result.part2.error.split('\n')[0]}\n`;
  md += `<!-- writer-bench:end -->\n`;

  if (interrupted) return true;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/writer.json`, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(`${OUT}/writer.md`, md);
  // A full run into the default folder also refreshes the README's section (between the markers).
  if (!env.WRITER_BENCH_OUT && !env.WRITER_BENCH_CLIENTS && !env.WRITER_BENCH_PARTS) {
    const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
    const readme = readFileSync(readmePath, 'utf8');
    const re = /<!-- writer-bench:start[^>]*-->[\s\S]*?<!-- writer-bench:end -->/;
    if (re.test(readme)) {
      writeFileSync(readmePath, readme.replace(re, () => md.trim()));
      log('README.md updated');
    }
  }
  console.log('\n' + md);
  log(`wrote ${OUT}/writer.json and ${OUT}/writer.md`);
  return failed;
}

main().then(
  (failed) => { killLive(); process.exitCode = failed ? 1 : 0; },
  async (e) => {
    log(e?.stack ?? e);
    killLive();
    await stopServer();
    process.exitCode = 1;
  },
);
