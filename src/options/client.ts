/**
 * The client's options (the constructor's argument): their types, CLIENT_DEFAULTS, and
 * `resolveClientOptions`, which checks them and parses the URL form; the mode and encoder
 * checks that the constructor and the client's setters share.
 */
import type { Dispatcher } from 'undici';
import type { OutputFormat, OutputOption, Precision } from '../types.js';
import { checkEnum, checkKeys, fail, isPlainObject, optBool, optEnum, optInt, optString, resolveOutput, resolvePrecision, typeName } from './validate.js';

export interface TlsOptions {
  /** Certificate authority (PEM) trusted for the server's certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key, for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Server name for SNI and certificate checks. */
  servername?: string;
  /** Verify the server's certificate. Default true; false is an explicit, insecure opt-out. */
  rejectUnauthorized?: boolean;
}

export interface ClientOptions {
  /** A URL such as `http://user:pass@host:8086/db`; the other options override its parts. */
  url?: string;
  host?: string;
  port?: number;
  /** Path prefix when InfluxDB sits behind a reverse proxy (`/influx/`). */
  path?: string;
  ssl?: boolean;
  tls?: TlsOptions;
  /** Path of the server's unix domain socket (`unix-socket-enabled`). */
  unixSocket?: string;
  username?: string;
  password?: string;
  /** `Authorization: Token …`, for the v1-compatible endpoints of InfluxDB 2.x/3.x. */
  token?: string;
  db?: string;
  /** Alias of `db`. */
  database?: string;
  rp?: string;
  /** Default write precision. */
  precision?: Precision;
  /**
   * Deadline of a request in ms, from its start to the end of its answer (headers and body; a
   * chunked query: its first chunk, then each next one, not counting the time you hold a chunk). 0: none.
   */
  timeout?: number;
  headers?: Record<string, string>;
  /** An undici dispatcher to send requests through instead of the client's own pool. */
  dispatcher?: Dispatcher;
  /** Largest request body a write sends; larger inputs are split across requests. */
  maxBodyBytes?: number;
  /** Largest answer read whole (bytes), and largest line of a chunked answer: beyond it the call fails (default 256 MiB). */
  maxResponseBytes?: number;
  /** Allow Basic/Token credentials over plain HTTP to a host that is not loopback. */
  allowInsecureAuth?: boolean;
  /** Query output format: `raw` (default), `iterable`, `arrow` (alias `dataframe`). */
  output?: OutputOption;
  /**
   * Line-protocol encoder for points and Arrow tables: `ts` (TypeScript, calling thread), `wasm`
   * (WebAssembly on the worker pool) or `auto` (default: small writes in the calling thread,
   * large ones on the pool).
   */
  encoder?: EncoderChoice;
  /** Worker threads of the encoder pool (default: available parallelism). Started on first use. */
  workers?: number;
  /**
   * `async` (default): every method returns a promise. `blocking` (aioinflux's blocking mode): the
   * same methods return their results, for plain synchronous code and the REPL; the requests run
   * on a worker thread. Switch at any time with `client.mode = …` or `client.setMode(…)`.
   */
  mode?: ClientMode;
}

/** The client's running mode (aioinflux's `mode`). */
export type ClientMode = 'async' | 'blocking';
export const CLIENT_MODES: readonly ClientMode[] = ['async', 'blocking'];

export type EncoderChoice = 'ts' | 'wasm' | 'auto';
export const ENCODERS: readonly EncoderChoice[] = ['ts', 'wasm', 'auto'];

export interface ResolvedClientOptions {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  /** Path prefix, always starting and ending with `/`. */
  basePath: string;
  /** `protocol://host:port` used as the request origin (`http://localhost` for a unix socket). */
  origin: string;
  unixSocket: string | undefined;
  tls: TlsOptions;
  /** The Authorization header value, or undefined. Never logged. */
  authorization: string | undefined;
  db: string | undefined;
  rp: string | undefined;
  precision: Precision;
  timeout: number;
  headers: Record<string, string>;
  dispatcher: Dispatcher | undefined;
  maxBodyBytes: number;
  maxResponseBytes: number;
  output: OutputFormat;
  encoder: EncoderChoice;
  workers: number | undefined;
  mode: ClientMode;
  /** For messages and logs: the server address without credentials. */
  describe: string;
  /** Which options the user set (not defaulted): the batch writer's defaults follow these, and only these can conflict with its own. */
  given: { timeout: boolean; maxBodyBytes: boolean };
}

