/**
 * The batch writer against hostile servers and careless callers (issue 11): a trickling answer,
 * answers that are not InfluxDB's (a 200 page, redirects), retry storms (Retry-After: 0, 413 at
 * every size), a million unawaited writes, process.exit() with a batch never sent, and async
 * callbacks that reject. The real influxd sits behind our fault proxy where a server is needed;
 * the trickle comes from the hostile-server helper. Every wait is on an event.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BufferFullError, DeliveryTimeoutError, WriteDeliveryError,
} from '../../src/index.js';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
import { addsUp, lines, proxiedWrites } from '../helpers/proxied-writes.js';
import { uniqueDb } from '../helpers/server.js';

const { proxy, clientFor, newDb, count: stored } = proxiedWrites();
const hostiles: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(hostiles.splice(0).map((h) => h.close()));
});
/** A promise and the function that settles it: for waiting on callbacks. */
function signal<T = void>(): { promise: Promise<T>; fire: (v: T) => void } {
  let fire!: (v: T) => void;
  const promise = new Promise<T>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe('requests that never end', () => {
  it('200 headers then one byte a second: each request ends at requestTimeoutMs, is retried, onError called; the points expire after their attempts', async () => {
    const h = await startHostileServer();
    hostiles.push(h);
    await h.setMode({ kind: 'trickleBody' }, '/write');
    const errors: Error[] = [];
    const w = clientFor(h.url, 'x').writer({ requestTimeoutMs: 2000, deliveryTimeoutMs: 4000, onError: (e) => errors.push(e) });
    await w.write(lines(10));
    const t0 = performance.now();
    const err = await w.flush().catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(WriteDeliveryError);
    expect(err).toMatchObject({ expired: 10, rejected: 0 });
    const expiry = (err as WriteDeliveryError).errors[0]!;
    expect(expiry).toBeInstanceOf(DeliveryTimeoutError);
    // Counted as attempts: "after 0 attempts" was the stall.
    expect(expiry.message).toMatch(/after [1-9]\d* attempts \(the last request was sent, so the server may have stored them: expired means not confirmed, not "not stored"\); last error: .*no complete answer within requestTimeoutMs \(2000 ms\)/);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ code: 'FI_ERR_CONNECTION', retryable: true, requestSent: true });
    const s = w.stats();
    expect(s).toMatchObject({ written: 0, expired: 10, pending: 0, inFlight: 0 });
    expect(s.requests).toBeGreaterThanOrEqual(2);
    expect(s.retries).toBe(errors.length);
    expect(h.requests.filter((r) => r.pathname === '/write').length).toBe(s.requests);
    // The delivery deadline plus one request's deadline at most (not "never").
    expect(ms).toBeLessThan(4000 + 2000 + 3000);
    addsUp(s);
  }, 30_000);
});

describe('answers that are not InfluxDB\'s', () => {
  it('a 200 sign-in page: onError at once, nothing counted written, sending paused; the points are written once the page is gone', async () => {
    const db = await newDb('wh200');
    const p = await proxy();
    p.script({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Please sign in</html>' });
    const errors: Error[] = [];
    const w = clientFor(p.url, db).writer({ retryInitialDelayMs: 20, retryMaxDelayMs: 300, onError: (e) => errors.push(e) });
    await w.write(lines(10));
    // flush() rejects at once with the configuration error; the points stay.
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FI_ERR_RESPONSE' });
    expect((err as Error).message).toMatch(/200/);
    expect((err as Error).message).toContain('text/html');
    expect((err as Error).message).toContain('Please sign in');
    expect(errors).toHaveLength(1);
    expect(w.stats()).toMatchObject({ written: 0, rejected: 0, pending: 10, requests: 1, pauseReason: 'not an InfluxDB answer' });
    // The proxy steps aside (its script is used up): the next probe is stored.
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 10, rejected: 0, expired: 0, requests: 2 });
    expect(await stored(db)).toBe(10);
  });

  it.each([301, 302, 307, 308])('a %i redirect: surfaced at once with the Location (no credentials), paused, points kept, never followed', async (status) => {
    const db = await newDb('whredir');
    const p = await proxy();
    const location = 'http://admin:S3cretPw@influx-new.example:8086/write?db=x&p=S3cretPw';
    p.script({ status, headers: { location }, body: '' });
    const errors: Error[] = [];
    const rejected: string[] = [];
    const w = clientFor(p.url, db).writer({ retryInitialDelayMs: 20, retryMaxDelayMs: 300, onError: (e) => errors.push(e), onRejected: (l) => rejected.push(...l) });
    await w.write(lines(5));
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toMatchObject({ status });
    const msg = (err as Error).message;
    expect(msg).toMatch(/redirected/);
    expect(msg).toContain('influx-new.example');
    expect(msg).not.toContain('S3cretPw');
    expect(msg).not.toContain(`HTTP ${status}: HTTP ${status}`);
    expect(errors).toHaveLength(1);
    expect(w.stats()).toMatchObject({ written: 0, rejected: 0, pending: 5, pauseReason: 'redirected' });
    expect(rejected).toEqual([]);
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 5, rejected: 0, requests: 2 });
    expect(p.count('/write')).toBe(2);
    expect(await stored(db)).toBe(5);
  });
});

