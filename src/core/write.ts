/**
 * `client.write()`'s requests: the encoded bodies sent in order on the client's connection, and
 * its errors, which say how far the write got (a 400 is read by transport/refusal.ts).
 */
import type { EncodedBody } from '../encode/body-builder.js';
import { ClientClosedError, InfluxDBConnectionError, InfluxDBError, InfluxDBRedirectError, InfluxDBWriteError, truncateText } from '../errors.js';
import type { ResolvedWriteOptions } from '../options/index.js';
import { parseRetryAfter } from '../transport/classify.js';
import { readErrorMessage, type HttpTransport, type TransportResponse } from '../transport/http-transport.js';
import { parseRefusal } from '../transport/refusal.js';

/**
 * Sends `bodies` one after the other and returns the lines written (all of them); the first
 * failure throws, with the write's progress. `checkOpen` runs before each request.
 */
export async function sendBodies(transport: HttpTransport, bodies: readonly EncodedBody[], w: ResolvedWriteOptions, total: number, checkOpen: () => void): Promise<number> {
  let written = 0;
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i]!;
    let failure: unknown;
    try {
      checkOpen();
      const res = await transport.request({
        method: 'POST', endpoint: 'write', query: { db: w.db, rp: w.rp, precision: w.precision },
        body: b.body, contentType: 'text/plain; charset=utf-8', note: `${b.lines} lines, ${b.body.length} bytes`,
      });
      if (res.statusCode === 204 || res.statusCode === 200) {
        // The answer acknowledges the lines: a failure to drain its (empty) body changes nothing.
        written += b.lines;
        await res.body.dump().catch(() => {});
        continue;
      }
      const err = await writeError(res, b.lines, written, total);
      // What the one classifier calls acknowledged (Enterprise's 500 `hinted handoff queue not
      // empty`: the write will complete) is written here too, as the batch writer counts it.
      if (err.decision.kind === 'ack') {
        written += b.lines;
        continue;
      }
      failure = err;
    } catch (err) {
      failure = err;
    }
    throw withWriteProgress(failure, { request: i, requests: bodies.length, bodyLines: b.lines, written, total });
  }
  return written;
}

/**
 * The one place `client.write()` finishes its errors: whatever failed (an HTTP error, a reset, a
 * deadline, an answer not understood, the client closed between requests), the error says how far
 * the write got. An InfluxDBWriteError counts itself (the server answered for the failed request).
 * Otherwise the failed request's lines are unknown when it was sent (`requestSent`, true unless
 * nothing can have reached the server), else not written; the lines after it were never sent.
 */
function withWriteProgress(err: unknown, p: { request: number; requests: number; bodyLines: number; written: number; total: number }): unknown {
  if (!(err instanceof InfluxDBError) || err instanceof InfluxDBWriteError) return err;
  // A closed client refuses before sending; so does a redirect's server (it stores nothing).
  const sent = err instanceof InfluxDBConnectionError ? err.requestSent
    : !(err instanceof ClientClosedError || err instanceof InfluxDBRedirectError);
  const unknown = sent ? p.bodyLines : 0;
  err.linesWritten = p.written;
  err.linesUnknown = unknown;
  err.linesNotWritten = p.total - p.written - unknown;
  if (p.requests > 1 || unknown > 0) {
    const parts = [`${p.written} of ${p.total} lines written`];
    if (p.requests > 1) parts[0] += ` (${p.request} of ${p.requests} requests acknowledged)`;
    if (unknown > 0) parts.push(`the ${unknown} lines of ${p.requests > 1 ? `request ${p.request + 1}` : 'the request'} may or may not be stored (sent, no usable answer)`);
    const never = p.total - p.written - p.bodyLines;
    if (!sent) parts.push(`the ${p.bodyLines} lines of ${p.requests > 1 ? `request ${p.request + 1}` : 'the request'} were not stored`);
    if (never > 0) parts.push(`${never} lines were never sent`);
    err.message += ` [write: ${parts.join('; ')}]`;
  }
  return err;
}

async function writeError(res: TransportResponse, bodyLines: number, writtenBefore: number, total: number): Promise<InfluxDBWriteError> {
  const status = res.statusCode;
  const msg = await readErrorMessage(res);
  // A 400 is read by the one parser of influxd's refusals (transport/refusal.ts).
  const refusal = status === 400 ? parseRefusal(msg) : undefined;
  const rejectedLines = refusal?.lines ?? [];
  const partial = refusal?.partial ?? false;
  let storedOfBody = 0;
  if (partial) {
    // "dropped=N" counts points refused after parsing; unparsable lines are named, not counted.
    const refused = rejectedLines.length + (refusal!.dropped ?? 0);
    storedOfBody = Math.max(0, bodyLines - refused);
  }
  const linesWritten = writtenBefore + storedOfBody;
  let hint = '';
  if (status === 404) hint = ' (create it with client.createDatabase())';
  else if (status === 413) hint = ' (lower maxBodyBytes below the server\'s max-body-size)';
  // The message is cut (a 400 echoes whole lines); serverMessage and rejectedLines keep everything.
  return new InfluxDBWriteError(`write failed with HTTP ${status}: ${truncateText(msg)}${hint}`, {
    status, serverMessage: msg, endpoint: 'write', rejectedLines, partial, linesWritten, linesNotWritten: total - linesWritten,
    // The error's verdict (err.decision, transport/classify.ts) carries the server's Retry-After.
    retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()),
  });
}
