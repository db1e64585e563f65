/**
 * The HTTP layer: one undici pool per client (keep-alive, TLS, unix socket), request building,
 * and every decision about an answer before a caller sees it:
 * - the deadline: one timer per request, from its start to the end of its body (`timeout`, or a
 *   request's `timeoutMs`), ending it with an InfluxDBConnectionError of reason 'deadline';
 *   a chunked answer read with `lines()` gets a full `timeout` per chunk instead (the time the
 *   caller holds a chunk is not counted), so a slow consumer is never cut, a trickle always is;
 * - answers that are not what they claim: a redirect (never followed), a 2xx other than 204 to a
 *   write, a query answer that is not JSON;
 * - bounds: `maxResponseBytes` per whole answer or per line of a chunked one, error bodies read
 *   up to kErrorBodyBytes, response headers up to kMaxHeaderBytes.
 * Whether a failure is worth retrying is classify.ts's (the errors carry its verdict); what a
 * 400 says is refusal.ts's. It knows nothing of points or results.
 *
 * Credentials travel only in the Authorization header: never in the URL, never in a log line.
 */
import { debuglog } from 'node:util';
import { Pool, type Dispatcher } from 'undici';
import { InfluxDBConnectionError, InfluxDBError, InfluxDBRedirectError, InfluxDBResponseError, truncateText } from '../errors.js';
import type { ResolvedClientOptions } from '../options/index.js';
import { classifyFailure, type Phase } from './classify.js';
import { jsonErrorMessage } from './refusal.js';

/** What a 400 says is refusal.ts's to read (the lines it names: `parseRejectedLines`). */
export { parseRejectedLines } from './refusal.js';
import { splitLineBytes } from './lines.js';

const debug = debuglog('fastinflux');

