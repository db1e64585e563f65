/**
 * The one retry classifier (src/transport/classify.ts): a table of failures (an answer's status,
 * message and headers; a network error's code) and the decision every caller reads from the
 * error (`err.decision`): the writer, client.write() and `fastinflux load` (stopsSending).
 */
import { describe, expect, it } from 'vitest';
import {
  InfluxDBConnectionError, InfluxDBQueryError, InfluxDBRedirectError, InfluxDBResponseError, InfluxDBWriteError, InvalidPointError, type Decision,
} from '../../../src/errors.js';
import { classify, classifyFailure } from '../../../src/transport/classify.js';
import { toConnectionError } from '../../../src/transport/http-transport.js';
import { decideAnswer, decideFailure, stopsSending } from '../../../src/writer/retry.js';

const now = Date.parse('2026-11-25T12:00:00Z');

/** status, message, headers → decision (without the error decideAnswer attaches). */
const kAnswers: [number, string, Record<string, string>, Decision][] = [
  [204, '', {}, { kind: 'ack' }],
  [500, 'write failed: hinted handoff queue not empty', {}, { kind: 'ack' }],
  [200, '<html>sign in</html>', { 'content-type': 'text/html' }, { kind: 'pause', why: 'answer' }],
  [302, 'HTTP 302', { location: 'https://sso.example.com/' }, { kind: 'pause', why: 'redirect' }],
  [307, 'HTTP 307', {}, { kind: 'pause', why: 'redirect' }],
  [400, "unable to parse 'bad': invalid field format", {}, { kind: 'refused' }],
  [400, 'partial write: points beyond retention policy dropped=1', {}, { kind: 'refused' }],
  [401, 'authorization failed', {}, { kind: 'pause', why: 'auth' }],
  [403, '"u" user is not authorized to write to database "db"', {}, { kind: 'pause', why: 'auth' }],
  [404, 'database not found: "x"', {}, { kind: 'pause', why: 'database' }],
  [404, '404 page not found', {}, { kind: 'pause', why: 'database' }],
  [413, 'Request Entity Too Large', {}, { kind: 'split' }],
  [500, 'retention policy not found: rp1', {}, { kind: 'pause', why: 'retentionPolicy' }],
  [500, 'timeout', {}, { kind: 'retry', retryAfterMs: undefined, failover: true }],
  [503, 'request throttled, queue full', {}, { kind: 'retry', retryAfterMs: undefined, failover: true }],
  [503, 'request throttled, queue full', { 'retry-after': '7' }, { kind: 'retry', retryAfterMs: 7000, failover: true }],
  [429, 'slow down', { 'retry-after': 'Wed, 25 Nov 2026 12:00:30 GMT' }, { kind: 'retry', retryAfterMs: 30_000, failover: false }],
  [429, 'slow down', { 'retry-after': 'soon' }, { kind: 'retry', retryAfterMs: undefined, failover: false }],
  [408, 'Request Timeout', {}, { kind: 'retry', retryAfterMs: undefined, failover: false }],
  [502, 'Bad Gateway', {}, { kind: 'retry', retryAfterMs: undefined, failover: true }],
  [405, 'Method Not Allowed', {}, { kind: 'rejectAll' }],
  [422, 'unprocessable', {}, { kind: 'rejectAll' }],
  [501, 'Not Implemented', {}, { kind: 'rejectAll' }],
  [505, 'HTTP Version Not Supported', {}, { kind: 'rejectAll' }],
];

describe('the classifier: an answer\'s status, message and headers', () => {
  it.each(kAnswers)('HTTP %i %j %j → %j', (status, message, headers, want) => {
    const { error, ...decision } = decideAnswer({ status, message, headers }, 'http://127.0.0.1:8086', now) as Decision & { error?: Error };
    expect(decision).toEqual(want);
    // The verdict is the error's own: what the writer acts on is what a caller of the error reads.
    if (error !== undefined) expect((error as InfluxDBWriteError).decision).toEqual(want);
    expect(stopsSending(error ?? new InfluxDBWriteError('x', { status, serverMessage: message, endpoint: 'write' })))
      .toBe(want.kind === 'pause');
  });

  it('the same verdict on an error made elsewhere (client.write(), a query), and `retryable`/`isAuthError` agree with it', () => {
    for (const [status, message, , want] of kAnswers) {
      if (status < 400) continue;
      const e = new InfluxDBWriteError(`write failed with HTTP ${status}`, { status, serverMessage: message, endpoint: 'write' });
      const d = e.decision;
      expect(d.kind).toBe(want.kind);
      expect(e.isAuthError).toBe(status === 401 || status === 403);
      expect(e.retryable).toBe(d.kind === 'retry');
    }
    expect(new InfluxDBQueryError('q', { status: 401, serverMessage: 'authorization failed', endpoint: 'query' }).decision).toEqual({ kind: 'pause', why: 'auth' });
  });
});

