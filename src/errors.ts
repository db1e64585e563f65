/**
 * The error hierarchy. Every error the client throws or rejects with is an `InfluxDBError`
 * with a stable `code` (prefer `err.code` over `instanceof`: two copies of the package in one
 * process have different classes, but the same codes).
 *
 * ```
 * InfluxDBError                  FI_ERR
 * ├─ InvalidOptionError          FI_ERR_INVALID_OPTION   bad constructor/call options
 * ├─ InvalidPointError           FI_ERR_INVALID_POINT    bad input, caught before anything is sent
 * ├─ InvalidQueryError           FI_ERR_INVALID_QUERY    a query pattern or quoting helper refused an argument
 * ├─ InfluxDBConnectionError     FI_ERR_CONNECTION       refused, reset, TLS, timeout, unreadable answer: no usable HTTP answer
 * ├─ InfluxDBHttpError           FI_ERR_HTTP             the server answered with an error
 * │  ├─ InfluxDBWriteError       FI_ERR_WRITE            /write refused (400, 404, 413, 5xx …)
 * │  ├─ InfluxDBQueryError       FI_ERR_QUERY            /query refused, or an error inside a 200
 * │  └─ InfluxDBRedirectError    FI_ERR_REDIRECT         a 3xx: never followed, a configuration error
 * ├─ InfluxDBResponseError       FI_ERR_RESPONSE         the answer could not be understood, is not InfluxDB's, too large, truncated
 * ├─ ClientClosedError           FI_ERR_CLOSED           the client was closed
 * │  └─ WriterClosedError        FI_ERR_WRITER_CLOSED    write() on a batch writer that is closing
 * ├─ BufferFullError             FI_ERR_BUFFER_FULL      the writer's buffer stayed full (maxBlockMs, or whenFull: 'error')
 * ├─ DeliveryTimeoutError        FI_ERR_DELIVERY_TIMEOUT points not acknowledged within deliveryTimeoutMs (or close's timeout)
 * ├─ PointsDroppedError          FI_ERR_DROPPED          points dropped by the writer's whenFull policy
 * ├─ WriteDeliveryError          FI_ERR_DELIVERY         flush()/close(): some accepted points were not written
 * ├─ SpoolLockedError            FI_ERR_SPOOL_LOCKED     the spool directory is owned by another live process (its pid)
 * ├─ SpoolFullError              FI_ERR_SPOOL_FULL       the spool reached its maxBytes (whenFull applies)
 * ├─ SpoolBrokenError            FI_ERR_SPOOL_BROKEN     a spool write or fsync failed: nothing more is accepted on it
 * ├─ EncoderWorkerError          FI_ERR_ENCODER_WORKER   an encoder worker died (twice) or failed on a range of rows
 * │  (EncoderPoolClosedError, a ClientClosedError: the encoder pool was closed)
 * └─ BlockingWorkerError         FI_ERR_BLOCKING_WORKER  the blocking mode's worker thread died, stalled or could not start
 * ```
 *
 * No message, `toString()` or enumerable property ever holds a password or a token: the client
 * never puts credentials in URLs, and server messages do not echo the Authorization header.
 *
 * A failed request's error carries the verdict on it, `err.decision` (retry, split, refused,
 * pause, fatal …): computed from the error's fields by transport/classify.ts, the one retry
 * classifier, and read by the batch writer, client.write() and `fastinflux load`.
 *
 * Over 400 lines on purpose: every class in one file, so that the hierarchy reads in one place and
 * the blocking mode rebuilds any of them by name from this module's exports.
 */
import { classify, type Decision } from './transport/classify.js';

export type { Decision, PauseWhy } from './transport/classify.js';

/** Longest server message kept in an error's `message` (a 400 echoes whole lines). */
const kMaxMessageChars = 4096;

export function truncateText(text: string, max = kMaxMessageChars): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

export class InfluxDBError extends Error {
  readonly code: string = 'FI_ERR';
  /**
   * Set on the error a `client.write()` rejects with, whatever its class (a connection error, an
   * answer not understood …): how far the write got. Its requests go out in order; `linesWritten`
   * counts the lines the server acknowledged, `linesNotWritten` those known not to be stored
   * (never sent, or refused), `linesUnknown` those of a request that was sent but got no usable
   * answer (they may or may not be stored). The three add up to the write's lines.
   */
  declare linesWritten?: number;
  declare linesNotWritten?: number;
  declare linesUnknown?: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /**
   * What to do after the failed request this error reports (transport/classify.ts decides):
   * undefined for errors that are not about a request (bad input, a closed client …).
   */
  get decision(): Decision | undefined {
    return undefined;
  }
}

