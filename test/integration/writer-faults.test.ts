/**
 * The batch writer under the fault matrix of reliability.md, each row against the real influxd:
 * our fault-injecting proxy sits on loopback in front of it (test/helpers/fault-proxy.ts), and
 * real influxd variants give real 401/403 and 413 answers.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BufferFullError, DeliveryTimeoutError, InfluxDBWriteError, PointsDroppedError, WriteDeliveryError, WriterClosedError,
} from '../../src/index.js';
import { addsUp, freePort, lines, proxiedWrites, writerMode } from '../helpers/proxied-writes.js';
import { rawQuery, startVariant, uniqueDb, type LocalInfluxd } from '../helpers/server.js';

const { url, proxy, clientFor, newDb, count } = proxiedWrites();
const fast = { retryInitialDelayMs: 20, retryMaxDelayMs: 200 };

describe('fault matrix', () => {
  it('#1 server down at start: points wait, retries back off, delivered once it comes up', async () => {
    const db = await newDb('f1');
    const port = await freePort();
    const errors: Error[] = [];
    const c = clientFor(`http://127.0.0.1:${port}`, db);
    // Waits for the event (a third failed attempt reported), never for a fixed time: on a busy
    // machine 400 ms could pass with no retry at all.
    let third!: () => void;
    const thirdError = new Promise<void>((resolve) => (third = resolve));
    const w = c.writer({ ...fast, onError: (e) => { errors.push(e); if (errors.length === 3) third(); } });
    const t0 = performance.now();
    await w.write(lines(100));
    const flushed = w.flush();
    await thirdError;
    expect(w.stats()).toMatchObject({ written: 0, pending: 100 });
    const retriesWhileDown = w.stats().retries;
    const elapsed = performance.now() - t0;
    expect(retriesWhileDown).toBeGreaterThan(1);
    // Backoff, not a hot loop: delays of 20..200 ms (full jitter) allow about one attempt per
    // 10 ms at most; a refused connect takes ~1 ms, so a loop without delays would make 10x more.
    expect(retriesWhileDown).toBeLessThan(elapsed / 10 + 5);
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
    await proxy(port);
    await flushed;
    expect(await count(db)).toBe(100);
    addsUp(w.stats());
  });

  it('#2 the answer is lost after the server stored the batch: resent, no gaps, no duplicate points', async () => {
    const db = await newDb('f2');
    const p = await proxy();
    p.script({ pass: true, then: { reset: true } }, { pass: true, then: { close: true } });
    const w = clientFor(p.url, db).writer({ ...fast, batchSize: 50 });
    await w.write(lines(200));
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 200, retries: 2, pending: 0 });
    // Same timestamps on the resent lines: influxd overwrote, it did not add.
    expect(await count(db)).toBe(200);
  });

  it('#3 500s for a while, then 204: backoff grows, all delivered', async () => {
    const db = await newDb('f3');
    const p = await proxy();
    p.script(...Array.from({ length: 5 }, () => ({ status: 500, body: '{"error":"engine: cache maximum memory size exceeded"}' })));
    const w = clientFor(p.url, db).writer({ retryInitialDelayMs: 20, retryMaxDelayMs: 2000 });
    await w.write(lines(10));
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 10, retries: 5 });
    expect(p.count('/write')).toBe(6);
    expect(await count(db)).toBe(10);
  });

  it('#4 429 with Retry-After in seconds pauses every request for that long', async () => {
    const db = await newDb('f4');
    const p = await proxy();
    p.script({ status: 429, headers: { 'retry-after': '1' }, body: 'slow down' });
    const w = clientFor(p.url, db).writer({ ...fast, maxInFlight: 4, batchSize: 10 });
    await w.write(lines(10));
    await w.flush();
    const [first, second] = p.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(990);
    expect(w.stats().written).toBe(10);
  });

  it('#4 Retry-After as an HTTP-date, and a plain-text 503 without one', async () => {
    const db = await newDb('f4b');
    const p = await proxy();
    p.setHandler((_req, n) => {
      if (n === 0) return { status: 503, headers: { 'retry-after': new Date(Date.now() + 1500).toUTCString() }, body: 'busy' };
      if (n === 1) return { status: 503, body: 'request throttled, queue full' };
      return undefined;
    });
    const errors: Error[] = [];
    const w = clientFor(p.url, db).writer({ ...fast, onError: (e) => errors.push(e) });
    await w.write(lines(5));
    await w.flush();
    // HTTP-dates have a one-second resolution: at least 0.5 s of the 1.5 s remain.
    expect(p.requests[1]!.receivedAt - p.requests[0]!.receivedAt).toBeGreaterThanOrEqual(490);
    expect(errors.map((e) => (e as InfluxDBWriteError).serverMessage)).toEqual(['busy', 'request throttled, queue full']);
    expect(await count(db)).toBe(5);
  });

  it('#5 413 from the real server: batches split in half until they fit; a line too large alone is rejected', async () => {
    const server: LocalInfluxd = await startVariant({ maxBodySize: 4000 });
    try {
      const db = await newDb('f5', server.url);
      const rejected: string[][] = [];
      const c = clientFor(server.url, db);
      const w = c.writer({ ...fast, batchBytes: 64 * 1024, onRejected: (l) => rejected.push(l) });
      const big = `m,k=a v=1i,s="${'x'.repeat(5000)}" 999999`;
      await w.write(`${lines(300)}\n${big}`);
      const err = await w.flush().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteDeliveryError);
      expect(err).toMatchObject({ rejected: 1, lines: [big] });
      expect((err as WriteDeliveryError).errors[0]).toMatchObject({ status: 413 });
      const s = w.stats();
      expect(s).toMatchObject({ written: 300, rejected: 1, pending: 0 });
      expect(s.splits).toBeGreaterThan(3);
      expect(rejected).toEqual([[big]]);
      expect(await count(db, server.url)).toBe(300);
      await c.close();
    } finally {
      await server.stop();
    }
  });

  it('#6 400 partial write: the bad line is rejected with the reason, the rest counts as written, never retried', async () => {
    const db = await newDb('f6');
    const p = await proxy();
    const dead: Array<{ lines: string[]; error: Error }> = [];
    const w = clientFor(p.url, db).writer({ ...fast, onRejected: (l, error) => dead.push({ lines: l, error }) });
    // (A line influxd cannot parse never reaches it: the writer refuses it first. A `time` tag
    // parses, and the server refuses it.)
    await w.write(`${lines(3)}\nm,k=a,time=x v=7i 7\n${lines(3, 10)}`);
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteDeliveryError);
    expect(w.stats()).toMatchObject({ written: 6, rejected: 1, retries: 0, requests: 1 });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.lines).toEqual(['m,k=a,time=x v=7i 7']);
    expect(dead[0]!.error).toBeInstanceOf(InfluxDBWriteError);
    expect(dead[0]!.error.message).toMatch(/partial write: invalid tag key: input tag "time"/);
    expect(await count(db)).toBe(6);
  });

  it('#6/#17 field type conflict: the conflicting lines are found and rejected, the rest stored', async () => {
    const db = await newDb('f6b');
    const w = clientFor(url, db).writer(fast);
    await w.write('m v=1i 1');
    await w.flush();
    const dead: string[] = [];
    const w2 = clientFor(url, db).writer({ ...fast, onRejected: (l) => dead.push(...l) });
    await w2.write('m v=2i 2\nm v="str" 3\nm v=4i 4\nm v=5.5 5');
    await w2.flush().catch(() => undefined);
    expect(dead.sort()).toEqual(['m v="str" 3', 'm v=5.5 5']);
    expect(w2.stats()).toMatchObject({ written: 2, rejected: 2 });
    expect(await count(db)).toBe(3);
  });

  it('#6/#17 a conflict with in-batch disagreement: certain lines refused at once, the rest resent per round', async () => {
    const db = await newDb('f6c');
    const w = clientFor(url, db).writer(fast);
    await w.write('m v=1i,w=1 1');
    await w.flush();
    const dead: string[] = [];
    const w2 = clientFor(url, db).writer({ ...fast, onRejected: (l) => dead.push(...l) });
    // v is named first (w is not: its conflict shows in the answer to the resend).
    await w2.write('m v=2i 2\nm v="str" 3\nm w="x" 4\nm v=4i,w=2 5\nm u=true 6');
    await w2.flush().catch(() => undefined);
    expect(dead.sort()).toEqual(['m v="str" 3', 'm w="x" 4']);
    expect(w2.stats()).toMatchObject({ written: 3, rejected: 2, pending: 0, requests: 3 });
    expect(await count(db)).toBe(3); // v: the first write's and two of these
    const u = await rawQuery(url, 'SELECT count(u) FROM m', { db });
    expect(u.results?.[0]?.series?.[0]?.values?.[0]?.[1]).toBe(1);
  });

  it('a server whose 400s never name the lines: the lines are rejected after the resend cap', async () => {
    const db = await newDb('f6d');
    const p = await proxy();
    p.defaultAction = { status: 400, body: '{"error":"partial write: field type conflict: input field \\"zz\\" on measurement \\"q\\" is type string, already exists as type float dropped=1"}' };
    const dead: string[] = [];
    const w = clientFor(p.url, db).writer({ ...fast, onRejected: (l) => dead.push(...l) });
    await w.write('m v=1 1\nm v=2 2');
    await expect(w.flush()).rejects.toThrow(/still refused after 16 resends/);
    expect(dead).toEqual(['m v=1 1', 'm v=2 2']);
    expect(w.stats()).toMatchObject({ rejected: 2, written: 0, pending: 0, requests: 17 });
  });

  it('#7 a request that hangs is abandoned at requestTimeoutMs and resent', async () => {
    const db = await newDb('f7');
    const p = await proxy();
    p.script({ pass: true, then: { hang: true } }, { status: 500, body: '{"error":"timeout"}' });
    const w = clientFor(p.url, db).writer({ ...fast, requestTimeoutMs: 1000, deliveryTimeoutMs: 20_000 });
    await w.write(lines(20));
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 20, retries: 2 });
    expect(await count(db)).toBe(20);
  });

  it('#8 a connection reset mid-body: the same bytes are sent again', async () => {
    const db = await newDb('f8');
    const p = await proxy();
    p.script({ reset: true, afterBytes: 500 });
    const w = clientFor(p.url, db).writer(fast);
    await w.write(lines(500));
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 500, retries: 1 });
    const [cut, full] = p.requests;
    expect(full!.body.subarray(0, cut!.body.length).equals(cut!.body)).toBe(true);
    expect(full!.body.toString()).toBe(`${lines(500)}\n`);
    expect(await count(db)).toBe(500);
  });

  it('#9 close() while a request hangs: a short timeout gives the points back with counts and lines', async () => {
    const db = await newDb('f9');
    const p = await proxy();
    p.defaultAction = { hang: true };
    const dead: string[] = [];
    const w = clientFor(p.url, db).writer({ ...fast, onRejected: (l, e) => { expect(e).toBeInstanceOf(DeliveryTimeoutError); dead.push(...l); } });
    await w.write(lines(30));
    void w.flush().catch(() => undefined);
    await p.waitForCount(1);
    const t0 = Date.now();
    const err = await w.close({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(WriteDeliveryError);
    expect(err).toMatchObject({ expired: 30, closeTimedOut: true });
    expect((err as WriteDeliveryError).lines).toEqual(lines(30).split('\n'));
    expect(dead).toEqual(lines(30).split('\n'));
    expect(w.stats()).toMatchObject({ pending: 0, expired: 30 });
    await expect(w.write('m v=1i 1')).rejects.toBeInstanceOf(WriterClosedError);
  });

  it('#9 close() while a write waits for room: the waiting write is refused, nothing is taken in after the deadline', async () => {
    const db = await newDb('f9w');
    const p = await proxy();
    p.defaultAction = { hang: true };
    const dead: string[] = [];
    const w = clientFor(p.url, db).writer({ ...fast, batchSize: 10, batchBytes: 1024, maxBufferBytes: 2048, maxInFlight: 1, onRejected: (l) => dead.push(...l) });
    // Several slices: the first ones fill the buffer, the next waits for room.
    const big = Array.from({ length: 200 }, (_, i) => ({ measurement: 'm', tags: { k: 'a' }, fields: { v: BigInt(i) }, time: BigInt(i + 1) }));
    const pending = w.write(big);
    await p.waitForCount(1);
    const err = await w.close({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteDeliveryError);
    await expect(pending).rejects.toBeInstanceOf(WriterClosedError);
    const s = w.stats();
    expect(s.pending).toBe(0);
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.accepted).toBeLessThan(200);
    expect(s.expired).toBe(s.accepted);
    expect(dead).toHaveLength(s.accepted);
  });

  it('#9 close() with a long enough timeout waits for a slow answer and resolves', async () => {
    const db = await newDb('f9b');
    const p = await proxy();
    p.script({ pass: true, delayMs: 800 });
    const w = clientFor(p.url, db).writer(fast);
    await w.write(lines(10));
    await w.close({ timeoutMs: 10_000 });
    expect(w.stats()).toMatchObject({ written: 10, pending: 0 });
    expect(await count(db)).toBe(10);
  });

  describe('#10 a full buffer', () => {
    const small = { ...fast, batchBytes: 1024, maxBufferBytes: 4096, batchSize: 10 };
    it('block: write() waits, then rejects with BufferFullError after maxBlockMs; tryWrite() says false at once', async () => {
      const p = await proxy();
      p.defaultAction = { hang: true };
      const db = uniqueDb('f10');
      const w = clientFor(p.url, db).writer({ ...small, maxBlockMs: 200 });
      let accepted = 0;
      let error: unknown;
      const t0 = Date.now();
      for (let i = 0; i < 100 && !error; i++) {
        await w.write(lines(10, i * 10)).then((r) => { accepted += r.accepted; }, (e: unknown) => { error = e; });
      }
      expect(error).toBeInstanceOf(BufferFullError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      // With a spool, tryWrite() is refused outright (a write is on disk before it is accepted).
      if (writerMode.spool) expect(() => w.tryWrite('m v=1i 1')).toThrow(/tryWrite\(\) cannot be used with spool/);
      else expect(w.tryWrite('m v=1i 1')).toBe(false);
      const s = w.stats();
      expect(s.accepted).toBe(accepted);
      expect(s.bufferedBytes).toBeLessThanOrEqual(4096 + 1024);
      await w.close({ timeoutMs: 50 }).catch(() => undefined);
      addsUp(w.stats());
    });
    it('error: rejects at once', async () => {
      const p = await proxy();
      p.defaultAction = { hang: true };
      const w = clientFor(p.url, uniqueDb('f10e')).writer({ ...small, whenFull: 'error' });
      let error: unknown;
      for (let i = 0; i < 100 && !error; i++) await w.write(lines(10, i * 10)).catch((e: unknown) => { error = e; });
      expect(error).toBeInstanceOf(BufferFullError);
      await w.close({ timeoutMs: 50 }).catch(() => undefined);
    });
    it.each(['dropNewest', 'dropOldest'] as const)('%s: drops, counts and hands back the dropped points', async (whenFull) => {
      const p = await proxy();
      p.defaultAction = { hang: true };
      const dropped: string[] = [];
      if (writerMode.spool && whenFull === 'dropOldest') {
        // The oldest points are on disk, promised to their write() calls: the spool refuses the policy.
        expect(() => clientFor(p.url, uniqueDb('f10d')).writer({ ...small, whenFull })).toThrow(/dropOldest' cannot be used with spool/);
        return;
      }
      const w = clientFor(p.url, uniqueDb('f10d')).writer({ ...small, whenFull, onRejected: (l, e) => { if (e instanceof PointsDroppedError) dropped.push(...l); } });
      for (let i = 0; i < 100; i++) await w.write(lines(10, i * 10));
      const s = w.stats();
      expect(s.accepted).toBe(1000);
      expect(s.dropped).toBeGreaterThan(500);
      expect(dropped).toHaveLength(s.dropped);
      expect(s.bufferedBytes).toBeLessThanOrEqual(4096 + 1024);
      if (whenFull === 'dropNewest') expect(dropped.at(-1)).toBe('m,k=a v=999i 1000');
      else expect(dropped[0]).toMatch(/^m,k=a v=\d+i \d+$/);
      addsUp(s);
      await w.close({ timeoutMs: 50 }).catch(() => undefined);
    });
  });

  it('16 requests in flight at once leave no leak warning on stderr (one close listener each)', async () => {
    const db = await newDb('inflight16');
    const p = await proxy();
    // The first 16 are held by the proxy so that they overlap; the test waits for them to arrive, not for a time.
    p.setHandler((_r, n) => (n < 16 ? { pass: true, delayMs: 1500 } : { pass: true }));
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const w = clientFor(p.url, db).writer({ ...fast, maxInFlight: 16, batchSize: 1 });
      // 64 series over 16 lanes: at least 11 lanes hold a batch when flush() seals them.
      await w.write(Array.from({ length: 64 }, (_, i) => `m,k=s${i} v=${i}i ${i + 1}`).join('\n'));
      const flushed = w.flush();
      await p.waitForCount(11);
      const atOnce = p.requests.filter((r) => r.finishedAt === undefined).length;
      expect(atOnce).toBeGreaterThanOrEqual(11);
      await flushed;
      expect(w.stats()).toMatchObject({ written: 64, pending: 0 });
      await w.close();
      // A warning is emitted on the next tick after the listener that crossed the line.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.map((x) => x.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
    expect(await count(db)).toBe(64);
  });

  it('progress(): written points advance both marks; expired ones hold deliveredBelow back', async () => {
    const db = await newDb('progress');
    const p = await proxy();
    const w = clientFor(p.url, db).writer({ ...fast, batchSize: 10 });
    await w.write(lines(30));
    expect(w.progress()).toMatchObject({ accepted: 30 });
    await w.flush();
    expect(w.progress()).toEqual({ accepted: 30, settledBelow: 30, deliveredBelow: 30 });
    // The server goes away: the next 20 points expire (deliveryTimeoutMs on a retrying batch).
    p.defaultAction = { status: 503 };
    const w2 = clientFor(p.url, db).writer({ ...fast, batchSize: 10, deliveryTimeoutMs: 300 });
    await w2.write(lines(10));
    p.defaultAction = { pass: true };
    await w2.flush().catch(() => undefined);
    p.defaultAction = { status: 503 };
    await w2.write(lines(20, 10));
    await expect(w2.flush()).rejects.toThrow(/expired/);
    const pr = w2.progress();
    expect(pr.settledBelow).toBe(30);
    expect(pr.deliveredBelow).toBeLessThanOrEqual(10);
    expect(pr.deliveredBelow).toBeGreaterThanOrEqual(0);
    await w.close();
    await w2.close().catch(() => undefined);
  });

  it('#22 an empty write sends nothing', async () => {
    const p = await proxy();
    const w = clientFor(p.url, uniqueDb('f22')).writer(fast);
    await w.write('');
    await w.write('\n# comment\n   \n'.replace('# comment', ''));
    await w.write([]);
    await w.flush();
    expect(p.count()).toBe(0);
    expect(w.stats().accepted).toBe(0);
  });
});

describe('401/403 against a real server with auth', () => {
  let server: LocalInfluxd;
  beforeAll(async () => {
    server = await startVariant({ auth: { username: 'admin', password: 'pw-admin' } });
    await rawQuery(server.url, 'CREATE DATABASE authw', { auth: { username: 'admin', password: 'pw-admin' } });
    await rawQuery(server.url, "CREATE USER reader WITH PASSWORD 'pw-reader'", { auth: { username: 'admin', password: 'pw-admin' } });
    await rawQuery(server.url, 'GRANT READ ON authw TO reader', { auth: { username: 'admin', password: 'pw-admin' } });
  });
  afterAll(async () => {
    await server.stop();
  });
  it.each([
    ['401 wrong password', 'admin', 'nope', 401],
    ['403 no write permission', 'reader', 'pw-reader', 403],
  ])('%s: surfaced at once, sending paused, points kept until they expire', async (_name, username, password, status) => {
    const errors: Error[] = [];
    const c = clientFor(server.url, 'authw', { username, password });
    const w = c.writer({ ...fast, retryMaxDelayMs: 60_000, deliveryTimeoutMs: 3000, requestTimeoutMs: 1000, flushIntervalMs: 100, onError: (e) => errors.push(e) });
    await w.write(lines(4));
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect((err as InfluxDBWriteError).status).toBe(status);
    expect((err as Error).message).not.toContain(password);
    expect(errors).toHaveLength(1);
    expect(w.stats()).toMatchObject({ pending: 4, requests: 1, pauseReason: 'credentials refused' });
    const closed = await w.close({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(closed).toMatchObject({ expired: 4 });
    addsUp(w.stats());
  });
});

describe('process exit', () => {
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  function runChild(code: string): Promise<{ code: number | null; stderr: string; ms: number }> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (c) => resolve({ code: c, stderr, ms: Date.now() - t0 }));
    });
  }
  it('warns on stderr with the count when the process exits with points buffered', async () => {
    const p = await proxy();
    p.defaultAction = { hang: true };
    const r = await runChild(`
      import { InfluxDBClient } from ${JSON.stringify(dist)};
      const c = new InfluxDBClient({ url: ${JSON.stringify(p.url)}, db: 'x' });
      const w = c.writer({ flushIntervalMs: 10 });
      await w.write('m v=1i 1\\nm v=2i 2\\nm v=3i 3');
      setTimeout(() => process.exit(0), 200);
    `);
    expect(r.stderr).toContain('exiting with 3 points accepted by a batch writer and not written');
  });
  it('leaves no timer behind: a process that closed its writer exits at once', async () => {
    const db = await newDb('fexit');
    const r = await runChild(`
      import { InfluxDBClient } from ${JSON.stringify(dist)};
      const c = new InfluxDBClient({ url: ${JSON.stringify(url)}, db: ${JSON.stringify(db)} });
      const w = c.writer({ flushIntervalMs: 60000, deliveryTimeoutMs: 120000 });
      await w.write('m v=1i 1');
      await c.close();
    `);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(5000);
    expect(await count(db)).toBe(1);
  });
});

describe('failover', () => {
  it('moves to the next server on connection errors and 5xx, and stays there while it works', async () => {
    const db = await newDb('ffo');
    const dead = await freePort();
    const failing = await proxy();
    failing.defaultAction = { status: 503, body: 'request throttled, queue full' };
    const good = await proxy();
    const c = clientFor(`http://127.0.0.1:${dead}`, db);
    const errors: Error[] = [];
    const w = c.writer({ ...fast, batchSize: 10, failover: [failing.url, good.url], onError: (e) => errors.push(e) });
    await w.write(lines(50));
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 50, target: good.url, requests: 7, retries: 2 });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/ECONNREFUSED/), expect.stringMatching(/503/)]);
    expect(failing.count('/write')).toBe(1);
    expect(good.count('/write')).toBe(5);
    expect(await count(db)).toBe(50);
  });
});
