/**
 * What every input reader of `fastinflux load` is (`InputReader`), what it is given
 * (`ReaderOptions`) and what it gives out (`ReaderChunk`): the contract between the readers and
 * the loader, in a module of its own so that the readers do not import index.ts, which opens them.
 */
import type { RecordBatch } from 'apache-arrow';
import type { FieldType, Precision } from '../../types.js';
import type { Point } from '../../encode/point-encoder.js';

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

/**
 * The chunks of one record batch of an Arrow or Parquet input whose row 0 is row `first` of the
 * input: slices (no copy) of at most `chunkRows` rows, with the rows before `startRow` left out
 * (resuming: the batch that holds it is sliced), each with `end`, where the input then stands.
 */
export function* batchChunks(batch: RecordBatch, first: number, startRow: number, chunkRows: number): Generator<ReaderChunk & { end: number }> {
  const n = batch.numRows;
  const from = Math.min(n, Math.max(0, startRow - first));
  for (let i = from; i < n; i += chunkRows) {
    const part = i === 0 && n <= chunkRows ? batch : batch.slice(i, Math.min(n, i + chunkRows));
    const base = first + i;
    yield { kind: 'arrow', batch: part, where: (row) => `row ${base + row}`, end: base + part.numRows };
  }
}

/** Cuts a long text for a message. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
