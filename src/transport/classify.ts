/**
 * The one retry classifier: what to do after a request that failed, decided once and read by
 * every caller (the batch writer, client.write(), `fastinflux load`). The error classes of
 * errors.ts carry the verdict (`err.decision`, computed here from their fields); the transport
 * classifies undici's failures here (`classifyFailure`). Nothing else decides again.
 *
 * | failure | decision |
 * |---|---|
 * | 204; 500 `hinted handoff queue not empty` (Enterprise: the write will complete) | `ack` |
 * | another 2xx to a write (a proxy's or sign-in page), an answer that is not InfluxDB's | `pause` (`answer`) |
 * | 3xx (never followed: Authorization would travel) | `pause` (`redirect`) |
 * | 400 | `refused` (the lines are parsed by refusal.ts; never retried) |
 * | 401, 403 | `pause` (`auth`) |
 * | 404 | `pause` (`database`) |
 * | 413 | `split` |
 * | 500 `retention policy not found` | `pause` (`retentionPolicy`) |
 * | 408, 429, 5xx but 501 and 505 | `retry` (Retry-After honoured; 5xx fail over) |
 * | other 4xx, 501, 505 | `rejectAll` |
 * | no usable answer, retryable (refused, reset, timeout, unreadable answer) | `retry` (fails over) |
 * | no usable answer, not retryable (a TLS rejection) | `fatal` |
 *
 * Imports nothing of the package: errors.ts builds on it.
 */

export type PauseWhy = 'auth' | 'database' | 'retentionPolicy' | 'redirect' | 'answer';

/** What to do after a failed request (see the table above). */
export type Decision =
  | { kind: 'ack' }
  /** Send again later; `retryAfterMs` when the server said when; `failover` to the next target. */
  | { kind: 'retry'; retryAfterMs: number | undefined; failover: boolean }
  /** 413: the body is too large for the server; split it. */
  | { kind: 'split' }
  /** 400: the server refused some or all lines; never retried. */
  | { kind: 'refused' }
  /** Other 4xx: retrying cannot help; every line of the request is rejected. */
  | { kind: 'rejectAll' }
  /** A configuration error: stop sending until it is fixed. */
  | { kind: 'pause'; why: PauseWhy }
  /** Cannot succeed and is no configuration the server names (a TLS rejection, an unknown error). */
  | { kind: 'fatal' };

/** What is known of a failure: an HTTP answer, no usable answer, or an answer that is not InfluxDB's. */
export type Failure =
  | { kind: 'answer'; status: number; message: string; retryAfterMs?: number | undefined }
  | { kind: 'connection'; retryable: boolean }
  | { kind: 'notInfluxDB' };

/** Retrying the same request may succeed: 408, 429, 5xx (except 501 and 505). */
export function retryableStatus(s: number): boolean {
  return s === 408 || s === 429 || (s >= 500 && s !== 501 && s !== 505);
}

/** The decision on a failure: the one function every caller's verdict comes from. */
export function classify(f: Failure): Decision {
  if (f.kind === 'notInfluxDB') return { kind: 'pause', why: 'answer' };
  if (f.kind === 'connection') return f.retryable ? { kind: 'retry', retryAfterMs: undefined, failover: true } : { kind: 'fatal' };
  const { status, message } = f;
  // InfluxDB (1.x, 2.x, 3.x) and VictoriaMetrics answer a good write with 204, and nothing else.
  if (status === 204) return { kind: 'ack' };
  if (status === 500 && message.includes('hinted handoff queue not empty')) return { kind: 'ack' };
  if (status >= 200 && status < 300) return { kind: 'pause', why: 'answer' };
  if (status >= 300 && status < 400) return { kind: 'pause', why: 'redirect' };
  if (status === 400) return { kind: 'refused' };
  if (status === 401 || status === 403) return { kind: 'pause', why: 'auth' };
  // `database not found`, or a wrong URL or a bucket that does not exist (v2): a configuration error.
  if (status === 404) return { kind: 'pause', why: 'database' };
  if (status === 413) return { kind: 'split' };
  if (status === 500 && /retention policy not found/i.test(message)) return { kind: 'pause', why: 'retentionPolicy' };
  // 429 does not fail over: the server is alive, it asks us to slow down.
  if (retryableStatus(status)) return { kind: 'retry', retryAfterMs: f.retryAfterMs, failover: status >= 500 };
  return { kind: 'rejectAll' };
}

/** The writer stops sending on this decision (a configuration error to fix, or a failure no retry helps). */
export function stopsOn(d: Decision | undefined): boolean {
  return d === undefined || d.kind === 'pause' || d.kind === 'fatal';
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * A number is seconds, never milliseconds (the influxdb-client-js pitfall). Undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names its day and month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse would take "-5" as a year.
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

// ------------------------------------------------------------------ failures without an answer

/**
 * How far a failed request got, from undici's error code:
 * - 'connect': nothing can have reached the server (refused, DNS, TLS handshake, connect timeout);
 * - 'sent': the request went out (or may have), no answer came (reset, closed, headers timeout);
 * - 'answer': an answer started but could not be read (bad header bytes, headers too large, not
 *   HTTP at all, a body cut short). The server got the request and may have acted on it.
 */
export type Phase = 'connect' | 'sent' | 'answer';

/** Failures before any byte of the request can have been sent. */
const kConnectCodes = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT',
  'EPROTO', 'UND_ERR_CONNECT_TIMEOUT',
]);
/** Failures of an answer that had started to arrive. */
const kAnswerCodes = new Set([
  'UND_ERR_HTTP_PARSER', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_BODY_TIMEOUT',
]);
/** Failures without an answer worth retrying (an unreadable answer is always worth it: writes are idempotent). */
const kRetryableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
/** TLS failures that only a handshake raises (other TLS errors may come mid-exchange: not certain). */
const kCertCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;
const kHandshakeCodes = /^ERR_SSL_(?:WRONG_VERSION_NUMBER|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE)|^ERR_TLS_HANDSHAKE_TIMEOUT$/;

export interface FailureClass {
  phase: Phase;
  /** Sending the same request again may succeed. */
  retryable: boolean;
  /** A TLS failure: the certificate was rejected, or the handshake failed. */
  tls: 'certificate' | 'handshake' | undefined;
}

/** Classifies an undici/socket error code; `phaseGiven` when the caller knows (an error while a body streams). */
export function classifyFailure(code: string, phaseGiven?: Phase): FailureClass {
  const tls = kCertCodes.test(code) ? 'certificate' : kHandshakeCodes.test(code) ? 'handshake' : undefined;
  const phase = phaseGiven ?? (kAnswerCodes.has(code) ? 'answer' : kConnectCodes.has(code) || tls !== undefined ? 'connect' : 'sent');
  return { phase, retryable: phase === 'answer' || kRetryableCodes.has(code), tls };
}
