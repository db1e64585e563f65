/**
 * Arrow input for writes: detection, and encoding of a `Table`, a `RecordBatch`, or an
 * (async) iterable of record batches (an IPC `RecordBatchReader`, a Parquet reader that yields
 * Arrow) into request bodies, through the columnar layout and the columnar encoder.
 *
 * The whole input is encoded before anything is sent, as for points: one bad row rejects the
 * write with nothing on the wire. Row indices (in errors and `skippedRows`) count rows across
 * all the batches of the write, from 0.
 * @module
 */
import { InvalidPointError } from '../../errors.js';
import { isAsyncIterable, isIterable, isObject } from '../../guards.js';
import type { EncodedBody } from '../body-builder.js';
import { ColumnarBodyWriter, encodeLayout } from '../columnar/ts-encoder.js';
import { ArrowLayoutBuilder, type ArrowEncodeOptions, type ArrowRecordBatch, type ArrowTable } from './from-arrow.js';

export type { ArrowEncodeOptions, ArrowWriteOptions, ArrowRecordBatch, ArrowTable } from './from-arrow.js';
export { ArrowLayoutBuilder } from './from-arrow.js';

const kTableSymbol = Symbol.for('apache-arrow/Table');
const kRecordBatchSymbol = Symbol.for('apache-arrow/RecordBatch');

function hasSchema(x: Record<PropertyKey, unknown>): boolean {
  const s = x.schema;
  return isObject(s) && Array.isArray(s.fields);
}

/** An Arrow `Table` of any copy of apache-arrow (its `Symbol.for` tag, or its shape: schema + batches). */
export function isArrowTable(x: unknown): x is ArrowTable {
  if (!isObject(x)) return false;
  if (x[kTableSymbol] === true) return true;
  return hasSchema(x) && Array.isArray(x.batches);
}

/** An Arrow `RecordBatch` of any copy of apache-arrow (its `Symbol.for` tag, or its shape: schema + struct data). */
export function isArrowRecordBatch(x: unknown): x is ArrowRecordBatch {
  if (!isObject(x)) return false;
  if (x[kRecordBatchSymbol] === true) return true;
  return hasSchema(x) && isObject(x.data) && Array.isArray(x.data.children) && typeof x.numRows === 'number';
}

/**
 * An Arrow IPC `RecordBatchReader` (sync or async): iterable of record batches. Recognised by
 * its methods, since the reader classes carry no `Symbol.for` tag.
 */
export function isArrowBatchReader(x: unknown): x is Iterable<ArrowRecordBatch> | AsyncIterable<ArrowRecordBatch> {
  return isObject(x) && typeof x.isSync === 'function' && typeof x.isAsync === 'function' && typeof x.readAll === 'function'
    && (typeof x[Symbol.iterator] === 'function' || typeof x[Symbol.asyncIterator] === 'function');
}

/**
 * Whether `write()` should take `x` as Arrow: a Table, a RecordBatch or a RecordBatchReader.
 * A plain (async) iterable of record batches (a generator) cannot be told from an iterable of
 * points without reading it: pass it to `encodeArrow` when its first item `isArrowRecordBatch`.
 */
export function isArrowInput(x: unknown): boolean {
  return isArrowTable(x) || isArrowRecordBatch(x) || isArrowBatchReader(x);
}

export type ArrowInput = ArrowTable | ArrowRecordBatch | Iterable<ArrowRecordBatch | ArrowTable> | AsyncIterable<ArrowRecordBatch | ArrowTable>;

export interface ArrowEncodeResult {
  /** Request bodies of at most `maxBodyBytes` each, in row order. */
  bodies: EncodedBody[];
  /** Lines written (rows minus skipped rows). */
  lines: number;
  /** Rows left out by `invalidRows: 'skip'` (indices across the batches of the write). */
  skippedRows: number[];
}

/** Encodes batches one by one into shared bodies. */
class ArrowEncoder {
  readonly #layouts: ArrowLayoutBuilder;
  readonly #writer: ArrowWriterState;
  readonly #options: ArrowEncodeOptions;
  constructor(options: ArrowEncodeOptions, maxBodyBytes: number) {
    this.#options = options;
    this.#layouts = new ArrowLayoutBuilder(options);
    this.#writer = { writer: new ColumnarBodyWriter(maxBodyBytes), rows: 0, skipped: [] };
  }

  add(item: unknown): void {
    if (isArrowRecordBatch(item)) this.#batch(item);
    else if (isArrowTable(item)) for (const b of item.batches) this.#batch(b);
    else {
      const got = item === null ? 'null' : typeof item === 'object' ? (item.constructor?.name ?? 'object') : typeof item;
      throw new InvalidPointError(this.#writer.rows, 'point', undefined, `expected an Arrow RecordBatch or Table in the iterable, got ${got}`);
    }
  }

  #batch(batch: ArrowRecordBatch): void {
    const s = this.#writer;
    const layout = this.#layouts.layout(batch, s.rows);
    encodeLayout(layout, s.writer, {
      rowBase: s.rows,
      nonFinite: this.#options.nonFinite,
      invalidRows: this.#options.invalidRows,
      allowNewlinesInStrings: this.#options.allowNewlinesInStrings,
      skippedRows: s.skipped,
    });
    s.rows += layout.rows;
  }

  finish(): ArrowEncodeResult {
    const s = this.#writer;
    const lines = s.writer.lineCount;
    return { bodies: s.writer.finish(), lines, skippedRows: s.skipped };
  }
}

interface ArrowWriterState {
  writer: ColumnarBodyWriter;
  rows: number;
  skipped: number[];
}

/**
 * Whether `x` must be read with `for await`: an async iterable that is not also a plain iterable,
 * or an Arrow reader over an async source (readers define both iterator methods).
 */
export function isAsyncOnly(x: unknown): boolean {
  if (!isAsyncIterable(x)) return false;
  if (isArrowBatchReader(x)) return (x as unknown as { isAsync(): boolean }).isAsync();
  return !isIterable(x);
}

/** Encodes a Table, a RecordBatch or a synchronous iterable of them. */
export function encodeArrowSync(input: ArrowTable | ArrowRecordBatch | Iterable<ArrowRecordBatch | ArrowTable>, options: ArrowEncodeOptions, maxBodyBytes: number): ArrowEncodeResult {
  const enc = new ArrowEncoder(options, maxBodyBytes);
  if (isArrowTable(input) || isArrowRecordBatch(input)) enc.add(input);
  else if (isIterable(input) && !isAsyncOnly(input)) for (const b of input) enc.add(b);
  else throw new InvalidPointError(0, 'point', undefined, 'expected an Arrow Table, a RecordBatch or an iterable of record batches');
  return enc.finish();
}

/**
 * Encodes Arrow input into request bodies of at most `maxBodyBytes` each: a Table, a
 * RecordBatch, or an (async) iterable of record batches (or tables). Rejects with
 * `InvalidPointError` / `InvalidOptionError` before anything is returned (see `from-arrow.ts`).
 */
export async function encodeArrow(input: ArrowInput, options: ArrowEncodeOptions, maxBodyBytes: number): Promise<ArrowEncodeResult> {
  if (isArrowTable(input) || isArrowRecordBatch(input) || !isAsyncOnly(input)) return encodeArrowSync(input as Iterable<ArrowRecordBatch>, options, maxBodyBytes);
  const enc = new ArrowEncoder(options, maxBodyBytes);
  for await (const b of input) enc.add(b);
  return enc.finish();
}
