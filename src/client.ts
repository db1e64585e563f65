/**
 * `InfluxDBClient`: the async client of the seed (ping, write, query, query patterns) on undici.
 * Thin: options live in options.ts, encoding in encode/, HTTP in transport/, parsing in query/.
 */
import { inspect } from 'node:util';
import { InfluxDBError, InfluxDBQueryError, InfluxDBWriteError, ClientClosedError, InvalidOptionError, InvalidQueryError, truncateText } from './errors.js';
import { encodeAny } from './encode/input.js';
import type { WriteData } from './encode/input.js';
import {
  resolveClientOptions, resolvePrecision, resolveQueryOptions, resolveWriteOptions, typeName,
  type ClientOptions, type Precision, type QueryOptions, type ResolvedClientOptions, type WriteOptions,
} from './options.js';
import { parseExactJson } from './query/exact-json.js';
import { parseNdjson } from './query/ndjson.js';
import { compilePattern, renderPattern, type CompiledPattern, type PatternArgs, type PatternValue } from './query/patterns.js';
import { checkQueryResponse, type QueryResponse } from './query/response.js';
import { HttpTransport, parseRejectedLines, readErrorMessage, redactQuery, toConnectionError, type TransportResponse } from './transport/http-transport.js';

export interface PingResult {
  /** `X-Influxdb-Version`, e.g. `1.6.7~rc0`. */
  version: string;
  /** `X-Influxdb-Build`, e.g. `OSS`. */
  build: string;
  /** Round trip of the ping, in milliseconds. */
  durationMs: number;
}

/** Query patterns bound as methods: positional values, then optionally one object of named values. */
export type PatternMethod = (...args: PatternArgs) => Promise<QueryResponse>;

// The seed's built-in patterns (aioinflux 0.3 and 0.9), camelCased. Optional FROM clauses get two forms.
const kBuiltinPatterns = {
  createDatabase: 'CREATE DATABASE {db}',
  dropDatabase: 'DROP DATABASE {db}',
  dropMeasurement: 'DROP MEASUREMENT {measurement}',
  showDatabases: 'SHOW DATABASES',
  showMeasurements: 'SHOW MEASUREMENTS',
  showUsers: 'SHOW USERS',
  showSeries: 'SHOW SERIES',
  showSeriesFrom: 'SHOW SERIES FROM {measurement}',
  showTagKeys: 'SHOW TAG KEYS',
  showTagKeysFrom: 'SHOW TAG KEYS FROM {measurement}',
  showFieldKeys: 'SHOW FIELD KEYS',
  showFieldKeysFrom: 'SHOW FIELD KEYS FROM {measurement}',
  showTagValues: 'SHOW TAG VALUES WITH KEY = {key}',
  showTagValuesFrom: 'SHOW TAG VALUES FROM {measurement} WITH KEY = {key}',
  showRetentionPolicies: 'SHOW RETENTION POLICIES ON {db}',
  showContinuousQueries: 'SHOW CONTINUOUS QUERIES',
} as const;

const kCompiledBuiltins = new Map<string, CompiledPattern>(
  Object.entries(kBuiltinPatterns).map(([name, source]) => [name, compilePattern(source)]),
);

export class InfluxDBClient {
  readonly #opts: ResolvedClientOptions;
  readonly #transport: HttpTransport;
  readonly #patterns = new Map<string, CompiledPattern>(kCompiledBuiltins);
  #db: string | undefined;
  #rp: string | undefined;
  #precision: Precision;
  #closed = false;

  constructor(options?: string | ClientOptions) {
    this.#opts = resolveClientOptions(options);
    this.#db = this.#opts.db;
    this.#rp = this.#opts.rp;
    this.#precision = this.#opts.precision;
    this.#transport = new HttpTransport(this.#opts);
  }