/** A network error's code (as undici raises it) → phase and decision. */
const kFailures: [string, { requestSent: boolean; answerUnreadable: boolean }, Decision['kind']][] = [
  ['ECONNREFUSED', { requestSent: false, answerUnreadable: false }, 'retry'],
  ['ENOTFOUND', { requestSent: false, answerUnreadable: false }, 'retry'],
  ['UND_ERR_CONNECT_TIMEOUT', { requestSent: false, answerUnreadable: false }, 'retry'],
  ['ECONNRESET', { requestSent: true, answerUnreadable: false }, 'retry'],
  ['EPIPE', { requestSent: true, answerUnreadable: false }, 'retry'],
  ['UND_ERR_SOCKET', { requestSent: true, answerUnreadable: false }, 'retry'],
  ['UND_ERR_HEADERS_TIMEOUT', { requestSent: true, answerUnreadable: false }, 'retry'],
  ['HPE_INVALID_HEADER_TOKEN', { requestSent: true, answerUnreadable: true }, 'retry'],
  ['UND_ERR_HEADERS_OVERFLOW', { requestSent: true, answerUnreadable: true }, 'retry'],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', { requestSent: true, answerUnreadable: true }, 'retry'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', { requestSent: false, answerUnreadable: false }, 'fatal'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', { requestSent: false, answerUnreadable: false }, 'fatal'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', { requestSent: false, answerUnreadable: false }, 'fatal'],
  ['EACCES', { requestSent: true, answerUnreadable: false }, 'fatal'],
];

describe('the classifier: failures without a usable answer', () => {
  it.each(kFailures)('%s → %j, %s', (code, phase, kind) => {
    const cause = Object.assign(new Error(`socket said ${code}`), { code });
    const err = toConnectionError(cause, 'write to http://127.0.0.1:8086') as InfluxDBConnectionError;
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect(err).toMatchObject({ reason: code.startsWith('HPE_') ? 'UND_ERR_HTTP_PARSER' : code, ...phase, retryable: kind === 'retry' });
    expect(err.decision.kind).toBe(kind);
    expect(decideFailure(err)).toMatchObject({ kind, error: err });
    expect(stopsSending(err)).toBe(kind === 'fatal');
  });

  it('a body that fails once the answer started is an unreadable answer, whatever the code', () => {
    expect(classifyFailure('ECONNRESET', 'answer')).toEqual({ phase: 'answer', retryable: true, tls: undefined });
    expect(classifyFailure('EACCES', 'answer').retryable).toBe(true);
  });

  it('the transport\'s verdicts on answers it refuses: not InfluxDB\'s, a redirect', () => {
    const page = new InfluxDBResponseError('HTTP 200 (text/html)', { reason: 'not-influxdb', status: 200 });
    const big = new InfluxDBResponseError('too large', { reason: 'too-large', limit: 10 });
    const moved = new InfluxDBRedirectError('redirected', { status: 308, serverMessage: 'HTTP 308', endpoint: 'write', location: undefined });
    for (const e of [page, big]) expect(e.decision).toEqual({ kind: 'pause', why: 'answer' });
    expect(moved.decision).toEqual({ kind: 'pause', why: 'redirect' });
    expect(moved.retryable).toBe(false);
    for (const e of [page, big, moved]) expect(stopsSending(e)).toBe(true);
  });

  it('errors that are not about a request have no decision: the writer takes them as fatal', () => {
    const bad = new InvalidPointError(0, 'fields', 'v', 'NaN');
    expect(bad.decision).toBeUndefined();
    expect(decideFailure(bad).kind).toBe('fatal');
    expect(decideFailure('boom')).toMatchObject({ kind: 'fatal', error: new Error('boom') });
    expect(stopsSending(new Error('boom'))).toBe(true);
  });

  it('classify() on its own', () => {
    expect(classify({ kind: 'connection', retryable: true })).toEqual({ kind: 'retry', retryAfterMs: undefined, failover: true });
    expect(classify({ kind: 'connection', retryable: false })).toEqual({ kind: 'fatal' });
    expect(classify({ kind: 'notInfluxDB' })).toEqual({ kind: 'pause', why: 'answer' });
  });
});

describe('client.write() reads the same verdict', () => {
  it('its error carries the decision, with the server\'s Retry-After', async () => {
    const { MockAgent } = await import('undici');
    const { InfluxDBClient } = await import('../../../src/client.js');
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get('http://influx.test:8086');
    pool.intercept({ path: /^\/write/, method: 'POST' }).reply(503, 'request throttled, queue full', { headers: { 'retry-after': '7' } });
    pool.intercept({ path: /^\/write/, method: 'POST' }).reply(400, { error: "partial write: unable to parse 'm v=2 2': bad timestamp dropped=0" });
    const client = new InfluxDBClient({ url: 'http://influx.test:8086', db: 'db', dispatcher: agent });
    try {
      const busy = await client.write('m v=1 1').catch((e: unknown) => e) as InfluxDBWriteError;
      expect(busy).toBeInstanceOf(InfluxDBWriteError);
      expect(busy.decision).toEqual({ kind: 'retry', retryAfterMs: 7000, failover: true });
      const refused = await client.write('m v=1 1\nm v=2 2').catch((e: unknown) => e) as InfluxDBWriteError;
      expect(refused.decision).toEqual({ kind: 'refused' });
      expect(refused).toMatchObject({ partial: true, rejectedLines: ['m v=2 2'], linesWritten: 1, linesNotWritten: 1 });
    } finally {
      await client.close();
      await agent.close();
    }
  });
});
