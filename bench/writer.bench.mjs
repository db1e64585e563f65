/**
 * Writer benchmark (issue 12): fastinflux against the peers, end to end, on the standard workload
 * (shared/reference/perf.md), every client at its DEFAULT options. One run, up to three parts:
 *
 * Part 2 → Table 1, a real influxd 1.6.7 (startLocalInfluxd from dist/server; a fresh, warmed-up
 * influxd and a fresh database per run; rows interleaved round by round; SELECT count(*) checks
 * every point is stored). Server CPU is influxd's utime+stime (/proc/<pid>/stat) over the write.
 *   - bare loop: pre-encoded 5000-line bodies POSTed to /write with undici, 1, 2 and 4 in flight;
 *     the best of the three (median points/s) is "the best bare loop" every row is compared with
 *   - fastinflux writer, Arrow table (dictionary tags), 100k-row slices: write(slice)… then close()
 *   - fastinflux writer, point objects, write() per 5000
 *   - `fastinflux load cpu.arrow` (dist/cli/main.js, a child process, timed from spawn to exit)
 *   - node-influx 5.12 writePoints(5000 points), awaited one after the other
 *   - more fastinflux writer rows with given options (WRITER_BENCH_VARIANTS, e.g. maxInFlight 2, 4, 'auto';
 *     an option the library refuses is reported as "not available")
 *
 * Part 1 → Table 2, a discard-everything sink on loopback (bench/lib/sink.mjs, its own process): client
 * CPU per 1M points of the fastinflux writer (points, Arrow), node-influx and the official client
 * (@influxdata/influxdb-client 1.35, which speaks only /api/v2/write: influxd 1.6.7 lacks it), as a
 * ratio to node-influx. The clock stops when the SINK has every line.
 *
 * Part 3 (not run by default) → the server-side experiments: the bare loop into influxd at
 * WRITER_BENCH_EXP_INFLIGHT requests in flight with bodies of 1000 / 5000 / 20000 lines, precision
 * ns vs ms, lines sorted by series within each body, gzip level 1: influxd's CPU per 1M points.
 *
 * Every client runs in its own process (bench/lib/writer-runners.mjs), which builds its input first
 * (not timed) and then times the write phase only: wall time, CPU (user+sys, all threads), peak RSS.
 *
 *   npm run bench:writer                                   # parts 1 and 2 (≈ 6–8 min on a quiet machine)
 *   WRITER_BENCH_PARTS=3 node bench/writer.bench.mjs        # the experiments (≈ 5 min on a quiet machine)
 *
 * Environment:
 *   WRITER_BENCH_PARTS          "1", "2", "3", comma separated (default "1,2")
 *   WRITER_BENCH_POINTS         points for fastinflux in part 1 (default 2,000,000)
 *   WRITER_BENCH_PEER_POINTS    points for the peers in part 1 (default min(1,000,000, POINTS))
 *   WRITER_BENCH_REPS           runs per client in part 1 (default 2; figures are medians)
 *   WRITER_BENCH_SERVER_POINTS  points per run in parts 2 and 3 (default 1,000,000)
 *   WRITER_BENCH_SERVER_REPS    rounds of part 2, each row once per round on a fresh influxd (default 2; 3 is steadier)
 *   WRITER_BENCH_VARIANTS       JSON array of writer options, one more fastinflux row each in part 2
 *                               (default [{"maxInFlight":2},{"maxInFlight":4},{"maxInFlight":"auto"}]; "none": no extra rows)
 *   WRITER_BENCH_VARIANT_INPUTS inputs of those rows: "arrow", "points" or both (default "arrow")
 *   WRITER_BENCH_EXP_REPS       rounds of part 3 (default 3)
 *   WRITER_BENCH_EXP_INFLIGHT   requests in flight in part 3 (default 2, the best in perf.md and in part 2's runs)
 *   WRITER_BENCH_CLIENTS        only the rows whose id contains one of these (comma separated)
 *   WRITER_BENCH_PREBUILT=1     build the point objects before the timed phase (default: inside it, from the
 *                               workload's columns, as an application producing points does)
 *   WRITER_BENCH_WARMUP_POINTS  written to influxd before each run, not measured (default 200,000)
 *   WRITER_BENCH_FASTINFLUX     load fastinflux from this path instead of dist/index.js (marked in the output)
 *   WRITER_BENCH_TIMEOUT_S      per client process (default 900)
 *   WRITER_BENCH_OUT            output directory (default bench/results)
 *   WRITER_BENCH_README=1       also replace the README's section between the writer-bench markers
 *
 * Writes <out>/writer.json and <out>/writer.md (parts 1, 2), <out>/server-cost.json and
 * <out>/server-cost.md (part 3), and prints the markdown on stdout. Loopback only.
 */
