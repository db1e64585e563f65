/**
 * The clients of the writer benchmark (bench/writer.bench.mjs), each run in its OWN Node process
 * so that its CPU time and peak RSS are its own. This file is both the list of runners and the
 * child's entry point (so, about 450 lines: every runner must be in the file the child runs, and
 * the child loads nothing else a runner does not need, which its RSS would carry):
 *
 *   fork('bench/lib/writer-runners.mjs', { execArgv: ['--expose-gc'], env: { WRITER_CHILD: JSON.stringify(cfg) } })
 *
 * Protocol (IPC): the child prepares its input (not timed) and sends { type: 'ready' }; the parent
 * resets the sink / samples the server and answers { type: 'go' }; the child runs the write phase,
 * measuring wall time, process.cpuUsage() (user+sys, all threads) and RSS (sampled every 50 ms,
 * plus the kernel's high-water mark VmHWM, reset through /proc/self/clear_refs at the start of the
 * write phase), and sends { type: 'result', ... }. With cfg.sinkWait the clock stops only when the
 * sink reports that all cfg.n lines arrived (GET /__wait on the sink), whatever the client said.
 *
 * A runner is `async (cfg) => ({ run: async () => extra, info })`: its body prepares the input,
 * `run()` is the timed write phase. Throw `NotAvailable` to report "not available".
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { REGIONS, START_NS, STATUSES, makeWorkload, timeNs, toArrowTable } from './workload.mjs';

export class NotAvailable extends Error {}

const yieldToLoop = () => new Promise((r) => setImmediate(r));

/**
 * node-influx's schema of the workload (without one, the integer field would be written as a
 * float); `Influx` is its module, loaded by the caller (a runner loads it only when it runs).
 */
export function nodeInfluxSchema(Influx) {
  return [{
    measurement: 'cpu',
    tags: ['host', 'region', 'rack'],
    fields: { usage_user: Influx.FieldType.FLOAT, usage_system: Influx.FieldType.FLOAT, requests: Influx.FieldType.INTEGER, status: Influx.FieldType.STRING },
  }];
}

/**
 * node-influx's point objects (IPoint) of rows [start, end): as its users write them, the time
 * as a nanosecond string. Also used by bench/lib/peers.mjs (which cannot be imported here: it
 * loads both peers' packages, and every runner's child would carry them).
 */
export function nodeInfluxPointsOf(w, start, end) {
  const points = new Array(end - start);
  for (let i = start; i < end; i++) {
    const h = w.host[i];
    points[i - start] = {
      measurement: 'cpu',
      tags: { host: `host-${h}`, region: REGIONS[w.hostRegion[h]], rack: `rack-${w.hostRack[h]}` },
      fields: { usage_user: w.usageUser[i], usage_system: w.usageSystem[i], requests: w.requests[i], status: STATUSES[w.status[i]] },
      timestamp: timeNs(i).toString(),
    };
  }
  return points;
}

/** Plain point objects of rows [start, end) of the workload's columns, exactly as toPoints() makes them. */
export function pointsOf(w, start, end) {
  const points = new Array(end - start);
  for (let i = start; i < end; i++) {
    const h = w.host[i];
    points[i - start] = {
      measurement: 'cpu',
      tags: { host: `host-${h}`, region: REGIONS[w.hostRegion[h]], rack: `rack-${w.hostRack[h]}` },
      fields: { usage_user: w.usageUser[i], usage_system: w.usageSystem[i], requests: BigInt(w.requests[i]), status: STATUSES[w.status[i]] },
      time: timeNs(i),
    };
  }
  return points;
}

/**
 * Slices of `size` rows of n, built by `make(start, end)`: inside the timed phase (default, as an
 * application producing points does; the peers' figures in perf.md §2 are measured that way) or
 * all before it (cfg.prebuilt: the clients' work alone, the peers' best case).
 */