describe('retry storms', () => {
  it('429 with Retry-After: 0 waits the writer\'s own backoff between requests, not 0', async () => {
    const db = await newDb('wh429');
    const p = await proxy();
    p.defaultAction = { status: 429, headers: { 'retry-after': '0' }, body: '{"error":"too many requests"}' };
    const sixth = signal();
    let n = 0;
    const w = clientFor(p.url, db).writer({ retryInitialDelayMs: 200, retryMaxDelayMs: 1000, onError: () => { if (++n === 6) sixth.fire(); } });
    await w.write(lines(10));
    const flushed = w.flush();
    await sixth.promise;
    const times = p.requests.filter((r) => r.path.startsWith('/write')).map((r) => r.receivedAt);
    // Full jitter never waits less than a tenth of retryInitialDelayMs: 20 ms between requests
    // at least (the storm sent one every 0.3 ms).
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(19);
    const elapsed = times.at(-1)! - times[0]!;
    expect(times.length).toBeLessThanOrEqual(elapsed / 20 + 1);
    p.defaultAction = { pass: true };
    await flushed;
    expect(w.stats()).toMatchObject({ written: 10 });
    expect(await stored(db)).toBe(10);
  });

  it('413 at every size: splitting stops at the first single line refused, the rest of the batch is refused unsent, saying why', async () => {
    const p = await proxy();
    p.defaultAction = { status: 413, body: '{"error":"Request Entity Too Large"}' };
    const dead: Array<{ lines: string[]; error: Error }> = [];
    const w = clientFor(p.url, uniqueDb('wh413')).writer({ retryInitialDelayMs: 20, retryMaxDelayMs: 200, onRejected: (l, error) => dead.push({ lines: l, error }) });
    await w.write(lines(10));
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteDeliveryError);
    expect(err).toMatchObject({ rejected: 10, expired: 0 });
    expect((err as Error).message).toMatch(/refuses even a single line \(\d+ bytes\) with 413/);
    expect((err as Error).message).toMatch(/max-body-size/);
    // 10 lines, then 5, 2, 1: four requests (binary splitting down to every line took 19).
    expect(p.count('/write')).toBe(4);
    expect(w.stats()).toMatchObject({ written: 0, rejected: 10, pending: 0, requests: 4 });
    expect(dead.flatMap((d) => d.lines).sort()).toEqual(lines(10).split('\n').sort());
  });
});

