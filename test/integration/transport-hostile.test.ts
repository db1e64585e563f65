/**
 * The transport against hostile servers (issue 11, the transport and query side): every request
 * ends by its deadline (ping, write, query raw / iterable / Arrow, chunked, blocking mode), answers
 * that are not InfluxDB's are refused (an HTML 200, a redirect, a non-JSON query answer), a 400
 * with a 1 MB X-Influxdb-Error keeps its status, error bodies and whole answers are bounded
 * (maxResponseBytes, measured in a child process: time and peak RSS), a chunked answer ending
 * `partial: true` is truncated, and debug logs redact before they cut.
 * The hostile server (test/helpers/hostile-server.ts) plays the server; the real influxd where
 * its real answers matter. Waits are on events (the server saw the request, closed the connection).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InfluxDBClient, InfluxDBConnectionError, InfluxDBRedirectError, InfluxDBResponseError, InfluxDBWriteError,
} from '../../src/index.js';
import { queryNote } from '../../src/transport/http-transport.js';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const run = promisify(execFile);
let srv: HostileServer;
const clients: InfluxDBClient<never, never>[] = [];

function client(opts: Record<string, unknown> = {}): InfluxDBClient {
  const c = new InfluxDBClient({ url: srv.url, db: 'd', username: 'admin', password: 'hunter2-secret', ...opts });
  clients.push(c as never);
  return c;
}

async function failure(p: unknown): Promise<Error & Record<string, unknown>> {
  try {
    const r = await (p as Promise<unknown>);
    // A chunked result: the failure comes while reading it.
    if (r && typeof r === 'object' && Symbol.asyncIterator in r) for await (const _ of r as AsyncIterable<unknown>) { /* drain */ }
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  srv = await startHostileServer();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await srv.close();
});

const kTimeout = 1500;
type Call = [name: string, path: string, (c: InfluxDBClient) => unknown];
const kCalls: Call[] = [
  ['ping', '/ping', (c) => c.ping()],
  ['write', '/write', (c) => c.write('m v=1 1')],
  ['query raw', '/query', (c) => c.query('SELECT * FROM m')],
  ['query iterable', '/query', (c) => c.query('SELECT * FROM m', { output: 'iterable' })],
  ['query arrow', '/query', (c) => c.query('SELECT * FROM m', { output: 'arrow' })],
  ['chunked raw', '/query', (c) => c.query('SELECT * FROM m', { chunked: true })],
  ['chunked iterable', '/query', (c) => c.query('SELECT * FROM m', { chunked: true, output: 'iterable' })],
  ['chunked arrow', '/query', (c) => c.query('SELECT * FROM m', { chunked: true, output: 'arrow' })],
];

