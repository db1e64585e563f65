/**
 * `InfluxDBClient`: the facade of the client (aioinflux's, plus a blocking mode): its settings
 * (db, rp, precision, output, encoder, mode) and its methods. The work is done by one of two cores
 * behind the same methods, picked when the mode is set: core/async-core.ts (promises, on undici)
 * or blocking/core.ts (the values themselves, from a worker thread). Query patterns are
 * query/pattern-methods.ts's; the `/query` request is query/request.ts's.
 */
import { inspect } from 'node:util';
import { BlockingCore } from './blocking/core.js';
import { AsyncCore } from './core/async-core.js';
import { initialSettings, type ClientCore, type ClientSettings, type PingResult, type WriteReport } from './core/core.js';
import type { WriteData } from './encode/input.js';
import {
  resolveClientOptions, resolvePrecision, resolveOutput, resolveMode, resolveEncoder, checkString,
  type ClientMode, type ClientOptions, type EncoderChoice, type Precision, type QueryOptions, type ResolvedClientOptions, type WriteOptions, type WriterOptions,
} from './options/index.js';
import type { OutputFormat, OutputOption, TagInfo } from './query/output/index.js';
import { PatternMethods } from './query/pattern-methods.js';
import type { PatternArgs } from './query/patterns.js';
import type { ChunkedQueryResult, ModeResult, QueryResult } from './query/results.js';
import type { BatchWriter } from './writer/batch-writer.js';

/**
 * The client. Its type parameters are the output format and the mode given to the constructor,
 * so that `query()` is typed for the output, and every method returns a promise (`async`, the
 * default) or the value itself (`blocking`). A per-call `output` overrides the first, with its
 * own precise type; `setMode()` switches the mode and returns the client typed for it.
 */
export class InfluxDBClient<O extends OutputOption = 'raw', M extends ClientMode = 'async'> extends PatternMethods<O, M> {
  readonly #opts: ResolvedClientOptions;
  // What the cores read at each call; the setters below check what goes in with the constructor's own checks.
  readonly #settings: ClientSettings;
  readonly #async: AsyncCore;
  // Made when the mode is first set to blocking (its worker thread starts on the first call).
  #blocking: BlockingCore | undefined;
  // The mode's core: every method goes to it.
  #core: ClientCore<ClientMode>;
  #mode: ClientMode;
  // The promise of the one closing, which every close() returns.
  #closing: Promise<void> | undefined;
  // What the worker's own (async) core is built from: the constructor's argument without `mode`.
  readonly #workerOptions: unknown;

  constructor(options?: string | (ClientOptions & { output?: O; mode?: M })) {
    super();
    this.#opts = resolveClientOptions(options);
    if (typeof options === 'object' && options !== null) {
      const { mode: _mode, ...rest } = options;
      this.#workerOptions = rest;
    } else {
      this.#workerOptions = options;
    }
    this.#settings = initialSettings(this.#opts);
    this.#async = new AsyncCore(this.#opts, this.#settings);
    this.#mode = this.#opts.mode;
    this.#core = this.#coreFor(this.#mode);
  }

