/**
 * `InfluxDBClient`: the async client of the seed (ping, write, query, query patterns) on undici.
 * Thin: options live in options.ts, encoding in encode/, HTTP in transport/, parsing in query/.
 */
import { inspect } from 'node:util';
import { InfluxDBError, InfluxDBConnectionError, InfluxDBQueryError, InfluxDBRedirectError, InfluxDBWriteError, ClientClosedError, InvalidOptionError, InvalidQueryError, truncateText } from './errors.js';
import { encodeForWrite } from './encode/route.js';
import { EncoderPool } from './pool/encoder-pool.js';
import type { WriteData } from './encode/input.js';
import {
  resolveClientOptions, resolvePrecision, resolveQueryOptions, resolveWriteOptions, typeName,
  resolveWriterOptions, resolveMode, kBlockingDispatcherMessage,
  type ClientMode, type ClientOptions, type EncoderChoice, type Precision, type QueryOptions, type ResolvedClientOptions, type WriteOptions, type WriterOptions,
} from './options.js';
import { BatchWriter } from './writer/batch-writer.js';
import { queryText, runQuery, runRawQuery, type QueryTarget } from './query/request.js';
import type { PatternArgs } from './query/patterns.js';
import { PatternMethods } from './query/pattern-methods.js';
import type { ChunkedQueryResult, ModeResult, QueryResult } from './query/results.js';
import type { QueryResponse } from './query/response.js';
import {
  InfluxDBResult, SchemaCache, getTagInfo, resolveOutput,
  type ArrowResult, type InfluxDBChunkedResult, type OutputFormat, type OutputOption, type TagInfo,
} from './query/output/index.js';
import type { RecordBatch } from 'apache-arrow';
import { BlockingChannel } from './blocking/channel.js';
import { encodeSync } from './encode/input.js';
import { decodeArrowResult, decodeWriteData, encodeWriteData, type BlockingRequest, type ClientState, type WireArrow } from './blocking/protocol.js';
import { HttpTransport, readErrorMessage, type TransportResponse } from './transport/http-transport.js';
import { parseRetryAfter } from './transport/classify.js';
import { parseRefusal } from './transport/refusal.js';

/** What `write()` resolves to with `invalidRows: 'skip'`. */
export interface WriteReport {
  /** Lines acknowledged by the server. */
  written: number;
  /** Points or rows left out because they had no field to write. */
  skipped: number;
  /** Their indices in the input (rows counted across record batches). */
  skippedRows: number[];
}

export type { ChunkedQueryResult, ModeResult, QueryResult } from './query/results.js';
export type { PatternMethod } from './query/pattern-methods.js';

export interface PingResult {
  /** `X-Influxdb-Version`, e.g. `1.6.7~rc0`. */
  version: string;
  /** `X-Influxdb-Build`, e.g. `OSS`. */
  build: string;
  /** Round trip of the ping, in milliseconds. */
  durationMs: number;
}

const kChunkedRefused = "chunked queries are not available in blocking mode (a chunked answer is an async iterator that streams in while it is read): "
  + "query without chunked, or switch to async mode (client.mode = 'async')";
const kWriterRefused = "client.writer() is not available in blocking mode (a batch writer sends in the background, with promises and timers): "
  + "switch to async mode (client.mode = 'async') to use one";

/**
 * The client. Its type parameters are the output format and the mode given to the constructor,
 * so that `query()` is typed for the output, and every method returns a promise (`async`, the
 * default) or the value itself (`blocking`). A per-call `output` overrides the first, with its
 * own precise type; `setMode()` switches the mode and returns the client typed for it.
 */
export class InfluxDBClient<O extends OutputOption = 'raw', M extends ClientMode = 'async'> extends PatternMethods<O, M> {
  readonly #opts: ResolvedClientOptions;
  readonly #transport: HttpTransport;
  // What queries run on (see query/request.ts).
  readonly #target: QueryTarget;
  // Field types and tag keys for the arrow output; filled on demand, always through raw queries.
  readonly #schemas = new SchemaCache((q, o) => this.#rawQuery(q, o));
  #db: string | undefined;
  #rp: string | undefined;
  #precision: Precision;
  #output: OutputFormat;
  #encoder: EncoderChoice;
  // Started on the first write that needs it; its workers exit when idle.
  #pool: EncoderPool | undefined;
  readonly #writers = new Set<BatchWriter>();
  #closed = false;
  // The promise of the one closing, which every close() returns.
  #closing: Promise<void> | undefined;
  #mode: ClientMode;
  // Blocking mode: the worker thread that runs the calls, started on the first one.
  #blocking: BlockingChannel | undefined;
  // What the worker's own (async) client is built from: the constructor's argument without `mode`.
  readonly #workerOptions: unknown;