import { fork, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeWorkload, median, toLineProtocolBodies } from './lib/workload.mjs';

const env = process.env;
const num = (name, dflt) => (env[name] !== undefined && env[name] !== '' ? Number(env[name].replace(/_/g, '')) : dflt);
const N = num('WRITER_BENCH_POINTS', 2_000_000);
const PEER_N = num('WRITER_BENCH_PEER_POINTS', Math.min(1_000_000, N));
const SERVER_N = num('WRITER_BENCH_SERVER_POINTS', 1_000_000);
const PARTS = new Set((env.WRITER_BENCH_PARTS ?? '1,2').split(',').map((s) => s.trim()));
const ONLY = env.WRITER_BENCH_CLIENTS ? env.WRITER_BENCH_CLIENTS.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
const REPS = num('WRITER_BENCH_REPS', 2);
const SERVER_REPS = num('WRITER_BENCH_SERVER_REPS', 2);
const EXP_REPS = num('WRITER_BENCH_EXP_REPS', 3);
const EXP_IN_FLIGHT = num('WRITER_BENCH_EXP_INFLIGHT', 2);
const PREBUILT = env.WRITER_BENCH_PREBUILT === '1';
const TIMEOUT_MS = num('WRITER_BENCH_TIMEOUT_S', 900) * 1000;
const SINK_WAIT_MS = 60_000;
const SETTLE_MS = 2000;
const AFTER_MS = 3000; // part 3: influxd's CPU is also read this long after the write (its background work)
const WARMUP = num('WRITER_BENCH_WARMUP_POINTS', 200_000);
const OUT = env.WRITER_BENCH_OUT ?? fileURLToPath(new URL('results/', import.meta.url));
const RUNNER_FILE = fileURLToPath(new URL('lib/writer-runners.mjs', import.meta.url));
const SINK_FILE = fileURLToPath(new URL('lib/sink.mjs', import.meta.url));
for (const [k, v] of Object.entries({ N, PEER_N, SERVER_N, REPS, SERVER_REPS, EXP_REPS, EXP_IN_FLIGHT })) if (!(Number.isInteger(v) && v > 0)) throw new Error(`${k} must be a positive integer (got ${v})`);
const DEFAULT_VARIANTS = [{ maxInFlight: 2 }, { maxInFlight: 4 }, { maxInFlight: 'auto' }];
const VARIANTS = (() => {
  const v = env.WRITER_BENCH_VARIANTS;
  if (v === undefined || v === '') return DEFAULT_VARIANTS;
  if (v === 'none') return [];
  const parsed = JSON.parse(v);
  if (!Array.isArray(parsed) || !parsed.every((o) => o && typeof o === 'object' && !Array.isArray(o))) throw new Error('WRITER_BENCH_VARIANTS must be a JSON array of option objects');
  return parsed;
})();
const VARIANT_INPUTS = (env.WRITER_BENCH_VARIANT_INPUTS ?? 'arrow').split(',').map((s) => s.trim()).filter(Boolean);
for (const i of VARIANT_INPUTS) if (i !== 'arrow' && i !== 'points') throw new Error(`WRITER_BENCH_VARIANT_INPUTS: arrow or points (got ${i})`);

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

/**
 * Runs cfg in a child; `beforeGo` runs between its preparation and its timed phase.
 * @param {any} cfg
 * @param {{ beforeGo?: () => unknown }} [hooks]
 */
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
const RANGED = ['pointsPerSec', 'cpuPer1M', 'serverCpuPer1M', 'serverCpuAfterPer1M'];