  #coreFor(mode: ClientMode): ClientCore<ClientMode> {
    if (mode === 'async') return this.#async;
    this.#blocking ??= new BlockingCore(this.#opts, this.#settings, this.#workerOptions);
    return this.#blocking;
  }

  /**
   * The query output format: `raw`, `iterable` or `arrow` (`dataframe` is read as `arrow`).
   * Switch at any time, as in aioinflux; the client's type keeps the constructor's format, so
   * TypeScript users wanting precise types pass `output` per call.
   */
  get output(): OutputFormat {
    return this.#settings.output;
  }
  set output(value: OutputOption) {
    this.#settings.output = resolveOutput(value, 'output');
  }

  /**
   * `async` (every method returns a promise) or `blocking` (the same methods return their
   * results). Switch at any time, as in aioinflux: `client.mode = 'blocking'`. The client's type
   * keeps the constructor's mode: TypeScript users switch with `setMode()`, which returns the
   * client typed for the new mode.
   */
  get mode(): ClientMode {
    return this.#mode;
  }
  set mode(value: ClientMode) {
    const mode = resolveMode(value, 'mode', this.#opts.dispatcher);
    this.#core = this.#coreFor(mode);
    this.#mode = mode;
  }

  /** Switches the mode (as `client.mode = …`) and returns this same client, typed for that mode. */
  setMode<N extends ClientMode>(mode: N): InfluxDBClient<O, N> {
    this.mode = mode;
    return this as unknown as InfluxDBClient<O, N>;
  }

  /** The database used when a call names none. Switch at any time: `client.db = 'other'`. */
  get db(): string | undefined {
    return this.#settings.db;
  }
  set db(value: string | undefined) {
    this.#settings.db = checkString(value, 'db');
  }
  /** Alias of `db`. */
  get database(): string | undefined {
    return this.#settings.db;
  }
  set database(value: string | undefined) {
    this.db = value;
  }
  /** The encoder of writes: `ts`, `wasm` (on the worker pool) or `auto`. */
  get encoder(): EncoderChoice {
    return this.#settings.encoder;
  }
  set encoder(value: EncoderChoice) {
    this.#settings.encoder = resolveEncoder(value, 'encoder');
  }
  get rp(): string | undefined {
    return this.#settings.rp;
  }
  set rp(value: string | undefined) {
    this.#settings.rp = checkString(value, 'rp');
  }
  get precision(): Precision {
    return this.#settings.precision;
  }
  set precision(value: Precision) {
    this.#settings.precision = resolvePrecision(value, 'precision');
  }
  get closed(): boolean {
    return this.#settings.closed;
  }

  /** `GET /ping`: the server's version and build, and the round-trip time. */
  ping(): ModeResult<M, PingResult> {
    return this.#core.ping() as ModeResult<M, PingResult>;
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
    return this.#core.write(data, options);
  }

  /**
   * A batch writer on this client's connection: `write()` queues points, line protocol and Arrow
   * data in a bounded buffer, and batches go out by size and time with retries (see
   * `WriterOptions`). `client.close()` closes its writers first.
   */
  writer(options?: WriterOptions): BatchWriter {
    return this.#core.writer(options);
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
    return this.#core.query(q, options);
  }

  /**
   * aioinflux's `get_tag_info`: every measurement's tag keys and values,
   * `{ measurement: { tagKey: [values] } }`, from `SHOW TAG KEYS` and `SHOW TAG VALUES`.
   */
  getTagInfo(db?: string): ModeResult<M, TagInfo> {
    return this.#core.getTagInfo(db ?? this.#settings.db) as ModeResult<M, TagInfo>;
  }

  /**
   * Forgets the field types and tag keys cached for the arrow output (of one measurement, of a
   * database, or all). Needed only after a measurement's schema changed on the server.
   */
  invalidateSchema(db?: string, measurement?: string): void {
    this.#async.invalidateSchema(db, measurement);
    this.#blocking?.invalidateSchema(db, measurement);
  }

  /** Runs a registered pattern (built-in or added with `setQueryPattern`), in the client's output format. */
  queryPattern(name: string, ...args: PatternArgs): ModeResult<M, QueryResult<O>> {
    // Dropping changes the schema the arrow output caches: forget it all (cheap to fetch again).
    const after = name === 'dropDatabase' || name === 'dropMeasurement' ? () => this.invalidateSchema() : () => {};
    return this.#core.queryPattern(() => this.renderQueryPattern(name, ...args), after) as ModeResult<M, QueryResult<O>>;
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
    this.#settings.closed = true;
    // Before the first await: synchronously, as close() is called.
    const blocking = this.#blocking?.close();
    // Writers first: their buffered points go out on this client's connection; only the
    // writers closed here report through this close().
    const failed = await this.#async.closeWriters();
    await Promise.all([this.#async.release(), blocking]);
    if (failed) throw failed.reason;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  override toString(): string {
    const db = this.#settings.db;
    return `InfluxDBClient(${this.#opts.describe}${db ? `, db=${db}` : ''})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    const s = this.#settings;
    return { server: this.#opts.describe, db: s.db, rp: s.rp, precision: s.precision, output: s.output, mode: this.#mode, auth: this.#opts.authorization ? 'set' : 'none' };
  }
}