  constructor(options?: string | (ClientOptions & { output?: O; mode?: M })) {
    super();
    this.#opts = resolveClientOptions(options);
    this.#mode = this.#opts.mode;
    if (typeof options === 'object' && options !== null) {
      const { mode: _mode, ...rest } = options;
      this.#workerOptions = rest;
    } else {
      this.#workerOptions = options;
    }
    this.#db = this.#opts.db;
    this.#rp = this.#opts.rp;
    this.#precision = this.#opts.precision;
    this.#output = this.#opts.output;
    this.#encoder = this.#opts.encoder;
    this.#transport = new HttpTransport(this.#opts);
    this.#target = { transport: this.#transport, schemas: this.#schemas, describe: this.#opts.describe };
  }

  /**
   * The query output format: `raw`, `iterable` or `arrow` (`dataframe` is read as `arrow`).
   * Switch at any time, as in the seed; the client's type keeps the constructor's format, so
   * TypeScript users wanting precise types pass `output` per call.
   */
  get output(): OutputFormat {
    return this.#output;
  }
  set output(value: OutputOption) {
    this.#output = resolveOutput(value, 'output');
  }

  /**
   * `async` (every method returns a promise) or `blocking` (the same methods return their
   * results). Switch at any time, as in the seed: `client.mode = 'blocking'`. The client's type
   * keeps the constructor's mode: TypeScript users switch with `setMode()`, which returns the
   * client typed for the new mode.
   */
  get mode(): ClientMode {
    return this.#mode;
  }
  set mode(value: ClientMode) {
    const mode = resolveMode(value, 'mode');
    if (mode === 'blocking' && this.#opts.dispatcher !== undefined) throw new InvalidOptionError(kBlockingDispatcherMessage);
    this.#mode = mode;
  }

  /** Switches the mode (as `client.mode = …`) and returns this same client, typed for that mode. */
  setMode<N extends ClientMode>(mode: N): InfluxDBClient<O, N> {
    this.mode = mode;
    return this as unknown as InfluxDBClient<O, N>;
  }

  /** Runs `op` on the blocking mode's worker thread, waiting for its answer (see blocking/channel.ts). */
  #callBlocking(op: BlockingRequest['op'], args: readonly unknown[], transfer?: ArrayBuffer[]): unknown {
    this.#blocking ??= new BlockingChannel(this.#workerOptions);
    return this.#blocking.call(op, args, this.#state(), transfer);
  }

  /** The settings that can change between calls, sent with each blocking call. */
  #state(): ClientState {
    return { db: this.#db, rp: this.#rp, precision: this.#precision, encoder: this.#encoder };
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
  /** The encoder of writes: `ts`, `wasm` (on the worker pool) or `auto`. */
  get encoder(): EncoderChoice {
    return this.#encoder;
  }
  set encoder(value: EncoderChoice) {
    if (value !== 'ts' && value !== 'wasm' && value !== 'auto') throw new InvalidOptionError(`encoder must be one of 'ts', 'wasm', 'auto' (got ${JSON.stringify(value)})`);
    this.#encoder = value;
  }

  #getPool = (): EncoderPool => {
    this.#checkOpen();
    this.#pool ??= new EncoderPool({ size: this.#opts.workers, kernel: 'wasm' });
    return this.#pool;
  };

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
  ping(): ModeResult<M, PingResult> {
    if (this.#mode === 'blocking') {
      this.#checkOpen();
      return this.#callBlocking('ping', []) as ModeResult<M, PingResult>;
    }
    return this.#ping() as ModeResult<M, PingResult>;
  }