function slices(cfg, size, make) {
  const ranges = [];
  for (let s = 0; s < cfg.n; s += size) ranges.push([s, Math.min(cfg.n, s + size)]);
  if (!cfg.prebuilt) return { ranges, get: (k) => make(...ranges[k]) };
  const built = ranges.map((r) => make(...r));
  return { ranges, get: (k) => { const x = built[k]; built[k] = undefined; return x; } };
}

// ---- fastinflux ---------------------------------------------------------------------------------

/**
 * fastinflux BatchWriter (notes/writer-api.md). THE runner to adjust while the writer API settles.
 * cfg.input: 'arrow' (the workload as one Arrow table, dictionary tags; written as table slices of
 * cfg.sliceRows, default 100k) or 'points' (plain point objects, written in slices of 5000).
 * The writer gets its DEFAULT options (`client.writer()`; Arrow input needs `{ measurement }`, which
 * names the data rather than tunes the writer) plus cfg.writerOptions (e.g. { maxInFlight: 2 }),
 * on a client with default options. An option the library refuses (e.g. maxInFlight 'auto' before
 * it exists) is reported as "not available" with the library's message.
 */
async function fastinfluxWriter(cfg) {
  let mod;
  try {
    // WRITER_BENCH_FASTINFLUX: another build of the library (a path), e.g. to try a branch.
    const from = process.env.WRITER_BENCH_FASTINFLUX ? pathToFileURL(process.env.WRITER_BENCH_FASTINFLUX) : new URL('../../dist/index.js', import.meta.url);
    mod = await import(from.href);
  } catch (e) {
    throw new NotAvailable(`the library does not load (npm run build?): ${e.message}`);
  }
  const client = new mod.InfluxDBClient({ url: cfg.url, db: cfg.db });
  if (typeof client.writer !== 'function') {
    await client.close();
    throw new NotAvailable('client.writer is not a function in dist/ (writer not built yet)');
  }
  const given = { ...(cfg.input === 'arrow' ? { measurement: 'cpu' } : {}), ...cfg.writerOptions };
  const w = makeWorkload(cfg.n);
  let data;
  if (cfg.input === 'arrow') {
    const table = toArrowTable(w);
    const size = cfg.sliceRows ?? 100_000;
    data = { ranges: [], get: (k) => table.slice(...data.ranges[k]) };
    for (let s = 0; s < cfg.n; s += size) data.ranges.push([s, Math.min(cfg.n, s + size)]);
  } else {
    data = slices(cfg, 5000, (s, e) => pointsOf(w, s, e));
  }
  let writer;
  try {
    writer = Object.keys(given).length ? client.writer(given) : client.writer();
  } catch (e) {
    await client.close();
    throw new NotAvailable(`client.writer(${JSON.stringify(given)}) refused: ${e.message}`);
  }
  return {
    info: { writerOptions: given },
    async run() {
      for (let k = 0; k < data.ranges.length; k++) await writer.write(data.get(k));
      await writer.close();
      const stats = typeof writer.stats === 'function' ? writer.stats() : undefined;
      await client.close();
      const problems = [];
      if (stats) {
        if (stats.written !== undefined && Number(stats.written) !== cfg.n) problems.push(`writer.stats().written = ${stats.written}, expected ${cfg.n}`);
        for (const k of ['rejected', 'expired', 'dropped']) if (stats[k]) problems.push(`writer.stats().${k} = ${stats[k]}`);
      }
      return { requests: stats?.requests, writerStats: stats, problems };
    },
  };
}

/** user+sys CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat). */
function childrenCpuS() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK; // cutime, cstime (fields 16 and 17)
}
let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* default */ }

/**
 * `fastinflux load cpu.arrow` (the CLI, dist/cli/main.js) with its default options, as a child
 * process of this one: the workload as an Arrow IPC file (dictionary tags, Timestamp time column;
 * written before the clock starts, to a temp dir removed afterwards). Timed from spawn to exit, node's
 * start included; its CPU is the child's user+sys (cutime + cstime once it has been waited for).
 */
