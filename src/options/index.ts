/**
 * Every option of the client, its default and its validation, in one place.
 * The constructor and each call go through `resolveClientOptions` / `resolveWriteOptions` /
 * `resolveQueryOptions`; nothing else reads raw options.
 */
import type { Dispatcher } from 'undici';
import { InvalidOptionError } from '../errors.js';
import type { ColumnType, Epoch, FieldType, OutputFormat, OutputOption, PointParser, Precision } from '../types.js';

export type { Epoch, FieldType, OutputFormat, OutputOption, Precision } from '../types.js';

export const PRECISIONS: readonly Precision[] = ['n', 'u', 'ms', 's', 'm', 'h'];
export const OUTPUT_FORMATS: readonly OutputOption[] = ['raw', 'iterable', 'arrow', 'dataframe'];

/** Checks an `output` option; `dataframe` becomes `arrow`. */
export function resolveOutput(value: unknown, what = 'output'): OutputFormat {
  if (value === 'dataframe') return 'arrow';
  if (value === 'raw' || value === 'iterable' || value === 'arrow') return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
  throw new InvalidOptionError(`${what} must be one of ${OUTPUT_FORMATS.map((f) => `'${f}'`).join(', ')} (got ${shown})`);
}
/** Aliases accepted wherever a precision is: `ns` and `us`/`µ` are common spellings. */
const kPrecisionAliases: Record<string, Precision> = { ns: 'n', us: 'u', µ: 'u' };

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
const kEncoders: readonly EncoderChoice[] = ['ts', 'wasm', 'auto'];

export interface WriteOptions {
  /** Measurement for points that have none. */
  measurement?: string;
  db?: string;
  rp?: string;
  precision?: Precision;
  /** Extra tags added to every point (a point's own tag of the same key wins). */
  tags?: Record<string, string>;
  /** Declared field types: `{ requests: 'integer' }` writes that number field as `123i`. */
  fieldTypes?: Record<string, FieldType>;
  /** Accept `\n`/`\r` inside string field values (InfluxDB 1.x stores them; the docs forbid them). */
  allowNewlinesInStrings?: boolean;
  /** NaN / ±Infinity in a float field: refuse the write (default), or leave that field out. */
  nonFinite?: 'error' | 'skipField';
  /** A point or row with no field left: refuse the write (default), or leave it out and report it. */
  invalidRows?: 'error' | 'skip';
  /** Arrow input: the time column (default: the only Timestamp column, else a column named `time`). */
  timeColumn?: string;
  /** Arrow input: columns written as tags besides the dictionary-encoded string columns. */
  tagColumns?: readonly string[];
  /** The encoder of this write (default: the client's `encoder`). */
  encoder?: EncoderChoice;
}

export interface QueryOptions {
  db?: string;
  rp?: string;
  /** Return times as integers in this unit (`n` for nanoseconds) instead of RFC 3339 strings. */
  epoch?: Epoch;
  /** InfluxQL bind parameters for `$name` placeholders. */
  params?: Record<string, string | number | bigint | boolean>;
  /** Stream the answer: the call returns an async iterator of parsed chunks. */
  chunked?: boolean;
  /** Points per chunk (server default 10 000). */
  chunkSize?: number;
  /** This query's bound on its answer (whole, or per chunk when chunked), instead of the client's `maxResponseBytes`. */
  maxResponseBytes?: number;
  /** Output format of this call (default: the client's `output`). */
  output?: OutputOption;
  /** `iterable` output: applied to every point, `(values, meta) => …` (aioinflux's iterpoints parser). */
  parser?: PointParser;
  /** `arrow` output: force column types by name, e.g. `{ max: 'integer' }`. */
  columnTypes?: Record<string, ColumnType>;
}

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
  precision: 'n' as Precision,
  timeout: 60_000,
  // Well under influxd's default max-body-size (25 000 000 bytes), so a proxy's smaller limit is less likely to bite.
  maxBodyBytes: 5_000_000,
  // Serves real result sets read whole, yet a runaway answer (1 GB of a proxy's page) fails at it; chunked: true streams larger ones.
  maxResponseBytes: 256 * 1024 * 1024,
};

const kClientKeys = new Set<string>([
  'url', 'host', 'port', 'path', 'ssl', 'tls', 'unixSocket', 'username', 'password', 'token', 'db', 'database',
  'rp', 'precision', 'timeout', 'headers', 'dispatcher', 'maxBodyBytes', 'maxResponseBytes', 'allowInsecureAuth', 'output', 'encoder', 'workers', 'mode',
]);
const kTlsKeys = new Set<string>(['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']);
const kEncodeKeys = new Set<string>(['measurement', 'precision', 'tags', 'fieldTypes', 'allowNewlinesInStrings', 'nonFinite', 'invalidRows', 'timeColumn', 'tagColumns']);
const kWriteKeys = new Set<string>([...kEncodeKeys, 'db', 'rp', 'encoder']);
const kEncodeCallKeys = new Set<string>([...kEncodeKeys, 'encoder']);
const kQueryKeys = new Set<string>(['db', 'rp', 'epoch', 'params', 'chunked', 'chunkSize', 'maxResponseBytes', 'output', 'parser', 'columnTypes']);
const kFieldTypes = new Set<string>(['float', 'integer', 'string', 'boolean']);
const kColumnTypes = new Set<string>([...kFieldTypes, 'tag', 'time']);

