/**
 * The fault-injecting proxy (test/helpers/fault-proxy.ts) itself, in front of a tiny local
 * node:http upstream (the integration tests put it in front of a real influxd instead):
 * each action as an undici client sees it, the request log, script/default/handler order.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const kGzipped = gzipSync('{"results":[{"statement_id":0}]}');
const seen: Seen[] = [];
let upstream: http.Server;
let upstreamUrl: string;
let proxy: FaultProxy;
let agent: Agent;

/** An upstream shaped like influxd's answers: 204 writes, chunked JSON queries, gzip. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    seen.push({ method: req.method ?? '', url, headers: req.headers, body: Buffer.concat(chunks) });
    if (url.startsWith('/write')) {
      res.writeHead(204, { 'X-Influxdb-Version': '1.8.10', 'Request-Id': 'r-1' });
      res.end();
    } else if (url.startsWith('/gzip')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': kGzipped.length });
      res.end(kGzipped);
    } else if (url.startsWith('/query')) {
      // Chunked, in two writes: the proxy must stream it through.
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Custom': 'yes', 'Set-Cookie': ['a=1', 'b=2'] });
      res.write('{"results":');
      setTimeout(() => res.end('[]}'), 5);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
}

/** The error code undici reports, on the error or its cause. */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code;
}

async function send(
  path: string,
  opts: { method?: 'GET' | 'POST'; body?: string | Buffer | Readable; headers?: Record<string, string>; signal?: AbortSignal } = {},
  via: FaultProxy = proxy,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const res = await request(via.url + path, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    body: opts.body,
    headers: opts.headers,
    dispatcher: agent,
    signal: opts.signal,
  });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  upstream = http.createServer(upstreamHandler);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxy = await startFaultProxy({ target: upstreamUrl });
  agent = new Agent();
});

