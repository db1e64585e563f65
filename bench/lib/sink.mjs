/**
 * A discard-everything InfluxDB write sink for the writer benchmark (bench/writer.bench.mjs): a
 * separate Node process on 127.0.0.1 that answers
 *   - 204 to every POST /write and POST /api/v2/write, once the body has been read and counted
 *     (lines and bytes; gunzipped first when `Content-Encoding: gzip`, so the line count is right);
 *   - 204 to /ping (any method), with the headers influxd sends;
 *   - GET /__stats: the counters as JSON;
 *   - GET /__wait?lines=N&timeoutMs=T: answers (JSON counters) once N lines have arrived since the
 *     last reset, or after T ms (`reached: false`). The clients' processes use it to stop their
 *     clock when the sink, not the client, says everything arrived;
 *   - 404 to anything else (counted as `otherRequests`).
 *
 * Lines are counted as non-empty '\n'-separated lines (a last line without '\n' counts; blank lines
 * do not), which is what influxd would store for valid line protocol.
 *
 * Started with child_process.fork: sends { type: 'ready', port } over IPC, then answers
 * { cmd: 'stats' | 'reset' | 'stop', id } with { id, ...counters } (counters include the sink's own
 * CPU seconds since the last reset). Exits when its parent goes away.
 * Standalone: `node bench/lib/sink.mjs [port]` prints `listening <port>` and runs until killed.
 */
import { createServer } from 'node:http';
import { createGunzip } from 'node:zlib';

const NL = 10;
let counters;
let cpuBase;
const waiters = new Set();

function reset() {
  counters = {
    requests: 0,
    writeRequests: 0,
    v1Requests: 0,
    v2Requests: 0,
    gzipRequests: 0,
    pingRequests: 0,
    otherRequests: 0,
    bodyErrors: 0,
    lines: 0,
    bytes: 0, // line protocol bytes (after gunzip)
    wireBytes: 0, // body bytes as received
    maxBodyLines: 0,
    minBodyLines: Infinity,
    maxConcurrent: 0,
    firstWriteAtMs: 0,
    lastWriteAtMs: 0,
  };
  concurrent = 0;
  cpuBase = process.cpuUsage();
}
let concurrent = 0;
reset();

function snapshot() {
  const cpu = process.cpuUsage(cpuBase);
  return {
    ...counters,
    minBodyLines: counters.minBodyLines === Infinity ? 0 : counters.minBodyLines,
    sinkCpuS: (cpu.user + cpu.system) / 1e6,
    pid: process.pid,
  };
}

function checkWaiters() {
  for (const w of waiters) {
    if (counters.lines >= w.lines) w.done(true);
  }
}

/** Counts non-empty lines across chunks; `end()` returns the total. */
function lineCounter() {
  let lines = 0;
  let open = false; // the current line has content
  return {
    push(chunk) {
      let pos = 0;
      for (;;) {
        const i = chunk.indexOf(NL, pos);
        if (i === -1) break;
        if (i > pos || open) lines++;
        open = false;
        pos = i + 1;
      }
      if (pos < chunk.length) open = true;
    },
    end() {
      return lines + (open ? 1 : 0);
    },
  };
}

function handleWrite(req, res, v2) {
  counters.requests++;
  counters.writeRequests++;
  if (v2) counters.v2Requests++;
  else counters.v1Requests++;
  if (!counters.firstWriteAtMs) counters.firstWriteAtMs = performance.now();
  concurrent++;
  if (concurrent > counters.maxConcurrent) counters.maxConcurrent = concurrent;
  const gz = /gzip/i.test(req.headers['content-encoding'] ?? '');
  if (gz) counters.gzipRequests++;
  const lc = lineCounter();
  let bytes = 0;
  let wire = 0;
  let failed = false;
  const fail = (err) => {
    if (failed) return;
    failed = true;
    concurrent--;
    counters.bodyErrors++;
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `sink: ${err.message}` }));
    }
  };
  const finish = () => {
    if (failed) return;
    concurrent--;
    const n = lc.end();
    counters.lines += n;
    counters.bytes += bytes;
    counters.wireBytes += wire;
    if (n > counters.maxBodyLines) counters.maxBodyLines = n;
    if (n < counters.minBodyLines) counters.minBodyLines = n;
    counters.lastWriteAtMs = performance.now();
    res.writeHead(204, { 'x-influxdb-version': 'sink', 'x-influxdb-build': 'OSS' });
    res.end();
    checkWaiters();
  };
  req.on('data', (c) => { wire += c.length; });
  req.on('error', fail);
  if (gz) {
    const gunzip = createGunzip();
    gunzip.on('data', (c) => { bytes += c.length; lc.push(c); });
    gunzip.on('end', finish);
    gunzip.on('error', fail);
    req.pipe(gunzip);
  } else {
    req.on('data', (c) => { bytes += c.length; lc.push(c); });
    req.on('end', finish);
  }
}

function handleWait(url, res) {
  const lines = Number(url.searchParams.get('lines') ?? 0);
  const timeoutMs = Number(url.searchParams.get('timeoutMs') ?? 60_000);
  const w = {
    lines,
    done(reached) {
      if (!waiters.delete(w)) return;
      clearTimeout(timer);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ reached, ...snapshot() }));
    },
  };
  const timer = setTimeout(() => w.done(false), timeoutMs);
  waiters.add(w);
  checkWaiters();
}

const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
  const url = new URL(req.url, 'http://sink');
  const path = url.pathname;
  if (req.method === 'POST' && (path === '/write' || path === '/api/v2/write')) return handleWrite(req, res, path !== '/write');
  if (path === '/ping') {
    counters.requests++;
    counters.pingRequests++;
    req.resume();
    res.writeHead(204, { 'x-influxdb-version': 'sink', 'x-influxdb-build': 'OSS' });
    return res.end();
  }
  if (req.method === 'GET' && path === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(snapshot()));
  }
  if (req.method === 'GET' && path === '/__wait') return handleWait(url, res);
  counters.requests++;
  counters.otherRequests++;
  req.resume();
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: `sink: no handler for ${req.method} ${path}` }));
});
server.keepAliveTimeout = 60_000;

const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const actual = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  if (process.send) process.send({ type: 'ready', port: actual, pid: process.pid });
  else console.log(`listening ${actual}`);
});

if (process.send) {
  process.on('message', (/** @type {any} */ msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.cmd === 'reset') {
      reset();
      process.send({ id: msg.id, ...snapshot() });
    } else if (msg.cmd === 'stats') {
      process.send({ id: msg.id, ...snapshot() });
    } else if (msg.cmd === 'stop') {
      for (const w of waiters) w.done(false);
      server.closeAllConnections?.();
      server.close();
      process.send({ id: msg.id, ...snapshot() }, () => process.exit(0));
    }
  });
  // The parent is gone: do not linger.
  process.on('disconnect', () => process.exit(0));
}