function fail(message: string): never {
  throw new InvalidOptionError(message);
}

function checkKeys(obj: object, allowed: Set<string>, what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      fail(`unknown ${what} option "${key}" (known: ${[...allowed].join(', ')})`);
    }
  }
}

/**
 * The options' own properties (a copy without prototype): a key that other code put on
 * `Object.prototype` (`db`, `tags`, `measurement` …) is not an option of every call.
 */
function ownOptions(opts: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, opts);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optString(obj: Record<string, unknown>, key: string, what: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${what}.${key} must be a string (got ${typeName(v)})`);
  return v;
}

function optBool(obj: Record<string, unknown>, key: string, what: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(`${what}.${key} must be a boolean (got ${typeName(v)})`);
  return v;
}

function optInt(obj: Record<string, unknown>, key: string, what: string, min: number, max: number, orElse = ''): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${what}.${key} must be an integer from ${min} to ${max}${orElse ? ` ${orElse}` : ''} (got ${typeName(v)} ${safeShow(v)})`);
  }
  return v;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function safeShow(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}

/** Validates a precision given anywhere; returns the canonical form. */
export function resolvePrecision(v: unknown, what: string): Precision {
  if (typeof v === 'string') {
    if ((PRECISIONS as readonly string[]).includes(v)) return v as Precision;
    // Own keys only: 'toString' or 'constructor' must not find Object.prototype's members.
    if (Object.hasOwn(kPrecisionAliases, v)) return kPrecisionAliases[v]!;
  }
  return fail(`${what} must be one of ${PRECISIONS.join(', ')} (got ${typeName(v)} ${safeShow(v)})`);
}

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
  if (tls.rejectUnauthorized === undefined) tls.rejectUnauthorized = true;

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
  const allowInsecureAuth = optBool(opts, 'allowInsecureAuth', 'options') ?? false;
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

  const mode = opts.mode === undefined ? 'async' : resolveMode(opts.mode, 'options.mode');
  if (mode === 'blocking' && dispatcher !== undefined) fail(kBlockingDispatcherMessage);

  const protocol = ssl ? 'https' : 'http';
  const hostForUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const origin = unixSocket !== undefined ? `${protocol}://localhost` : `${protocol}://${hostForUrl}:${port}`;
  const describe = unixSocket !== undefined ? `unix:${unixSocket}` : `${protocol}://${hostForUrl}:${port}${path === '/' ? '' : path}`;

  return {
    protocol, host, port, basePath: path, origin, unixSocket, tls, authorization,
    db: db ?? database ?? fromUrl.db, rp, precision, timeout, headers, dispatcher, maxBodyBytes, maxResponseBytes, describe,
    output: opts.output === undefined ? 'raw' : resolveOutput(opts.output, 'options.output'),
    encoder: optEnum(opts, 'encoder', 'options', kEncoders) ?? 'auto',
    workers: optInt(opts, 'workers', 'options', 1, 256),
    mode,
    given: { timeout: opts.timeout !== undefined, maxBodyBytes: opts.maxBodyBytes !== undefined },
  };
}

/** Why a client with its own `dispatcher` cannot run in blocking mode. */
export const kBlockingDispatcherMessage = "options.dispatcher cannot be used with mode 'blocking': the blocking mode sends its requests from a worker thread, where a Dispatcher object cannot be passed";

/** Validates a client mode (`options.mode`, the `mode` setter). */
export function resolveMode(v: unknown, what: string): ClientMode {
  if (v === 'async' || v === 'blocking') return v;
  return fail(`${what} must be one of ${CLIENT_MODES.map((m) => `'${m}'`).join(', ')} (got ${safeShow(v) || typeName(v)})`);
}

export interface ResolvedWriteOptions extends ResolvedEncodeOptions {
  db: string;
  rp: string | undefined;
  encoder: EncoderChoice | undefined;
}

/** The options that shape encoding, shared by `write()` and `encode()`. */
export interface ResolvedEncodeOptions {
  measurement: string | undefined;
  precision: Precision;
  tags: Record<string, string> | undefined;
  fieldTypes: Record<string, FieldType> | undefined;
  allowNewlinesInStrings: boolean;
  nonFinite: 'error' | 'skipField';
  invalidRows: 'error' | 'skip';
  timeColumn: string | undefined;
  tagColumns: readonly string[] | undefined;
}

