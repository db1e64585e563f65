/**
 * The writer's retry policy (src/writer/retry.ts): what each answer of /write leads to,
 * Retry-After in both of its forms, and the backoff's bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfluxDBConnectionError, InfluxDBRedirectError, InfluxDBResponseError } from '../../../src/errors.js';
import { backoffDelay, decideAnswer, decideFailure, parseRetryAfter, retryWait } from '../../../src/writer/retry.js';

const now = Date.parse('2026-11-25T12:00:00Z');
const answer = (status: number, message = '', headers: Record<string, string> = {}) => decideAnswer({ status, message, headers }, 'http://127.0.0.1:8086', now);

describe('parseRetryAfter', () => {
  it('reads delta-seconds as seconds, never milliseconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });
  it('reads an HTTP-date as the time left until then', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:59:00 GMT', now)).toBe(0);
  });
  it('ignores absent and unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });
  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
});

describe('decideAnswer', () => {
  it('acknowledges 204 and the Enterprise hinted-handoff 500', () => {
    expect(answer(204).kind).toBe('ack');
    expect(answer(500, 'write failed: hinted handoff queue not empty').kind).toBe('ack');
  });
  it.each([200, 201, 202, 206])('a %i is not InfluxDB\'s answer to a write: pause with the content type and the first bytes', (status) => {
    const d = answer(status, '<html>Please sign in</html>', { 'content-type': 'text/html' });
    expect(d).toMatchObject({ kind: 'pause', why: 'answer' });
    if (d.kind === 'pause') {
      expect(d.error).toBeInstanceOf(InfluxDBResponseError);
      expect(d.error.message).toContain(`HTTP ${status} (text/html)`);
      expect(d.error.message).toContain('<html>Please sign in</html>');
    }
  });
  it.each([301, 302, 307, 308])('a %i redirect pauses, naming the Location without credentials', (status) => {
    const d = answer(status, `HTTP ${status}`, { location: 'https://admin:s3cret@sso.example.com/login?u=admin&p=s3cret&next=/write' });
    expect(d).toMatchObject({ kind: 'pause', why: 'redirect' });
    if (d.kind === 'pause') {
      expect(d.error.message).toContain('https://sso.example.com/login?…');
      expect(d.error.message).not.toContain('s3cret');
      expect(d.error.message).not.toContain(`HTTP ${status}: HTTP ${status}`);
    }
  });
  it.each([408, 429, 500, 502, 503, 504])('retries %i', (status) => {
    const d = answer(status, 'x');
    expect(d.kind).toBe('retry');
  });
  it('retries a plain-text 503 and carries Retry-After', () => {
    const d = answer(503, 'request throttled, queue full', { 'retry-after': '7' });
    expect(d).toMatchObject({ kind: 'retry', retryAfterMs: 7000, failover: true });
    if (d.kind === 'retry') expect(d.error.message).toContain('request throttled, queue full');
  });
  it('429 does not fail over (the server is alive, it asks us to slow down)', () => {
    expect(answer(429, 'slow down')).toMatchObject({ kind: 'retry', failover: false });
  });
  it('400 is refused, never retried', () => {
    expect(answer(400, 'partial write: unable to parse \'x\': invalid field format dropped=0').kind).toBe('refused');
  });
  it('413 splits', () => {
    expect(answer(413, 'Request Entity Too Large').kind).toBe('split');
  });
  it('401/403/404 and a missing retention policy pause with the reason', () => {
    expect(answer(401, 'authorization failed')).toMatchObject({ kind: 'pause', why: 'auth' });
    expect(answer(403, '"u" user is not authorized to write to database "db"')).toMatchObject({ kind: 'pause', why: 'auth' });
    expect(answer(404, 'database not found: "x"')).toMatchObject({ kind: 'pause', why: 'database' });
    expect(answer(500, 'retention policy not found: rp1')).toMatchObject({ kind: 'pause', why: 'retentionPolicy' });
  });
  it('other 4xx and 501/505 reject the batch', () => {
    for (const s of [405, 411, 415, 422, 501, 505]) expect(answer(s, 'no').kind).toBe('rejectAll');
  });
  it('keeps a huge message out of the error text but whole in serverMessage', () => {
    const big = 'x'.repeat(100_000);
    const d = answer(400, big);
    if (d.kind !== 'refused') throw new Error('expected refused');
    expect(d.error.message.length).toBeLessThan(5000);
    expect(d.error.serverMessage).toBe(big);
  });
});

describe('decideFailure', () => {
  it('retries retryable connection errors and pauses on the others', () => {
    expect(decideFailure(new InfluxDBConnectionError('reset', 'ECONNRESET', true)).kind).toBe('retry');
    expect(decideFailure(new InfluxDBConnectionError('tls', 'DEPTH_ZERO_SELF_SIGNED_CERT', false)).kind).toBe('fatal');
    expect(decideFailure(new Error('boom')).kind).toBe('fatal');
    // The transport's verdict on an unreadable answer: sent, may be stored, worth resending.
    const unreadable = new InfluxDBConnectionError('bad header', 'UND_ERR_HTTP_PARSER', true, { requestSent: true, answerUnreadable: true });
    expect(decideFailure(unreadable)).toMatchObject({ kind: 'retry', error: unreadable });
  });
  it('pauses on the transport\'s verdicts: an answer that is not InfluxDB\'s, a redirect', () => {
    const e = new InfluxDBResponseError('HTTP 200 (text/html)', { reason: 'not-influxdb', status: 200 });
    expect(decideFailure(e)).toMatchObject({ kind: 'pause', why: 'answer', error: e });
    const r = new InfluxDBRedirectError('redirected', { status: 307, serverMessage: '', endpoint: 'write', location: 'http://x/' });
    expect(decideFailure(r)).toMatchObject({ kind: 'pause', why: 'redirect', error: r });
  });
});

describe('retryWait', () => {
  it('Retry-After lengthens the backoff, never shortens it, and is capped by maxRetryAfterMs', () => {
    expect(retryWait(0, 250, 600_000)).toBe(250);
    expect(retryWait(undefined, 250, 600_000)).toBe(250);
    expect(retryWait(5000, 250, 600_000)).toBe(5000);
    expect(retryWait(5_000_000, 250, 600_000)).toBe(600_000);
    expect(retryWait(5000, 250, 100)).toBe(250);
  });
});

describe('backoffDelay', () => {
  const o = { retryInitialDelayMs: 100, retryMaxDelayMs: 5000 };
  it('stays within [initial/10, min(max, initial·2^(n-1))] (full jitter)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
      const d = backoffDelay(n, o, () => r);
      expect(d).toBeGreaterThanOrEqual(10);
      expect(d).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** (n - 1)));
    }));
  });
  it('grows with the attempt until the cap', () => {
    expect(backoffDelay(1, o, () => 0.999)).toBeCloseTo(99.9, 0);
    expect(backoffDelay(4, o, () => 0.999)).toBeCloseTo(799.2, 0);
    expect(backoffDelay(30, o, () => 0.999)).toBeCloseTo(4995, 0);
  });
});