export class InvalidOptionError extends InfluxDBError {
  override readonly code = 'FI_ERR_INVALID_OPTION';
}

/** Where in a point the problem is: the element and, for tags and fields, its key. */
export type PointElement = 'measurement' | 'time' | 'tags' | 'fields' | 'point' | 'line';

export class InvalidPointError extends InfluxDBError {
  override readonly code = 'FI_ERR_INVALID_POINT';
  /** Index of the point in the input (0-based, counting every point of an iterable). */
  readonly pointIndex: number;
  /** Which element of the point is wrong. */
  readonly element: PointElement;
  /** The tag or field key, when the element is a tag or a field. */
  readonly key: string | undefined;
  /** The reason alone, without the location. */
  readonly reason: string;
  /** Raw line protocol (element `line`): the 1-based line of the item (every `\n` counts), and its start. */
  readonly line: number | undefined;
  readonly lineText: string | undefined;
  constructor(pointIndex: number, element: PointElement, key: string | undefined, reason: string, line?: number, lineText?: string) {
    const where = key === undefined ? element : `${element === 'tags' ? 'tag' : 'field'} ${JSON.stringify(truncateText(key, 200))}`;
    super(line === undefined ? `invalid point #${pointIndex}: ${where}: ${reason}`
      : `invalid line ${line}${pointIndex > 0 ? ` of item #${pointIndex}` : ''}: ${reason}${lineText === undefined ? '' : `: ${JSON.stringify(lineText)}`}`);
    this.pointIndex = pointIndex;
    this.element = element;
    this.key = key;
    this.reason = reason;
    this.line = line;
    this.lineText = lineText;
  }
}

export class InvalidQueryError extends InfluxDBError {
  override readonly code = 'FI_ERR_INVALID_QUERY';
}

export class InfluxDBConnectionError extends InfluxDBError {
  override readonly code = 'FI_ERR_CONNECTION';
  /** The underlying error code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, `DEPTH_ZERO_SELF_SIGNED_CERT` …). */
  readonly reason: string;
  /** Whether sending the same request again may succeed (timeouts, resets, refused connections, unreadable answers). */
  readonly retryable: boolean;
  /**
   * False only when nothing can have reached the server (refused, DNS, TLS handshake, connect
   * timeout). True when the request was sent, or may have been: the server may have acted on it
   * (a write may be stored).
   */
  readonly requestSent: boolean;
  /** An answer arrived but could not be read (bad header bytes, headers too large, not HTTP, a body cut short). */
  readonly answerUnreadable: boolean;
  constructor(message: string, reason: string, retryable: boolean, options?: { cause?: unknown; requestSent?: boolean; answerUnreadable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.retryable = retryable;
    // Unknown means it may have been sent: the safe assumption for a write.
    this.requestSent = options?.requestSent ?? true;
    this.answerUnreadable = options?.answerUnreadable ?? false;
  }
  /** `retry` (failing over) when retryable, else `fatal`. */
  override get decision(): Decision {
    return classify({ kind: 'connection', retryable: this.retryable });
  }
}

export interface HttpErrorDetails {
  status: number;
  /** The server's own message: the JSON body's `error`, else `X-Influxdb-Error`, else the text body. */
  serverMessage: string;
  /** 'write', 'query' or 'ping'. */
  endpoint: string;
  /** The answer's `Retry-After`, as milliseconds from when it came (see classify.ts's parseRetryAfter). */
  retryAfterMs?: number | undefined;
}

export class InfluxDBHttpError extends InfluxDBError {
  override readonly code: string = 'FI_ERR_HTTP';
  readonly status: number;
  readonly serverMessage: string;
  readonly endpoint: string;
  /** The server's `Retry-After` (ms), when it sent one and the error's maker read it. */
  declare readonly retryAfterMs: number | undefined;
  constructor(message: string, details: HttpErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.endpoint = details.endpoint;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
  /** 401 (bad or missing credentials) or 403 (no permission). */
  get isAuthError(): boolean {
    const d = this.decision;
    return d.kind === 'pause' && d.why === 'auth';
  }
  /**
   * Retrying the same request may succeed: the classifier's verdict is `retry` (408, 429, 5xx
   * except 501 and 505; not a 500 that names a missing retention policy, a configuration error).
   */
  get retryable(): boolean {
    return this.decision.kind === 'retry';
  }
  /** From the status and the server's message (a 3xx: `pause`, `redirect`). */
  override get decision(): Decision {
    return classify({ kind: 'answer', status: this.status, message: this.serverMessage, retryAfterMs: this.retryAfterMs });
  }
}

export interface WriteErrorDetails extends HttpErrorDetails {
  /** Lines the server named as refused (parsed from "unable to parse '…'" messages). */
  rejectedLines?: string[];
  /** True when the server stored the rest of the body ("partial write"). */
  partial?: boolean;
  /** Lines acknowledged by the server before this failure (earlier requests of the same write). */
  linesWritten?: number;
  /** Lines of this write that were not stored: the failed request's lines and those never sent. */
  linesNotWritten?: number;
  /** Lines that may or may not be stored (0: the server answered for every line sent). */
  linesUnknown?: number;
}

export class InfluxDBWriteError extends InfluxDBHttpError {
  override readonly code: string = 'FI_ERR_WRITE';
  readonly rejectedLines: string[];
  readonly partial: boolean;
  declare readonly linesWritten: number;
  declare readonly linesNotWritten: number;
  declare readonly linesUnknown: number;
  constructor(message: string, details: WriteErrorDetails) {
    super(message, details);
    this.rejectedLines = details.rejectedLines ?? [];
    this.partial = details.partial ?? false;
    this.linesWritten = details.linesWritten ?? 0;
    this.linesNotWritten = details.linesNotWritten ?? 0;
    this.linesUnknown = details.linesUnknown ?? 0;
  }
}

export class InfluxDBQueryError extends InfluxDBHttpError {
  override readonly code: string = 'FI_ERR_QUERY';
  /** The statement that failed, for errors reported inside a 200 response. */
  readonly statementId: number | undefined;
  constructor(message: string, details: HttpErrorDetails & { statementId?: number }) {
    super(message, details);
    this.statementId = details.statementId;
  }
}

/** Why an answer was not understood (InfluxDBResponseError.reason). */
export type ResponseErrorReason =
  /** Not an InfluxDB answer: a 2xx other than 204 to a write, a query answer that is not JSON (an SSO or proxy page). */
  | 'not-influxdb'
  /** Larger than `maxResponseBytes` (a whole answer, or one line of a chunked answer). */
  | 'too-large'
  /** A chunked answer that ended after a chunk marked `partial: true`. */
  | 'truncated'
  /** Invalid JSON, or JSON of the wrong shape. */
  | 'invalid';

export interface ResponseErrorDetails {
  reason?: ResponseErrorReason;
  status?: number;
  contentType?: string;
  /** The first bytes of the body (at most 200 characters, control bytes escaped). */
  bodyStart?: string;
  /** 'too-large': the limit that was crossed (bytes). */
  limit?: number;
  cause?: unknown;
}

export class InfluxDBResponseError extends InfluxDBError {
  override readonly code = 'FI_ERR_RESPONSE';
  readonly reason: ResponseErrorReason;
  /** The HTTP status of the answer, when it came from one. */
  readonly status: number | undefined;
  readonly contentType: string | undefined;
  readonly bodyStart: string | undefined;
  readonly limit: number | undefined;
  constructor(message: string, details: ResponseErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = details.reason ?? 'invalid';
    this.status = details.status;
    this.contentType = details.contentType;
    this.bodyStart = details.bodyStart;
    this.limit = details.limit;
  }
  /** An answer not understood (a proxy's page, too large): `pause`, `answer`. */
  override get decision(): Decision {
    return classify({ kind: 'notInfluxDB' });
  }
}

/**
 * A 3xx answer: redirects are never followed (the Authorization header would travel to the
 * target). A configuration error: point the client at `location`. Not retryable.
 */
export class InfluxDBRedirectError extends InfluxDBHttpError {
  override readonly code = 'FI_ERR_REDIRECT';
  /** The Location header, without credentials or query string (undefined when absent). */
  readonly location: string | undefined;
  constructor(message: string, details: HttpErrorDetails & { location: string | undefined }) {
    super(message, details);
    this.location = details.location;
  }
}

export class ClientClosedError extends InfluxDBError {
  override readonly code: string = 'FI_ERR_CLOSED';
  constructor(message = 'the client is closed') {
    super(message);
  }
}

export class WriterClosedError extends ClientClosedError {
  override readonly code = 'FI_ERR_WRITER_CLOSED';
  constructor() {
    super('the batch writer is closed: write() after close() is refused');
  }
}

export class BufferFullError extends InfluxDBError {
  override readonly code = 'FI_ERR_BUFFER_FULL';
  /** The writer's buffered bytes and its bound when the write gave up. */
  readonly bufferedBytes: number;
  readonly maxBufferBytes: number;
  constructor(message: string, bufferedBytes: number, maxBufferBytes: number) {
    super(message);
    this.bufferedBytes = bufferedBytes;
    this.maxBufferBytes = maxBufferBytes;
  }
}

/** Handed to `onRejected` with points the writer could not deliver in time; `cause` is the last failure. */
export class DeliveryTimeoutError extends InfluxDBError {
  override readonly code = 'FI_ERR_DELIVERY_TIMEOUT';
}

/** Handed to `onRejected` with points a `dropNewest`/`dropOldest` policy dropped. */
export class PointsDroppedError extends InfluxDBError {
  override readonly code = 'FI_ERR_DROPPED';
}

export interface DeliveryCounts {
  /** Points the server refused (400, other 4xx, a line larger than the server's limit). */
  rejected: number;
  /** Points not acknowledged within deliveryTimeoutMs, or by close()'s deadline. */
  expired: number;
  /** Points dropped by the whenFull policy. */
  dropped: number;
}

/**
 * `flush()` / `close()`: some of the points they waited for were not written. Carries the counts,
 * the lines (as the writer encoded them) and the distinct errors behind them.
 */
export class WriteDeliveryError extends InfluxDBError {
  override readonly code = 'FI_ERR_DELIVERY';
  readonly rejected: number;
  readonly expired: number;
  readonly dropped: number;
  /** The lines not written, in order (every one of them: the dead letter). */
  readonly lines: string[];
  /** The distinct reasons (an InfluxDBWriteError per 400 answer, a DeliveryTimeoutError …). */
  readonly errors: Error[];
  /** close(): its timeout ran out with points still undelivered. */
  readonly closeTimedOut: boolean;
  constructor(message: string, counts: DeliveryCounts, lines: string[], errors: Error[], closeTimedOut = false) {
    super(message, errors.length > 0 ? { cause: errors[0] } : undefined);
    this.rejected = counts.rejected;
    this.expired = counts.expired;
    this.dropped = counts.dropped;
    this.lines = lines;
    this.errors = errors;
    this.closeTimedOut = closeTimedOut;
  }
}

/**
 * The durable spool's directory (src/writer/spool/log.ts) is owned by another live process (or
 * by another open SpoolLog of this one): one process per directory.
 */
export class SpoolLockedError extends InfluxDBError {
  override readonly code = 'FI_ERR_SPOOL_LOCKED';
  readonly dir: string;
  /** The pid found in the directory's LOCK file. */
  readonly ownerPid: number;
  constructor(dir: string, ownerPid: number) {
    super(`spool directory ${dir} is locked by process ${ownerPid}, which is running (pid in its LOCK file): one process per spool directory`);
    this.dir = dir;
    this.ownerPid = ownerPid;
  }
}

/** An append to the durable spool would take it beyond its maxBytes: nothing of it was written. */
export class SpoolFullError extends InfluxDBError {
  override readonly code = 'FI_ERR_SPOOL_FULL';
  /** The spool's bytes on disk (and queued) when the append was refused, the append's bytes, the bound. */
  readonly spoolBytes: number;
  readonly requestedBytes: number;
  readonly maxBytes: number;
  constructor(message: string, spoolBytes: number, requestedBytes: number, maxBytes: number) {
    super(message);
    this.spoolBytes = spoolBytes;
    this.requestedBytes = requestedBytes;
    this.maxBytes = maxBytes;
  }
}

/** A write or sync of the durable spool failed earlier: the log refuses every later append (`cause`: the first failure). */
export class SpoolBrokenError extends InfluxDBError {
  override readonly code = 'FI_ERR_SPOOL_BROKEN';
}

/** An encoder worker died (twice) or failed while encoding rows `fromRow .. toRow`. */
export class EncoderWorkerError extends InfluxDBError {
  override readonly code = 'FI_ERR_ENCODER_WORKER';
  /** First and last row (global indices) of the task. */
  readonly fromRow: number;
  readonly toRow: number;
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | undefined;
  constructor(message: string, fromRow: number, toRow: number, exitCode: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.fromRow = fromRow;
    this.toRow = toRow;
    this.exitCode = exitCode;
  }
}

/** The pool was closed (code `FI_ERR_CLOSED`, as a closed client). */
export class EncoderPoolClosedError extends ClientClosedError {
  constructor() {
    super();
    this.message = 'the encoder pool is closed';
  }
}

/**
 * The blocking mode's worker thread died, stalled or could not start. The calling thread
 * rebuilds any class of this file by name (blocking/errors.ts): a new class belongs here.
 */
export class BlockingWorkerError extends InfluxDBError {
  override readonly code = 'FI_ERR_BLOCKING_WORKER';
}