function optEnum<T extends string>(opts: Record<string, unknown>, key: string, what: string, allowed: readonly T[]): T | undefined {
  const v = opts[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(`${what}.${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${safeShow(v) || typeName(v)})`);
  return v as T;
}

function resolveEncodeParts(opts: Record<string, unknown>, what: string, precisionDefault: Precision): ResolvedEncodeOptions {
  const measurement = optString(opts, 'measurement', what);
  const precision = opts.precision === undefined ? precisionDefault : resolvePrecision(opts.precision, `${what}.precision`);
  let tags: Record<string, string> | undefined;
  if (opts.tags !== undefined) {
    if (!isPlainObject(opts.tags)) fail(`${what}.tags must be an object (got ${typeName(opts.tags)})`);
    for (const [k, v] of Object.entries(opts.tags)) {
      if (typeof v !== 'string') fail(`${what}.tags.${k} must be a string (got ${typeName(v)})`);
    }
    tags = opts.tags as Record<string, string>;
    if (Object.keys(tags).length === 0) tags = undefined;
  }
  let fieldTypes: Record<string, FieldType> | undefined;
  if (opts.fieldTypes !== undefined) {
    if (!isPlainObject(opts.fieldTypes)) fail(`${what}.fieldTypes must be an object (got ${typeName(opts.fieldTypes)})`);
    for (const [k, v] of Object.entries(opts.fieldTypes)) {
      if (typeof v !== 'string' || !kFieldTypes.has(v)) fail(`${what}.fieldTypes.${k} must be one of float, integer, string, boolean (got ${safeShow(v) || typeName(v)})`);
    }
    fieldTypes = opts.fieldTypes as Record<string, FieldType>;
  }
  const allowNewlinesInStrings = optBool(opts, 'allowNewlinesInStrings', what) ?? false;
  const nonFinite = optEnum(opts, 'nonFinite', what, ['error', 'skipField'] as const) ?? 'error';
  const invalidRows = optEnum(opts, 'invalidRows', what, ['error', 'skip'] as const) ?? 'error';
  const timeColumn = optString(opts, 'timeColumn', what);
  let tagColumns: readonly string[] | undefined;
  if (opts.tagColumns !== undefined) {
    if (!Array.isArray(opts.tagColumns) || opts.tagColumns.some((c) => typeof c !== 'string')) fail(`${what}.tagColumns must be an array of column names (got ${typeName(opts.tagColumns)})`);
    tagColumns = opts.tagColumns as string[];
  }
  return { measurement, precision, tags, fieldTypes, allowNewlinesInStrings, nonFinite, invalidRows, timeColumn, tagColumns };
}

/** Options of `encode()`: the write options that shape the bytes (no db/rp). Precision defaults to `n`. */
export function resolveEncodeOptions(input: unknown): ResolvedEncodeOptions {
  return resolveEncodeCall(input).options;
}

/**
 * `encode()`'s options and its encoder (default `auto`). encode() runs in the calling thread, so
 * `wasm` there means the WebAssembly encoder without the pool; the values are those of write().
 */
export function resolveEncodeCall(input: unknown): { options: ResolvedEncodeOptions; encoder: EncoderChoice } {
  const given = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(given)) fail(`encode options must be an object (got ${typeName(input)})`);
  const opts = ownOptions(given);
  checkKeys(opts, kEncodeCallKeys, 'encode');
  const encoder = optEnum(opts, 'encoder', 'encode options', kEncoders) ?? 'auto';
  return { options: resolveEncodeParts(opts, 'encode options', 'n'), encoder };
}

export function resolveWriteOptions(input: WriteOptions | undefined, client: { db: string | undefined; rp: string | undefined; precision: Precision }): ResolvedWriteOptions {
  const given = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(given)) fail(`write options must be an object (got ${typeName(input)})`);
  const opts = ownOptions(given);
  checkKeys(opts, kWriteKeys, 'write');
  const db = optString(opts, 'db', 'write options') ?? client.db;
  if (db === undefined || db === '') fail('no database: set db on the client (client.db = "mydb") or pass { db } to write()');
  const rp = optString(opts, 'rp', 'write options') ?? client.rp;
  const encoder = optEnum(opts, 'encoder', 'write options', kEncoders);
  return { ...resolveEncodeParts(opts, 'write options', client.precision), db, rp, encoder };
}

export interface ResolvedQueryOptions {
  db: string | undefined;
  rp: string | undefined;
  epoch: Epoch | undefined;
  params: Record<string, string | number | bigint | boolean> | undefined;
  chunked: boolean;
  chunkSize: number | undefined;
  /** undefined: the client's. */
  maxResponseBytes: number | undefined;
  output: OutputFormat;
  parser: PointParser | undefined;
  columnTypes: Record<string, ColumnType> | undefined;
}

export function resolveQueryOptions(input: QueryOptions | undefined, client: { db: string | undefined; rp: string | undefined; output: OutputFormat }): ResolvedQueryOptions {
  const opts = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(opts)) fail(`query options must be an object (got ${typeName(input)})`);
  checkKeys(opts, kQueryKeys, 'query');
  const db = optString(opts, 'db', 'query options') ?? client.db;
  const rp = optString(opts, 'rp', 'query options') ?? client.rp;
  const epoch = opts.epoch === undefined ? undefined : resolvePrecision(opts.epoch, 'query options.epoch');
  let params: ResolvedQueryOptions['params'];
  if (opts.params !== undefined) {
    if (!isPlainObject(opts.params)) fail(`query options.params must be an object (got ${typeName(opts.params)})`);
    for (const [k, v] of Object.entries(opts.params)) {
      const t = typeof v;
      if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') fail(`query options.params.${k} must be a string, number, bigint or boolean (got ${typeName(v)})`);
      if (t === 'number' && !Number.isFinite(v)) fail(`query options.params.${k} must be finite (got ${String(v)})`);
    }
    params = opts.params as ResolvedQueryOptions['params'];
  }
  const chunked = optBool(opts, 'chunked', 'query options') ?? false;
  const chunkSize = optInt(opts, 'chunkSize', 'query options', 1, 2 ** 31 - 1);
  if (chunkSize !== undefined && !chunked) fail('query options.chunkSize needs chunked: true');
  const maxResponseBytes = optInt(opts, 'maxResponseBytes', 'query options', 1024, Number.MAX_SAFE_INTEGER);
  const output = opts.output === undefined ? client.output : resolveOutput(opts.output, 'query options.output');
  const parser = opts.parser as PointParser | undefined;
  if (parser !== undefined && typeof parser !== 'function') fail(`query options.parser must be a function (got ${typeName(parser)})`);
  if (parser !== undefined && output !== 'iterable') fail(`query options.parser applies to output 'iterable' (output is '${output}')`);
  let columnTypes: Record<string, ColumnType> | undefined;
  if (opts.columnTypes !== undefined) {
    if (!isPlainObject(opts.columnTypes)) fail(`query options.columnTypes must be an object (got ${typeName(opts.columnTypes)})`);
    for (const [k, v] of Object.entries(opts.columnTypes)) {
      if (typeof v !== 'string' || !kColumnTypes.has(v)) fail(`query options.columnTypes.${k} must be one of ${[...kColumnTypes].join(', ')} (got ${safeShow(v) || typeName(v)})`);
    }
    if (output !== 'arrow') fail(`query options.columnTypes applies to output 'arrow' (output is '${output}')`);
    columnTypes = opts.columnTypes as Record<string, ColumnType>;
  }
  return { db, rp, epoch, params, chunked, chunkSize, maxResponseBytes, output, parser, columnTypes };
}