/** The median of each numeric field over the successful reps, with min–max of the main figures. */
function aggregate(base, reps) {
  const ok = reps.filter((r) => r.status === 'ok');
  if (!ok.length) return { ...base, status: reps[0]?.status ?? 'error', reason: reps[0]?.reason, error: reps[0]?.error, reps: reps.length };
  const out = { ...base, status: 'ok', reps: reps.length, okReps: ok.length };
  for (const k of Object.keys(ok[0])) {
    if (typeof ok[0][k] === 'number') out[k] = median(ok.map((r) => r[k]));
    else if (!(k in out)) out[k] = ok[ok.length - 1][k];
  }
  for (const k of RANGED) if (typeof ok[0][k] === 'number') out[`${k}Range`] = [Math.min(...ok.map((r) => r[k])), Math.max(...ok.map((r) => r[k]))];
  out.perRep = ok.map((r) => ({ round: r.round, pointsPerSec: r.pointsPerSec, cpuPer1M: r.cpuPer1M, serverCpuPer1M: r.serverCpuPer1M }));
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

// ---- part 1: the sink (table 2) -----------------------------------------------------------------

const PART1 = [
  { id: 'fastinflux-points', group: 'fastinflux', label: 'fastinflux writer, point objects, write() per 5000, default options', runner: 'fastinflux-writer', n: PREBUILT ? PEER_N : N, input: 'points' },
  { id: 'fastinflux-arrow', group: 'fastinflux', label: 'fastinflux writer, Arrow table (dictionary tags), 100k-row slices, default options', runner: 'fastinflux-writer', n: N, input: 'arrow' },
  { id: 'node-influx', group: 'peer', label: 'node-influx 5.12 writePoints(5000 points), defaults (schema, 1 in flight)', runner: 'node-influx', n: PEER_N },
  // The floor of any client: the bytes already encoded, only sent (undici, 4 in flight).
  { id: 'bare-sink', group: 'bare', label: 'bare loop: undici, pre-encoded 5000-line bodies, 4 in flight (sending alone: the floor)', runner: 'bare-undici', n: N, inFlight: 4 },
  { id: 'official-gzip', group: 'peer', label: 'influxdb-client 1.35 WriteApi, defaults (gzip above 1000 B; /api/v2/write)', runner: 'official-writeapi', n: PEER_N, gzip: true },
  { id: 'official-nogzip', group: 'peer', label: 'influxdb-client 1.35 WriteApi, gzipThreshold=Infinity (not a default)', runner: 'official-writeapi', n: PEER_N, gzip: false },
];

async function part1() {
  const sink = await startSink();
  const byId = new Map(PART1.filter((c) => selected(c.id)).map((c) => [c.id, []]));
  try {
    // Rounds: every client once per round, so that drift in the machine's load hits all alike.
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of PART1.filter((x) => byId.has(x.id))) {
        const reps = byId.get(c.id);
        if (reps.some((r) => r.status === 'not available')) continue;
        log(`part 1 (sink): ${c.id} (${c.n.toLocaleString('en')} points) round ${rep + 1}/${REPS}…`);
        const cfg = { ...c, url: sink.url, db: 'bench', sinkWait: true, sinkWaitMs: SINK_WAIT_MS, prebuilt: PREBUILT };
        const r = await runChild(cfg, { beforeGo: () => sink.reset() });
        const s = await sink.stats();
        if (r.status !== 'ok') {
          log(`  ${r.status}: ${r.reason ?? r.error}`);
          reps.push(r);
          continue;
        }
        const f = figures(r, c.n);
        f.round = rep;
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
    }
  } finally {
    await sink.stop();
  }
  const rows = PART1.filter((c) => byId.has(c.id)).map((c) => aggregate({ id: c.id, group: c.group, label: c.label, n: c.n }, byId.get(c.id)));
  const ref = rows.find((r) => r.id === 'node-influx' && r.status === 'ok' && r.verified);
  for (const r of rows) if (r.status === 'ok' && ref) r.cpuLessThanNodeInflux = ref.cpuPer1M / r.cpuPer1M;
  return { rows, reference: ref ? 'node-influx' : undefined };
}

// ---- influxd ------------------------------------------------------------------------------------

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

