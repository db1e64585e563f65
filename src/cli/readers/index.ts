/**
 * The loader's input readers, one per format. Each reads its input incrementally and yields
 * chunks of at most `chunkRows` rows (record batches, point objects or line-protocol bytes) for
 * the batch writer; rows it cannot turn into points are reported through `reject` (the dead
 * letter) and left out.
 */
import { basename } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { FieldType, Precision } from '../../options.js';
import type { Point } from '../../encode/point-encoder.js';
import { UsageError } from '../errors.js';

export type InputFormat = 'arrow' | 'parquet' | 'csv' | 'ndjson' | 'lp';
export const INPUT_FORMATS: readonly InputFormat[] = ['arrow', 'parquet', 'csv', 'ndjson', 'lp'];
const kFormatAliases: Record<string, InputFormat> = {
  arrow: 'arrow', ipc: 'arrow', feather: 'arrow', arrows: 'arrow',
  parquet: 'parquet', pq: 'parquet',
  csv: 'csv', tsv: 'csv',
  ndjson: 'ndjson', jsonl: 'ndjson', json: 'ndjson',
  lp: 'lp', 'line-protocol': 'lp', line: 'lp', influx: 'lp',
};
const kExtensions: Record<string, InputFormat> = {
  arrow: 'arrow', arrows: 'arrow', ipc: 'arrow', feather: 'arrow',
  parquet: 'parquet', pq: 'parquet',
  csv: 'csv', tsv: 'csv',
  ndjson: 'ndjson', jsonl: 'ndjson',
  lp: 'lp', line: 'lp', influx: 'lp', txt: 'lp',
};

/** `--format`'s value, canonical. */
export function parseFormat(v: string): InputFormat {
  const f = Object.hasOwn(kFormatAliases, v.toLowerCase()) ? kFormatAliases[v.toLowerCase()] : undefined;
  if (!f) throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')} (got ${JSON.stringify(v)})`);
  return f;
}

export interface DetectedInput {
  format: InputFormat;
  /** The file is gzip-compressed (`.gz`). */
  gzip: boolean;
  /** Tab-separated (`.tsv`). */
  tabs: boolean;
  /** The file's name without directories and extensions: the default measurement. */
  stem: string;
}

/** The format of `path` from its extension (after a `.gz`), unless `forced`. */
export function detectInput(path: string, forced: InputFormat | undefined): DetectedInput {
  if (path === '-') {
    if (!forced) throw new UsageError('reading standard input (-) needs --format');
    return { format: forced, gzip: false, tabs: false, stem: '' };
  }
  let name = basename(path);
  let gzip = false;
  if (/\.gz$/i.test(name)) {
    gzip = true;
    name = name.slice(0, -3);
  }
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const format = forced ?? (Object.hasOwn(kExtensions, ext) ? kExtensions[ext] : undefined);
  if (!format) throw new UsageError(`cannot tell the format of ${path} from its extension: give --format (${INPUT_FORMATS.join(', ')})`);
  return { format, gzip, tabs: ext === 'tsv', stem };
}

/**
 * A chunk for the batch writer: at most `chunkRows` rows, written by one `writer.write()` call.
 * `where(row)` names a row in messages; `text(row)` is its source text (a CSV row, an NDJSON
 * line), for the dead letter when the encoder refuses it.
 */
export type ReaderChunk = (
  | { kind: 'arrow'; batch: RecordBatch; where: (row: number) => string; text?: (row: number) => string | undefined }
  | { kind: 'points'; points: Point[]; where: (row: number) => string; text?: (row: number) => string | undefined }
  | { kind: 'lines'; data: Buffer; lines: number }
) & {
  /**
   * Where the input stands after this chunk, in the reader's unit (`InputReader.position`): the
   * chunk holds every row before it that is not in an earlier chunk (rows it left out as invalid
   * included). A resumed load starts there (`startRow` / `startByte`).
   */
  end?: number;
  /** Line protocol: the (1-based) line of the input that starts at `end`, for messages. */
  endLine?: number;
};

export interface ReaderOptions {
  /** The input: a path, or `-` for standard input. */
  path: string;
  /** How to name the input in messages. */
  label: string;
  gzip: boolean;
  tabs: boolean;
  /** Rows per chunk (the writer's batch size: each chunk is one all-or-nothing slice). */
  chunkRows: number;
  /**
   * Longest line the writer can send: a line protocol line longer is rejected, and a record or
   * line still unfinished at this length (an unclosed quote, no newline) stops the reading.
   */
  maxLineBytes: number;
  /** Of integer epochs in CSV and NDJSON (and integer time columns of Arrow/Parquet). */
  precision: Precision;
  measurement: string | undefined;
  tagColumns: readonly string[];
  timeColumn: string | undefined;
  fieldTypes: Readonly<Record<string, FieldType>>;
  /** A row that cannot become a point: where it is, why, and its text when there is one. */
  reject(where: string, reason: string, text?: string): void;
  /**
   * Resuming (`--checkpoint`): the rows before this one are not read into chunks (Arrow,
   * Parquet: record batches or row groups skipped, the first one sliced; CSV: data records after
   * the header; NDJSON: lines). CSV and NDJSON still read them to learn the column types as the
   * first run did.
   */
  startRow?: number;
  /** Resuming line protocol: the byte offset to start at (a line boundary), of the decompressed input. */
  startByte?: number;
  /** The line number at `startByte` (default 1), for messages. */
  startLine?: number;
}

export interface InputReader {
  /** The format as shown to the user ("Arrow IPC file", "CSV", …); known once reading has started. */
  readonly format: string;
  /** Size of the input in bytes, when known. */
  readonly totalBytes: number | undefined;
  /** Input bytes read so far (an estimate for Parquet). */
  bytesRead(): number;
  /**
   * How far the rows given out go, in the unit a resumed load starts from: rows (Arrow,
   * Parquet: rows of the file; CSV: data records; NDJSON: lines) or, for line protocol, bytes
   * of the (decompressed) input. Once `chunks()` has ended, the end of the input.
   */
  position(): number;
  /** The unit of `position()`. */
  readonly unit: 'row' | 'byte';
  chunks(): AsyncGenerator<ReaderChunk>;
  close(): Promise<void>;
}

export async function openReader(format: InputFormat, o: ReaderOptions): Promise<InputReader> {
  switch (format) {
    case 'arrow':
      return (await import('./arrow.js')).openArrowReader(o);
    case 'parquet':
      return (await import('./parquet.js')).openParquetReader(o);
    case 'csv':
      return (await import('./csv.js')).openCsvReader(o);
    case 'ndjson':
      return (await import('./ndjson.js')).openNdjsonReader(o);
    case 'lp':
      return (await import('./line-protocol.js')).openLineProtocolReader(o);
  }
}

/** Cuts a long text for a message. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