// ---- the batch writer ------------------------------------------------------------------------

/** What a full buffer does to `write()`: wait (default), refuse at once, or drop points (counted). */
export type WhenFull = 'block' | 'error' | 'dropNewest' | 'dropOldest';

/** Options of `client.writer()`. Encoding options are those of `write()`. */
export interface WriterOptions extends WriteOptions {
  /** Most points in one request (default 5000, or batchBytes / 1000 when that is more). */
  batchSize?: number;
  /** Most bytes in one request (default: the client's maxBodyBytes, at most a quarter of maxBufferBytes). */
  batchBytes?: number;
  /** A batch that is not full is sent after this long (default 1000 ms, at most half a given deliveryTimeoutMs). */
  flushIntervalMs?: number;
  /** Random extra delay up to this, added to each interval, so that many writers do not flush in step (default 0). */
  flushJitterMs?: number;
  /**
   * Requests in flight at once. 'auto' (the default) finds the concurrency that gives the most
   * throughput and backs off when the server slows down, up to 8 per server; a number fixes it.
   * Either way points are sent in per-series lanes, one request out per lane, so that retries
   * never reorder last-write-wins updates of a series.
   */
  maxInFlight?: number | 'auto';
  /** Compress bodies (`Content-Encoding: gzip`) on libuv's thread pool; a number is the zlib level (default false). */
  gzip?: boolean | number;
  /** Memory bound, in bytes: points being batched, batches waiting, in flight and retried (default 64 MiB, or room for max(4, maxInFlight + 2) batches of a given batchBytes). */
  maxBufferBytes?: number;
  /** What `write()` does when the buffer is full (default 'block'). */
  whenFull?: WhenFull;
  /** How long a blocked `write()` waits for room before rejecting with BufferFullError (default 60 000 ms). */
  maxBlockMs?: number;
  /** `write()` calls that may wait to be taken in (for room, or behind earlier ones); one more is refused at once with BufferFullError (default 10 000). */
  maxWaitingWrites?: number;
  /** A point not acknowledged this long after it was accepted is given up, as expired (default 120 000 ms, or longer when the request timeout needs it). */
  deliveryTimeoutMs?: number;
  /** Timeout of one request (default: the client's `timeout` if set, else 30 000 ms; within a given deliveryTimeoutMs). */
  requestTimeoutMs?: number;
  /** First retry delay; it doubles per attempt, with full jitter (default 500 ms, at most retryMaxDelayMs). */
  retryInitialDelayMs?: number;
  /** Longest delay between retries, and between probes of a target paused by 401/403/404 (default 30 000 ms, at most a quarter of deliveryTimeoutMs). */
  retryMaxDelayMs?: number;
  /** Longest wait a `Retry-After` header can impose (default 600 000 ms, as Telegraf). */
  maxRetryAfterMs?: number;
  /** On 404 "database not found", create the database and resend (default false: surface the error). */
  createDatabase?: boolean;
  /** The write API: `v1` (`/write`, default) or `v2` (`/api/v2/write`: InfluxDB 2.x/3.x, VictoriaMetrics; the default when org or bucket is given). */
  api?: 'v1' | 'v2';
  /** v2: the organization (`org=`). */
  org?: string;
  /** v2: the bucket (default: `db`, or `db/rp` with a retention policy). */
  bucket?: string;
  /** More servers, tried in turn when the current one fails with a connection error or 5xx: URLs or client options. */
  failover?: ReadonlyArray<string | ClientOptions>;
  /**
   * More servers written to at once with the client's own (a cluster's front doors: InfluxDB
   * Enterprise data nodes, VictoriaMetrics vminsert nodes): batches go to each in proportion to how
   * fast it acknowledges them; one that fails is left out while it is down, then probed and taken back.
   */
  spread?: ReadonlyArray<string | ClientOptions>;
  /** Points the server refused, or that expired or were dropped, with the reason: the dead letter. */
  onRejected?: (lines: string[], error: Error) => void;
  /** Errors worth knowing at once: auth and configuration errors, and each retry's cause. */
  onError?: (error: Error) => void;
  /**
   * A durable spool: every point accepted by `write()` is on disk (fsynced, group commit) before
   * `write()` resolves, and a writer opened later on the same `dir` sends what is left first.
   */
  spool?: SpoolOptions;
}

