// The socket side of test/helpers/hostile-server.ts (read its header for the interface): a raw TCP
// server on loopback, run in a worker thread so that it keeps answering while the test's main
// thread is blocked (blocking mode's Atomics.wait, busy loops). Plain JavaScript: a worker thread
// cannot load TypeScript. Talks to its owner over parentPort:
//   in:  { op: 'setMode', id, mode, path, bodyIncludes }  { op: 'reset', id }  { op: 'close', id }
//   out: { ev: 'ack', id }  { ev: 'request', req }  { ev: 'closed', n, bytesSent, path }  { ev: 'ready', port }
import net from 'node:net';
import { parentPort } from 'node:worker_threads';

/** Modes by pathname ('' is the default); `matches` (path + body text) are checked first, newest first. */
let modes = new Map([['', { kind: 'ok' }]]);
let matches = [];
let count = 0;
const sockets = new Set();
const timers = new Set();

function post(msg) {
  parentPort.postMessage(msg);
}

function modeFor(pathname, bodyText) {
  const m = matches.find((x) => (x.path === '' || x.path === pathname) && bodyText.includes(x.bodyIncludes));
  return m?.mode ?? modes.get(pathname) ?? modes.get('') ?? { kind: 'ok' };
}

const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let answered = false;
  let record;
  let bytesSent = 0;
  const write = (data) => {
    if (socket.destroyed) return false;
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    bytesSent += b.length;
    return socket.write(b);
  };
  socket.on('error', () => {});
  socket.on('close', () => {
    sockets.delete(socket);
    if (record) post({ ev: 'closed', n: record.n, bytesSent, path: record.pathname });
  });
  socket.on('data', (chunk) => {
    if (answered) return; // one request per connection: every answer says Connection: close
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const [requestLine, ...headerLines] = head.split('\r\n');
    const headers = {};
    for (const l of headerLines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const body = buf.subarray(end + 4);
    let complete;
    if (headers['content-length'] !== undefined) complete = body.length >= Number(headers['content-length']);
    else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) complete = body.includes('0\r\n\r\n');
    else complete = true;
    if (!complete) return;
    answered = true;
    const [method, path] = requestLine.split(' ');
    const pathname = (path ?? '').split('?')[0];
    count += 1;
    record = { n: count, method, path, pathname, headers, bodyBytes: body.length, body: body.subarray(0, 65536).toString('utf8') };
    // Form bodies (queries) are matched decoded: bodyIncludes 'chunked=true' or 'SHOW FIELD KEYS'.
    let bodyText = body.toString('utf8');
    try { bodyText = decodeURIComponent(bodyText.replace(/\+/g, ' ')); } catch { /* not a form */ }
    const mode = modeFor(pathname, bodyText);
    record.mode = mode.kind;
    post({ ev: 'request', req: record });
    answer(socket, mode, pathname, write);
  });
});

function every(ms, fn) {
  const t = setInterval(fn, ms);
  timers.add(t);
  return () => { clearInterval(t); timers.delete(t); };
}

function head(status, headers) {
  const reason = { 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 502: 'Bad Gateway' }[status] ?? 'Status';
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [k, v] of Object.entries({ Connection: 'close', ...headers })) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

/** A body shape, as a start, a unit repeated, and an end (the end is never sent when cut). */
function shape(kind) {
  switch (kind) {
    case 'html': return { type: 'text/html; charset=utf-8', start: '<html><body>', unit: 'Please sign in. ', end: '</body></html>' };
    case 'jsonLine': return { type: 'application/json', start: '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[', unit: '[1,1],', end: '' };
    default: return { type: 'application/json', start: '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[', unit: '[1,1],', end: '[0,0]]}]}]}\n' };
  }
}