describe('callers', () => {
  it('an async onError or onRejected that rejects is reported as a warning, as a throw is, never an unhandled rejection', async () => {
    const db = await newDb('whasync');
    const p = await proxy();
    // A retry (onError), then a 400 for one line (onRejected).
    p.script({ status: 500, body: '{"error":"timeout"}' });
    const warnings: string[] = [];
    const unhandled: unknown[] = [];
    const both = signal();
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
      if (warnings.some((m) => m.includes('onError')) && warnings.some((m) => m.includes('onRejected'))) both.fire();
    };
    const onUnhandled = (r: unknown): void => void unhandled.push(r);
    process.on('warning', onWarning);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = clientFor(p.url, db).writer({
        retryInitialDelayMs: 20, retryMaxDelayMs: 200,
        onError: async () => { throw new Error('async onError failed'); },
        onRejected: async () => { await Promise.resolve(); throw new Error('async onRejected failed'); },
      });
      await w.write(`${lines(3)}\nm,k=a,time=x v=7i 7`);
      await w.flush().catch(() => undefined);
      await both.promise;
      expect(warnings).toContain("fastinflux: the batch writer's onError callback threw: async onError failed");
      expect(warnings).toContain("fastinflux: the batch writer's onRejected callback threw: async onRejected failed");
      expect(w.stats()).toMatchObject({ written: 3, rejected: 1, pending: 0 });
      // One more turn, in case a rejection were left unhandled.
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('child processes: memory and exit', () => {
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  function runChild(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (c) => resolve({ code: c, stdout, stderr }));
    });
  }

  it('1,000,000 unawaited write() calls with an 8 MB buffer: writes beyond maxWaitingWrites are refused at once, RSS stays bounded', async () => {
    const p = await proxy();
    p.defaultAction = { hang: true };
    const r = await runChild(`
      import { InfluxDBClient } from ${JSON.stringify(dist)};
      const c = new InfluxDBClient({ url: ${JSON.stringify(p.url)}, db: 'x' });
      const w = c.writer({ maxBufferBytes: 8 * 2 ** 20 });
      let full = 0, other = '', message = '';
      for (let i = 0; i < 1_000_000; i++) {
        w.write('m,k=a v=' + i + 'i ' + (i + 1)).catch((e) => { if (e.code === 'FI_ERR_BUFFER_FULL') { full++; message ||= e.message; } else other ||= e.message; });
      }
      await new Promise((r) => setTimeout(r, 0));
      const s = w.stats();
      console.log(JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024, full, other, message, accepted: s.accepted, bufferedBytes: s.bufferedBytes }));
      process.exit(0);
    `);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { maxRssMB: number; full: number; other: string; message: string; accepted: number; bufferedBytes: number };
    console.log(`1,000,000 unawaited writes, 8 MB buffer: peak RSS ${out.maxRssMB.toFixed(0)} MB, ${out.accepted} accepted, ${out.full} refused at once`);
    expect(out.other).toBe('');
    expect(out.message).toMatch(/maxWaitingWrites 10000/);
    // Accepted into the buffer, waiting (at most 10 000), or refused: nothing else.
    expect(out.accepted + 10_000 + out.full).toBeGreaterThanOrEqual(1_000_000);
    expect(out.full).toBeGreaterThan(0);
    expect(out.bufferedBytes).toBeLessThanOrEqual(8 * 2 ** 20 + 2 * 2 ** 20);
    // 930 MB before the bound.
    expect(out.maxRssMB).toBeLessThan(450);
    // The exit warning names what was held, the batch in flight and the waiting writes included.
    expect(r.stderr).toMatch(/exiting with \d+ points accepted by a batch writer and not written and \d+ write\(\) calls not taken in yet/);
  }, 60_000);

  it('process.exit() with points in a batch never sent: the warning on stderr gives the count', async () => {
    const p = await proxy();
    const r = await runChild(`
      import { InfluxDBClient } from ${JSON.stringify(dist)};
      const c = new InfluxDBClient({ url: ${JSON.stringify(p.url)}, db: 'x' });
      const w = c.writer({ flushIntervalMs: 60000 });
      await w.write('m v=1i 1\\nm v=2i 2\\nm v=3i 3');
      process.exit(0);
    `);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('exiting with 3 points accepted by a batch writer and not written');
    expect(p.count()).toBe(0);
  });
});

it('BufferFullError names maxWaitingWrites when writes wait beyond it', async () => {
  const p = await proxy();
  p.defaultAction = { hang: true };
  const w = clientFor(p.url, uniqueDb('whwait')).writer({ batchBytes: 1024, maxBufferBytes: 4096, batchSize: 10, maxWaitingWrites: 5, maxBlockMs: 100 });
  const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => w.write(lines(10, i * 10))));
  // The writes that waited for room gave up at maxBlockMs; those beyond the five waiting were refused at once.
  const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
  const atOnce = refused.filter((e) => /maxWaitingWrites 5\)/.test(e.message));
  expect(atOnce.length).toBeGreaterThan(100);
  expect(atOnce[0]).toBeInstanceOf(BufferFullError);
  expect(refused.length - atOnce.length).toBeLessThanOrEqual(5 + 1);
  await w.close({ timeoutMs: 50 }).catch(() => undefined);
  addsUp(w.stats());
}, 90_000);