export interface SpoolOptions {
  /** The spool's directory (created if missing); one process at a time (a lock file holds its pid). */
  dir: string;
  /** Disk bound in bytes (default 1 GiB); when reached, `whenFull` applies. */
  maxBytes?: number;
  /** Told what a restart found in the spool (default: one line on stderr, as a process warning). */
  onRecover?: (report: SpoolRecovery) => void;
}

/** What a writer found in its spool on opening it. */
export interface SpoolRecovery {
  dir: string;
  /** Points (lines) left by an earlier process, sent again before new writes. */
  points: number;
  records: number;
  /** When the oldest of them was accepted (ms since the epoch), undefined when none. */
  oldestAcceptedAt: number | undefined;
  /** Damaged records skipped (checksum), with their points when known. */
  damaged: { records: number; points: number };
  /** Bytes of a torn last record (a crash while writing it) cut off: never acknowledged to a write(). */
  tornBytes: number;
}

export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  onRecover: ((report: SpoolRecovery) => void) | undefined;
}

export interface ResolvedWriterOptions {
  write: ResolvedWriteOptions;
  batchSize: number;
  batchBytes: number;
  flushIntervalMs: number;
  flushJitterMs: number;
  /** The most requests in flight, and the number of per-series lanes (1: no splitting by series). */
  maxInFlight: number;
  /** 'auto': the limit adapts between 1 and maxInFlight per server. */
  adaptive: boolean;
  /** zlib level, or 0 for no compression. */
  gzipLevel: number;
  maxBufferBytes: number;
  whenFull: WhenFull;
  maxBlockMs: number;
  maxWaitingWrites: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  maxRetryAfterMs: number;
  createDatabase: boolean;
  api: 'v1' | 'v2';
  org: string | undefined;
  bucket: string | undefined;
  failover: ResolvedClientOptions[];
  spread: ResolvedClientOptions[];
  onRejected: ((lines: string[], error: Error) => void) | undefined;
  onError: ((error: Error) => void) | undefined;
  /** `close()`'s timeout when the call gives none. */
  closeTimeoutMs: number;
  /** The durable spool, or undefined (the in-memory writer). */
  spool: ResolvedSpoolOptions | undefined;
}

/** Lanes (and most requests in flight) per server under maxInFlight 'auto'. */
export const kAutoInFlightPerServer = 8;

export const WRITER_DEFAULTS = {
  batchSize: 5000,
  flushIntervalMs: 1000,
  flushJitterMs: 0,
  maxInFlight: 'auto' as number | 'auto',
  maxBufferBytes: 64 * 1024 * 1024,
  whenFull: 'block' as WhenFull,
  maxBlockMs: 60_000,
  // Unawaited writes hold their input and a promise each: 1,000,000 of them took 930 MB.
  maxWaitingWrites: 10_000,
  deliveryTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
  retryInitialDelayMs: 500,
  retryMaxDelayMs: 30_000,
  maxRetryAfterMs: 600_000,
  spoolMaxBytes: 1024 * 1024 * 1024,
};

const kWriterOwnKeys = [
  'batchSize', 'batchBytes', 'flushIntervalMs', 'flushJitterMs', 'maxInFlight', 'gzip', 'maxBufferBytes', 'whenFull',
  'maxBlockMs', 'maxWaitingWrites', 'deliveryTimeoutMs', 'requestTimeoutMs', 'retryInitialDelayMs', 'retryMaxDelayMs', 'maxRetryAfterMs',
  'createDatabase', 'api', 'org', 'bucket', 'failover', 'spread', 'onRejected', 'onError', 'spool',
];
const kWriterKeys = new Set<string>([...kWriteKeys, ...kWriterOwnKeys]);
const kMaxMs = 2 ** 31 - 1;

/** What the writer takes from its client: defaults, and which of the client's options the user set. */
export interface WriterClientContext {
  db: string | undefined;
  rp: string | undefined;
  precision: Precision;
  maxBodyBytes: number;
  /** The client's request timeout (0: none). */
  timeout?: number;
  given?: ResolvedClientOptions['given'];
}

/**
 * The defaults' own ratio, 5 000 000 bytes per 5000 lines: a batchBytes above the default raises
 * the derived batchSize with it, so that the line count does not cap it.
 */
const kBytesPerLine = 1000;