async function fastinfluxLoad(cfg) {
  const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  if (!existsSync(cli)) throw new NotAvailable('dist/cli/main.js is missing (npm run build?)');
  const { tableToIPC } = await import('apache-arrow');
  const dir = mkdtempSync(join(tmpdir(), 'fastinflux-bench-load-'));
  const file = join(dir, 'cpu.arrow'); // the measurement is the file's name
  try {
    writeFileSync(file, tableToIPC(toArrowTable(makeWorkload(cfg.n)), 'file'));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const args = [cli, 'load', '--url', cfg.url, '--db', cfg.db, '--json', '--quiet', file];
  return {
    info: { command: `node dist/cli/main.js load --url URL --db DB --json --quiet cpu.arrow`, fileBytes: statSync(file).size },
    async run() {
      const c0 = childrenCpuS();
      try {
        const { code, signal, stdout, stderr } = await new Promise((resolve, reject) => {
          const cp = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          cp.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; });
          cp.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
          cp.once('error', reject);
          cp.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
        });
        const extraCpuS = childrenCpuS() - c0;
        if (code !== 0) throw new Error(`fastinflux load exited ${signal ?? code}: ${(stderr || stdout).trim().slice(0, 500)}`);
        const summary = JSON.parse(stdout);
        const problems = [];
        if (summary.written !== cfg.n) problems.push(`load summary: written ${summary.written}, expected ${cfg.n}`);
        return { extraCpuS, requests: summary.requests, loadSummary: summary, problems };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---- peers --------------------------------------------------------------------------------------

/** The official client's WriteApi: writePoint(new Point(…)) per point, then close(). */
async function officialWriteApi(cfg) {
  const { InfluxDB, Point } = await import('@influxdata/influxdb-client');
  const w = makeWorkload(cfg.n);
  const make = (s, e) => {
    const out = new Array(e - s);
    for (let i = s; i < e; i++) {
      const h = w.host[i];
      out[i - s] = new Point('cpu')
        .tag('host', `host-${h}`).tag('region', REGIONS[w.hostRegion[h]]).tag('rack', `rack-${w.hostRack[h]}`)
        .floatField('usage_user', w.usageUser[i]).floatField('usage_system', w.usageSystem[i])
        .intField('requests', w.requests[i]).stringField('status', STATUSES[w.status[i]])
        .timestamp(timeNs(i).toString());
    }
    return out;
  };
  const data = slices(cfg, 100_000, make);
  const failures = [];
  const options = {
    batchSize: 5000,
    ...(cfg.gzip ? {} : { gzipThreshold: Infinity }),
    writeFailed(error, lines) { failures.push(`${lines.length} lines: ${error?.message ?? error}`); },
  };
  const writeApi = new InfluxDB({ url: cfg.url, token: 'x' }).getWriteApi('org', cfg.db, 'ns', options);
  return {
    info: { writeOptions: { batchSize: 5000, gzipThreshold: cfg.gzip ? '1000 (default)' : 'Infinity' } },
    async run() {
      for (let k = 0; k < data.ranges.length; k++) {
        for (const p of data.get(k)) writeApi.writePoint(p);
        await yieldToLoop(); // let the batches started so far go out, as a streaming producer would
      }
      await writeApi.close();
      return { problems: failures.slice(0, 5) };
    },
  };
}

/**
 * node-influx at its defaults: writePoints(5000 points) awaited one after the other (1 in flight),
 * precision its default ('n'), with a schema as its documentation shows (without one, the integer
 * field would be written as a float).
 */
async function nodeInflux(cfg) {
  const { default: Influx } = await import('influx');
  const url = new URL(cfg.url);
  const influx = new Influx.InfluxDB({
    host: url.hostname,
    port: Number(url.port),
    database: cfg.db,
    schema: nodeInfluxSchema(Influx),
  });
  const w = makeWorkload(cfg.n);
  const data = slices(cfg, 5000, (s, e) => nodeInfluxPointsOf(w, s, e));
  return {
    async run() {
      for (let k = 0; k < data.ranges.length; k++) await influx.writePoints(data.get(k));
      return { requests: data.ranges.length };
    },
  };
}

// ---- the transport's floor ----------------------------------------------------------------------

/**
 * The workload as request bodies, for the bare loop and the server-side experiments:
 *   linesPerBody (default 5000); precision 'n' (default: ns timestamps) or 'ms' (the same instants,
 *   exact: they are 1 ms apart); sorted: lines ordered by series (then time) within each body;
 *   gzipLevel: each body gzipped at that level (0: not). Returns the bodies, the line-protocol bytes
 *   and the CPU seconds the compression took (spent before the clock starts).
 */
export function lineProtocolBodies(w, { linesPerBody = 5000, precision = 'n', sorted = false, gzipLevel = 0 } = {}) {
  if (precision !== 'n' && precision !== 'ms') throw new Error(`precision ${precision}: 'n' or 'ms'`);
  const startMs = START_NS / 1_000_000n;
  const seriesKey = (h) => `cpu,host=host-${h},rack=rack-${w.hostRack[h]},region=${REGIONS[w.hostRegion[h]]}`;
  const keys = Array.from({ length: 1000 }, (_, h) => seriesKey(h));
  const bodies = [];
  let lpBytes = 0;
  let gzipCpuS = 0;
  for (let start = 0; start < w.n; start += linesPerBody) {
    const end = Math.min(w.n, start + linesPerBody);
    let rows = Array.from({ length: end - start }, (_, k) => start + k);
    // Sorted by series key (as strings, the order influxd keeps), rows of a series in time order.
    if (sorted) rows = rows.sort((i, j) => (keys[w.host[i]] < keys[w.host[j]] ? -1 : keys[w.host[i]] > keys[w.host[j]] ? 1 : i - j));
    const lines = rows.map((i) => {
      const t = precision === 'ms' ? String(startMs + BigInt(i)) : String(timeNs(i));
      return `${keys[w.host[i]]} usage_user=${w.usageUser[i]},usage_system=${w.usageSystem[i]},requests=${w.requests[i]}i,status="${STATUSES[w.status[i]]}" ${t}`;
    });
    let body = Buffer.from(lines.join('\n'));
    lpBytes += body.length;
    if (gzipLevel > 0) {
      const c0 = process.cpuUsage();
      body = gzipSync(body, { level: gzipLevel });
      const c = process.cpuUsage(c0);
      gzipCpuS += (c.user + c.system) / 1e6;
    }
    bodies.push(body);
  }
  return { bodies, lpBytes, gzipCpuS };
}

/**
 * Pre-encoded bodies (lineProtocolBodies: cfg.linesPerBody, cfg.precision, cfg.sorted, cfg.gzipLevel;
 * default 5000 ns lines, unsorted, not compressed), undici Pool, cfg.inFlight requests in flight.
 */
async function bareUndici(cfg) {
  const { Pool } = await import('undici');
  const precision = cfg.precision ?? 'n';
  const gzipLevel = cfg.gzipLevel ?? 0;
  const { bodies, lpBytes, gzipCpuS } = lineProtocolBodies(makeWorkload(cfg.n), { linesPerBody: cfg.linesPerBody ?? 5000, precision, sorted: !!cfg.sorted, gzipLevel });
  const wireBytes = bodies.reduce((a, b) => a + b.length, 0);
  const pool = new Pool(cfg.url, { connections: cfg.inFlight, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const path = `/write?db=${encodeURIComponent(cfg.db)}&precision=${precision === 'n' ? 'ns' : precision}`;
  const headers = { 'content-type': 'text/plain; charset=utf-8', ...(gzipLevel > 0 ? { 'content-encoding': 'gzip' } : {}) };
  return {
    info: { lpBytesPerLine: lpBytes / cfg.n, wireBytesPerLine: wireBytes / cfg.n, gzipCpuPer1M: (gzipCpuS * 1e6) / cfg.n },
    async run() {
      let next = 0;
      await Promise.all(Array.from({ length: cfg.inFlight }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const res = await pool.request({ path, method: 'POST', body, headers });
          if (res.statusCode !== 204) throw new Error(`HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 300)}`);
          await res.body.dump();
        }
      }));
      await pool.close();
      return { requests: bodies.length };
    },
  };
}

export const RUNNERS = {
  'fastinflux-writer': fastinfluxWriter,
  'official-writeapi': officialWriteApi,
  'node-influx': nodeInflux,
  'bare-undici': bareUndici,
  'fastinflux-load': fastinfluxLoad,
};

// ---- the child process --------------------------------------------------------------------------

function vmKB(key) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`));
  return m ? Number(m[1]) : NaN;
}

function waitForSink(sinkUrl, lines, timeoutMs) {
  return new Promise((resolve, reject) => {
    const u = new URL(`/__wait?lines=${lines}&timeoutMs=${timeoutMs}`, sinkUrl);
    const req = httpRequest(u, { agent: false, timeout: timeoutMs + 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => { try { resolve(JSON.parse(text)); } catch (e) { reject(e); } });
    });
    req.on('error', reject);
    req.end();
  });
}

async function child(cfg) {
  const send = (msg) => new Promise((r) => process.send(msg, r));
  const go = new Promise((resolve) => process.on('message', (/** @type {any} */ m) => { if (m?.type === 'go') resolve(); }));
  const runner = RUNNERS[cfg.runner];
  if (!runner) throw new Error(`unknown runner ${cfg.runner}`);
  let prepared;
  try {
    prepared = await runner(cfg);
  } catch (e) {
    if (e instanceof NotAvailable) {
      await send({ type: 'result', status: 'not available', reason: e.message });
      return;
    }
    throw e;
  }
  globalThis.gc?.();
  await send({ type: 'ready' });
  await go;

  // ---- the write phase ----
  let hwmReset = false;
  try { writeFileSync('/proc/self/clear_refs', '5'); hwmReset = true; } catch { /* older kernel: VmHWM is the lifetime peak */ }
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  const sampler = setInterval(() => { const r = process.memoryUsage.rss(); if (r > rssPeak) rssPeak = r; }, 50);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let extra;
  let error;
  try {
    extra = await prepared.run();
  } catch (e) {
    error = e;
  }
  const clientDoneS = (performance.now() - t0) / 1000;
  let sink;
  if (cfg.sinkWait && !error) {
    try {
      sink = await waitForSink(cfg.url, cfg.n, cfg.sinkWaitMs ?? 60_000);
    } catch (e) {
      error = e;
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  // A runner whose work runs in a process of its own (the CLI) reports that process's CPU.
  const extraCpuS = extra?.extraCpuS ?? 0;
  clearInterval(sampler);
  const rssEnd = process.memoryUsage.rss();
  rssPeak = Math.max(rssPeak, rssEnd);
  const hwm = vmKB('VmHWM') * 1024;
  await send({
    type: 'result',
    status: error ? 'error' : 'ok',
    error: error ? String(error?.stack ?? error) : undefined,
    wallS,
    clientDoneS,
    userS: cpu.user / 1e6,
    sysS: cpu.system / 1e6,
    cpuS: (cpu.user + cpu.system) / 1e6 + extraCpuS,
    ownCpuS: (cpu.user + cpu.system) / 1e6,
    rssStartB: rssStart,
    rssPeakSampledB: rssPeak,
    rssHwmB: hwm,
    hwmIsWritePhase: hwmReset,
    rssPeakB: hwmReset ? Math.max(hwm, rssPeak) : rssPeak,
    sinkWait: sink ? { reached: sink.reached, lines: sink.lines } : undefined,
    info: prepared.info,
    ...extra,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.send) {
  process.on('disconnect', () => process.exit(1));
  const cfg = JSON.parse(process.env.WRITER_CHILD ?? '{}');
  child(cfg).then(
    () => process.exit(0),
    (e) => process.send({ type: 'result', status: 'error', error: String(e?.stack ?? e) }, () => process.exit(1)),
  );
}
