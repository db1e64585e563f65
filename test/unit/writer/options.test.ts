/**
 * The batch writer's options (resolveWriterOptions in src/options/writer.ts): defaults, the defaults
 * that follow other options (derived when not given, refused only when the user set both sides
 * of a pair that cannot work), and every validation message.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { WRITER_DEFAULTS, resolveWriterOptions, type ResolvedWriterOptions, type WriterClientContext, type WriterOptions } from '../../../src/options/index.js';

const client: WriterClientContext = { db: 'db', rp: undefined, precision: 'n', maxBodyBytes: 5_000_000, timeout: 60_000, given: { timeout: false, maxBodyBytes: false } };
const resolve = (o: unknown, c: Partial<WriterClientContext> = {}) => resolveWriterOptions(o as WriterOptions, { ...client, ...c });
function fails(o: unknown, message: RegExp, c: Partial<WriterClientContext> = {}): void {
  expect(() => resolve(o, c)).toThrow(InvalidOptionError);
  expect(() => resolve(o, c)).toThrow(message);
}
const MiB = 2 ** 20;

/** What the writer relies on, whatever was given or derived. */
function keepsInvariants(r: ResolvedWriterOptions): void {
  // A full batch fits the buffer.
  expect(r.batchBytes).toBeLessThanOrEqual(r.maxBufferBytes);
  expect(r.batchBytes).toBeGreaterThanOrEqual(1024);
  // A point waits for its batch, then gets one full attempt.
  expect(r.deliveryTimeoutMs).toBeGreaterThanOrEqual(r.requestTimeoutMs + r.flushIntervalMs + r.flushJitterMs);
  expect(r.requestTimeoutMs).toBeGreaterThanOrEqual(1);
  // Backoff is well formed, and the first retry can come before the points expire.
  expect(r.retryInitialDelayMs).toBeLessThanOrEqual(r.retryMaxDelayMs);
  expect(r.retryInitialDelayMs).toBeLessThanOrEqual(r.deliveryTimeoutMs);
  // Jitter only works on a flush interval.
  if (r.flushJitterMs > 0) expect(r.flushIntervalMs).toBeGreaterThan(0);
  expect(r.closeTimeoutMs).toBe(r.deliveryTimeoutMs);
  for (const k of ['batchSize', 'batchBytes', 'maxBufferBytes', 'flushIntervalMs', 'deliveryTimeoutMs', 'requestTimeoutMs', 'retryInitialDelayMs', 'retryMaxDelayMs'] as const) {
    expect(Number.isInteger(r[k]), k).toBe(true);
  }
}

describe('resolveWriterOptions: defaults', () => {
  it('batches 5000 lines or maxBodyBytes, every second, an adaptive in-flight limit over 8 lanes, 64 MiB blocking buffer', () => {
    const r = resolve(undefined);
    expect(r).toMatchObject({
      batchSize: 5000, batchBytes: 5_000_000, flushIntervalMs: 1000, flushJitterMs: 0, maxInFlight: 8, adaptive: true, gzipLevel: 0,
      maxBufferBytes: 64 * MiB, whenFull: 'block', maxBlockMs: 60_000, deliveryTimeoutMs: 120_000, requestTimeoutMs: 30_000,
      retryInitialDelayMs: 500, retryMaxDelayMs: 30_000, maxRetryAfterMs: 600_000, createDatabase: false, api: 'v1', failover: [],
      spread: [], closeTimeoutMs: 120_000,
    });
    expect(r.write).toMatchObject({ db: 'db', precision: 'n', nonFinite: 'error', invalidRows: 'error' });
    expect(WRITER_DEFAULTS.batchSize).toBe(5000);
    keepsInvariants(r);
  });
  it('are the same for a caller that passes no client timeout or given flags', () => {
    expect(resolveWriterOptions(undefined, { db: 'db', rp: undefined, precision: 'n', maxBodyBytes: 5_000_000 })).toEqual(resolve(undefined));
  });
  it('takes the write options, and gzip as a boolean or a level', () => {
    const r = resolve({ db: 'other', rp: 'rp1', precision: 'ms', measurement: 'm', tags: { a: 'b' }, gzip: true });
    expect(r.write).toMatchObject({ db: 'other', rp: 'rp1', precision: 'ms', measurement: 'm', tags: { a: 'b' } });
    expect(r.gzipLevel).toBe(1);
    expect(resolve({ gzip: 6 }).gzipLevel).toBe(6);
    expect(resolve({ gzip: false }).gzipLevel).toBe(0);
  });
  it('resolves spread URLs as client options; under auto each server adds 8 lanes (at most 64)', () => {
    const r = resolve({ spread: ['http://127.0.0.1:9998', { host: '127.0.0.3', port: 8086 }] });
    expect(r.spread.map((f) => f.describe)).toEqual(['http://127.0.0.1:9998', 'http://127.0.0.3:8086']);
    expect(r).toMatchObject({ maxInFlight: 24, adaptive: true });
    expect(resolve({ spread: Array.from({ length: 9 }, (_, i) => `http://127.0.0.1:${9000 + i}`) }).maxInFlight).toBe(64);
    expect(resolve({ spread: ['http://127.0.0.1:9998'], maxInFlight: 3 })).toMatchObject({ maxInFlight: 3, adaptive: false });
  });
  it('resolves failover URLs as client options', () => {
    const r = resolve({ failover: ['http://127.0.0.1:9999', { host: '127.0.0.2', port: 8087 }] });
    expect(r.failover.map((f) => f.describe)).toEqual(['http://127.0.0.1:9999', 'http://127.0.0.2:8087']);
  });
  it('v2: org and bucket', () => {
    expect(resolve({ api: 'v2', org: 'o', bucket: 'b' })).toMatchObject({ api: 'v2', org: 'o', bucket: 'b' });
  });
});