afterAll(async () => {
  await agent.destroy();
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

beforeEach(() => {
  proxy.clear();
  proxy.defaultAction = { pass: true };
  proxy.setHandler(undefined);
  seen.length = 0;
});

describe('pass', () => {
  it('relays status, headers and a streamed body; forwards method, path, headers', async () => {
    const res = await send('/query?db=x&q=SELECT%201', { headers: { 'X-Test': '1', Authorization: 'Basic dTpw' } });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"results":[]}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-custom']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);

    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url).toBe('/query?db=x&q=SELECT%201');
    expect(seen[0]!.headers['x-test']).toBe('1');
    expect(seen[0]!.headers.authorization).toBe('Basic dTpw');
    expect(seen[0]!.headers.host).toBe(new URL(upstreamUrl).host);

    const rec = proxy.requests[0]!;
    expect(rec.action).toBe('pass 200');
    expect(rec.upstreamStatus).toBe(200);
    expect(rec.finishedAt).toBeGreaterThanOrEqual(rec.receivedAt);
  });

  it('forwards gzip request bodies and relays gzip responses byte for byte', async () => {
    const gz = gzipSync('cpu,host=a value=1 1\ncpu,host=b value=2 2\n');
    const res = await send('/write?db=x&precision=ns', {
      body: gz,
      headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['x-influxdb-version']).toBe('1.8.10');
    expect(seen[0]!.body.equals(gz)).toBe(true);
    expect(seen[0]!.headers['content-encoding']).toBe('gzip');
    expect(proxy.requests[0]!.body.equals(gz)).toBe(true);

    const query = await send('/gzip', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(query.headers['content-encoding']).toBe('gzip');
    expect(query.body.equals(kGzipped)).toBe(true);
  });

  it('turns a chunked request body into one with Content-Length', async () => {
    const res = await send('/write?db=x', { body: Readable.from([Buffer.from('a v=1\n'), Buffer.from('b v=2\n')]) });
    expect(res.status).toBe(204);
    expect(seen[0]!.body.toString()).toBe('a v=1\nb v=2\n');
    expect(seen[0]!.headers['content-length']).toBe('12');
    expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
  });

  it('answers 502 when the target is missing or refuses', async () => {
    const lone = await startFaultProxy({});
    try {
      const res = await send('/ping', {}, lone);
      expect(res.status).toBe(502);
      expect(res.body.toString()).toContain('no target');
    } finally {
      await lone.close();
    }
    // A port that was just free: connection refused.
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const refused = await startFaultProxy({ target: `http://127.0.0.1:${deadPort}` });
    try {
      const res = await send('/ping', {}, refused);
      expect(res.status).toBe(502);
      expect(refused.requests[0]!.action).toContain('ECONNREFUSED');
    } finally {
      await refused.close();
    }
  });

  it('pass + then: the server gets the write, the client sees the scripted answer', async () => {
    proxy.script({ pass: true, then: { status: 500, body: '{"error":"timeout"}' } });
    const res = await send('/write?db=x', { body: 'cpu v=1' });
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('{"error":"timeout"}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(seen.map((s) => s.body.toString())).toEqual(['cpu v=1']);
    expect(proxy.requests[0]!.upstreamStatus).toBe(204);
    expect(proxy.requests[0]!.action).toBe('pass 204 then status 500');

    // Same, but the client's connection drops instead.
    proxy.script({ pass: true, then: { close: true } });
    const err = await failure(send('/write?db=x', { body: 'cpu v=2' }));
    expect(codeOf(err)).toBe('UND_ERR_SOCKET');
    expect(seen.map((s) => s.body.toString())).toEqual(['cpu v=1', 'cpu v=2']);
  });
});

describe('direct answers', () => {
  it('answers scripted statuses without forwarding', async () => {
    proxy.script(
      { status: 503, body: 'request throttled, queue full' },
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 500, body: '{"error":"timeout"}' },
      { status: 413, body: '{"error":"Request Entity Too Large"}' },
    );
    const a = await send('/write?db=x', { body: 'cpu v=1' });
    expect([a.status, a.body.toString(), a.headers['content-type']]).toEqual([503, 'request throttled, queue full', 'text/plain; charset=utf-8']);
    const b = await send('/write?db=x', { body: 'cpu v=1' });
    expect([b.status, b.headers['retry-after'], b.body.length]).toEqual([429, '7', 0]);
    const c = await send('/write?db=x', { body: 'cpu v=1' });
    expect([c.status, c.body.toString(), c.headers['content-type']]).toEqual([500, '{"error":"timeout"}', 'application/json']);
    const d = await send('/write?db=x', { body: 'cpu v=1' });
    expect([d.status, d.body.toString()]).toEqual([413, '{"error":"Request Entity Too Large"}']);
    expect(seen).toHaveLength(0);
    expect(proxy.requests.map((r) => r.action)).toEqual(['status 503', 'status 429', 'status 500', 'status 413']);
    expect(proxy.requests.every((r) => r.body.toString() === 'cpu v=1')).toBe(true);
  });

  it('413 early: answers on the headers and closes the connection', async () => {
    proxy.script({ status: 413, early: true, body: '{"error":"Request Entity Too Large"}' });
    const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const res = await send('/write?db=x', { body: big });
    expect(res.status).toBe(413);
    expect(res.body.toString()).toBe('{"error":"Request Entity Too Large"}');
    expect(res.headers.connection).toBe('close');
    expect(proxy.requests[0]!.action).toBe('status 413 early');
    // The agent reconnects for the next request.
    expect((await send('/write?db=x', { body: 'cpu v=1' })).status).toBe(204);
    expect(seen.map((s) => s.body.toString())).toEqual(['cpu v=1']);
  });

  it('delays status answers and forwards by at least delayMs', async () => {
    proxy.script({ status: 500, body: '{"error":"timeout"}', delayMs: 120 }, { pass: true, delayMs: 80 });
    let t = performance.now();
    expect((await send('/write?db=x', { body: 'x' })).status).toBe(500);
    // Timers may fire up to ~1 ms early against performance.now().
    expect(performance.now() - t).toBeGreaterThanOrEqual(119);
    t = performance.now();
    expect((await send('/write?db=x', { body: 'x' })).status).toBe(204);
    expect(performance.now() - t).toBeGreaterThanOrEqual(79);
    const [a, b] = proxy.requests;
    expect(a!.finishedAt! - a!.receivedAt).toBeGreaterThanOrEqual(119);
    expect(b!.action).toBe('pass 204');
  });
});

describe('connection faults', () => {
  it('reset: the client sees ECONNRESET', async () => {
    proxy.script({ reset: true });
    const err = await failure(send('/write?db=x', { body: 'cpu v=1' }));
    expect(codeOf(err)).toBe('ECONNRESET');
    expect(proxy.requests[0]!.action).toMatch(/^reset after 0 bytes/);
    expect(seen).toHaveLength(0);
  });

  it('reset after some bytes: the log holds the part that was read', async () => {
    proxy.script({ reset: true, afterBytes: 64 * 1024 });
    const big = Buffer.alloc(2 * 1024 * 1024, 0x62);
    const err = await failure(send('/write?db=x', { body: big }));
    expect(codeOf(err)).toBe('ECONNRESET');
    const got = proxy.requests[0]!.body.length;
    expect(got).toBeGreaterThanOrEqual(64 * 1024);
    expect(got).toBeLessThan(big.length);
  });

  it('close: the client sees the socket closed without an answer', async () => {
    proxy.script({ close: true });
    const err = await failure(send('/write?db=x', { body: 'cpu v=1' }));
    expect(codeOf(err)).toBe('UND_ERR_SOCKET');
    expect(err.message).toBe('other side closed');
    expect(proxy.requests[0]!.body.toString()).toBe('cpu v=1');
    expect(seen).toHaveLength(0);
  });

  it('hang: no answer until the client gives up', async () => {
    proxy.script({ hang: true });
    // An abort signal, not headersTimeout: undici runs that on its coarse fast timers (~0.5 s ticks).
    const err = await failure(send('/write?db=x', { body: 'cpu v=1', signal: AbortSignal.timeout(100) }));
    expect(err.name).toBe('TimeoutError');
    expect(proxy.requests[0]!.action).toBe('hang');
    expect(proxy.requests[0]!.finishedAt).toBeUndefined();
  });

  it('hang: proxy.close() ends the client with an error, promptly', async () => {
    const own = await startFaultProxy({ target: upstreamUrl });
    own.defaultAction = { hang: true };
    const pending = failure(send('/write?db=x', { body: 'cpu v=1' }, own));
    await own.waitForCount(1);
    const t = performance.now();
    await own.close();
    expect(performance.now() - t).toBeLessThan(2000);
    expect(codeOf(await pending)).toBe('UND_ERR_SOCKET');
  });
});

describe('unreadable answers', () => {
  it('spoil badHeaderByte: the server gets the write, the client cannot parse the answer', async () => {
    proxy.script({ pass: true, spoil: { badHeaderByte: true } });
    const err = await failure(send('/write?db=x', { body: 'cpu v=1' }));
    expect(err.name).toBe('HTTPParserError');
    expect(err.message).toMatch(/Invalid header value char/);
    expect(seen.map((s) => s.body.toString())).toEqual(['cpu v=1']);
    expect(proxy.requests[0]!.action).toBe('pass 204 spoiled: a header value with a control byte');
    expect(proxy.requests[0]!.upstreamStatus).toBe(204);
  });

  it('spoil headerBytes: headers larger than undici takes', async () => {
    proxy.script({ pass: true, spoil: { headerBytes: 20_000 } });
    const err = await failure(send('/write?db=x', { body: 'cpu v=1' }));
    expect(codeOf(err)).toBe('UND_ERR_HEADERS_OVERFLOW');
    expect(seen).toHaveLength(1);
  });

  it('spoil cutBodyAfter: the status and headers arrive, the body stops short', async () => {
    proxy.script({ pass: true, spoil: { cutBodyAfter: 5 } });
    const res = await request(`${proxy.url}/query?q=x`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('14');
    expect(res.headers['x-custom']).toBe('yes');
    const err = await failure(res.body.text());
    // The answer said Connection: close, so undici reads the FIN as the end: shorter than declared.
    expect(codeOf(err)).toBe('UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
    expect(proxy.requests[0]!.action).toBe('pass 200 spoiled: body cut after 5 of 14 bytes');
    // The next request gets a fresh connection and a whole answer.
    expect((await send('/query?q=y')).body.toString()).toBe('{"results":[]}');
  });

  it('raw: bytes that are not HTTP, directly or after the server acted', async () => {
    proxy.script({ raw: 'SSH-2.0-OpenSSH_9.2\r\n' }, { pass: true, then: { raw: Buffer.from([0, 1, 2, 0xff]) } });
    const direct = await failure(send('/write?db=x', { body: 'cpu v=1' }));
    expect(direct.name).toBe('HTTPParserError');
    expect(direct.message).toMatch(/Expected HTTP\//);
    expect(seen).toHaveLength(0);
    const after = await failure(send('/write?db=x', { body: 'cpu v=2' }));
    expect(after.name).toBe('HTTPParserError');
    expect(seen.map((s) => s.body.toString())).toEqual(['cpu v=2']);
    expect(proxy.requests.map((r) => r.action)).toEqual(['raw 21 bytes', 'pass 204 then raw 4 bytes']);
  });
});

describe('scripting', () => {
  it('consumes the script in order, then the default action', async () => {
    proxy.script({ status: 503 }, { status: 429 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send('/write?db=x', { body: 'x' })).status);
    proxy.defaultAction = { status: 500 };
    statuses.push((await send('/write?db=x', { body: 'x' })).status);
    expect(statuses).toEqual([503, 429, 204, 500]);
    expect(seen).toHaveLength(1);
  });

  it('setHandler decides by path; undefined falls back to script and default', async () => {
    const ns: number[] = [];
    proxy.setHandler((req, n) => {
      ns.push(n);
      return req.path.startsWith('/query') ? { status: 500, body: '{"error":"boom"}' } : undefined;
    });
    proxy.script({ status: 503 });
    expect((await send('/query?q=x')).status).toBe(500);
    expect((await send('/write?db=x', { body: 'x' })).status).toBe(503);
    expect((await send('/query?q=y')).status).toBe(500);
    expect((await send('/write?db=x', { body: 'x' })).status).toBe(204);
    expect(ns).toEqual([0, 1, 2, 3]);
  });

  it('setHandler with afterBody decides by body size', async () => {
    proxy.setHandler((req) => (req.body.length > 10 ? { status: 413, body: '{"error":"Request Entity Too Large"}' } : undefined), {
      afterBody: true,
    });
    expect((await send('/write?db=x', { body: 'small' })).status).toBe(204);
    expect((await send('/write?db=x', { body: 'a much larger body' })).status).toBe(413);
    expect(seen.map((s) => s.body.toString())).toEqual(['small']);
  });

  it('logs every request; count, waitForCount and clear', async () => {
    await send('/ping');
    await send('/write?db=a&rp=autogen', { body: 'm v=1', headers: { 'X-Mark': 'm' } });
    await send('/query?q=SHOW%20DATABASES', { method: 'POST' });
    expect(proxy.requests.map((r) => [r.method, r.path, r.body.toString()])).toEqual([
      ['GET', '/ping', ''],
      ['POST', '/write?db=a&rp=autogen', 'm v=1'],
      ['POST', '/query?q=SHOW%20DATABASES', ''],
    ]);
    expect(proxy.requests[1]!.headers['x-mark']).toBe('m');
    expect(proxy.requests[1]!.receivedAt).toBeGreaterThan(proxy.requests[0]!.receivedAt);
    expect([proxy.count(), proxy.count('/write'), proxy.count('/query'), proxy.count('/nope')]).toEqual([3, 1, 1, 0]);
    await proxy.waitForCount(1, '/write');
    await expect(proxy.waitForCount(2, '/write', 30)).rejects.toThrow(/1 of 2/);
    proxy.script({ status: 503 });
    proxy.clear();
    expect(proxy.count()).toBe(0);
    // The script went with the log.
    expect((await send('/ping')).status).toBe(404);
  });
});

afterEach(() => {
  // A test that left its script unconsumed would leak actions into the next one.
  proxy.clear();
});
