/**
 * The one place that decides what the batch writer does with an answer to a write request
 * (reliability.md, "the writer's contract" and the /write table): acknowledge, retry after a
 * delay, split, reject lines, or pause the target and surface the error.
 */
import { InfluxDBConnectionError, InfluxDBHttpError, InfluxDBResponseError, InfluxDBWriteError } from '../errors.js';
import { safeLocation } from '../transport/http-transport.js';

export type WriteDecision =
  /** 204, and Enterprise's "hinted handoff queue not empty" (the write will complete). */
  | { kind: 'ack' }
  /** Network error, timeout, 408, 429, 5xx: send again later; `retryAfterMs` when the server said when. */
  | { kind: 'retry'; error: Error; retryAfterMs: number | undefined; failover: boolean }
  /** 413: the body is too large for the server; split it. */
  | { kind: 'split'; error: InfluxDBWriteError }
  /** 400: the server refused some or all lines; never retried. */
  | { kind: 'refused'; error: InfluxDBWriteError }
  /** Other 4xx: retrying cannot help; every line of the batch is rejected. */
  | { kind: 'rejectAll'; error: InfluxDBWriteError }
  /**
   * Configuration errors: 401/403, 404 database not found, 500 retention policy not found, a
   * redirect (3xx), and an answer that is not InfluxDB's (a 2xx other than 204: a sign-in page).
   */
  | { kind: 'pause'; error: Error; why: PauseWhy };

export type PauseWhy = 'auth' | 'database' | 'retentionPolicy' | 'redirect' | 'answer';

/** stats().pauseReason for each configuration error. */
export const kPauseReason: Record<PauseWhy, string> = {
  auth: 'credentials refused', database: 'database not found', retentionPolicy: 'retention policy not found',
  redirect: 'redirected', answer: 'not an InfluxDB answer',
};

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

export interface WriteAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The server's message (JSON `error`, else X-Influxdb-Error, else the text). */
  message: string;
}

/** What to do after an answer with this status and message. `endpoint` names the target for errors. */
export function decideAnswer(a: WriteAnswer, endpoint: string, nowMs: number): WriteDecision {
  const { status, message } = a;
  // InfluxDB (1.x, 2.x, 3.x) and VictoriaMetrics answer a good write with 204, and nothing else:
  // a 200 with a page is a proxy's sign-in or error page, and nothing was stored.
  if (status === 204) return { kind: 'ack' };
  if (status === 500 && message.includes('hinted handoff queue not empty')) return { kind: 'ack' };
  if (status >= 200 && status < 300) {
    const type = a.headers['content-type'] ?? '(no content type)';
    return {
      kind: 'pause', why: 'answer',
      error: new InfluxDBResponseError(`write to ${endpoint} got HTTP ${status} (${String(type)}), not InfluxDB's 204: the points are not counted written, sending is paused. The answer begins ${JSON.stringify(message.slice(0, 200))} (a proxy or sign-in page in front of the server?)`),
    };
  }
  // The transport refuses these first (InfluxDBRedirectError, InfluxDBResponseError, read by
  // decideFailure); the statuses are decided here too, so that no path can count them written.
  // Not followed: the body and the Authorization header would go to another address.
  if (status >= 300 && status < 400) {
    return {
      kind: 'pause', why: 'redirect',
      error: new InfluxDBWriteError(`write to ${endpoint} was redirected (HTTP ${status}) to ${safeLocation(Array.isArray(a.headers.location) ? a.headers.location[0] : a.headers.location, endpoint) ?? 'no Location'}: redirects are not followed; point the client at the server's own URL. Sending is paused, the points are kept`, {
        status, serverMessage: message, endpoint: 'write',
      }),
    };
  }
  const error = new InfluxDBWriteError(`write to ${endpoint} failed with HTTP ${status}: ${message.length > 4096 ? `${message.slice(0, 4096)}…` : message}`, {
    status, serverMessage: message, endpoint: 'write',
  });
  if (status === 400) return { kind: 'refused', error };
  if (status === 401 || status === 403) return { kind: 'pause', error, why: 'auth' };
  if (status === 404 && /database not found/i.test(message)) return { kind: 'pause', error, why: 'database' };
  // A 404 without that text is a wrong URL or a bucket that does not exist (v2): a configuration error too.
  if (status === 404) return { kind: 'pause', error, why: 'database' };
  if (status === 413) return { kind: 'split', error };
  if (status === 500 && /retention policy not found/i.test(message)) return { kind: 'pause', error, why: 'retentionPolicy' };
  // Which statuses are worth another try is the error's own verdict (InfluxDBHttpError.retryable).
  if (error.retryable) {
    return { kind: 'retry', error, retryAfterMs: parseRetryAfter(a.headers['retry-after'], nowMs), failover: status >= 500 };
  }
  return { kind: 'rejectAll', error };
}

/**
 * What to do after a request that got no readable answer. The transport decided, once, whether the
 * failure is retryable (`err.retryable`): a refused connection, a reset, a timeout, and an answer
 * it could not read after the request was sent (`requestSent`, `answerUnreadable`: the server may
 * have stored the batch, and resending stores the same points again). Non-retryable errors (a TLS
 * rejection) pause the target.
 */
export function decideFailure(err: unknown): WriteDecision | { kind: 'fatal'; error: Error } {
  // The transport's verdict that an answer is not InfluxDB's (a 2xx other than 204): nothing stored.
  if (err instanceof InfluxDBResponseError) return { kind: 'pause', error: err, why: 'answer' };
  // The transport's redirect error (a 3xx, never followed): a configuration error.
  if (err instanceof InfluxDBHttpError && err.status >= 300 && err.status < 400) return { kind: 'pause', error: err, why: 'redirect' };
  if (err instanceof InfluxDBConnectionError) {
    return err.retryable
      ? { kind: 'retry', error: err, retryAfterMs: undefined, failover: true }
      : { kind: 'fatal', error: err };
  }
  return { kind: 'fatal', error: err instanceof Error ? err : new Error(String(err)) };
}

/**
 * True when the writer stops sending on this error (it pauses the target, or the failure is not
 * retryable) instead of retrying it or refusing lines: a configuration error to fix, such as
 * refused credentials, a missing database, a redirect or a sign-in page. Read from the same
 * decisions the writer takes, so that `fastinflux load` stops on exactly what pauses the writer.
 */
export function stopsSending(err: Error): boolean {
  const d = err instanceof InfluxDBHttpError && !(err.status >= 300 && err.status < 400)
    ? decideAnswer({ status: err.status, headers: {}, message: err.serverMessage }, err.endpoint, Date.now())
    : decideFailure(err);
  return d.kind === 'pause' || d.kind === 'fatal';
}

export interface BackoffOptions {
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and
 * Jitter"): a uniform delay in [0, min(max, initial·2^(attempt-1))], so that many writers
 * recovering together spread out. A floor of a tenth of the initial delay keeps a run of
 * unlucky draws from turning into a hot loop.
 */
/**
 * How long to wait before the next attempt: the writer's own backoff, or the server's
 * `Retry-After` (capped by `maxRetryAfterMs`) when that is longer. `Retry-After: 0` on every 429
 * once made 17,932 requests in 6 s: the server may lengthen the wait, never shorten it.
 */
export function retryWait(retryAfterMs: number | undefined, backoffMs: number, maxRetryAfterMs: number): number {
  return retryAfterMs === undefined ? backoffMs : Math.max(backoffMs, Math.min(retryAfterMs, maxRetryAfterMs));
}

export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(o.retryMaxDelayMs, o.retryInitialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(o.retryInitialDelayMs / 10, random() * cap);
}