describe('resolveWriterOptions: batchBytes, maxBufferBytes, batchSize, maxInFlight', () => {
  it('a memory bound alone: batchBytes becomes a quarter of it with one request in flight, a tenth under auto (the issue: 4 MiB used to be refused)', () => {
    const r = resolve({ maxBufferBytes: 4 * MiB, maxInFlight: 1 });
    expect(r).toMatchObject({ maxBufferBytes: 4 * MiB, batchBytes: MiB, batchSize: 5000 });
    keepsInvariants(r);
    const auto = resolve({ maxBufferBytes: 4 * MiB });
    expect(auto).toMatchObject({ maxBufferBytes: 4 * MiB, batchBytes: Math.floor((4 * MiB) / 10), maxInFlight: 8 });
    keepsInvariants(auto);
  });
  it('batchBytes never goes above maxBodyBytes (its old default), nor below its 1024 floor', () => {
    expect(resolve({ maxBufferBytes: 1024 * MiB }).batchBytes).toBe(5_000_000);
    expect(resolve({ maxBufferBytes: 4096 }).batchBytes).toBe(1024);
    const tiny = resolve({ maxBufferBytes: 1024 });
    expect(tiny.batchBytes).toBe(1024);
    keepsInvariants(tiny);
    expect(resolve({}, { maxBodyBytes: 1_000_000, given: { timeout: false, maxBodyBytes: true } }).batchBytes).toBe(1_000_000);
  });
  it('a client maxBodyBytes above a quarter of the default buffer no longer breaks client.writer()', () => {
    const r = resolve({ maxInFlight: 1 }, { maxBodyBytes: 100_000_000, given: { timeout: false, maxBodyBytes: true } });
    expect(r).toMatchObject({ maxBufferBytes: 64 * MiB, batchBytes: 16 * MiB });
    keepsInvariants(r);
  });
  it('more requests in flight: the buffer holds one batch per request, one filling and one queued', () => {
    const r = resolve({ maxInFlight: 16 });
    expect(r.maxBufferBytes).toBe(64 * MiB);
    expect(r.batchBytes).toBe(Math.floor((64 * MiB) / 18));
    expect(resolve({ maxInFlight: 2 }).batchBytes).toBe(5_000_000);
    keepsInvariants(r);
  });
  it('a given batchBytes raises the memory bound (never lowers it) and, above the default, batchSize', () => {
    const big = resolve({ batchBytes: 20_000_000, maxInFlight: 1 });
    expect(big).toMatchObject({ batchBytes: 20_000_000, maxBufferBytes: 80_000_000, batchSize: 20_000 });
    expect(resolve({ batchBytes: 20_000_000 }).maxBufferBytes).toBe(200_000_000);
    expect(resolve({ batchBytes: 20_000_000, maxInFlight: 8 }).maxBufferBytes).toBe(200_000_000);
    expect(resolve({ batchBytes: 1_000_000 })).toMatchObject({ maxBufferBytes: 64 * MiB, batchSize: 5000 });
    keepsInvariants(big);
  });
  it('batchSize and batchBytes are two caps: any pair the user gives is taken as it is', () => {
    expect(resolve({ batchSize: 1_000_000, batchBytes: 1024 })).toMatchObject({ batchSize: 1_000_000, batchBytes: 1024 });
    expect(resolve({ batchSize: 1, batchBytes: 20_000_000 })).toMatchObject({ batchSize: 1, batchBytes: 20_000_000 });
    expect(resolve({ batchSize: 100 }).batchBytes).toBe(5_000_000);
  });
  it('refuses only a given batchBytes above a given maxBufferBytes, naming both and what to change', () => {
    fails({ maxBufferBytes: 2_000_000, batchBytes: 3_000_000 }, /batchBytes \(3000000\) must be at most maxBufferBytes \(2000000\): a full batch must fit the buffer\. Lower batchBytes or raise maxBufferBytes, or leave batchBytes out/);
    expect(resolve({ maxBufferBytes: 2_000_000, batchBytes: 2_000_000 })).toMatchObject({ batchBytes: 2_000_000, maxBufferBytes: 2_000_000 });
    // The writer-faults tests' small buffer: two given, compatible.
    expect(resolve({ batchBytes: 1024, maxBufferBytes: 4096, batchSize: 10 })).toMatchObject({ batchBytes: 1024, maxBufferBytes: 4096, batchSize: 10 });
  });
  it('refuses a given batchBytes above the client\'s maxBodyBytes only when the user set that too', () => {
    const set = { maxBodyBytes: 1_000_000, given: { timeout: false, maxBodyBytes: true } };
    fails({ batchBytes: 2_000_000 }, /batchBytes \(2000000\) must be at most the client's maxBodyBytes \(1000000\).*Lower batchBytes or raise the client's maxBodyBytes/, set);
    expect(resolve({ batchBytes: 2_000_000 }, { maxBodyBytes: 1_000_000 }).batchBytes).toBe(2_000_000);
  });
});