let serverVersion = '';
async function freshServer() {
  const { ensureInfluxd, startLocalInfluxd } = await import(new URL('../dist/server/index.js', import.meta.url).href);
  server = await startLocalInfluxd({ influxdPath: await ensureInfluxd() });
  serverStopped = false;
  serverVersion ||= (await fetch(new URL('/ping', server.url))).headers.get('x-influxdb-version') ?? '';
  if (WARMUP > 0) {
    // A fresh influxd is slower on its first writes: warm it up (not measured) in a database of its own.
    await influxQuery('CREATE DATABASE "writer_warmup"');
    for (const body of toLineProtocolBodies(makeWorkload(WARMUP), 5000)) {
      const res = await fetch(new URL('/write?db=writer_warmup&precision=n', server.url), { method: 'POST', body });
      if (res.status !== 204) throw new Error(`warm-up write: HTTP ${res.status} ${await res.text()}`);
    }
  }
}

/**
 * One run of `c` into a fresh influxd and a fresh database: client figures, influxd's CPU over the
 * write (and, with `after`, also `after` ms later), and the stored-count check (count(*): every field).
 */
async function serverRun(c, rep, tag, { after = 0 } = {}) {
  await freshServer();
  try {
    const db = `writer_${c.id.replace(/[^A-Za-z0-9]/g, '_')}_${rep}`;
    await influxQuery(`CREATE DATABASE "${db}"`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    log(`${tag}: ${c.id} round ${rep + 1} (${SERVER_N.toLocaleString('en')} points, influxd pid ${server.pid})…`);
    let srv0 = 0;
    const r = await runChild({ ...c, n: SERVER_N, url: server.url, db }, { beforeGo: () => { srv0 = procCpuS(server.pid); } });
    const serverCpuS = procCpuS(server.pid) - srv0;
    if (r.status !== 'ok') {
      log(`  ${r.status}: ${(r.reason ?? r.error ?? '').split('\n')[0]}`);
      return r;
    }
    const f = figures(r, SERVER_N);
    f.round = rep;
    f.requests = r.requests;
    f.serverCpuPer1M = per1M(serverCpuS, SERVER_N);
    f.serverCoresBusy = serverCpuS / r.wallS;
    if (after > 0) {
      await new Promise((res) => setTimeout(res, after));
      f.serverCpuAfterPer1M = per1M(procCpuS(server.pid) - srv0, SERVER_N);
    }
    const body = await influxQuery('SELECT count(*) FROM cpu', db);
    const values = body.results?.[0]?.series?.[0]?.values?.[0]?.slice(1) ?? [];
    f.stored = values.length ? Math.min(...values) : 0;
    f.storedPerField = values;
    f.verified = values.length === 4 && values.every((v) => v === SERVER_N);
    if (!f.verified) f.problems.push(`SELECT count(*) FROM cpu = ${JSON.stringify(values)}, expected 4 fields × ${SERVER_N}`);
    log(`  ${Math.round(f.pointsPerSec).toLocaleString('en')} points/s, client ${f.cpuPer1M.toFixed(2)} CPU-s per 1M, server ${f.serverCpuPer1M.toFixed(2)} CPU-s per 1M${after ? ` (${f.serverCpuAfterPer1M.toFixed(2)} ${after / 1000} s later)` : ''}, stored ${f.stored}${f.verified ? ' ✓' : ' ✗'}`);
    return f;
  } finally {
    await stopServer();
  }
}

// ---- part 2: influxd, every client at its defaults (table 1) ------------------------------------

const optText = (o) => Object.entries(o).map(([k, v]) => `${k}: ${JSON.stringify(v).replace(/"/g, "'")}`).join(', ');
/** @type {any[]} */
const PART2 = [
  { id: 'bare-1', group: 'bare', label: 'bare loop: undici, pre-encoded 5000-line bodies', inFlightText: '1', runner: 'bare-undici', inFlight: 1 },
  { id: 'bare-2', group: 'bare', label: 'bare loop: undici, pre-encoded 5000-line bodies', inFlightText: '2', runner: 'bare-undici', inFlight: 2 },
  { id: 'bare-4', group: 'bare', label: 'bare loop: undici, pre-encoded 5000-line bodies', inFlightText: '4', runner: 'bare-undici', inFlight: 4 },
  { id: 'fastinflux-arrow', group: 'fastinflux', label: 'fastinflux writer, Arrow table (100k-row slices), default options', inFlightText: 'default (auto)', runner: 'fastinflux-writer', input: 'arrow' },
  { id: 'fastinflux-points', group: 'fastinflux', label: 'fastinflux writer, point objects (write() per 5000), default options', inFlightText: 'default (auto)', runner: 'fastinflux-writer', input: 'points', prebuilt: PREBUILT },
  { id: 'fastinflux-load', group: 'fastinflux', label: '`fastinflux load cpu.arrow` (CLI, default options; node start included)', inFlightText: 'default (auto)', runner: 'fastinflux-load' },
  { id: 'node-influx', group: 'peer', label: 'node-influx 5.12 writePoints(5000 points), defaults', inFlightText: '1', runner: 'node-influx', prebuilt: PREBUILT },
  ...VARIANT_INPUTS.flatMap((input) => VARIANTS.map((o) => ({
    id: `fastinflux-${input}-${Object.entries(o).map(([k, v]) => `${k}=${v}`).join(',')}`,
    group: 'fastinflux',
    label: `fastinflux writer, ${input === 'arrow' ? 'Arrow table' : 'point objects'}, { ${optText(o)} }`,
    inFlightText: o.maxInFlight !== undefined ? String(o.maxInFlight) : 'default (auto)',
    runner: 'fastinflux-writer',
    input,
    prebuilt: PREBUILT,
    writerOptions: o,
  }))),
];

async function part2() {
  const byId = new Map(PART2.filter((c) => selected(c.id)).map((c) => [c.id, []]));
  // A fresh, warmed-up influxd per run: one that already holds earlier runs' data compacts it in
  // the background and slows whichever run comes later. Rows are interleaved round by round so
  // that drift in the machine's load hits all alike.
  for (let rep = 0; rep < SERVER_REPS; rep++) {
    for (const c of PART2.filter((x) => byId.has(x.id))) {
      const reps = byId.get(c.id);
      if (reps.some((r) => r.status === 'not available')) continue;
      reps.push(await serverRun(c, rep, `part 2 (influxd) ${rep + 1}/${SERVER_REPS}`));
    }
  }
  const rows = PART2.filter((c) => byId.has(c.id)).map((c) => aggregate({ id: c.id, group: c.group, label: c.label, inFlightText: c.inFlightText, writerOptions: c.writerOptions, n: SERVER_N }, byId.get(c.id)));
  const bare = rows.filter((r) => r.group === 'bare' && r.status === 'ok' && r.verified);
  const best = bare.length ? bare.reduce((a, b) => (b.pointsPerSec > a.pointsPerSec ? b : a)) : undefined;
  for (const r of rows) if (r.status === 'ok' && best) r.vsBestBare = r.pointsPerSec / best.pointsPerSec;
  return { rows, bestBare: best?.id, bestBarePointsPerSec: best?.pointsPerSec, server: `InfluxDB ${serverVersion}`.trim() };
}

// ---- part 3: what influxd spends per point (the experiments) ------------------------------------

const EXPERIMENTS = [
  { id: 'base', label: 'baseline: 5000 lines, ns, unsorted, no gzip' },
  { id: 'body-1000', label: '1000 lines per body', linesPerBody: 1000 },
  { id: 'body-20000', label: '20000 lines per body', linesPerBody: 20_000 },
  { id: 'ms', label: 'precision=ms (timestamps 1 ms apart: exact)', precision: 'ms' },
  { id: 'sorted', label: 'lines sorted by series within each body', sorted: true },
  { id: 'gzip-1', label: 'gzip level 1 (compressed before the clock starts)', gzipLevel: 1 },
  { id: 'ms-sorted-20000', label: 'ms + sorted + 20000 lines', precision: 'ms', sorted: true, linesPerBody: 20_000 },
];

async function part3() {
  const list = EXPERIMENTS.filter((e) => selected(e.id)).map((e) => ({ ...e, group: 'bare', runner: 'bare-undici', inFlight: EXP_IN_FLIGHT }));
  const byId = new Map(list.map((c) => [c.id, []]));
  for (let rep = 0; rep < EXP_REPS; rep++) {
    for (const c of list) byId.get(c.id).push(await serverRun(c, rep, `part 3 (experiments) ${rep + 1}/${EXP_REPS}`, { after: AFTER_MS }));
  }
  const rows = list.map((c) => aggregate({ id: c.id, label: c.label, n: SERVER_N, inFlight: EXP_IN_FLIGHT }, byId.get(c.id)));
  // Paired with the baseline of the same round: the machine's drift cancels out.
  const base = byId.get('base');
  for (const r of rows) {
    if (r.status !== 'ok' || !base) continue;
    const ratios = (k) => byId.get(r.id).map((x, i) => (x.status === 'ok' && base[i]?.status === 'ok' ? x[k] / base[i][k] : undefined)).filter((x) => x !== undefined);
    for (const k of ['pointsPerSec', 'serverCpuPer1M', 'serverCpuAfterPer1M']) {
      const xs = ratios(k);
      if (xs.length) r[`${k}VsBase`] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    }
  }
  return { rows, inFlight: EXP_IN_FLIGHT, afterMs: AFTER_MS, server: `InfluxDB ${serverVersion}`.trim() };
}

// ---- report -------------------------------------------------------------------------------------

const int = (x) => Math.round(x).toLocaleString('en');
const f2 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
const range = (r, k, fmt) => (r.reps > 1 && r[`${k}Range`] ? ` (${fmt(r[`${k}Range`][0])}–${fmt(r[`${k}Range`][1])})` : '');
const kpts = (x) => `${int(x / 1000)}k`;
const ratio = (x) => (x === undefined ? '–' : `${x.toFixed(2)}x`);
const ratioRange = (q) => (q ? `${q.median.toFixed(2)} (${q.min.toFixed(2)}–${q.max.toFixed(2)})` : '–');
const failed = (r) => `${r.status}${r.reason || r.error ? `: ${(r.reason ?? r.error).split('\n')[0].replace(/\|/g, '\\|')}` : ''}`;

function table1(p) {
  let t = '| client | in flight | points/s | vs best bare loop | client CPU-s per 1M | server CPU-s per 1M | server cores busy | all points stored |\n';
  t += '|---|---|---|---|---|---|---|---|\n';
  for (const r of p.rows) {
    if (r.status !== 'ok') {
      t += `| ${r.label} | ${r.inFlightText} | ${failed(r)} | | | | | |\n`;
      continue;
    }
    const name = r.id === p.bestBare ? `**${r.label}** (best bare loop)` : r.label;
    t += `| ${name} | ${r.inFlightText} | ${kpts(r.pointsPerSec)}${range(r, 'pointsPerSec', kpts)} | ${ratio(r.vsBestBare)} | ${f2(r.cpuPer1M)}${range(r, 'cpuPer1M', f2)} | ${f2(r.serverCpuPer1M)}${range(r, 'serverCpuPer1M', f2)} | ${f2(r.serverCoresBusy)} | ${r.verified ? `✓ ${int(SERVER_N)}` : `✗ ${int(r.stored)}`} |\n`;
  }
  return t;
}

function table2(p) {
  let t = '| client | points | points/s | client CPU-s per 1M | vs node-influx (less CPU) | peak RSS MB (growth) | wire B/pt | requests | sink lines |\n';
  t += '|---|---|---|---|---|---|---|---|---|\n';
  for (const r of p.rows) {
    if (r.status !== 'ok') {
      t += `| ${r.label} | ${int(r.n)} | ${failed(r)} | | | | | | |\n`;
      continue;
    }
    t += `| ${r.label} | ${int(r.n)} | ${kpts(r.pointsPerSec)}${range(r, 'pointsPerSec', kpts)} | ${f2(r.cpuPer1M)}${range(r, 'cpuPer1M', f2)} | ${ratio(r.cpuLessThanNodeInflux)} | ${int(r.rssPeakMB)} (+${int(r.rssGrowthMB)}) | ${r.wireBytesPerPoint.toFixed(1)} | ${int(r.requests)} | ${int(r.sinkLines)} ${r.verified ? '✓' : '✗'} |\n`;
  }
  return t;
}

function table3(p) {
  let t = '| variant | points/s | vs baseline | server CPU-s per 1M (during the write) | vs baseline | server CPU-s per 1M incl. 3 s after | vs baseline | LP B/line | wire B/line | client gzip CPU-s per 1M | all stored |\n';
  t += '|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of p.rows) {
    if (r.status !== 'ok') {
      t += `| ${r.label} | ${failed(r)} | | | | | | | | | |\n`;
      continue;
    }
    t += `| ${r.label} | ${kpts(r.pointsPerSec)}${range(r, 'pointsPerSec', kpts)} | ${ratioRange(r.pointsPerSecVsBase)} | ${f2(r.serverCpuPer1M)}${range(r, 'serverCpuPer1M', f2)} | ${ratioRange(r.serverCpuPer1MVsBase)} | ${f2(r.serverCpuAfterPer1M)}${range(r, 'serverCpuAfterPer1M', f2)} | ${ratioRange(r.serverCpuAfterPer1MVsBase)} | ${r.info.lpBytesPerLine.toFixed(1)} | ${r.info.wireBytesPerLine.toFixed(1)} | ${r.info.gzipCpuPer1M ? f2(r.info.gzipCpuPer1M) : '–'} | ${r.verified ? '✓' : '✗'} |\n`;
  }
  return t;
}