export const CLIENT_DEFAULTS = {
  host: 'localhost',
  port: 8086,
  path: '/',
  ssl: false,
  rejectUnauthorized: true,
  allowInsecureAuth: false,
  precision: 'n' as Precision,
  timeout: 60_000,
  // Well under influxd's default max-body-size (25 000 000 bytes), so a proxy's smaller limit is less likely to bite.
  maxBodyBytes: 5_000_000,
  // Serves real result sets read whole, yet a runaway answer (1 GB of a proxy's page) fails at it; chunked: true streams larger ones.
  maxResponseBytes: 256 * 1024 * 1024,
  output: 'raw' as OutputFormat,
  encoder: 'auto' as EncoderChoice,
  mode: 'async' as ClientMode,
};

const kClientKeys = new Set<string>([
  'url', 'host', 'port', 'path', 'ssl', 'tls', 'unixSocket', 'username', 'password', 'token', 'db', 'database',
  'rp', 'precision', 'timeout', 'headers', 'dispatcher', 'maxBodyBytes', 'maxResponseBytes', 'allowInsecureAuth', 'output', 'encoder', 'workers', 'mode',
]);
const kTlsKeys = new Set<string>(['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']);
const kLoopback = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/** Resolves the constructor argument: a URL string or an options object. */
export function resolveClientOptions(input: string | ClientOptions | undefined): ResolvedClientOptions {
  let opts: Record<string, unknown>;
  if (input === undefined) opts = {};
  else if (typeof input === 'string') opts = { url: input };
  else if (isPlainObject(input)) opts = input as Record<string, unknown>;
  else return fail(`options must be a URL string or an object (got ${typeName(input)})`);
  checkKeys(opts, kClientKeys, 'client');

  // Parts of a URL act as defaults that explicit options override.
  const fromUrl: { protocol?: 'http' | 'https'; host?: string; port?: number; path?: string; username?: string; password?: string; db?: string } = {};
  const url = optString(opts, 'url', 'options');
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      // Never echo the URL: it may hold a password.
      return fail('options.url is not a valid URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`options.url must use http: or https: (got ${u.protocol})`);
    fromUrl.protocol = u.protocol === 'https:' ? 'https' : 'http';
    fromUrl.host = u.hostname;
    fromUrl.port = u.port ? Number(u.port) : fromUrl.protocol === 'https' ? 443 : 80;
    // decodeURIComponent throws a URIError on malformed escapes (`%E0`); never echo the part (it may be a password).
    const decode = (part: string, what: string): string => {
      try {
        return decodeURIComponent(part);
      } catch {
        return fail(`options.url has a malformed percent-escape in its ${what}`);
      }
    };
    if (u.username) fromUrl.username = decode(u.username, 'user name');
    if (u.password) fromUrl.password = decode(u.password, 'password');
    // aioinflux's URL form `http://host:8086/db`: a single path segment names the database.
    const segments = u.pathname.split('/').filter(Boolean).map((s) => decode(s, 'path'));
    if (segments.length === 1) fromUrl.db = segments[0];
    else if (segments.length > 1) fromUrl.path = u.pathname;
    if (u.searchParams.has('u') || u.searchParams.has('p')) fail('options.url must not carry credentials as query parameters: use user:pass@host or username/password');
  }

  const ssl = optBool(opts, 'ssl', 'options') ?? (fromUrl.protocol === 'https' ? true : CLIENT_DEFAULTS.ssl);
  const host = optString(opts, 'host', 'options') ?? fromUrl.host ?? CLIENT_DEFAULTS.host;
  if (host === '') fail('options.host must not be empty');
  const port = optInt(opts, 'port', 'options', 1, 65535) ?? fromUrl.port ?? CLIENT_DEFAULTS.port;
  let path = optString(opts, 'path', 'options') ?? fromUrl.path ?? CLIENT_DEFAULTS.path;
  if (!path.startsWith('/')) path = `/${path}`;
  if (!path.endsWith('/')) path = `${path}/`;

  let tls: TlsOptions = {};
  if (opts.tls !== undefined) {
    if (!isPlainObject(opts.tls)) fail(`options.tls must be an object (got ${typeName(opts.tls)})`);
    checkKeys(opts.tls, kTlsKeys, 'tls');
    optBool(opts.tls, 'rejectUnauthorized', 'options.tls');
    optString(opts.tls, 'servername', 'options.tls');
    tls = { ...(opts.tls as TlsOptions) };
  }
  if (tls.rejectUnauthorized === undefined) tls.rejectUnauthorized = CLIENT_DEFAULTS.rejectUnauthorized;

  const unixSocket = optString(opts, 'unixSocket', 'options');
  if (unixSocket === '') fail('options.unixSocket must not be empty');

  const username = optString(opts, 'username', 'options') ?? fromUrl.username;
  const password = optString(opts, 'password', 'options') ?? fromUrl.password;
  const token = optString(opts, 'token', 'options');
  if (password !== undefined && username === undefined) fail('options.password needs options.username');
  if (token !== undefined && username !== undefined) fail('options.token and options.username cannot both be set');
  let authorization: string | undefined;
  if (username !== undefined) authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  else if (token !== undefined) authorization = `Token ${token}`;
  const allowInsecureAuth = optBool(opts, 'allowInsecureAuth', 'options') ?? CLIENT_DEFAULTS.allowInsecureAuth;
  if (authorization && !ssl && unixSocket === undefined && !kLoopback.test(host) && !allowInsecureAuth) {
    fail(`credentials would be sent in clear text to ${host}: use ssl: true, or set allowInsecureAuth: true to accept that`);
  }

  const db = optString(opts, 'db', 'options');
  const database = optString(opts, 'database', 'options');
  if (db !== undefined && database !== undefined && db !== database) fail('options.db and options.database disagree: give one of them');
  const rp = optString(opts, 'rp', 'options');
  const precision = opts.precision === undefined ? CLIENT_DEFAULTS.precision : resolvePrecision(opts.precision, 'options.precision');
  const timeout = optInt(opts, 'timeout', 'options', 0, 2 ** 31 - 1) ?? CLIENT_DEFAULTS.timeout;
  const maxBodyBytes = optInt(opts, 'maxBodyBytes', 'options', 1024, 2 ** 31 - 1) ?? CLIENT_DEFAULTS.maxBodyBytes;
  const maxResponseBytes = optInt(opts, 'maxResponseBytes', 'options', 1024, Number.MAX_SAFE_INTEGER) ?? CLIENT_DEFAULTS.maxResponseBytes;

  const headers: Record<string, string> = {};
  if (opts.headers !== undefined) {
    if (!isPlainObject(opts.headers)) fail(`options.headers must be an object (got ${typeName(opts.headers)})`);
    for (const [k, v] of Object.entries(opts.headers)) {
      if (typeof v !== 'string') fail(`options.headers.${k} must be a string (got ${typeName(v)})`);
      if (k.toLowerCase() === 'authorization') fail('options.headers must not set Authorization: use username/password or token');
      headers[k.toLowerCase()] = v;
    }
  }

  const dispatcher = opts.dispatcher as Dispatcher | undefined;
  if (dispatcher !== undefined && (typeof dispatcher !== 'object' || dispatcher === null || typeof (dispatcher as Dispatcher).request !== 'function')) {
    fail('options.dispatcher must be an undici Dispatcher');
  }

  const mode = resolveMode(opts.mode === undefined ? CLIENT_DEFAULTS.mode : opts.mode, 'options.mode', dispatcher);

  const protocol = ssl ? 'https' : 'http';
  const hostForUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const origin = unixSocket !== undefined ? `${protocol}://localhost` : `${protocol}://${hostForUrl}:${port}`;
  const describe = unixSocket !== undefined ? `unix:${unixSocket}` : `${protocol}://${hostForUrl}:${port}${path === '/' ? '' : path}`;

  return {
    protocol, host, port, basePath: path, origin, unixSocket, tls, authorization,
    db: db ?? database ?? fromUrl.db, rp, precision, timeout, headers, dispatcher, maxBodyBytes, maxResponseBytes, describe,
    output: opts.output === undefined ? CLIENT_DEFAULTS.output : resolveOutput(opts.output, 'options.output'),
    encoder: optEnum(opts, 'encoder', 'options', ENCODERS) ?? CLIENT_DEFAULTS.encoder,
    workers: optInt(opts, 'workers', 'options', 1, 256),
    mode,
    given: { timeout: opts.timeout !== undefined, maxBodyBytes: opts.maxBodyBytes !== undefined },
  };
}

/** Why a client with its own `dispatcher` cannot run in blocking mode. */
export const kBlockingDispatcherMessage = "options.dispatcher cannot be used with mode 'blocking': the blocking mode sends its requests from a worker thread, where a Dispatcher object cannot be passed";

/**
 * Validates a client mode (`options.mode`, the `mode` setter); with the client's `dispatcher`,
 * also that the mode can use it.
 */
export function resolveMode(v: unknown, what: string, dispatcher?: Dispatcher): ClientMode {
  const mode = checkEnum(v, what, CLIENT_MODES);
  if (mode === 'blocking' && dispatcher !== undefined) fail(kBlockingDispatcherMessage);
  return mode;
}

/** Validates an encoder choice (the `encoder` setter; the options' `encoder` goes through the same checkEnum). */
export function resolveEncoder(v: unknown, what: string): EncoderChoice {
  return checkEnum(v, what, ENCODERS);
}