describe('resolveWriterOptions: deliveryTimeoutMs, requestTimeoutMs, flushIntervalMs, flushJitterMs', () => {
  it('a delivery budget alone: the flush wait and the request timeout fit in it (the issue: 20 s used to be refused)', () => {
    const r = resolve({ deliveryTimeoutMs: 20_000 });
    expect(r).toMatchObject({ deliveryTimeoutMs: 20_000, flushIntervalMs: 1000, requestTimeoutMs: 19_000, retryMaxDelayMs: 5000, retryInitialDelayMs: 500, closeTimeoutMs: 20_000 });
    keepsInvariants(r);
  });
  it('a short budget shrinks the flush interval and the retry delays with it', () => {
    const r = resolve({ deliveryTimeoutMs: 1000 });
    expect(r).toMatchObject({ flushIntervalMs: 500, requestTimeoutMs: 500, retryMaxDelayMs: 250, retryInitialDelayMs: 250 });
    keepsInvariants(r);
    keepsInvariants(resolve({ deliveryTimeoutMs: 1 }));
    expect(resolve({ deliveryTimeoutMs: 5000, flushIntervalMs: 0 }).requestTimeoutMs).toBe(5000);
  });
  it('a budget with a given request timeout: the flush interval takes what is left, up to its default', () => {
    expect(resolve({ deliveryTimeoutMs: 20_000, requestTimeoutMs: 19_500 }).flushIntervalMs).toBe(500);
    expect(resolve({ deliveryTimeoutMs: 20_000, requestTimeoutMs: 5000 }).flushIntervalMs).toBe(1000);
    // The faults tests' short budget: three given, compatible, with a retry cap above the budget.
    const r = resolve({ retryMaxDelayMs: 60_000, deliveryTimeoutMs: 3000, requestTimeoutMs: 1000, flushIntervalMs: 100 });
    expect(r).toMatchObject({ retryMaxDelayMs: 60_000, retryInitialDelayMs: 500 });
    keepsInvariants(r);
  });
  it('a budget with a given flush interval or jitter: the request timeout takes what they leave', () => {
    expect(resolve({ deliveryTimeoutMs: 20_000, flushIntervalMs: 19_000 }).requestTimeoutMs).toBe(1000);
    const j = resolve({ deliveryTimeoutMs: 20_000, flushJitterMs: 5000 });
    expect(j).toMatchObject({ flushIntervalMs: 1000, requestTimeoutMs: 14_000 });
    keepsInvariants(j);
    keepsInvariants(resolve({ deliveryTimeoutMs: 1000, flushJitterMs: 800 }));
  });
  it('a long request timeout, flush interval or jitter alone raises the delivery budget', () => {
    expect(resolve({ requestTimeoutMs: 200_000 }).deliveryTimeoutMs).toBe(201_000);
    expect(resolve({ flushIntervalMs: 100_000 }).deliveryTimeoutMs).toBe(130_000);
    expect(resolve({ flushJitterMs: 100_000 }).deliveryTimeoutMs).toBe(131_000);
    expect(resolve({ flushIntervalMs: 60_000 }).deliveryTimeoutMs).toBe(120_000);
    keepsInvariants(resolve({ requestTimeoutMs: 200_000 }));
  });
  it('the request timeout follows the client\'s timeout when the user set it', () => {
    const given = { timeout: true, maxBodyBytes: false };
    expect(resolve({}, { timeout: 5000, given }).requestTimeoutMs).toBe(5000);
    expect(resolve({}, { timeout: 60_000 }).requestTimeoutMs).toBe(30_000); // the client's default: not followed
    const long = resolve({}, { timeout: 300_000, given });
    expect(long).toMatchObject({ requestTimeoutMs: 300_000, deliveryTimeoutMs: 301_000 });
    keepsInvariants(long);
    // 0 (none): as long as the budget allows.
    expect(resolve({}, { timeout: 0, given })).toMatchObject({ requestTimeoutMs: 119_000, deliveryTimeoutMs: 120_000 });
    expect(resolve({ deliveryTimeoutMs: 20_000 }, { timeout: 0, given }).requestTimeoutMs).toBe(19_000);
    expect(resolve({ deliveryTimeoutMs: 20_000 }, { timeout: 5000, given }).requestTimeoutMs).toBe(5000);
    // The writer's own option wins over the client's: two scopes, no conflict.
    expect(resolve({ requestTimeoutMs: 40_000 }, { timeout: 5000, given }).requestTimeoutMs).toBe(40_000);
  });
  it('refuses a given budget too short for given timeouts, naming the options to change', () => {
    fails({ deliveryTimeoutMs: 10_000, requestTimeoutMs: 10_000 },
      /deliveryTimeoutMs \(10000\) must be at least requestTimeoutMs \(10000\) \+ flushIntervalMs \(1\) = 10001: a point waits for its batch, then must get one full attempt\. Raise deliveryTimeoutMs, or lower requestTimeoutMs \(or leave it out: it follows deliveryTimeoutMs\)/);
    fails({ deliveryTimeoutMs: 10_000, requestTimeoutMs: 9000, flushIntervalMs: 2000 }, /must be at least requestTimeoutMs \(9000\) \+ flushIntervalMs \(2000\) = 11000.*lower requestTimeoutMs or flushIntervalMs \(or leave them out/);
    fails({ deliveryTimeoutMs: 20_000, flushIntervalMs: 20_000 }, /deliveryTimeoutMs \(20000\) must be at least requestTimeoutMs \(1\) \+ flushIntervalMs \(20000\) = 20001.*lower flushIntervalMs/);
    fails({ deliveryTimeoutMs: 1000, flushJitterMs: 999 }, /deliveryTimeoutMs \(1000\) must be at least .*flushJitterMs \(999\).*lower flushJitterMs/);
    // The same three options with room to spare are taken.
    expect(resolve({ deliveryTimeoutMs: 11_000, requestTimeoutMs: 10_000, flushIntervalMs: 1000 })).toMatchObject({ deliveryTimeoutMs: 11_000, requestTimeoutMs: 10_000, flushIntervalMs: 1000 });
  });
  it('refuses jitter on a flush interval of 0 only when both were given', () => {
    fails({ flushIntervalMs: 0, flushJitterMs: 100 }, /flushJitterMs \(100\) has no effect with flushIntervalMs 0.*Leave flushJitterMs out, or set flushIntervalMs above 0/);
    expect(resolve({ flushIntervalMs: 0 }).flushIntervalMs).toBe(0);
    expect(resolve({ flushJitterMs: 100 })).toMatchObject({ flushIntervalMs: 1000, flushJitterMs: 100 });
  });
});

describe('resolveWriterOptions: retry delays', () => {
  it('a small retry cap alone lowers the first delay (it used to be refused)', () => {
    expect(resolve({ retryMaxDelayMs: 100 })).toMatchObject({ retryMaxDelayMs: 100, retryInitialDelayMs: 100 });
  });
  it('a long first delay alone raises the cap, and the budget when it needs room for that retry', () => {
    expect(resolve({ retryInitialDelayMs: 60_000 })).toMatchObject({ retryMaxDelayMs: 60_000, deliveryTimeoutMs: 120_000 });
    const r = resolve({ retryInitialDelayMs: 200_000 });
    expect(r).toMatchObject({ retryMaxDelayMs: 200_000, deliveryTimeoutMs: 231_000 });
    keepsInvariants(r);
    expect(resolve({ retryInitialDelayMs: 20, retryMaxDelayMs: 200 })).toMatchObject({ retryInitialDelayMs: 20, retryMaxDelayMs: 200, deliveryTimeoutMs: 120_000 });
  });
  it('refuses a given cap below a given first delay, and a given first delay beyond a given budget', () => {
    fails({ retryInitialDelayMs: 5000, retryMaxDelayMs: 1000 }, /retryMaxDelayMs \(1000\) must be at least retryInitialDelayMs \(5000\)\. Raise retryMaxDelayMs or lower retryInitialDelayMs/);
    fails({ retryInitialDelayMs: 5000, deliveryTimeoutMs: 3000 }, /retryInitialDelayMs \(5000\) must be at most deliveryTimeoutMs \(3000\): the first retry would mostly come after its points expired\. Lower retryInitialDelayMs or raise deliveryTimeoutMs/);
    expect(resolve({ retryInitialDelayMs: 3000, deliveryTimeoutMs: 3000, flushIntervalMs: 0 }).retryInitialDelayMs).toBe(3000);
  });
});

describe('resolveWriterOptions: whenFull and maxBlockMs, api and org/bucket', () => {
  it('refuses maxBlockMs with a whenFull that never waits', () => {
    fails({ whenFull: 'error', maxBlockMs: 100 }, /maxBlockMs applies to whenFull: 'block' \(whenFull is 'error', which never waits\)\. Leave maxBlockMs out, or use whenFull: 'block'/);
    expect(resolve({ whenFull: 'block', maxBlockMs: 100 }).maxBlockMs).toBe(100);
    expect(resolve({ maxBlockMs: 100 })).toMatchObject({ whenFull: 'block', maxBlockMs: 100 });
    expect(resolve({ whenFull: 'dropOldest' }).whenFull).toBe('dropOldest');
  });
  it('org or bucket alone picks api v2; the bucket defaults to db, or db/rp', () => {
    expect(resolve({ org: 'o' })).toMatchObject({ api: 'v2', org: 'o', bucket: 'db' });
    expect(resolve({ bucket: 'b' })).toMatchObject({ api: 'v2', bucket: 'b' });
    expect(resolve({ api: 'v2', rp: 'r1' }).bucket).toBe('db/r1');
    expect(resolve({ rp: 'r1' })).toMatchObject({ api: 'v1', bucket: undefined });
  });
  it('refuses what the picked API cannot do, saying why it was picked', () => {
    fails({ api: 'v1', org: 'o' }, /org and \.bucket apply to api: 'v2' \(api is 'v1'\)\. Leave api out, or set api: 'v2'/);
    fails({ org: 'o', createDatabase: true }, /createDatabase applies to api: 'v1'; api is 'v2' \(picked by org\/bucket\)/);
    fails({ bucket: 'b', precision: 'h' }, /precision 'h' is not available with api: 'v2' \(picked by org\/bucket\)/);
  });
});

describe('resolveWriterOptions: derived values keep the invariants for any subset of options given', () => {
  // Each option with a value that pulls against the others' defaults; every subset of them.
  const pulls: WriterOptions = {
    maxBufferBytes: 4 * MiB, maxInFlight: 8, deliveryTimeoutMs: 20_000, flushJitterMs: 300, retryMaxDelayMs: 100, requestTimeoutMs: 12_000,
  };
  const keys = Object.keys(pulls) as (keyof WriterOptions)[];
  const clients: Partial<WriterClientContext>[] = [{}, { timeout: 0, maxBodyBytes: 100_000_000, given: { timeout: true, maxBodyBytes: true } }, { timeout: 45_000, given: { timeout: true, maxBodyBytes: false } }];
  it.each(clients)('client %j', (c) => {
    for (let mask = 0; mask < 1 << keys.length; mask++) {
      const o: Record<string, unknown> = {};
      keys.forEach((k, i) => {
        if (mask & (1 << i)) o[k] = pulls[k];
      });
      const r = resolve(o, c);
      keepsInvariants(r);
      // What was given is kept as given.
      for (const [k, v] of Object.entries(o)) expect(r[k as keyof ResolvedWriterOptions], k).toBe(v);
    }
  });
});

describe('resolveWriterOptions: validation messages', () => {
  it.each([
    [{ nope: 1 }, /unknown writer option "nope"/],
    [[], /writer options must be an object \(got array\)/],
    [{ batchSize: 0 }, /writer options\.batchSize must be an integer from 1 to 10000000 \(got number 0\)/],
    [{ batchBytes: 10 }, /writer options\.batchBytes must be an integer from 1024/],
    [{ flushIntervalMs: -1 }, /writer options\.flushIntervalMs must be an integer from 0/],
    [{ flushJitterMs: 1.5 }, /writer options\.flushJitterMs must be an integer/],
    [{ maxInFlight: 0 }, /writer options\.maxInFlight must be an integer from 1 to 64 or 'auto'/],
    [{ maxInFlight: 'fast' }, /writer options\.maxInFlight must be an integer from 1 to 64 or 'auto' \(got string/],
    [{ spread: 'http://x' }, /writer options\.spread must be an array of URLs or client options \(got string\)/],
    [{ spread: [5] }, /writer options\.spread\[0\] must be a URL or client options \(got number\)/],
    [{ gzip: 10 }, /writer options\.gzip must be an integer from 1 to 9/],
    [{ gzip: 'yes' }, /writer options\.gzip must be an integer from 1 to 9 \(got string/],
    [{ maxBufferBytes: 100 }, /writer options\.maxBufferBytes must be an integer from 1024/],
    [{ whenFull: 'wait' }, /writer options\.whenFull must be one of 'block', 'error', 'dropNewest', 'dropOldest' \(got "wait"\)/],
    [{ maxBlockMs: -5 }, /writer options\.maxBlockMs must be an integer from 0/],
    [{ deliveryTimeoutMs: 0 }, /writer options\.deliveryTimeoutMs must be an integer from 1/],
    [{ requestTimeoutMs: 0 }, /writer options\.requestTimeoutMs must be an integer from 1/],
    [{ retryInitialDelayMs: 0 }, /writer options\.retryInitialDelayMs must be an integer from 1/],
    [{ maxRetryAfterMs: -1 }, /writer options\.maxRetryAfterMs must be an integer from 0/],
    [{ createDatabase: 'yes' }, /writer options\.createDatabase must be a boolean \(got string\)/],
    [{ api: 'v3' }, /writer options\.api must be one of 'v1', 'v2'/],
    [{ api: 'v2', precision: 'h' }, /precision 'h' is not available with api: 'v2' \(use n, u, ms or s\)/],
    [{ api: 'v2', createDatabase: true }, /createDatabase applies to api: 'v1'; api is 'v2' \(a v2 bucket/],
    [{ failover: 'http://x' }, /writer options\.failover must be an array of URLs or client options \(got string\)/],
    [{ failover: [5] }, /writer options\.failover\[0\] must be a URL or client options \(got number\)/],
    [{ failover: ['ftp://x'] }, /options\.url must use http: or https:/],
    [{ onRejected: 'log' }, /writer options\.onRejected must be a function \(got string\)/],
    [{ onError: {} }, /writer options\.onError must be a function \(got object\)/],
    [{ nonFinite: 'zero' }, /write options\.nonFinite must be one of 'error', 'skipField'/],
    [{ db: '' }, /no database/],
  ])('%j', (o, message) => fails(o, message));
});
