/**
 * The client's async core: every method returns a promise, on the client's own connection
 * (undici, transport/). It owns what async mode needs beside the connection: the schema cache
 * of the arrow output, the encoder pool (started on the first write that needs it) and the batch
 * writers. The blocking mode's worker thread runs one of these too (blocking/worker.ts).
 */
import type { WriteData } from '../encode/input.js';
import { encodeForWrite } from '../encode/route.js';
import { InfluxDBQueryError, truncateText } from '../errors.js';
import {
  resolveClientOptions, resolveQueryOptions, resolveWriteOptions, resolveWriterOptions,
  type ClientOptions, type QueryOptions, type ResolvedClientOptions, type WriteOptions, type WriterOptions,
} from '../options/index.js';
import { EncoderPool } from '../pool/encoder-pool.js';
import { SchemaCache, getTagInfo, type TagInfo } from '../query/output/index.js';
import { queryText, runQuery, runRawQuery, type QueryTarget } from '../query/request.js';
import type { QueryResponse } from '../query/response.js';
import { HttpTransport, readErrorMessage } from '../transport/http-transport.js';
import { BatchWriter } from '../writer/batch-writer.js';
import { checkOpen, initialSettings, type ClientCore, type ClientSettings, type PingResult, type WriteReport } from './core.js';
import { sendBodies } from './write.js';

export class AsyncCore implements ClientCore<'async'> {
  readonly #opts: ResolvedClientOptions;
  readonly #settings: ClientSettings;
  readonly #transport: HttpTransport;
  // Field types and tag keys for the arrow output; filled on demand, always through raw queries.
  readonly #schemas = new SchemaCache((q, o) => this.#rawQuery(q, o));
  // What queries run on (see query/request.ts).
  readonly #target: QueryTarget;
  // Started on the first write that needs it; its workers exit when idle.
  #pool: EncoderPool | undefined;
  readonly #writers = new Set<BatchWriter>();

  constructor(opts: ResolvedClientOptions, settings: ClientSettings) {
    this.#opts = opts;
    this.#settings = settings;
    this.#transport = new HttpTransport(opts);
    this.#target = { transport: this.#transport, schemas: this.#schemas, describe: opts.describe };
  }

  #getPool = (): EncoderPool => {
    checkOpen(this.#settings);
    this.#pool ??= new EncoderPool({ size: this.#opts.workers, kernel: 'wasm' });
    return this.#pool;
  };

  async ping(): Promise<PingResult> {
    checkOpen(this.#settings);
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

  async write(data: WriteData, options?: WriteOptions): Promise<true | WriteReport> {
    const s = this.#settings;
    checkOpen(s);
    const w = resolveWriteOptions(options, s);
    const { bodies, lines: total, skippedRows } = await encodeForWrite(data, w, w.encoder ?? s.encoder, this.#opts.maxBodyBytes, this.#getPool);
    const written = await sendBodies(this.#transport, bodies, w, total, () => checkOpen(s));
    return w.invalidRows === 'skip' ? { written, skipped: skippedRows.length, skippedRows } : true;
  }

  async query(q: string | string[], options?: QueryOptions): Promise<unknown> {
    checkOpen(this.#settings);
    const o = resolveQueryOptions(options, this.#settings);
    return runQuery(this.#target, queryText(q), o);
  }

  async queryPattern(render: () => string, after: () => void): Promise<unknown> {
    const result = await this.query(render());
    after();
    return result;
  }

  /** A query whose answer is always the raw JSON: for the client's own lookups. */
  async #rawQuery(q: string, options?: { db?: string }): Promise<QueryResponse> {
    checkOpen(this.#settings);
    return runRawQuery(this.#target, q, resolveQueryOptions({ db: options?.db, output: 'raw' }, this.#settings));
  }

  getTagInfo(db: string | undefined): Promise<TagInfo> {
    return getTagInfo((q, o) => this.#rawQuery(q, o), db);
  }

  writer(options?: WriterOptions): BatchWriter {
    const s = this.#settings;
    checkOpen(s);
    const o = resolveWriterOptions(options, { db: s.db, rp: s.rp, precision: s.precision, maxBodyBytes: this.#opts.maxBodyBytes, timeout: this.#opts.timeout, given: this.#opts.given });
    const w = new BatchWriter(o, { transport: this.#transport, pool: this.#getPool, encoder: s.encoder });
    this.#writers.add(w);
    return w;
  }

  invalidateSchema(db?: string, measurement?: string): void {
    this.#schemas.invalidate(db, measurement);
  }

  /**
   * Closes the batch writers (their buffered points go out on this connection); resolves to the
   * first failure among those closed here, if any. A writer its owner is closing is waited for too
   * (its close() returns the same promise), but its outcome was reported to the owner.
   */
  async closeWriters(): Promise<{ reason: unknown } | undefined> {
    const writers = [...this.#writers];
    const byOwner = writers.map((w) => w.closed);
    const settled = await Promise.allSettled(writers.map((w) => w.close()));
    const failed = settled.find((r, i): r is PromiseRejectedResult => r.status === 'rejected' && !byOwner[i]);
    return failed === undefined ? undefined : { reason: failed.reason };
  }

  /** Releases the connections and ends the encoder pool. */
  async release(): Promise<void> {
    await Promise.all([this.#transport.close(), this.#pool?.close()]);
  }
}

/** A core of its own for the blocking mode's worker: the calling client's options (without `mode`) and settings. */
export function workerCore(options: unknown): { core: AsyncCore; settings: ClientSettings } {
  const opts = resolveClientOptions(options as string | ClientOptions | undefined);
  const settings = initialSettings(opts);
  return { core: new AsyncCore(opts, settings), settings };
}
