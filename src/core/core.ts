/**
 * What the client's two cores share: the settings that may change between calls (db, rp,
 * precision, encoder, output, closed), the results of ping and write, and `ClientCore`, the
 * methods each mode implements: async-core.ts (promises, on undici) and blocking/core.ts (the
 * values themselves, from a worker thread). The client picks one when its mode is set.
 */
import type { WriteData } from '../encode/input.js';
import { ClientClosedError } from '../errors.js';
import type { ClientMode, EncoderChoice, Precision, QueryOptions, ResolvedClientOptions, WriteOptions, WriterOptions } from '../options/index.js';
import type { OutputFormat, TagInfo } from '../query/output/index.js';
import type { ModeResult } from '../query/results.js';
import type { BatchWriter } from '../writer/batch-writer.js';

/** The client's settings, read by its cores at each call; the client's setters check them. */
export interface ClientSettings {
  db: string | undefined;
  rp: string | undefined;
  precision: Precision;
  encoder: EncoderChoice;
  output: OutputFormat;
  closed: boolean;
}

/** The settings a client starts with. */
export function initialSettings(opts: ResolvedClientOptions): ClientSettings {
  return { db: opts.db, rp: opts.rp, precision: opts.precision, encoder: opts.encoder, output: opts.output, closed: false };
}

export function checkOpen(s: ClientSettings): void {
  if (s.closed) throw new ClientClosedError();
}

/** What `write()` resolves to with `invalidRows: 'skip'`. */
export interface WriteReport {
  /** Lines acknowledged by the server. */
  written: number;
  /** Points or rows left out because they had no field to write. */
  skipped: number;
  /** Their indices in the input (rows counted across record batches). */
  skippedRows: number[];
}

export interface PingResult {
  /** `X-Influxdb-Version`, e.g. `1.6.7~rc0`. */
  version: string;
  /** `X-Influxdb-Build`, e.g. `OSS`. */
  build: string;
  /** Round trip of the ping, in milliseconds. */
  durationMs: number;
}

/**
 * The client's methods in mode `M`. Everything a call checks, it checks in the core, so that in
 * async mode every failure rejects and in blocking mode every failure throws.
 */
export interface ClientCore<M extends ClientMode> {
  ping(): ModeResult<M, PingResult>;
  write(data: WriteData, options?: WriteOptions): ModeResult<M, true | WriteReport>;
  query(q: string | string[], options?: QueryOptions): ModeResult<M, unknown>;
  /** Runs the query `render()` gives, in the client's output format, then calls `after()`. */
  queryPattern(render: () => string, after: () => void): ModeResult<M, unknown>;
  getTagInfo(db: string | undefined): ModeResult<M, TagInfo>;
  writer(options?: WriterOptions): BatchWriter;
  /** Forgets cached schemas (those of the arrow output). */
  invalidateSchema(db?: string, measurement?: string): void;
}
