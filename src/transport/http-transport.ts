/**
 * The HTTP layer: one undici pool per client (keep-alive, TLS, unix socket), request building,
 * and the decoding of error answers. It knows nothing of points or results.
 *
 * Credentials travel only in the Authorization header: never in the URL, never in a log line.
 */
import { debuglog } from 'node:util';
import { Pool, type Dispatcher } from 'undici';
import { InfluxDBConnectionError, truncateText } from '../errors.js';
import type { ResolvedClientOptions } from '../options.js';

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
  /** Overrides the client's timeout for this request (ms, 0: none). */
  timeoutMs?: number;
  /** Aborts the request (the batch writer's close deadline). */
  signal?: AbortSignal;
  /** Short description for debug logs (never credentials). */
  note?: string;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * How far a failed request got, decided here once from undici's error and read by everyone else
 * (`retryable`, `requestSent`, `answerUnreadable` on the error; the writer's retry.ts reads them):
 * - 'connect': nothing can have reached the server (refused, DNS, TLS handshake, connect timeout);
 * - 'sent': the request went out (or may have), no answer came (reset, closed, headers timeout);
 * - 'answer': an answer started but could not be read (bad header bytes, headers too large, not
 *   HTTP at all, a body cut short). The server got the request and may have acted on it.
 */
type Phase = 'connect' | 'sent' | 'answer';

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
const kTlsCodes = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/;
/** TLS failures that only a handshake raises (other TLS errors may come mid-exchange: not certain). */
const kCertCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;
const kHandshakeCodes = /^ERR_SSL_(?:WRONG_VERSION_NUMBER|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE)|^ERR_TLS_HANDSHAKE_TIMEOUT$/;

/**
 * Errors raised while a response body was being read (a socket closed mid-body): undici reports
 * them with the same codes as failures before any answer, so the transport marks them as they
 * happen, on the body it hands out.
 */
const kBodyErrors = new WeakSet<object>();

function phaseOf(err: object, code: string): Phase {
  if (kBodyErrors.has(err) || kAnswerCodes.has(code)) return 'answer';
  if (kConnectCodes.has(code) || kCertCodes.test(code) || kHandshakeCodes.test(code)) return 'connect';
  return 'sent';
}

/** undici's code for an error (its parser errors carry none: undici 7 looks their llhttp name up wrongly). */
function codeOf(e: { code?: unknown; name?: unknown; cause?: { code?: unknown } }): string {
  const code = e.cause?.code ?? e.code;
  if (typeof code === 'string' && code) return code.startsWith('HPE_') ? 'UND_ERR_HTTP_PARSER' : code;
  if (e.name === 'HTTPParserError') return 'UND_ERR_HTTP_PARSER';
  return 'UNKNOWN';
}

/**
 * Maps any error from undici or a socket to an InfluxDBConnectionError (other errors pass through),
 * deciding once whether it is retryable and whether the request may have reached the server.
 * `where` is "<endpoint> to <server>": a write's message says whether the points may be stored.
 */
export function toConnectionError(err: unknown, where: string): unknown {
  if (err instanceof InfluxDBConnectionError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (!e || typeof e !== 'object' || e.code === 'UND_ERR_INVALID_ARG') return err;
  // undici wraps socket errors: the useful code is often on the cause.
  const code = codeOf(e);
  const detail = e.cause?.message ?? e.message ?? String(err);
  const phase = phaseOf(e, code);
  let message: string;
  if (phase === 'answer' && /_TIMEOUT$/.test(code)) message = `${where}: the answer stopped arriving: timed out (${code})`;
  else if (phase === 'answer') message = `${where}: the answer could not be read: ${detail} (${code})`;
  else if (/_TIMEOUT$/.test(code)) message = `${where}: timed out (${code})`;
  else if (kCertCodes.test(code)) message = `${where}: TLS certificate rejected (${code}): ${detail}; pass tls.ca to trust the server's certificate`;
  else if (kHandshakeCodes.test(code)) message = `${where}: TLS handshake failed (${code}): ${detail}`;
  else message = `${where}: ${detail} (${code})`;
  // What the caller most needs to know about a write that failed after it was sent.
  if (phase !== 'connect' && /^(?:api\/v2\/)?write /.test(where)) {
    message += phase === 'answer'
      ? '; the request was sent and the server answered, so the points may or may not have been stored'
      : '; the request was sent (at least in part), so the points may or may not have been stored';
  }
  return new InfluxDBConnectionError(message, code, phase === 'answer' || kRetryableCodes.has(code), {
    cause: err, requestSent: phase !== 'connect', answerUnreadable: phase === 'answer',
  });
}

/** Redacts the literal after PASSWORD in InfluxQL statements, for debug logs. */
export function redactQuery(q: string): string {
  return q.replace(/(PASSWORD\b[^']*)'(?:[^'\\]|\\.)*'/gi, "$1'***'");
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
        // The client enforces its own timeout per request (below); 0 here defers to it.
        headersTimeout: opts.timeout,
        bodyTimeout: opts.timeout,
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
    const timeout = req.timeoutMs ?? o.timeout;
    const started = performance.now();
    try {
      const res = await this.#dispatcher.request({
        origin: o.origin,
        path,
        method: req.method,
        headers,
        body: req.body ?? null,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: req.signal ?? null,
      });
      if (debug.enabled) {
        debug('%s %s%s -> %d in %sms%s', req.method, o.describe, path, res.statusCode, (performance.now() - started).toFixed(1), req.note ? ` (${req.note})` : '');
      }
      // A body error (a socket closed mid-body) is an unreadable answer, whoever reads the body.
      res.body.once('error', (e: unknown) => {
        if (e && typeof e === 'object') kBodyErrors.add(e);
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      if (debug.enabled) debug('%s %s%s failed after %sms: %s', req.method, o.describe, path, (performance.now() - started).toFixed(1), (err as Error)?.message);
      throw toConnectionError(err, `${req.endpoint} to ${o.describe}`);
    }
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
    text = await res.body.text();
  } catch {
    // A cut body still leaves the header to report.
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { error?: unknown; message?: unknown };
      if (typeof parsed.error === 'string') return parsed.error;
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // Not JSON after all (a proxy's page): fall through.
    }
  }
  const header = res.headers['x-influxdb-error'];
  if (typeof header === 'string' && header) return header;
  return trimmed ? truncateText(trimmed) : `HTTP ${res.statusCode}`;
}

/** The lines named in "unable to parse '<line>': <reason>" messages (several are joined by newlines). */
export function parseRejectedLines(message: string): string[] {
  const out: string[] = [];
  const re = /unable to parse '((?:[^']|'(?!: ))*)': /g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(message)) !== null) out.push(m[1]!);
  return out;
}
