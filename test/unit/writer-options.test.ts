/**
 * The batch writer's options (resolveWriterOptions in src/options.ts): defaults, and every
 * validation message.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { WRITER_DEFAULTS, resolveWriterOptions, type WriterOptions } from '../../src/options.js';

const client = { db: 'db', rp: undefined, precision: 'n' as const, maxBodyBytes: 5_000_000 };
const resolve = (o: unknown) => resolveWriterOptions(o as WriterOptions, client);
function fails(o: unknown, message: RegExp): void {
  expect(() => resolve(o)).toThrow(InvalidOptionError);
  expect(() => resolve(o)).toThrow(message);
}

describe('resolveWriterOptions: defaults', () => {
  it('batches 5000 lines or maxBodyBytes, every second, one request in flight, 64 MiB blocking buffer', () => {
    const r = resolve(undefined);
    expect(r).toMatchObject({
      batchSize: 5000, batchBytes: 5_000_000, flushIntervalMs: 1000, flushJitterMs: 0, maxInFlight: 1, gzipLevel: 0,
      maxBufferBytes: 64 * 1024 * 1024, whenFull: 'block', maxBlockMs: 60_000, deliveryTimeoutMs: 120_000, requestTimeoutMs: 30_000,
      retryInitialDelayMs: 500, retryMaxDelayMs: 30_000, maxRetryAfterMs: 600_000, createDatabase: false, api: 'v1', failover: [],
    });
    expect(r.write).toMatchObject({ db: 'db', precision: 'n', nonFinite: 'error', invalidRows: 'error' });
    expect(WRITER_DEFAULTS.batchSize).toBe(5000);
  });
  it('takes the write options, and gzip as a boolean or a level', () => {
    const r = resolve({ db: 'other', rp: 'rp1', precision: 'ms', measurement: 'm', tags: { a: 'b' }, gzip: true });
    expect(r.write).toMatchObject({ db: 'other', rp: 'rp1', precision: 'ms', measurement: 'm', tags: { a: 'b' } });
    expect(r.gzipLevel).toBe(1);
    expect(resolve({ gzip: 6 }).gzipLevel).toBe(6);
    expect(resolve({ gzip: false }).gzipLevel).toBe(0);
  });
  it('caps the request timeout by a short delivery timeout', () => {
    expect(resolve({ deliveryTimeoutMs: 5000, flushIntervalMs: 0 }).requestTimeoutMs).toBe(5000);
  });
  it('resolves failover URLs as client options', () => {
    const r = resolve({ failover: ['http://127.0.0.1:9999', { host: '127.0.0.2', port: 8087 }] });
    expect(r.failover.map((f) => f.describe)).toEqual(['http://127.0.0.1:9999', 'http://127.0.0.2:8087']);
  });
  it('v2: org and bucket', () => {
    expect(resolve({ api: 'v2', org: 'o', bucket: 'b' })).toMatchObject({ api: 'v2', org: 'o', bucket: 'b' });
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
    [{ maxInFlight: 0 }, /writer options\.maxInFlight must be an integer from 1 to 64/],
    [{ gzip: 10 }, /writer options\.gzip must be an integer from 1 to 9/],
    [{ gzip: 'yes' }, /writer options\.gzip must be an integer from 1 to 9 \(got string/],
    [{ maxBufferBytes: 2_000_000, batchBytes: 3_000_000 }, /maxBufferBytes \(2000000\) must be at least batchBytes \(3000000\)/],
    [{ whenFull: 'wait' }, /writer options\.whenFull must be one of 'block', 'error', 'dropNewest', 'dropOldest' \(got "wait"\)/],
    [{ maxBlockMs: -5 }, /writer options\.maxBlockMs must be an integer from 0/],
    [{ deliveryTimeoutMs: 0 }, /writer options\.deliveryTimeoutMs must be an integer from 1/],
    [{ deliveryTimeoutMs: 10_000, requestTimeoutMs: 10_000 }, /deliveryTimeoutMs \(10000\) must be at least requestTimeoutMs \+ flushIntervalMs \(11000\)/],
    [{ retryInitialDelayMs: 0 }, /writer options\.retryInitialDelayMs must be an integer from 1/],
    [{ retryInitialDelayMs: 5000, retryMaxDelayMs: 1000 }, /retryMaxDelayMs \(1000\) must be at least retryInitialDelayMs \(5000\)/],
    [{ maxRetryAfterMs: -1 }, /writer options\.maxRetryAfterMs must be an integer from 0/],
    [{ createDatabase: 'yes' }, /writer options\.createDatabase must be a boolean \(got string\)/],
    [{ api: 'v3' }, /writer options\.api must be one of 'v1', 'v2'/],
    [{ org: 'o' }, /writer options\.org and \.bucket apply to api: 'v2'/],
    [{ api: 'v2', precision: 'h' }, /precision 'h' is not available with api: 'v2'/],
    [{ api: 'v2', createDatabase: true }, /createDatabase applies to api: 'v1'/],
    [{ failover: 'http://x' }, /writer options\.failover must be an array of URLs or client options \(got string\)/],
    [{ failover: [5] }, /writer options\.failover\[0\] must be a URL or client options \(got number\)/],
    [{ failover: ['ftp://x'] }, /options\.url must use http: or https:/],
    [{ onRejected: 'log' }, /writer options\.onRejected must be a function \(got string\)/],
    [{ onError: {} }, /writer options\.onError must be a function \(got object\)/],
    [{ nonFinite: 'zero' }, /write options\.nonFinite must be one of 'error', 'skipField'/],
    [{ db: '' }, /no database/],
  ])('%j', (o, message) => fails(o, message));
});