function problems(rows) {
  return rows.filter((r) => r.problems?.length || (r.status === 'error')).map((r) => `- ${r.id}: ${r.status === 'error' ? r.error?.split('\n')[0] : r.problems.join('; ')}`).join('\n');
}
function notes(rows) {
  return rows.filter((r) => r.status === 'ok' && r.closeEarlyS > 0.01)
    .map((r) => `- ${r.id}: the client's close() resolved ${r.closeEarlyS.toFixed(2)} s${r.reps > 1 ? ' (median)' : ''} before the sink had every line`).join('\n');
}

/** The commit and the uncommitted source files dist/ was built from (others edit src/ while benchmarks run). */
function gitState() {
  try {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assembly'], { cwd: root }).toString().split('\n').filter(Boolean).map((l) => l.slice(3));
    return { head, dirty };
  } catch {
    return undefined;
  }
}

function command() {
  const keep = Object.entries(env).filter(([k]) => k.startsWith('WRITER_BENCH_')).map(([k, v]) => `${k}=${/^[\w.,:=/-]*$/.test(v) ? v : `'${v}'`}`);
  return [...keep, 'node bench/writer.bench.mjs'].join(' ');
}

async function main() {
  const started = new Date();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const result = {
    date: started.toISOString(),
    command: command(),
    library: env.WRITER_BENCH_FASTINFLUX ?? 'dist/index.js',
    git: gitState(),
    loadavgAtStart: loadavg(),
    machine,
    node: process.version,
    prebuilt: PREBUILT,
    reps: { sink: REPS, server: SERVER_REPS, experiments: EXP_REPS },
    points: { fastinflux: N, peers: PEER_N, server: SERVER_N },
  };
  let anyFailed = false;
  const runPart = async (key, fn) => {
    try {
      result[key] = await fn();
    } catch (e) {
      anyFailed = true;
      result[key] = { error: String(e?.stack ?? e) };
      log(`${key} failed: ${e?.stack ?? e}`);
    }
  };
  // The influxd table first: it is the one the issue is about, and the sink needs no warm machine.
  if (PARTS.has('2')) await runPart('part2', part2);
  if (PARTS.has('1')) await runPart('part1', part1);
  const exp = { date: result.date, machine, node: process.version, points: SERVER_N, reps: EXP_REPS };
  if (PARTS.has('3')) await runPart('part3', part3);
  killLive();
  if (interrupted) return true;
  result.loadavgAtEnd = loadavg();

  const intro = `Standard workload (bench/lib/workload.mjs, 1000 series, ≈147 bytes per line). Machine: ${machine}; Node ${process.version}; ${started.toISOString().slice(0, 10)}; load average at start ${result.loadavgAtStart.map((x) => x.toFixed(2)).join(', ')}. `
    + `Every client runs in its own process; client CPU is user+sys of that process (all threads; for the CLI, the child process's) during the write phase only, per 1M points. `
    + `Figures are medians (min–max) of the runs; shared 2-CPU machines move ±30% from run to run: compare within one run. Command: \`${command()}\`. `
    + (result.git ? `Library: dist/ built from ${result.git.head}${result.git.dirty.length ? ` plus uncommitted changes to ${result.git.dirty.join(', ')}` : ''}. ` : '')
    + `Load average at the end ${loadavg().map((x) => x.toFixed(2)).join(', ')}${loadavg()[1] > cpus().length ? ': **other work was competing for the CPUs; throughput figures are depressed and noisy, ratios within a round hold better**' : ''}.\n\n`
    + (env.WRITER_BENCH_FASTINFLUX ? `> **fastinflux loaded from ${env.WRITER_BENCH_FASTINFLUX}, not dist/: not for publication.**\n\n` : '');

  let md = '';
  if (result.part2 || result.part1) {
    md += `<!-- writer-bench:start (generated by bench/writer.bench.mjs: do not edit) -->\n### Writing: the writer against the peers\n\n${intro}`;
    if (result.part2?.rows) {
      md += `**Table 1: into a real ${result.part2.server} on the same machine, every client at its default options.** ${int(SERVER_N)} points per run, ${SERVER_REPS} round${SERVER_REPS > 1 ? 's' : ''}, each run on a fresh warmed-up influxd with a fresh database; \`SELECT count(*) FROM cpu\` checks every point is stored. `;
      md += `Server CPU is influxd's utime+stime over the write. The bare loop posts pre-encoded 5000-line bodies with undici: the server's own limit. `;
      md += `The Arrow writer is \`client.writer({ measurement: 'cpu' })\` (the one option Arrow input needs), the point writer \`client.writer()\`; ${PREBUILT ? 'point objects are built before the clock starts' : 'point objects are built inside the timed phase, as an application producing them does (the Arrow table and IPC file are built before)'}.\n\n`;
      md += table1(result.part2);
      const pr = problems(result.part2.rows);
      if (pr) md += `\nProblems seen:\n${pr}\n`;
      md += '\n';
    } else if (result.part2?.error) md += `Table 1 (influxd) failed: ${result.part2.error.split('\n')[0]}\n\n`;
    if (result.part1?.rows) {
      md += `**Table 2: into a discard-everything sink on loopback** (a separate Node process that answers 204 and counts lines; the clock stops when the sink has every line), ${REPS} run${REPS > 1 ? 's' : ''} each. `;
      md += `fastinflux: ${int(N)} points; peers: ${int(PEER_N)} points. The official client writes to /api/v2/write, which influxd 1.6.7 lacks: it is compared here only. The bare loop sends the workload's bytes encoded before its clock starts: what any client pays to send them, the floor under every row.\n\n`;
      md += table2(result.part1);
      const nt = notes(result.part1.rows);
      if (nt) md += `\nNotes (the clock ran on until the sink had every line):\n${nt}\n`;
      const pr = problems(result.part1.rows);
      if (pr) md += `\nProblems seen:\n${pr}\n`;
    } else if (result.part1?.error) md += `Table 2 (sink) failed: ${result.part1.error.split('\n')[0]}\n`;
    md += `<!-- writer-bench:end -->\n`;
  }
  let md3 = '';
  if (result.part3?.rows) {
    md3 += `### What influxd spends per point: body size, precision, order, gzip\n\n${intro}`;
    md3 += `The bare loop (undici, pre-encoded bodies, ${EXP_IN_FLIGHT} in flight) into a real ${result.part3.server}, ${int(SERVER_N)} points per run, ${EXP_REPS} round${EXP_REPS > 1 ? 's' : ''}, each run on a fresh warmed-up influxd with a fresh database, variants interleaved round by round. `;
    md3 += `Server CPU is influxd's utime+stime over the write, and again ${AFTER_MS / 1000} s after it (WAL snapshots and compactions it started). "vs baseline": the median (min–max) of the ratios to the baseline of the same round.\n\n`;
    md3 += table3(result.part3);
    const pr = problems(result.part3.rows);
    if (pr) md3 += `\nProblems seen:\n${pr}\n`;
  } else if (result.part3?.error) md3 += `Experiments failed: ${result.part3.error.split('\n')[0]}\n`;

  mkdirSync(OUT, { recursive: true });
  if (md) {
    writeFileSync(`${OUT}/writer.json`, JSON.stringify({ ...result, part3: undefined }, null, 2) + '\n');
    writeFileSync(`${OUT}/writer.md`, md);
    if (env.WRITER_BENCH_README === '1') {
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
  }
  if (md3) {
    writeFileSync(`${OUT}/server-cost.json`, JSON.stringify({ ...exp, command: result.command, loadavgAtStart: result.loadavgAtStart, ...result.part3 }, null, 2) + '\n');
    writeFileSync(`${OUT}/server-cost.md`, md3);
    console.log('\n' + md3);
    log(`wrote ${OUT}/server-cost.json and ${OUT}/server-cost.md`);
  }
  return anyFailed;
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
