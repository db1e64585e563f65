/**
 * What the batch writer does with an answer to a write request (reliability.md, "the writer's
 * contract" and the /write table): acknowledge, retry after a delay, split, reject lines, or
 * pause the target and surface the error. The verdict is not made here: it is the error's own
 * (`err.decision`, from transport/classify.ts, the one classifier); this module pairs it with the
 * error the writer reports, and holds the writer's backoff.
 */
import { InfluxDBError, InfluxDBResponseError, InfluxDBWriteError, type Decision } from '../errors.js';
import { parseRetryAfter, stopsOn, type PauseWhy } from '../transport/classify.js';
import { safeLocation } from '../transport/http-transport.js';

export { parseRetryAfter, type PauseWhy } from '../transport/classify.js';

/** A decision and the error behind it (none for an acknowledgement). */
export type WriteDecision =
  | { kind: 'ack' }
  | { kind: 'retry'; error: Error; retryAfterMs: number | undefined; failover: boolean }
  | { kind: 'split'; error: InfluxDBWriteError }
  | { kind: 'refused'; error: InfluxDBWriteError }
  | { kind: 'rejectAll'; error: InfluxDBWriteError }
  | { kind: 'pause'; error: Error; why: PauseWhy };

/** stats().pauseReason for each configuration error. */
export const kPauseReason: Record<PauseWhy, string> = {
  auth: 'credentials refused', database: 'database not found', retentionPolicy: 'retention policy not found',
  redirect: 'redirected', answer: 'not an InfluxDB answer',
};

export interface WriteAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The server's message (JSON `error`, else X-Influxdb-Error, else the text). */
  message: string;
}

/** The error's verdict with the error attached. */
function withError(d: Decision, error: Error): WriteDecision | { kind: 'fatal'; error: Error } {
  return d.kind === 'ack' ? d : { ...d, error } as WriteDecision | { kind: 'fatal'; error: Error };
}

/** What to do after an answer with this status and message. `endpoint` names the target for errors. */
export function decideAnswer(a: WriteAnswer, endpoint: string, nowMs: number): WriteDecision {
  const { status, message } = a;
  if (status === 204) return { kind: 'ack' };
  let error: InfluxDBError;
  if (status >= 200 && status < 300) {
    // A 200 with a page is a proxy's sign-in or error page, and nothing was stored.
    const type = a.headers['content-type'] ?? '(no content type)';
    error = new InfluxDBResponseError(`write to ${endpoint} got HTTP ${status} (${String(type)}), not InfluxDB's 204: the points are not counted written, sending is paused. The answer begins ${JSON.stringify(message.slice(0, 200))} (a proxy or sign-in page in front of the server?)`);
  } else if (status >= 300 && status < 400) {
    // The transport refuses these first (InfluxDBRedirectError, read by decideFailure); the
    // statuses are decided here too, so that no path can count them written. Not followed: the
    // body and the Authorization header would go to another address.
    error = new InfluxDBWriteError(`write to ${endpoint} was redirected (HTTP ${status}) to ${safeLocation(Array.isArray(a.headers.location) ? a.headers.location[0] : a.headers.location, endpoint) ?? 'no Location'}: redirects are not followed; point the client at the server's own URL. Sending is paused, the points are kept`, {
      status, serverMessage: message, endpoint: 'write',
    });
  } else {
    error = new InfluxDBWriteError(`write to ${endpoint} failed with HTTP ${status}: ${message.length > 4096 ? `${message.slice(0, 4096)}…` : message}`, {
      status, serverMessage: message, endpoint: 'write', retryAfterMs: parseRetryAfter(a.headers['retry-after'], nowMs),
    });
  }
  // Every error made here is an answer's, never fatal.
  return withError(error.decision!, error) as WriteDecision;
}

/**
 * What to do after a request that got no readable answer: the error's own verdict (the transport
 * classified it once: a refused connection, a reset, a timeout, an unreadable answer are retried;
 * a TLS rejection is fatal; a redirect or a page that is not InfluxDB's pauses the target).
 * Anything else is fatal.
 */
export function decideFailure(err: unknown): WriteDecision | { kind: 'fatal'; error: Error } {
  const error = err instanceof Error ? err : new Error(String(err));
  const d = err instanceof InfluxDBError ? err.decision : undefined;
  return withError(d ?? { kind: 'fatal' }, error);
}

/**
 * True when the writer stops sending on this error (it pauses the target, or the failure is not
 * retryable) instead of retrying it or refusing lines: a configuration error to fix, such as
 * refused credentials, a missing database, a redirect or a sign-in page. The error's own verdict,
 * the one the writer acts on, so that `fastinflux load` stops on exactly what pauses the writer.
 */
export function stopsSending(err: Error): boolean {
  return stopsOn(err instanceof InfluxDBError ? err.decision : undefined);
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