function answer(socket, mode, pathname, write) {
  const finish = (data) => { write(data); socket.end(); };
  switch (mode.kind) {
    case 'ok': {
      if (pathname.endsWith('/query')) {
        const body = '{"results":[{"statement_id":0}]}\n';
        return finish(head(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'X-Influxdb-Version': '1.6.7' }) + body);
      }
      return finish(head(204, { 'X-Influxdb-Version': '1.6.7' }));
    }
    case 'status': {
      const body = mode.body ?? '';
      return finish(head(mode.status, { 'Content-Length': Buffer.byteLength(body), ...mode.headers }) + body);
    }
    case 'html': {
      const body = mode.body ?? '<html><body>Please sign in</body></html>';
      return finish(head(mode.status ?? 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }) + body);
    }
    case 'redirect':
      return finish(head(mode.status ?? 307, { Location: mode.location, 'Content-Length': 0 }));
    case 'hugeHeader': {
      const body = mode.body ?? '';
      const name = mode.header ?? 'X-Influxdb-Error';
      const value = `unable to parse '${'x'.repeat(Math.max(0, (mode.bytes ?? 1 << 20) - 40))}': invalid field format`;
      return finish(head(mode.status ?? 400, { [name]: value, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }) + body);
    }
    case 'partialChunked': {
      const n = mode.lines ?? 2;
      let s = head(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      for (let i = 0; i < n; i++) {
        const line = `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[${i},${i}]],"partial":true}],"partial":true}]}\n`;
        s += `${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`;
      }
      return finish(`${s}0\r\n\r\n`);
    }
    case 'raw':
      return finish(Buffer.from(mode.bytes, 'latin1'));
    case 'hang':
      return undefined;
    case 'trickleHeaders': {
      write('HTTP/1.1 200 OK\r\nX-Slow: ');
      const stop = every(mode.intervalMs ?? 1000, () => { if (!write('a')) return; });
      socket.on('close', stop);
      return undefined;
    }
    case 'trickleBody': {
      const status = mode.status ?? 200;
      write(head(status, { 'Content-Type': mode.contentType ?? 'application/json', 'Transfer-Encoding': 'chunked' }));
      const prefix = mode.prefix ?? '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[';
      write(`${Buffer.byteLength(prefix).toString(16)}\r\n${prefix}\r\n`);
      const stop = every(mode.intervalMs ?? 1000, () => write('1\r\n \r\n'));
      socket.on('close', stop);
      return undefined;
    }
    case 'hugeBody': {
      const sh = shape(mode.shape);
      const total = mode.bytes;
      const unit = Buffer.from(sh.unit.repeat(Math.ceil(65536 / sh.unit.length)));
      const headers = { 'Content-Type': mode.contentType ?? sh.type };
      if (mode.contentLength !== false) headers['Content-Length'] = total;
      write(head(mode.status ?? 200, headers));
      let sent = 0;
      const endBuf = Buffer.from(sh.end);
      const startBuf = Buffer.from(sh.start);
      // Generated as the socket drains: never held in memory.
      const pump = () => {
        while (!socket.destroyed) {
          if (sent === 0 && total > 0) { const b = startBuf.subarray(0, total); sent += b.length; if (!write(b)) return; continue; }
          const left = total - sent - endBuf.length;
          if (left <= 0) {
            const tail = endBuf.subarray(0, total - sent);
            write(tail);
            sent = total;
            socket.end();
            return;
          }
          // Whole units only (the JSON stays valid), padded with spaces.
          const b = left >= unit.length ? unit
            : Buffer.concat([unit.subarray(0, left - (left % sh.unit.length)), Buffer.alloc(left % sh.unit.length, 32)]);
          sent += b.length;
          if (!write(b)) return;
        }
      };
      socket.on('drain', pump);
      pump();
      return undefined;
    }
    // Added by the hostile-table test: an answer cut by a TCP RST (not a FIN).
    case 'reset': {
      if (mode.answer) write(Buffer.from(mode.answer, 'latin1'));
      const t = setTimeout(() => { timers.delete(t); if (!socket.destroyed) socket.resetAndDestroy(); }, mode.answer ? (mode.delayMs ?? 50) : 0);
      timers.add(t);
      return undefined;
    }
    default:
      return finish(head(500, { 'Content-Length': 0 }));
  }
}

parentPort.on('message', (msg) => {
  if (msg.op === 'setMode') {
    if (msg.bodyIncludes) matches.unshift({ path: msg.path ?? '', bodyIncludes: msg.bodyIncludes, mode: msg.mode });
    else modes.set(msg.path ?? '', msg.mode);
  } else if (msg.op === 'reset') {
    modes = new Map([['', { kind: 'ok' }]]);
    matches = [];
  } else if (msg.op === 'close') {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    server.close(() => {
      post({ ev: 'ack', id: msg.id });
      parentPort.close();
    });
    return;
  }
  post({ ev: 'ack', id: msg.id });
});

server.listen(0, '127.0.0.1', () => post({ ev: 'ready', port: server.address().port }));