  async #ping(): Promise<PingResult> {
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
   * Writes line protocol (string or bytes), a point, an Arrow `Table` or `RecordBatch`, or an
   * iterable / async iterable of those. The whole input is encoded and checked first: a bad
   * point or row rejects the call with `InvalidPointError` and nothing is sent. Inputs larger
   * than `maxBodyBytes` go out as several requests, in order; if one fails, the error says how
   * many lines were stored. Resolves `true`; with `invalidRows: 'skip'`, a `WriteReport` naming
   * the points or rows left out.
   */
  write(data: WriteData, options: WriteOptions & { invalidRows: 'skip' }): ModeResult<M, WriteReport>;
  write(data: WriteData, options?: WriteOptions): ModeResult<M, true>;
  write(data: WriteData, options?: WriteOptions): unknown {
    if (this.#mode === 'blocking') {
      this.#checkOpen();
      // The same checks and messages as async mode, before anything crosses to the worker.
      const w = resolveWriteOptions(options, this);
      const transfer: ArrayBuffer[] = [];
      const wire = encodeWriteData(data, transfer);
      try {
        return this.#callBlocking('write', [wire, options], transfer);
      } catch (e) {
        // A value structured clone refuses (a function…): if it makes a point invalid, the
        // encoder here throws the InvalidPointError async mode gives; else the clone error stands.
        if (e instanceof InvalidOptionError && (e.cause as Error | undefined)?.name === 'DataCloneError') encodeSync(decodeWriteData(wire), w, this.#opts.maxBodyBytes);
        throw e;
      }
    }
    return this.#write(data, options);
  }

  async #write(data: WriteData, options?: WriteOptions): Promise<true | WriteReport> {
    this.#checkOpen();
    const w = resolveWriteOptions(options, this);
    const { bodies, lines: total, skippedRows } = await encodeForWrite(data, w, w.encoder ?? this.#encoder, this.#opts.maxBodyBytes, this.#getPool);
    let written = 0;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i]!;
      let failure: unknown;
      try {
        this.#checkOpen();
        const res = await this.#transport.request({
          method: 'POST', endpoint: 'write', query: { db: w.db, rp: w.rp, precision: w.precision },
          body: b.body, contentType: 'text/plain; charset=utf-8', note: `${b.lines} lines, ${b.body.length} bytes`,
        });
        if (res.statusCode === 204 || res.statusCode === 200) {
          // The answer acknowledges the lines: a failure to drain its (empty) body changes nothing.
          written += b.lines;
          await res.body.dump().catch(() => {});
          continue;
        }
        failure = await writeError(res, b.lines, written, total);
      } catch (err) {
        failure = err;
      }
      throw withWriteProgress(failure, { request: i, requests: bodies.length, bodyLines: b.lines, written, total });
    }
    return w.invalidRows === 'skip' ? { written, skipped: skippedRows.length, skippedRows } : true;
  }

  /**
   * A batch writer on this client's connection: `write()` queues points, line protocol and Arrow
   * data in a bounded buffer, and batches go out by size and time with retries (see
   * `WriterOptions`). `client.close()` closes its writers first.
   */
  writer(options?: WriterOptions): BatchWriter {
    this.#checkOpen();
    if (this.#mode === 'blocking') throw new InvalidOptionError(kWriterRefused);
    const o = resolveWriterOptions(options, { db: this.#db, rp: this.#rp, precision: this.#precision, maxBodyBytes: this.#opts.maxBodyBytes, timeout: this.#opts.timeout, given: this.#opts.given });
    const w = new BatchWriter(o, { transport: this.#transport, pool: this.#getPool, encoder: this.#encoder });
    this.#writers.add(w);
    return w;
  }

  /**
   * Runs InfluxQL. The answer comes in the output format of the call or of the client:
   * `raw`, the parsed JSON (integers beyond 2^53 as exact `bigint`); `iterable`, an
   * `InfluxDBResult` to iterate point by point; `arrow`, Arrow tables typed from the server's
   * schema. With `chunked: true` it resolves (once the answer starts) to an async iterator of
   * chunks, points or record batches, parsed as they stream in. Errors reported inside a 200
   * answer reject (or throw from the iterator).
   */
  query<P extends OutputOption = O>(q: string | string[], options: QueryOptions & { chunked: true; output?: P }): M extends 'blocking' ? never : Promise<ChunkedQueryResult<P>>;
  query<P extends OutputOption = O>(q: string | string[], options?: QueryOptions & { chunked?: false; output?: P }): ModeResult<M, QueryResult<P>>;
  query<P extends OutputOption = O>(q: string | string[], options?: QueryOptions & { output?: P }): M extends 'blocking' ? QueryResult<P> : Promise<QueryResult<P> | ChunkedQueryResult<P>>;
  query(q: string | string[], options?: QueryOptions): unknown {
    if (this.#mode === 'blocking') return this.#queryBlocking(q, options);
    return this.#query(q, options);
  }

  /**
   * Blocking mode: the worker runs the query in `raw` or `arrow` output. Arrow tables come back
   * as IPC bytes; the `iterable` output is made here from the raw answer, so that a `parser`
   * (a function, which cannot cross threads) runs in the calling thread.
   */
  #queryBlocking(q: string | string[], options: QueryOptions | undefined): unknown {
    this.#checkOpen();
    const o = resolveQueryOptions(options, this);
    const text = queryText(q);
    if (o.chunked) throw new InvalidOptionError(kChunkedRefused);
    const { parser: _parser, ...rest } = options ?? {};
    const output = o.output === 'arrow' ? 'arrow' : 'raw';
    const value = this.#callBlocking('query', [text, { ...rest, output }]);
    if (output === 'arrow') return decodeArrowResult(value as WireArrow);
    if (o.output === 'iterable') return new InfluxDBResult<unknown>(value as QueryResponse, { parser: o.parser, query: text });
    return value;
  }

  async #query(q: string | string[], options?: QueryOptions): Promise<unknown> {
    this.#checkOpen();
    const o = resolveQueryOptions(options, this);
    return runQuery(this.#target, queryText(q), o);
  }

  /** A query whose answer is always the raw JSON: for the client's own lookups. */
  async #rawQuery(q: string, options?: { db?: string }): Promise<QueryResponse> {
    this.#checkOpen();
    return runRawQuery(this.#target, q, resolveQueryOptions({ db: options?.db, output: 'raw' }, this));
  }

  /**
   * The seed's `get_tag_info`: every measurement's tag keys and values,
   * `{ measurement: { tagKey: [values] } }`, from `SHOW TAG KEYS` and `SHOW TAG VALUES`.
   */
  getTagInfo(db?: string): ModeResult<M, TagInfo> {
    if (this.#mode === 'blocking') {
      this.#checkOpen();
      const info = this.#callBlocking('getTagInfo', [db ?? this.#db]) as TagInfo;
      // As in async mode: objects without a prototype (measurement and tag names are data).
      const out = Object.create(null) as TagInfo;
      for (const [m, tags] of Object.entries(info)) out[m] = Object.assign(Object.create(null) as Record<string, string[]>, tags);
      return out as ModeResult<M, TagInfo>;
    }
    return getTagInfo((q, o) => this.#rawQuery(q, o), db ?? this.#db) as ModeResult<M, TagInfo>;
  }

  /**
   * Forgets the field types and tag keys cached for the arrow output (of one measurement, of a
   * database, or all). Needed only after a measurement's schema changed on the server.
   */
  invalidateSchema(db?: string, measurement?: string): void {
    this.#schemas.invalidate(db, measurement);
    // The blocking worker's client has its own cache: it forgets the same, in order with the calls.
    if (this.#blocking?.started) this.#blocking.post('invalidateSchema', [db, measurement], this.#state());
  }

  /** Runs a registered pattern (built-in or added with `setQueryPattern`), in the client's output format. */
  queryPattern(name: string, ...args: PatternArgs): ModeResult<M, QueryResult<O>> {
    if (this.#mode === 'blocking') {
      const result = this.#queryBlocking(this.renderQueryPattern(name, ...args), undefined);
      if (name === 'dropDatabase' || name === 'dropMeasurement') this.invalidateSchema();
      return result as ModeResult<M, QueryResult<O>>;
    }
    return this.#queryPattern(name, ...args) as ModeResult<M, QueryResult<O>>;
  }

  async #queryPattern(name: string, ...args: PatternArgs): Promise<QueryResult<O>> {
    const q = this.renderQueryPattern(name, ...args);
    const result = await this.#query(q);
    // Dropping changes the schema the arrow output caches: forget it all (cheap to fetch again).
    if (name === 'dropDatabase' || name === 'dropMeasurement') this.invalidateSchema();
    return result as QueryResult<O>;
  }

  /**
   * Releases the connections and ends the blocking mode's worker. Later calls reject (throw, in
   * blocking mode) with `ClientClosedError`. A promise in both modes, for cleanup code that does
   * not know the mode; the client is closed and the blocking worker told to end before it returns,
   * so synchronous code need not await it (batch writers, if any, are closed when it settles).
   * Every call returns the same promise: a second close() (a signal handler and the main path)
   * settles when closing is done, writers flushed, pool and worker ended, never before.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    // Before the first await: synchronously, as close() is called.
    const blocking = this.#blocking?.close();
    // Writers first: their buffered points go out on this client's connection. A writer its
    // owner is closing is waited for too (its close() returns the same promise), but its
    // outcome was reported to the owner: only the writers closed here report through this one.
    const writers = [...this.#writers];
    const byOwner = writers.map((w) => w.closed);
    const settled = await Promise.allSettled(writers.map((w) => w.close()));
    await Promise.all([this.#transport.close(), this.#pool?.close(), blocking]);
    const failed = settled.find((r, i): r is PromiseRejectedResult => r.status === 'rejected' && !byOwner[i]);
    if (failed) throw failed.reason;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  override toString(): string {
    return `InfluxDBClient(${this.#opts.describe}${this.#db ? `, db=${this.#db}` : ''})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    return { server: this.#opts.describe, db: this.#db, rp: this.#rp, precision: this.#precision, output: this.#output, mode: this.#mode, auth: this.#opts.authorization ? 'set' : 'none' };
  }
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