  /** The database used when a call names none. Switch at any time: `client.db = 'other'`. */
  get db(): string | undefined {
    return this.#db;
  }
  set db(value: string | undefined) {
    if (value !== undefined && typeof value !== 'string') throw new InvalidOptionError(`db must be a string (got ${typeName(value)})`);
    this.#db = value;
  }
  /** Alias of `db`. */
  get database(): string | undefined {
    return this.#db;
  }
  set database(value: string | undefined) {
    this.db = value;
  }
  get rp(): string | undefined {
    return this.#rp;
  }
  set rp(value: string | undefined) {
    if (value !== undefined && typeof value !== 'string') throw new InvalidOptionError(`rp must be a string (got ${typeName(value)})`);
    this.#rp = value;
  }
  get precision(): Precision {
    return this.#precision;
  }
  set precision(value: Precision) {
    this.#precision = resolvePrecision(value, 'precision');
  }
  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClientClosedError();
  }

  /** `GET /ping`: the server's version and build, and the round-trip time. */
  async ping(): Promise<PingResult> {
    this.#checkOpen();
    const started = performance.now();
    const res = await this.#transport.request({ method: 'GET', endpoint: 'ping' });
    const durationMs = performance.now() - started;
    if (res.statusCode !== 204 && res.statusCode !== 200) {
      const msg = await readErrorMessage(res);
      throw new InfluxDBQueryError(`ping failed with HTTP ${res.statusCode}: ${truncateText(msg)}`, { status: res.statusCode, serverMessage: msg, endpoint: 'ping' });
    }
    await res.body.dump();
    const header = (name: string): string => {
      const v = res.headers[name];
      return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    };
    return { version: header('x-influxdb-version'), build: header('x-influxdb-build'), durationMs };
  }

  /**
   * Writes line protocol (string or bytes), a point, or an iterable / async iterable of those.
   * The whole input is encoded and checked first: a bad point rejects the call with
   * `InvalidPointError` and nothing is sent. Inputs larger than `maxBodyBytes` go out as
   * several requests, in order; if one fails, the error says how many lines were stored.
   */
  async write(data: WriteData, options?: WriteOptions): Promise<true> {
    this.#checkOpen();
    const w = resolveWriteOptions(options, this);
    const bodies = await encodeAny(data, w, this.#opts.maxBodyBytes);
    let total = 0;
    for (const b of bodies) total += b.lines;
    let written = 0;
    for (const b of bodies) {
      this.#checkOpen();
      const res = await this.#transport.request({
        method: 'POST', endpoint: 'write', query: { db: w.db, rp: w.rp, precision: w.precision },
        body: b.body, contentType: 'text/plain; charset=utf-8', note: `${b.lines} lines, ${b.body.length} bytes`,
      });
      if (res.statusCode === 204 || res.statusCode === 200) {
        await res.body.dump();
        written += b.lines;
        continue;
      }
      throw await writeError(res, b.lines, written, total);
    }
    return true;
  }

  /**
   * Runs InfluxQL and returns the parsed JSON answer (integers beyond 2^53 as exact `bigint`).
   * With `chunked: true`, resolves to an async iterator of the answer's chunks, parsed as they
   * stream in. Errors reported inside a 200 answer reject (or throw from the iterator).
   */
  query(q: string | string[], options: QueryOptions & { chunked: true }): Promise<AsyncIterableIterator<QueryResponse>>;
  query(q: string | string[], options?: QueryOptions): Promise<QueryResponse>;
  async query(q: string | string[], options?: QueryOptions): Promise<QueryResponse | AsyncIterableIterator<QueryResponse>> {
    this.#checkOpen();
    const text = Array.isArray(q) ? q.join('; ') : q;
    if (typeof text !== 'string' || text.trim() === '') throw new InvalidQueryError('the query must be a non-empty string');
    const o = resolveQueryOptions(options, this);
    const form = new URLSearchParams({ q: text });
    if (o.db !== undefined) form.set('db', o.db);
    if (o.rp !== undefined) form.set('rp', o.rp);
    // The server's epoch names nanoseconds "ns"; the rest match the write precisions.
    if (o.epoch !== undefined) form.set('epoch', o.epoch === 'n' ? 'ns' : o.epoch);
    if (o.params !== undefined) form.set('params', paramsToJson(o.params));
    if (o.chunked) {
      form.set('chunked', 'true');
      if (o.chunkSize !== undefined) form.set('chunk_size', String(o.chunkSize));
    }
    // POST with a form body: the query text stays out of URLs and access logs.
    const res = await this.#transport.request({
      method: 'POST', endpoint: 'query', body: form.toString(), contentType: 'application/x-www-form-urlencoded',
      note: redactQuery(text.length > 200 ? `${text.slice(0, 200)}…` : text),
    });
    if (res.statusCode !== 200) {
      const msg = await readErrorMessage(res);
      throw new InfluxDBQueryError(`query failed with HTTP ${res.statusCode}: ${truncateText(msg)}`, { status: res.statusCode, serverMessage: msg, endpoint: 'query' });
    }
    if (o.chunked) return streamChunks(res, this.#opts.describe);
    let body: string;
    try {
      body = await res.body.text();
    } catch (err) {
      throw toConnectionError(err, `query to ${this.#opts.describe}`);
    }
    let doc: unknown;
    try {
      doc = parseExactJson(body);
    } catch (err) {
      throw new InfluxDBError(`the query answer is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    return checkQueryResponse(doc, res.statusCode);
  }

  /**
   * Adds a query pattern as a method of this client (the seed's `set_query_pattern`).
   * `{name}` fields are quoted for where they stand (see `patterns.ts`): no argument can
   * inject a statement.
   */
  setQueryPattern(name: string, pattern: string): PatternMethod {
    if (typeof name !== 'string' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) throw new InvalidOptionError(`query pattern name must be a JavaScript identifier (got ${JSON.stringify(name)})`);
    if (name in this && !this.#patterns.has(name)) throw new InvalidOptionError(`query pattern name "${name}" would hide a client method`);
    const compiled = compilePattern(pattern);
    this.#patterns.set(name, compiled);
    const method: PatternMethod = (...args) => this.queryPattern(name, ...args);
    Object.defineProperty(this, name, { value: method, configurable: true, enumerable: false, writable: false });
    return method;
  }

  /** Renders a registered pattern with the given values, without running it. */
  renderQueryPattern(name: string, ...args: PatternArgs): string {
    const p = this.#patterns.get(name);
    if (!p) throw new InvalidQueryError(`no query pattern named "${name}"`);
    return renderPattern(p, args, { db: this.#db });
  }

  /** Runs a registered pattern (built-in or added with `setQueryPattern`). */
  async queryPattern(name: string, ...args: PatternArgs): Promise<QueryResponse> {
    return this.query(this.renderQueryPattern(name, ...args));
  }

  createDatabase(db?: string | { db?: string }): Promise<QueryResponse> { return this.queryPattern('createDatabase', db); }
  dropDatabase(db?: string | { db?: string }): Promise<QueryResponse> { return this.queryPattern('dropDatabase', db); }
  dropMeasurement(measurement: string | { measurement: string }): Promise<QueryResponse> { return this.queryPattern('dropMeasurement', measurement); }
  showDatabases(): Promise<QueryResponse> { return this.queryPattern('showDatabases'); }
  showMeasurements(): Promise<QueryResponse> { return this.queryPattern('showMeasurements'); }
  showUsers(): Promise<QueryResponse> { return this.queryPattern('showUsers'); }
  /** `SHOW SERIES`, or `SHOW SERIES FROM "measurement"`. */
  showSeries(measurement?: string | { measurement?: string }): Promise<QueryResponse> { return this.#optionalFrom('showSeries', measurement); }
  showTagKeys(measurement?: string | { measurement?: string }): Promise<QueryResponse> { return this.#optionalFrom('showTagKeys', measurement); }
  showFieldKeys(measurement?: string | { measurement?: string }): Promise<QueryResponse> { return this.#optionalFrom('showFieldKeys', measurement); }
  /** `SHOW TAG VALUES WITH KEY = "key"`. */
  showTagValues(key: string | { key: string }): Promise<QueryResponse> { return this.queryPattern('showTagValues', key); }
  /** `SHOW TAG VALUES FROM "measurement" WITH KEY = "key"`: `showTagValuesFrom('cpu', { key: 'host' })`. */
  showTagValuesFrom(...args: PatternArgs): Promise<QueryResponse> { return this.queryPattern('showTagValuesFrom', ...args); }
  showRetentionPolicies(db?: string | { db?: string }): Promise<QueryResponse> { return this.queryPattern('showRetentionPolicies', db); }
  showContinuousQueries(): Promise<QueryResponse> { return this.queryPattern('showContinuousQueries'); }

  #optionalFrom(base: string, measurement: string | { measurement?: string } | undefined): Promise<QueryResponse> {
    const m = typeof measurement === 'object' && measurement !== null ? measurement.measurement : measurement;
    return m === undefined ? this.queryPattern(base) : this.queryPattern(`${base}From`, m);
  }

  /** Releases the connections. Later calls reject with `ClientClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `InfluxDBClient(${this.#opts.describe}${this.#db ? `, db=${this.#db}` : ''})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    return { server: this.#opts.describe, db: this.#db, rp: this.#rp, precision: this.#precision, auth: this.#opts.authorization ? 'set' : 'none' };
  }
}

/** Bind parameters as JSON, with bigints written as exact integer literals. */
function paramsToJson(params: Record<string, PatternValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(`${JSON.stringify(k)}:${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`);
  return `{${parts.join(',')}}`;
}

async function* streamChunks(res: TransportResponse, describe: string): AsyncIterableIterator<QueryResponse> {
  try {
    for await (const doc of parseNdjson(res.body)) yield checkQueryResponse(doc, res.statusCode);
  } catch (err) {
    throw err instanceof InfluxDBError ? err : toConnectionError(err, `chunked query from ${describe}`);
  } finally {
    // The consumer may stop early: release the socket instead of reading the rest.
    if (!res.body.destroyed) res.body.destroy();
  }
}

async function writeError(res: TransportResponse, bodyLines: number, writtenBefore: number, total: number): Promise<InfluxDBWriteError> {
  const status = res.statusCode;
  const msg = await readErrorMessage(res);
  const rejectedLines = status === 400 ? parseRejectedLines(msg) : [];
  const partial = status === 400 && msg.startsWith('partial write');
  let storedOfBody = 0;
  if (partial) {
    // "dropped=N" counts points refused after parsing; unparsable lines are named, not counted.
    const dropped = /dropped=(\d+)/.exec(msg);
    const refused = rejectedLines.length + (dropped ? Number(dropped[1]) : 0);
    storedOfBody = Math.max(0, bodyLines - refused);
  }
  const linesWritten = writtenBefore + storedOfBody;
  let hint = '';
  if (status === 404) hint = ' (create it with client.createDatabase())';
  else if (status === 413) hint = ' (lower maxBodyBytes below the server\'s max-body-size)';
  // The message is cut (a 400 echoes whole lines); serverMessage and rejectedLines keep everything.
  return new InfluxDBWriteError(`write failed with HTTP ${status}: ${truncateText(msg)}${hint}`, {
    status, serverMessage: msg, endpoint: 'write', rejectedLines, partial, linesWritten, linesNotWritten: total - linesWritten,
  });
}