/**
 * Every option of the writer, resolved. A default that depends on another option follows the
 * value the user gave for it; only a combination the user set explicitly that cannot work is
 * refused, naming both options. The dependencies (given / not given):
 *
 * - batchBytes: the client's maxBodyBytes, at most maxBufferBytes / max(4, maxInFlight + 2).
 *   maxBufferBytes: 64 MiB, raised to hold that many batches of a given batchBytes.
 *   Refused: batchBytes > maxBufferBytes; batchBytes > the client's maxBodyBytes (set on the client).
 * - batchSize: 5000, or batchBytes / 1000 when larger. Never refused (two caps: whichever comes first).
 * - flushIntervalMs: 1000; with a given deliveryTimeoutMs at most half of it (less the jitter), and what
 *   a given requestTimeoutMs leaves. requestTimeoutMs: the client's `timeout` if set, else 30 000; with a given
 *   deliveryTimeoutMs, at most what the flush wait leaves. deliveryTimeoutMs: 120 000, raised to
 *   requestTimeoutMs + flushIntervalMs + flushJitterMs (+ a given retryInitialDelayMs).
 *   Refused: deliveryTimeoutMs < requestTimeoutMs + flushIntervalMs + flushJitterMs; flushJitterMs with flushIntervalMs 0.
 * - retryMaxDelayMs: 30 000, at most deliveryTimeoutMs / 4, at least retryInitialDelayMs.
 *   retryInitialDelayMs: 500, at most retryMaxDelayMs and deliveryTimeoutMs / 4.
 *   Refused: retryMaxDelayMs < retryInitialDelayMs; retryInitialDelayMs > deliveryTimeoutMs.
 * - maxBlockMs: 60 000. Refused with a whenFull other than 'block' (it would not apply).
 * - api: 'v2' when org or bucket is given, else 'v1'. bucket: db, or db/rp. Refused: org/bucket with
 *   api 'v1'; createDatabase or precision m/h with api 'v2'.
 * - closeTimeoutMs (close()'s default): deliveryTimeoutMs.
 * - Independent: gzip, maxRetryAfterMs (the server's own Retry-After is obeyed, up to it), failover.
 */