export interface TransportRequest {
  method: 'GET' | 'POST';
  /** Endpoint below the base path: 'ping', 'write', 'query'. */
  endpoint: string;
  query?: Record<string, string | undefined>;
  /** The query already encoded (the batch writer's targets build theirs once). */
  queryString?: string;
  body?: Buffer | string;
  contentType?: string;
  /** Extra headers of this request (Content-Encoding of a gzipped write). */
  headers?: Record<string, string>;
  /** This request's deadline (ms, 0: none) instead of the client's `timeout`: headers and whole body (see `ResponseBody.lines` for chunks). */
  timeoutMs?: number;
  /** Largest whole answer read (bytes), instead of the client's `maxResponseBytes`; also bounds each line read by `lines()`. */
  maxResponseBytes?: number;
  /** The answer will be read line by line (chunked query): no check of Content-Length against maxResponseBytes. */
  chunked?: boolean;
  /** Aborts the request (the batch writer's close deadline). */
  signal?: AbortSignal;
  /** Short description for debug logs (never credentials). */
  note?: string;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

/** Most bytes of response headers taken (undici's default is 16 KiB): influxd echoes refused lines in X-Influxdb-Error. */
export const kMaxHeaderBytes = 4 * 1024 * 1024;
/**
 * Most bytes of an error answer's body read for its message; the rest is not read. A JSON error
 * (InfluxDB's own: a 400 echoes the refused lines) may also take twice the request's body.
 */
export const kErrorBodyBytes = 64 * 1024;
/** Characters of a body shown in an error about an answer that is not InfluxDB's. */
const kBodyStartChars = 200;

/** undici's code for an error (its parser errors carry none: undici 7 looks their llhttp name up wrongly). */
function codeOf(e: { code?: unknown; name?: unknown; cause?: { code?: unknown } }): string {
  const code = e.cause?.code ?? e.code;
  if (typeof code === 'string' && code) return code.startsWith('HPE_') ? 'UND_ERR_HTTP_PARSER' : code;
  if (e.name === 'HTTPParserError') return 'UND_ERR_HTTP_PARSER';
  return 'UNKNOWN';
}

/**
 * Maps any error from undici or a socket to an InfluxDBConnectionError (other errors pass through):
 * classify.ts decides, once, whether it is retryable and whether the request may have reached the
 * server; the error carries the verdict (`retryable`, `requestSent`, `answerUnreadable`, `decision`).
 * `where` is "<endpoint> to <server>": a write's message says whether the points may be stored.
 */
export function toConnectionError(err: unknown, where: string, phaseGiven?: Phase): unknown {
  if (err instanceof InfluxDBError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (!e || typeof e !== 'object' || e.code === 'UND_ERR_INVALID_ARG') return err;
  // undici wraps socket errors: the useful code is often on the cause.
  const code = codeOf(e);
  const detail = e.cause?.message ?? e.message ?? String(err);
  // Errors while a body streams come with the same codes as failures before any answer: the body says so.
  const { phase, retryable, tls } = classifyFailure(code, phaseGiven);
  let message: string;
  if (phase === 'answer' && /_TIMEOUT$/.test(code)) message = `${where}: the answer stopped arriving: timed out (${code})`;
  else if (phase === 'answer') message = `${where}: the answer could not be read: ${detail} (${code})`;
  else if (/_TIMEOUT$/.test(code)) message = `${where}: timed out (${code})`;
  else if (tls === 'certificate') message = `${where}: TLS certificate rejected (${code}): ${detail}; pass tls.ca to trust the server's certificate`;
  else if (tls === 'handshake') message = `${where}: TLS handshake failed (${code}): ${detail}`;
  else message = `${where}: ${detail} (${code})`;
  return new InfluxDBConnectionError(message + writeHedge(where, phase), code, retryable, {
    cause: err, requestSent: phase !== 'connect', answerUnreadable: phase === 'answer',
  });
}

/** What the caller most needs to know about a write that failed after it was sent. */
function writeHedge(where: string, phase: Phase): string {
  if (phase === 'connect' || !/^(?:api\/v2\/)?write /.test(where)) return '';
  return phase === 'answer'
    ? '; the request was sent and the server answered, so the points may or may not have been stored'
    : '; the request was sent (at least in part), so the points may or may not have been stored';
}

/**
 * One request's deadline: a timer that aborts the request with an InfluxDBConnectionError of
 * reason 'deadline'. It runs from the start of the request to the end of its body; `pause()` and
 * `restart()` let a chunked reader give each chunk a full `ms` instead (see ResponseBody.lines).
 */
class Deadline {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #where: string;
  #timer: NodeJS.Timeout | undefined;
  #answered = false;
  #perChunk = false;
  #error: InfluxDBConnectionError | undefined;

  constructor(ms: number, where: string) {
    this.#ms = ms;
    this.#where = where;
    this.restart(false);
  }

  /** Aborts the request when the deadline passes (combined with the caller's own signal, if any). */
  signal(other: AbortSignal | undefined): AbortSignal {
    return other ? AbortSignal.any([this.#controller.signal, other]) : this.#controller.signal;
  }

  /** The answer's headers arrived: from now on a deadline leaves the answer unreadable. */
  answered(): void {
    this.#answered = true;
  }

  /** The error the deadline ended the request with (undefined while it has not passed). */
  get error(): InfluxDBConnectionError | undefined {
    return this.#error;
  }

  pause(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A full `ms` from now (`perChunk`: for the next chunk of a chunked answer). */
  restart(perChunk = true): void {
    this.pause();
    if (this.#ms <= 0 || this.#error) return;
    this.#perChunk = perChunk;
    this.#timer = setTimeout(() => this.#fire(), this.#ms);
    // An abandoned body must not keep the process alive; a live socket does so anyway.
    this.#timer.unref();
  }

  #fire(): void {
    const phase: Phase = this.#answered ? 'answer' : 'sent';
    const what = this.#perChunk ? 'the next chunk of the answer did not arrive' : this.#answered ? 'the answer did not end' : 'no answer came';
    const message = `${this.#where}: timed out: ${what} within the ${this.#ms} ms timeout (deadline)${writeHedge(this.#where, phase)}`;
    this.#error = new InfluxDBConnectionError(message, 'deadline', true, { requestSent: true, answerUnreadable: phase === 'answer' });
    this.#controller.abort(this.#error);
  }
}

type BodyStream = Dispatcher.ResponseData['body'];

/**
 * An answer's body as the transport hands it out: every way of reading it is bounded in time
 * (the request's deadline) and in bytes (`maxResponseBytes`), and every error it raises is
 * already an InfluxDB error (a socket closed mid-body: an unreadable answer).
 */
export class ResponseBody implements AsyncIterable<Uint8Array> {
  readonly #stream: BodyStream;
  readonly #deadline: Deadline;
  readonly #where: string;
  readonly #limit: number;
  /** Most bytes of this body read as an error message. */
  readonly errorBytes: number;

  constructor(stream: BodyStream, deadline: Deadline, where: string, limit: number, errorBytes = kErrorBodyBytes) {
    this.errorBytes = errorBytes;
    this.#stream = stream;
    this.#deadline = deadline;
    this.#where = where;
    this.#limit = limit;
    // Undici's own listener-less error would otherwise surface as an uncaught exception.
    stream.on('error', () => undefined);
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  /** Stops reading (the socket is released) and stops the deadline. */
  destroy(): void {
    this.#deadline.pause();
    if (!this.#stream.destroyed) this.#stream.destroy();
  }

  #error(err: unknown): unknown {
    return this.#deadline.error ?? toConnectionError(err, this.#where, 'answer');
  }

  tooLarge(limit: number, line: boolean): InfluxDBResponseError {
    const message = line
      ? `${this.#where}: a line of the chunked answer is larger than maxResponseBytes (${limit} bytes); lower chunkSize, or raise maxResponseBytes`
      : `${this.#where}: the answer is larger than maxResponseBytes (${limit} bytes); query with chunked: true (each chunk is bounded instead of the whole answer), narrow the query, or raise maxResponseBytes`;
    return new InfluxDBResponseError(message, { reason: 'too-large', limit });
  }

  /** The chunks of the body, at most `limit` bytes in all. */
  async *#chunks(limit: number): AsyncGenerator<Uint8Array> {
    let total = 0;
    try {
      for await (const chunk of this.#stream as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > limit) throw this.tooLarge(limit, false);
        yield chunk;
      }
    } catch (err) {
      throw this.#error(err);
    } finally {
      this.destroy();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#chunks(this.#limit);
  }

  /**
   * The non-blank lines of a chunked answer, each at most `maxLineBytes` (default: the request's
   * maxResponseBytes). The deadline is per chunk: paused while the caller holds a line, a full
   * `timeout` again when it asks for the next (blank lines do not count).
   */
  async *lines(maxLineBytes = this.#limit): AsyncGenerator<Uint8Array> {
    const tooLong = (): Error => this.tooLarge(maxLineBytes, true);
    for await (const line of splitLineBytes(this.#chunks(Infinity), { maxLineBytes, tooLong })) {
      if (isBlank(line)) continue;
      this.#deadline.pause();
      yield line;
      this.#deadline.restart();
    }
  }

  /** The whole body (at most maxResponseBytes). */
  async bytes(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.#chunks(this.#limit)) {
      parts.push(c);
      n += c.length;
    }
    return Buffer.concat(parts, n);
  }

  /** The whole body as UTF-8 (a BOM dropped, malformed bytes as U+FFFD, as `Response.text()`). */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /**
   * At most `max` bytes from the start of the body, then the rest is dropped unread. `partial`:
   * a failure (the deadline) returns the bytes read until then instead of throwing.
   */
  async head(max: number, partial = false): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let n = 0;
    try {
      for await (const c of this.#chunks(Infinity)) {
        parts.push(c);
        n += c.length;
        if (n >= max) break;
      }
    } catch (err) {
      if (!partial) throw err;
    } finally {
      this.destroy();
    }
    return Buffer.concat(parts, n).subarray(0, max);
  }

  /** Reads and discards a (small) body so that the connection can be reused; a large one is dropped. */
  async dump(): Promise<void> {
    await this.head(kErrorBodyBytes);
  }
}

function isBlank(line: Uint8Array): boolean {
  for (const c of line) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  return true;
}

/** A body's first characters, printable: control bytes escaped, at most kBodyStartChars. */
function printable(bytes: Buffer): string {
  const text = new TextDecoder().decode(bytes.subarray(0, kBodyStartChars * 4)).slice(0, kBodyStartChars);
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' || c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function headerOf(headers: TransportResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A Location for messages: resolved against the request, without credentials, query or fragment. */
export function safeLocation(location: string | undefined, base: string): string | undefined {
  if (location === undefined) return undefined;
  try {
    const u = new URL(location, base);
    const hadQuery = u.search !== '';
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return hadQuery ? `${u.href}?…` : u.href;
  } catch {
    return '(unparsable Location)';
  }
}

/**
 * Refuses answers that are not what they claim, before any caller reads them (the writer and the
 * client read the errors' fields): a redirect (never followed: Authorization would travel), a
 * 2xx other than 204 to a write (InfluxDB 1.x/2.x/3.x and VictoriaMetrics answer 204: a 200 is a
 * proxy's page, and the points would be counted written), a 2xx query answer other than a 200
 * in JSON, an HTML page as a ping's answer, and a whole answer whose Content-Length is above
 * maxResponseBytes.
 */
async function checkAnswer(req: TransportRequest, res: TransportResponse, where: string, base: string, limit: number): Promise<void> {
  const status = res.statusCode;
  const endpoint = req.endpoint;
  if (status >= 300 && status < 400) {
    res.body.destroy();
    const location = safeLocation(headerOf(res.headers, 'location'), base);
    const message = `${where} was redirected (HTTP ${status}) to ${location ?? 'no Location'}: redirects are not followed (the credentials would travel with them); point the client at the server's own address`;
    throw new InfluxDBRedirectError(message, { status, serverMessage: `HTTP ${status} to ${location ?? 'no Location'}`, endpoint, location });
  }
  if (status < 200 || status >= 300) return;
  const contentType = headerOf(res.headers, 'content-type');
  let why: string | undefined;
  if (/(?:^|\/)write$/.test(endpoint) && status !== 204) why = `HTTP ${status} to a write, where InfluxDB answers 204: the points are not known to be written`;
  else if (endpoint === 'query' && status !== 200) why = `HTTP ${status} to a query, where InfluxDB answers 200 with JSON`;
  else if (endpoint === 'query' && contentType !== undefined && !/json/i.test(contentType)) why = `a query answer in ${contentType}, not JSON`;
  // influxd's ping has no body (verbose: JSON): a page is a proxy's, and the server behind it unknown.
  else if (endpoint === 'ping' && contentType !== undefined && /html/i.test(contentType)) why = `a ping answered with ${contentType}`;
  if (why !== undefined) {
    const bodyStart = printable(await res.body.head(kBodyStartChars * 4, true));
    const message = `${where}: not an InfluxDB answer: ${why}. The answer (${contentType ?? 'no content type'}) begins ${JSON.stringify(bodyStart)} (a proxy or sign-in page in front of the server?)`;
    throw new InfluxDBResponseError(message, { reason: 'not-influxdb', status, contentType, bodyStart });
  }
  const length = Number(headerOf(res.headers, 'content-length'));
  if (!req.chunked && Number.isFinite(length) && length > limit) {
    res.body.destroy();
    throw res.body.tooLarge(limit, false);
  }
}

/** Redacts the literal after PASSWORD in InfluxQL statements, for debug logs. */
export function redactQuery(q: string): string {
  return q.replace(/(PASSWORD\b[^']*)'(?:[^'\\]|\\.)*'/gi, "$1'***'");
}

/** A statement for debug logs: redacted first, then cut (a cut could remove a password's closing quote). */
export function queryNote(q: string): string {
  const r = redactQuery(q);
  return r.length > 200 ? `${r.slice(0, 200)}…` : r;
}

export class HttpTransport {
  readonly #opts: ResolvedClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(opts: ResolvedClientOptions) {
    this.#opts = opts;
    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      const connect: Record<string, unknown> = {};
      if (opts.unixSocket !== undefined) connect.socketPath = opts.unixSocket;
      if (opts.protocol === 'https') Object.assign(connect, opts.tls);
      this.#dispatcher = new Pool(opts.origin, {
        connect,
        connections: 16,
        // The request's deadline (below) is the one timer: undici's idle timers are off.
        headersTimeout: 0,
        bodyTimeout: 0,
        maxHeaderSize: kMaxHeaderBytes,
        keepAliveTimeout: 4_000,
      });
      this.#ownsDispatcher = true;
    }
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const o = this.#opts;
    let path = o.basePath + req.endpoint;
    if (req.queryString !== undefined) {
      if (req.queryString) path += `?${req.queryString}`;
    } else if (req.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) if (v !== undefined) qs.set(k, v);
      const s = qs.toString();
      if (s) path += `?${s}`;
    }
    const headers: Record<string, string> = { ...o.headers };
    if (o.authorization) headers.authorization = o.authorization;
    if (req.contentType) headers['content-type'] = req.contentType;
    if (req.headers) Object.assign(headers, req.headers);
    const where = `${req.endpoint} to ${o.describe}`;
    const deadline = new Deadline(req.timeoutMs ?? o.timeout, where);
    const limit = req.maxResponseBytes ?? o.maxResponseBytes;
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#dispatcher.request({
        origin: o.origin,
        path,
        method: req.method,
        headers,
        body: req.body ?? null,
        headersTimeout: 0,
        bodyTimeout: 0,
        signal: deadline.signal(req.signal),
      });
    } catch (err) {
      deadline.pause();
      if (debug.enabled) debug('%s %s%s failed after %sms: %s', req.method, o.describe, path, (performance.now() - started).toFixed(1), (err as Error)?.message);
      throw deadline.error ?? toConnectionError(err, where);
    }
    deadline.answered();
    if (debug.enabled) {
      debug('%s %s%s -> %d in %sms%s', req.method, o.describe, path, res.statusCode, (performance.now() - started).toFixed(1), req.note ? ` (${req.note})` : '');
    }
    const sent = req.body === undefined ? 0 : Buffer.byteLength(req.body);
    const errorBytes = /json/i.test(headerOf(res.headers, 'content-type') ?? '') ? kErrorBodyBytes + 2 * sent : kErrorBodyBytes;
    const body = new ResponseBody(res.body, deadline, req.chunked ? `chunked ${req.endpoint} from ${o.describe}` : where, limit, errorBytes);
    const response: TransportResponse = { statusCode: res.statusCode, headers: res.headers, body };
    await checkAnswer(req, response, where, `${o.origin}${o.basePath}`, limit);
    return response;
  }

  /** For messages and logs: the server address without credentials. */
  get describe(): string {
    return this.#opts.describe;
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

/** Reads an error answer: the JSON body's `error`, else `X-Influxdb-Error`, else the text. */
export async function readErrorMessage(res: TransportResponse): Promise<string> {
  let text = '';
  try {
    // Enough for any server message; a proxy's 1 GB error page is not read.
    text = new TextDecoder().decode(await res.body.head(res.body.errorBytes));
  } catch {
    // A cut body (or the deadline) still leaves the header to report.
  }
  const fromJson = jsonErrorMessage(text);
  if (fromJson !== undefined) return fromJson;
  const trimmed = text.trim();
  const header = res.headers['x-influxdb-error'];
  if (typeof header === 'string' && header) return header;
  return trimmed ? truncateText(trimmed) : `HTTP ${res.statusCode}`;
}
