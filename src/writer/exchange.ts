/**
 * One write request of the batch writer and its answer, within ONE total deadline: from sending
 * until the whole answer is read (headers and body). A server that sends the headers and then
 * one byte per second never trips an idle timer; this deadline ends it all the same, so the
 * writer never stalls behind one request. The decision on the answer is retry.ts's.
 */
import { InfluxDBConnectionError } from '../errors.js';
import { readErrorMessage } from '../transport/http-transport.js';
import { decideAnswer, decideFailure, type WriteDecision } from './retry.js';
import type { WriteTarget } from './targets.js';

export type ExchangeDecision = WriteDecision | { kind: 'fatal'; error: Error };

export interface ExchangeRequest {
  body: Buffer;
  headers: Record<string, string> | undefined;
  /** The total deadline (requestTimeoutMs). */
  timeoutMs: number;
  /** close()'s deadline: aborts the request too. */
  closeSignal: AbortSignal;
  note: string;
}

export async function exchange(t: WriteTarget, r: ExchangeRequest): Promise<ExchangeDecision> {
  // Our own controller, not AbortSignal.any over the writer's long-lived signal (whose dependants
  // Node 20 has been known to keep): one timer and one listener, both removed at the end.
  const ac = new AbortController();
  let timedOut = false;
  let headersIn = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new Error('request deadline'));
  }, r.timeoutMs);
  const onClose = (): void => ac.abort(r.closeSignal.reason);
  if (r.closeSignal.aborted) onClose();
  else r.closeSignal.addEventListener('abort', onClose, { once: true });
  try {
    // timeoutMs is also the transport's own per-request timeout; the signal makes it total here,
    // whatever the transport does with it.
    const res = await t.transport.request({
      method: 'POST', endpoint: t.endpoint, queryString: t.queryString, body: r.body, headers: r.headers,
      contentType: 'text/plain; charset=utf-8', timeoutMs: r.timeoutMs, signal: ac.signal, note: r.note,
    });
    headersIn = true;
    if (res.statusCode === 204) {
      // A 204 has no body: the answer is complete, whatever the deadline does now.
      await res.body.dump().catch(() => undefined);
      return { kind: 'ack' };
    }
    const message = await readErrorMessage(res);
    // readErrorMessage keeps what it read of a cut body: a body the deadline cut is no answer.
    if (timedOut) return decideFailure(deadlineError(t, r.timeoutMs, headersIn));
    return decideAnswer({ status: res.statusCode, headers: res.headers, message }, t.describe, Date.now());
  } catch (err) {
    return decideFailure(timedOut ? deadlineError(t, r.timeoutMs, headersIn) : err);
  } finally {
    clearTimeout(timer);
    r.closeSignal.removeEventListener('abort', onClose);
  }
}

/** The deadline passed: retryable, and the request was sent (the server may have stored the batch). */
function deadlineError(t: WriteTarget, ms: number, headersIn: boolean): InfluxDBConnectionError {
  const what = headersIn ? 'the answer\'s headers came, its body did not finish' : 'no answer came';
  return new InfluxDBConnectionError(
    `${t.endpoint} to ${t.describe}: no complete answer within requestTimeoutMs (${ms} ms): ${what}; the request was sent, so the points may or may not have been stored`,
    'FI_REQUEST_DEADLINE', true, { requestSent: true, answerUnreadable: headersIn },
  );
}