export function resolveWriterOptions(input: WriterOptions | undefined, client: WriterClientContext): ResolvedWriterOptions {
  const opts = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(opts)) fail(`writer options must be an object (got ${typeName(input)})`);
  checkKeys(opts, kWriterKeys, 'writer');
  const writeOnly: Record<string, unknown> = {};
  for (const k of kWriteKeys) if (opts[k] !== undefined) writeOnly[k] = opts[k];
  const write = resolveWriteOptions(writeOnly as WriteOptions, client);
  const what = 'writer options';
  const D = WRITER_DEFAULTS;
  const clientGiven = client.given ?? { timeout: false, maxBodyBytes: false };
  let gzipLevel = 0;
  if (opts.gzip !== undefined) {
    if (opts.gzip === true) gzipLevel = 1;
    else if (opts.gzip === false) gzipLevel = 0;
    else gzipLevel = optInt(opts, 'gzip', what, 1, 9) ?? 0;
  }

  // ---- more servers (their number sets the lanes under 'auto') --------------------------------
  const servers = (key: 'failover' | 'spread'): ResolvedClientOptions[] => {
    const list = opts[key];
    if (list === undefined) return [];
    if (!Array.isArray(list)) fail(`writer options.${key} must be an array of URLs or client options (got ${typeName(list)})`);
    return list.map((f: unknown, i: number) => {
      if (typeof f !== 'string' && !isPlainObject(f)) fail(`writer options.${key}[${i}] must be a URL or client options (got ${typeName(f)})`);
      return resolveClientOptions(f as string | ClientOptions);
    });
  };
  const failover = servers('failover');
  const spread = servers('spread');

  // ---- sizes ------------------------------------------------------------------------------
  const inFlightGiven = opts.maxInFlight ?? D.maxInFlight;
  const adaptive = inFlightGiven === 'auto';
  const maxInFlight = adaptive ? Math.min(64, kAutoInFlightPerServer * (1 + spread.length)) : optInt({ maxInFlight: inFlightGiven }, 'maxInFlight', what, 1, 64, "or 'auto'")!;
  // The buffer must hold the batch being filled, one per request in flight and one queued behind
  // them (so that sending never waits on intake), and at least 4 (room for retries to pile up):
  // a derived batch takes at most that share of the buffer, and a derived buffer holds that many batches.
  const batchesInBuffer = Math.max(4, maxInFlight + 2);
  const batchBytesGiven = optInt(opts, 'batchBytes', what, 1024, 2 ** 31 - 1);
  const maxBufferGiven = optInt(opts, 'maxBufferBytes', what, 1024, Number.MAX_SAFE_INTEGER);
  // Never below the default bound: a given batchBytes only raises it.
  const maxBufferBytes = maxBufferGiven ?? Math.max(D.maxBufferBytes, (batchBytesGiven ?? 0) * batchesInBuffer);
  // The client's maxBodyBytes (the largest body its writes send), cut to a share of the buffer so that
  // a small memory bound needs no second option; 1024 is both options' floor, so a batch still fits.
  const batchBytes = batchBytesGiven ?? Math.max(1024, Math.min(client.maxBodyBytes, Math.floor(maxBufferBytes / batchesInBuffer)));
  if (batchBytesGiven !== undefined && maxBufferGiven !== undefined && batchBytes > maxBufferBytes) {
    fail(`${what}.batchBytes (${batchBytes}) must be at most maxBufferBytes (${maxBufferBytes}): a full batch must fit the buffer. Lower batchBytes or raise maxBufferBytes, or leave batchBytes out (it then follows maxBufferBytes)`);
  }
  if (batchBytesGiven !== undefined && clientGiven.maxBodyBytes && batchBytes > client.maxBodyBytes) {
    fail(`${what}.batchBytes (${batchBytes}) must be at most the client's maxBodyBytes (${client.maxBodyBytes}), the largest body it sends. Lower batchBytes or raise the client's maxBodyBytes, or leave batchBytes out (it then follows maxBodyBytes)`);
  }
  const batchSize = optInt(opts, 'batchSize', what, 1, 10_000_000) ?? Math.min(10_000_000, Math.max(D.batchSize, Math.floor(batchBytes / kBytesPerLine)));

  // ---- times ------------------------------------------------------------------------------
  const deliveryGiven = optInt(opts, 'deliveryTimeoutMs', what, 1, kMaxMs);
  const requestGiven = optInt(opts, 'requestTimeoutMs', what, 1, kMaxMs);
  const flushGiven = optInt(opts, 'flushIntervalMs', what, 0, kMaxMs);
  const flushJitterMs = optInt(opts, 'flushJitterMs', what, 0, kMaxMs) ?? D.flushJitterMs;
  const initialGiven = optInt(opts, 'retryInitialDelayMs', what, 1, kMaxMs);
  const maxDelayGiven = optInt(opts, 'retryMaxDelayMs', what, 1, kMaxMs);
  // A given delivery budget is shared: a part-filled batch waits at most half of what the jitter
  // leaves of it, and no more than a given request timeout leaves. At least 1 ms with jitter or a
  // given request timeout: at 0 the writer sends every write() as a batch of its own (and ignores
  // the jitter), so a request timeout that leaves no room to batch is refused below instead.
  const flushIntervalMs = flushGiven ?? (deliveryGiven === undefined
    ? D.flushIntervalMs
    : Math.max(flushJitterMs > 0 || requestGiven !== undefined ? 1 : 0,
      Math.min(D.flushIntervalMs, Math.floor((deliveryGiven - flushJitterMs) / 2), requestGiven === undefined ? Infinity : deliveryGiven - requestGiven - flushJitterMs)));
  if (flushJitterMs > 0 && flushIntervalMs === 0) {
    fail(`${what}.flushJitterMs (${flushJitterMs}) has no effect with flushIntervalMs 0 (each write is sent at once). Leave flushJitterMs out, or set flushIntervalMs above 0`);
  }
  // The client's timeout, when the user set it, bounds the writer's requests too (0, none: as long
  // as the default budget allows); else 30 s. Within a given delivery budget: what the flush wait
  // leaves, so that a point still gets one full attempt.
  const clientTimeout = clientGiven.timeout && client.timeout !== undefined ? client.timeout : undefined;
  const requestBase = clientTimeout === undefined ? D.requestTimeoutMs : clientTimeout === 0 ? D.deliveryTimeoutMs - D.flushIntervalMs : clientTimeout;
  const requestTimeoutMs = requestGiven ?? (deliveryGiven === undefined
    ? requestBase
    : Math.max(1, Math.min(clientTimeout === 0 ? Infinity : requestBase, deliveryGiven - flushIntervalMs - flushJitterMs)));
  // Kafka's rule (delivery.timeout.ms ≥ request.timeout.ms + linger.ms): a point must get one full
  // attempt after its batch's longest wait. A derived budget grows to that, plus a given first
  // retry delay, so that at least one retry fits too.
  const firstAttempt = requestTimeoutMs + flushIntervalMs + flushJitterMs;
  const deliveryTimeoutMs = deliveryGiven ?? Math.max(D.deliveryTimeoutMs, firstAttempt + (initialGiven ?? 0));
  if (deliveryTimeoutMs < firstAttempt) {
    // Reached only with a given deliveryTimeoutMs and at least one of the others given: derived ones fit.
    const terms = ([['requestTimeoutMs', requestTimeoutMs, requestGiven], ['flushIntervalMs', flushIntervalMs, flushGiven], ['flushJitterMs', flushJitterMs, opts.flushJitterMs]] as const)
      .filter(([k, v, given]) => given !== undefined || v > 0 || k !== 'flushJitterMs');
    const given = terms.filter(([, , g]) => g !== undefined).map(([k]) => k);
    const one = given.length === 1;
    fail(`${what}.deliveryTimeoutMs (${deliveryTimeoutMs}) must be at least ${terms.map(([k, v]) => `${k} (${v})`).join(' + ')} = ${firstAttempt}: a point waits for its batch, then must get one full attempt. `
      + `Raise deliveryTimeoutMs, or lower ${given.join(' or ')} (or leave ${one ? 'it' : 'them'} out: ${one ? 'it follows' : 'they follow'} deliveryTimeoutMs)`);
  }
  // Backoff grows to at most a quarter of the delivery budget (30 s of the default 120 s), so that
  // several retries fit it, and never below a given first delay.
  const retryMaxDelayMs = maxDelayGiven ?? Math.max(initialGiven ?? 1, Math.min(D.retryMaxDelayMs, Math.floor(deliveryTimeoutMs / 4)));
  // 500 ms, or less under a small cap or a small budget.
  const retryInitialDelayMs = initialGiven ?? Math.max(1, Math.min(D.retryInitialDelayMs, retryMaxDelayMs, Math.floor(deliveryTimeoutMs / 4)));
  if (retryMaxDelayMs < retryInitialDelayMs) {
    fail(`${what}.retryMaxDelayMs (${retryMaxDelayMs}) must be at least retryInitialDelayMs (${retryInitialDelayMs}). Raise retryMaxDelayMs or lower retryInitialDelayMs, or leave one of them out (it then follows the other)`);
  }
  if (retryInitialDelayMs > deliveryTimeoutMs) {
    fail(`${what}.retryInitialDelayMs (${retryInitialDelayMs}) must be at most deliveryTimeoutMs (${deliveryTimeoutMs}): the first retry would mostly come after its points expired. Lower retryInitialDelayMs or raise deliveryTimeoutMs, or leave one of them out`);
  }
  const maxRetryAfterMs = optInt(opts, 'maxRetryAfterMs', what, 0, kMaxMs) ?? D.maxRetryAfterMs;

  // ---- when the buffer is full ----------------------------------------------------------------
  const whenFull = optEnum(opts, 'whenFull', what, ['block', 'error', 'dropNewest', 'dropOldest'] as const) ?? D.whenFull;
  const maxBlockMs = optInt(opts, 'maxBlockMs', what, 0, kMaxMs) ?? D.maxBlockMs;
  if (opts.maxBlockMs !== undefined && whenFull !== 'block') {
    fail(`${what}.maxBlockMs applies to whenFull: 'block' (whenFull is '${whenFull}', which never waits). Leave maxBlockMs out, or use whenFull: 'block'`);
  }
  const maxWaitingWrites = optInt(opts, 'maxWaitingWrites', what, 1, Number.MAX_SAFE_INTEGER) ?? D.maxWaitingWrites;

  // ---- where to ---------------------------------------------------------------------------
  const createDatabase = optBool(opts, 'createDatabase', what) ?? false;
  const org = optString(opts, 'org', what);
  const bucketGiven = optString(opts, 'bucket', what);
  // Only the v2 API has an org and a bucket: giving one of them picks it.
  const apiGiven = optEnum(opts, 'api', what, ['v1', 'v2'] as const);
  const api = apiGiven ?? (org !== undefined || bucketGiven !== undefined ? 'v2' : 'v1');
  const picked = apiGiven === undefined ? ' (picked by org/bucket)' : '';
  if (api === 'v1' && (org !== undefined || bucketGiven !== undefined)) fail(`${what}.org and .bucket apply to api: 'v2' (api is 'v1'). Leave api out, or set api: 'v2'`);
  if (api === 'v2' && (write.precision === 'm' || write.precision === 'h')) fail(`${what}.precision '${write.precision}' is not available with api: 'v2'${picked} (use n, u, ms or s)`);
  if (api === 'v2' && createDatabase) fail(`${what}.createDatabase applies to api: 'v1'; api is 'v2'${picked} (a v2 bucket is created with the server's own tools)`);
  // InfluxDB 2.x's v1-compatible name: "db/rp" resolves through a DBRP mapping.
  const bucket = bucketGiven ?? (api === 'v2' ? (write.rp ? `${write.db}/${write.rp}` : write.db) : undefined);
  const fn = (key: string): ((...a: never[]) => unknown) | undefined => {
    const v = opts[key];
    if (v !== undefined && typeof v !== 'function') fail(`writer options.${key} must be a function (got ${typeName(v)})`);
    return v as ((...a: never[]) => unknown) | undefined;
  };
  // ---- the spool ----------------------------------------------------------------------------
  let spool: ResolvedSpoolOptions | undefined;
  if (opts.spool !== undefined) {
    const so = opts.spool as Record<string, unknown>;
    if (!isPlainObject(so)) fail(`${what}.spool must be an object { dir, maxBytes? } (got ${typeName(opts.spool)})`);
    checkKeys(so, new Set(['dir', 'maxBytes', 'onRecover']), 'writer options.spool');
    if (typeof so.dir !== 'string' || so.dir === '') fail(`${what}.spool.dir must be a directory path (got ${typeName(so.dir)})`);
    const maxBytes = optInt(so, 'maxBytes', `${what}.spool`, 1024 * 1024, Number.MAX_SAFE_INTEGER) ?? D.spoolMaxBytes;
    if (so.onRecover !== undefined && typeof so.onRecover !== 'function') fail(`${what}.spool.onRecover must be a function (got ${typeName(so.onRecover)})`);
    // The oldest points are on disk, acknowledged to their write() calls: dropping them to make
    // room would break that promise. Block, refuse, or drop what comes in.
    if (whenFull === 'dropOldest') fail(`${what}.whenFull 'dropOldest' cannot be used with spool: the oldest points are on disk and their write() calls were told they are safe. Use 'block', 'error' or 'dropNewest'`);
    spool = { dir: so.dir, maxBytes, onRecover: so.onRecover as ResolvedSpoolOptions['onRecover'] };
  }
  return {
    spool,
    write, batchSize, batchBytes, flushIntervalMs, flushJitterMs, maxInFlight, adaptive, gzipLevel, maxBufferBytes, whenFull, maxBlockMs, maxWaitingWrites,
    deliveryTimeoutMs, requestTimeoutMs, retryInitialDelayMs, retryMaxDelayMs, maxRetryAfterMs, createDatabase, api, org, bucket, failover, spread,
    onRejected: fn('onRejected') as ResolvedWriterOptions['onRejected'],
    onError: fn('onError') as ResolvedWriterOptions['onError'],
    // A point accepted just before close() still gets its whole delivery budget.
    closeTimeoutMs: deliveryTimeoutMs,
  };
}