describe('every request ends by its deadline', () => {
  for (const [name, path, call] of kCalls) {
    it(`${name}: a body trickling after 200 headers ends at the timeout`, async () => {
      await srv.reset();
      // A JSON trickle; on /write (and /ping) the 200 itself is refused once its first bytes are read.
      await srv.setMode({ kind: 'trickleBody', intervalMs: 100 });
      const started = performance.now();
      const err = await failure(call(client({ timeout: kTimeout })));
      const ms = performance.now() - started;
      const req = await srv.waitForRequest({ path });
      if (name === 'write') {
        // Not 204: not InfluxDB's answer, whatever follows; its first bytes were read until the deadline.
        expect(err).toBeInstanceOf(InfluxDBResponseError);
        expect(err).toMatchObject({ reason: 'not-influxdb', status: 200 });
      } else {
        expect(err).toBeInstanceOf(InfluxDBConnectionError);
        expect(err).toMatchObject({ reason: 'deadline', requestSent: true, answerUnreadable: true, retryable: true });
        expect(err.message).toMatch(new RegExp(`timed out: .* within the ${kTimeout} ms timeout \\(deadline\\)`));
      }
      expect(ms).toBeGreaterThanOrEqual(kTimeout - 50);
      // The client closed the connection: the trickle is over.
      await srv.waitForClosed(req.n);
    });
  }

  it('headers trickling one byte at a time: the deadline, no answer (requestSent, not answerUnreadable)', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'trickleHeaders', intervalMs: 100 });
    const err = await failure(client({ timeout: kTimeout }).write('m v=1 1'));
    expect(err).toMatchObject({ code: 'FI_ERR_CONNECTION', reason: 'deadline', requestSent: true, answerUnreadable: false });
    expect(err.message).toMatch(/^write to .*: timed out: no answer came within the 1500 ms timeout \(deadline\); the request was sent .*may or may not have been stored/);
    await srv.waitForClosed((await srv.waitForRequest()).n);
  });

  it('a per-request timeoutMs is the total deadline (what the writer uses)', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'hang' });
    const { HttpTransport } = await import('../../src/transport/http-transport.js');
    const { resolveClientOptions } = await import('../../src/options/index.js');
    const t = new HttpTransport(resolveClientOptions({ url: srv.url, timeout: 0 }));
    const started = performance.now();
    const err = await failure(t.request({ method: 'POST', endpoint: 'write', body: 'm v=1', timeoutMs: 300 }));
    expect(err).toMatchObject({ reason: 'deadline' });
    expect(err.message).toMatch(/within the 300 ms timeout/);
    expect(performance.now() - started).toBeLessThan(20_000);
    await t.close();
  });

  it('blocking mode: the worker ends the call with the deadline error, not BlockingWorkerError', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'trickleBody', intervalMs: 100 });
    await srv.setMode({ kind: 'ok' }, '/ping');
    const c = new InfluxDBClient({ url: srv.url, db: 'd', timeout: kTimeout, mode: 'blocking' });
    // Starts the worker (slow on a loaded machine): not part of what is measured.
    c.ping();
    const started = performance.now();
    let err: Error & Record<string, unknown> = new Error('none') as never;
    try {
      c.query('SELECT * FROM m');
    } catch (e) {
      err = e as never;
    }
    const ms = performance.now() - started;
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect(err).toMatchObject({ reason: 'deadline', answerUnreadable: true });
    expect(ms).toBeGreaterThanOrEqual(kTimeout - 50);
    // Far below the worker's stall timeout (60 s): the deadline ended the call, not the stall check.
    expect(ms).toBeLessThan(30_000);
    console.log(`[deadline] blocking query against a trickle, timeout ${kTimeout} ms: ${err.constructor.name} ${String(err.reason)} after ${ms.toFixed(0)} ms`);
    await c.close();
  });

  it('chunked, real influxd: a consumer holding each chunk longer than the timeout is not cut (the deadline is per chunk)', async () => {
    const url = sharedInfluxUrl();
    const db = uniqueDb('deadline');
    await rawQuery(url, `CREATE DATABASE "${db}"`);
    const c = new InfluxDBClient({ url, db, timeout: 400 });
    clients.push(c as never);
    await c.write(Array.from({ length: 4 }, (_, i) => `m v=${i} ${i + 1}`).join('\n'));
    const chunks: unknown[] = [];
    for await (const chunk of await c.query('SELECT * FROM m', { chunked: true, chunkSize: 1 })) {
      chunks.push(chunk);
      // The behaviour under test: the caller holds the chunk longer than the timeout.
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    expect(chunks.length).toBe(4);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  });
});

describe('answers that are not what they claim', () => {
  it('write: a 200 with an HTML sign-in page is refused with status, content type and first bytes', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'html' }, '/write');
    const err = await failure(client().write('m v=1 1'));
    expect(err).toBeInstanceOf(InfluxDBResponseError);
    expect(err).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'not-influxdb', status: 200, contentType: 'text/html; charset=utf-8', bodyStart: '<html><body>Please sign in</body></html>' });
    expect(err.message).toMatch(/HTTP 200 to a write, where InfluxDB answers 204.*begins "<html><body>Please sign in/);
    expect(err.message).not.toMatch(/hunter2/);
  });

  it('ping: a 200 HTML page is refused (no InfluxDB behind it is known)', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'html' }, '/ping');
    const err = await failure(client().ping());
    expect(err).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'not-influxdb', status: 200, contentType: 'text/html; charset=utf-8' });
  });

  it('query: a 200 that is not JSON is refused, in every output', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'html' }, '/query');
    for (const [, , call] of kCalls.filter(([, p]) => p === '/query')) {
      const err = await failure(call(client()));
      expect(err).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'not-influxdb', status: 200, contentType: 'text/html; charset=utf-8' });
      expect(err.message).toMatch(/a query answer in text\/html; charset=utf-8, not JSON/);
    }
  });

  for (const status of [301, 302, 307, 308] as const) {
    it(`a ${status} redirect is never followed: the error names the status and the Location without credentials`, async () => {
      await srv.reset();
      await srv.setMode({ kind: 'redirect', status, location: 'https://sso-user:sso-secret@login.example.com/write?u=admin&p=hunter2#x' });
      for (const call of [(c: InfluxDBClient) => c.write('m v=1 1'), (c: InfluxDBClient) => c.query('SHOW DATABASES'), (c: InfluxDBClient) => c.ping()]) {
        const err = await failure(call(client()));
        expect(err).toBeInstanceOf(InfluxDBRedirectError);
        expect(err).toMatchObject({ code: 'FI_ERR_REDIRECT', status, location: 'https://login.example.com/write?…', retryable: false });
        expect(err.message).toMatch(new RegExp(`was redirected \\(HTTP ${status}\\) to https://login\\.example\\.com/write\\?…: redirects are not followed`));
        expect(`${err.message} ${JSON.stringify(err)}`).not.toMatch(/secret|hunter2|sso-user/);
      }
      // Each call reached this server once; nothing went to the Location. (The server's record of a
      // request comes from its worker thread: it may land after the client has its answer.)
      await srv.waitForRequest({ count: 3 });
      expect(srv.requests.length).toBe(3);
    });
  }

  it('a 400 with a 1 MB X-Influxdb-Error keeps its status and the refused line', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'hugeHeader', bytes: 1 << 20 }, '/write');
    const err = await failure(client().write('m v=1 1'));
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect(err).toMatchObject({ status: 400 });
    expect((err as unknown as InfluxDBWriteError).rejectedLines[0]).toHaveLength((1 << 20) - 40);
  });

  it('real influxd: a 400 echoing 1 MB of refused lines: status kept, every line named (a JSON error body is read up to twice the request)', async () => {
    const url = sharedInfluxUrl();
    const db = uniqueDb('bigheader');
    await rawQuery(url, `CREATE DATABASE "${db}"`);
    // Straight through the transport: the client would refuse these lines before sending them.
    const { HttpTransport, readErrorMessage, parseRejectedLines } = await import('../../src/transport/http-transport.js');
    const { resolveClientOptions } = await import('../../src/options/index.js');
    const t = new HttpTransport(resolveClientOptions({ url }));
    const bad = Array.from({ length: 10 }, (_, i) => `m,t=${String(i).repeat(100_000)} v=oops ${i + 1}`).join('\n');
    const res = await t.request({ method: 'POST', endpoint: 'write', query: { db }, body: bad });
    expect(res.statusCode).toBe(400);
    // influxd 1.6 cuts its header to 1 KiB; the JSON body names every line (read: it is InfluxDB's own, within twice the request).
    expect((res.headers['x-influxdb-error'] as string).length).toBeLessThanOrEqual(1024);
    expect(parseRejectedLines(await readErrorMessage(res))).toHaveLength(10);
    await t.close();
    await rawQuery(url, `DROP DATABASE "${db}"`);
  });

  it('a 1.2 GB HTML 502 on /write: the status and the first bytes, the rest never read', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'hugeBody', bytes: 1_200_000_000, shape: 'html', status: 502 }, '/write');
    const started = performance.now();
    const err = await failure(client().write('m v=1 1'));
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect(err).toMatchObject({ status: 502 });
    expect(err.message).toMatch(/^write failed with HTTP 502: <html><body>Please sign in/);
    const closed = await srv.waitForClosed((await srv.waitForRequest()).n);
    // 64 KiB read, plus what the sockets buffered: nowhere near 1.2 GB.
    expect(closed.bytesSent).toBeLessThan(32 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('answers that are not valid JSON, or no answer at all', () => {
  for (const [name, , call] of kCalls.filter(([, p]) => p === '/query')) {
    it(`${name}: truncated JSON is InfluxDBResponseError (invalid); a 204 is not a query answer`, async () => {
      await srv.reset();
      await srv.setMode({ kind: 'status', status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"results":[{"statement_id":0,"series":[{"name":"m","col' }, '/query', { bodyIncludes: 'SELECT' });
      const err = await failure(call(client()));
      expect(err).toBeInstanceOf(InfluxDBResponseError);
      expect(err).toMatchObject({ reason: 'invalid' });
      expect(err.message).toMatch(/not valid JSON/);
      await srv.setMode({ kind: 'status', status: 204 }, '/query', { bodyIncludes: 'SELECT' });
      const none = await failure(call(client()));
      expect(none).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'not-influxdb', status: 204 });
      expect(none.message).toMatch(/HTTP 204 to a query, where InfluxDB answers 200 with JSON/);
    });
  }
});

describe('a chunked answer ending with partial: true is truncated', () => {
  for (const [name, , call] of kCalls.filter(([n]) => n.startsWith('chunked'))) {
    it(name, async () => {
      await srv.reset();
      // Only the chunked query: Arrow output's schema lookups get ordinary answers.
      await srv.setMode({ kind: 'partialChunked', lines: 2 }, '/query', { bodyIncludes: 'chunked=true' });
      const err = await failure(call(client()));
      expect(err).toBeInstanceOf(InfluxDBResponseError);
      expect(err).toMatchObject({ reason: 'truncated' });
      expect(err.message).toMatch(/the chunked answer ended after a chunk marked partial: it was cut short/);
    });
  }
});

describe('bounded reads: maxResponseBytes', () => {
  it('a Content-Length above the limit fails before reading', async () => {
    await srv.reset();
    await srv.setMode({ kind: 'hugeBody', bytes: 1_200_000_000 });
    const err = await failure(client({ maxResponseBytes: 1_000_000 }).query('SELECT * FROM m'));
    expect(err).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'too-large', limit: 1_000_000 });
    expect(err.message).toMatch(/the answer is larger than maxResponseBytes \(1000000 bytes\); query with chunked: true/);
  });

  it('per query: maxResponseBytes bounds a real answer; chunked: true reads it', async () => {
    const url = sharedInfluxUrl();
    const db = uniqueDb('maxresp');
    await rawQuery(url, `CREATE DATABASE "${db}"`);
    const c = new InfluxDBClient({ url, db });
    clients.push(c as never);
    await c.write(Array.from({ length: 2000 }, (_, i) => `m v=${i} ${i + 1}`).join('\n'));
    const err = await failure(c.query('SELECT * FROM m', { maxResponseBytes: 2048 }));
    expect(err).toMatchObject({ reason: 'too-large', limit: 2048 });
    let rows = 0;
    for await (const chunk of await c.query('SELECT * FROM m', { chunked: true, chunkSize: 10, maxResponseBytes: 2048 })) rows += chunk.results[0]!.series![0]!.values!.length;
    expect(rows).toBe(2000);
    // A chunk larger than the bound: the line bound.
    const line = await failure(c.query('SELECT * FROM m', { chunked: true, chunkSize: 1000, maxResponseBytes: 2048 }));
    expect(line).toMatchObject({ reason: 'too-large', limit: 2048 });
    expect(line.message).toMatch(/a line of the chunked answer is larger than maxResponseBytes \(2048 bytes\); lower chunkSize/);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  });

  it('refuses a bad maxResponseBytes', () => {
    expect(() => new InfluxDBClient({ url: srv.url, maxResponseBytes: -1 })).toThrow(/maxResponseBytes/);
  });

  // A 1.2 GB answer streamed without Content-Length, read in a child process (the built package):
  // it fails at the limit, and the child's peak RSS stays near it.
  const script = `
import { InfluxDBClient } from 'fastinflux';
const limit = process.env.LIMIT ? Number(process.env.LIMIT) : undefined;
const c = new InfluxDBClient({ url: process.env.URL, db: 'd', maxResponseBytes: limit });
const started = performance.now();
let out = {};
try {
  const mode = process.env.MODE;
  const r = await c.query('SELECT * FROM m', mode.startsWith('chunked') ? { chunked: true, output: mode.slice(8) || 'raw' } : { output: mode });
  if (mode.startsWith('chunked')) for await (const _ of r) {}
  out.ok = true;
} catch (e) { out = { code: e.code, reason: e.reason, limit: e.limit }; }
out.ms = Math.round(performance.now() - started);
out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
await c.close();
console.log(JSON.stringify(out));
`;
  const kCases: Array<[mode: string, limitMiB: number | undefined, shape: 'json' | 'jsonLine']> = [
    ['raw', 64, 'json'], ['arrow', 64, 'json'], ['iterable', 64, 'json'], ['chunked-raw', 64, 'jsonLine'], ['chunked-arrow', 64, 'jsonLine'],
    ['raw', undefined, 'json'],
  ];
  for (const [mode, limitMiB, shape] of kCases) {
    it(`${mode}, limit ${limitMiB ?? 256} MiB${limitMiB ? '' : ' (the default)'}: a 1.2 GB answer fails at the limit, peak RSS near it`, async () => {
      await srv.reset();
      await srv.setMode({ kind: 'hugeBody', bytes: 1_200_000_000, shape, contentLength: false });
      const env: NodeJS.ProcessEnv = { ...process.env, URL: srv.url, MODE: mode };
      if (limitMiB) env.LIMIT = String(limitMiB * 1024 * 1024);
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env });
      const out = JSON.parse(stdout) as { reason: string; limit: number; ms: number; maxRssMB: number };
      const limit = (limitMiB ?? 256) * 1024 * 1024;
      expect(out).toMatchObject({ code: 'FI_ERR_RESPONSE', reason: 'too-large', limit });
      // Node + the package (~80 MB), the bytes up to the limit, and the garbage of reading them.
      expect(out.maxRssMB).toBeLessThan(limit / 2 ** 20 * 2 + 200);
      const closed = await srv.waitForClosed((await srv.waitForRequest()).n);
      expect(closed.bytesSent).toBeLessThan(limit + 32 * 1024 * 1024);
      console.log(`[maxResponseBytes] ${mode} limit ${limitMiB ?? 256} MiB: ${out.reason} in ${out.ms} ms, peak RSS ${out.maxRssMB} MB, server sent ${(closed.bytesSent / 2 ** 20).toFixed(0)} MiB`);
    }, 120_000);
  }
});

describe('debug logs', () => {
  it('redact a statement first, then cut it to 200 characters', () => {
    const q = `CREATE USER "${'x'.repeat(150)}" WITH PASSWORD 'TopSecretPassword123' ${'-- '.repeat(50)}`;
    const note = queryNote(q);
    expect(note).not.toMatch(/TopSecret/);
    expect(note.length).toBeLessThanOrEqual(201);
    expect(queryNote("SET PASSWORD FOR \"a\" = 'p@ss'")).toBe("SET PASSWORD FOR \"a\" = '***'");
  });

  it('NODE_DEBUG=fastinflux: a long CREATE USER is logged without its password (built package, child process)', async () => {
    await srv.reset();
    const script = `
import { InfluxDBClient } from 'fastinflux';
const c = new InfluxDBClient({ url: process.env.URL });
await c.query(\`CREATE USER "\${'x'.repeat(150)}" WITH PASSWORD 'TopSecretPassword123' \${'-- '.repeat(50)}\`);
await c.close();
`;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env: { ...process.env, NODE_DEBUG: 'fastinflux', URL: srv.url } });
    expect(stderr).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/query -> 200 .*CREATE USER "x+" WITH PASSWORD '\*\*\*'/);
    expect(stderr).not.toMatch(/TopSecret/);
  });
});
