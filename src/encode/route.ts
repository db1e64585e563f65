/**
 * The one encoder routing policy (`routeOf`): for `write()`, the TypeScript encoders or the
 * WebAssembly encoder in the calling thread, or the WebAssembly encoder on the worker pool; for
 * `encode()`, which must stay in the calling thread, the same decision without the pool
 * (`encodeInThread`). `auto` keeps small writes in the calling thread, where a round trip to a
 * worker costs more than it saves, and sends large ones to the pool. The batch writer, which
 * encodes slice by slice with encoders it keeps, asks `writerRoute` per slice.
 */
import type { EncoderChoice, ResolvedEncodeOptions } from '../options/index.js';
import type { EncoderPool } from '../pool/encoder-pool.js';
import { InvalidPointError } from '../errors.js';
import { ArrowLayoutBuilder, isArrowInput, isArrowRecordBatch, isArrowTable, type ArrowInput, type ArrowRecordBatch, type ArrowTable } from './arrow/index.js';
import { ColumnarBodyWriter } from './columnar/ts-encoder.js';
import type { ColumnarLayout } from './columnar/layout.js';
import type { RowLanes } from './columnar/lanes.js';
import { encodeLayoutWasm } from './wasm/wasm-encoder.js';
import { PointColumnBuilder, type PointLayout } from './columnar/point-builder.js';
import { pointsToLayouts } from './columnar/point-layouts.js';
import { encodeAny, encodeSync, isAsyncIterable, isIterable, type EncodedInput } from './input.js';
import type { Point } from './point-encoder.js';

/**
 * Where `auto` sends a write, measured with bench/pool-threshold.mjs on the 2-core machine
 * (median ms for the workload table, layout build included):
 *
 *   rows        TS thread   WASM thread   pool of 2
 *   10,000         13.2         3.1          3.0
 *   100,000        57.8        18.8         25.7
 *   500,000       305.1        82.8         72.9
 *   1,000,000     765.3       163.4        147.9
 *
 * The WebAssembly encoder in the calling thread beats the TypeScript one at every size; the
 * pool wins only from about half a million rows of a table (building the layout and copying it
 * to the workers happens on the main thread). Point objects go to the pool sooner: building
 * their columns is cheap next to the point encoder they replace.
 */
export const POOL_MIN_TABLE_ROWS = 500_000;
export const POOL_MIN_POINTS = 20_000;

/**
 * A table, a batch or a synchronous iterable of them (a sync RecordBatchReader) encoded by the
 * WebAssembly encoder in this thread (as `encodeArrowSync` does with TS: same bytes, same
 * errors). The batch writer passes its own `builder`, so that dictionaries escaped once serve
 * every slice of a table, and a body size close to the expected one, so that the body is not regrown.
 */
export function encodeArrowInThreadWasm(
  data: ArrowTable | ArrowRecordBatch | Iterable<ArrowTable | ArrowRecordBatch>, w: ResolvedEncodeOptions, maxBodyBytes: number,
  builder = new ArrowLayoutBuilder(w), initialBytes?: number, alloc?: (bytes: number) => Buffer, lanes?: RowLanes,
): EncodedInput {
  const writer = new ColumnarBodyWriter(maxBodyBytes, initialBytes, alloc);
  const skippedRows: number[] = [];
  lanes?.reset();
  let rowBase = 0;
  const batch = (b: ArrowRecordBatch): void => {
    const layout = builder.layout(b, rowBase);
    encodeWithLanes(layout, rowBase, writer, w, skippedRows, lanes);
    rowBase += layout.rows;
  };
  const item = (x: unknown): void => {
    if (isArrowRecordBatch(x)) batch(x);
    else if (isArrowTable(x)) for (const b of x.batches) batch(b);
    else {
      // The refusal of encodeArrowSync (arrow/index.ts) for a stray item, word for word.
      const got = x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x;
      throw new InvalidPointError(rowBase, 'point', undefined, `expected an Arrow RecordBatch or Table in the iterable, got ${got}`);
    }
  };
  if (isArrowTable(data) || isArrowRecordBatch(data)) item(data);
  else for (const x of data as Iterable<unknown>) item(x);
  return finished(writer, skippedRows, lanes);
}

/** The layout encoded by WebAssembly into `writer`; with `lanes`, its rows' lanes too (skipped rows left out). */
function encodeWithLanes(layout: ColumnarLayout, rowBase: number, writer: ColumnarBodyWriter, w: ResolvedEncodeOptions, skippedRows: number[], lanes: RowLanes | undefined): void {
  const skippedBefore = skippedRows.length;
  encodeLayoutWasm(layout, writer, { rowBase, nonFinite: w.nonFinite, invalidRows: w.invalidRows, allowNewlinesInStrings: w.allowNewlinesInStrings, skippedRows });
  if (lanes === undefined) return;
  lanes.add(layout);
  lanes.drop(layout.rows, rowBase, skippedRows, skippedBefore);
}

/** The slice's bodies; its lines' lanes only when there is one per line (else the buffer scans the keys). */
function finished(writer: ColumnarBodyWriter, skippedRows: number[], lanes: RowLanes | undefined): EncodedInput {
  const lines = writer.lineCount;
  const lineLanes = lanes !== undefined && lanes.lines.length === lines ? lanes.lines : undefined;
  return { bodies: writer.finish(), lines, skippedRows, lanes: lineLanes };
}

/**
 * Point objects built into columns by the caller's `builder` (its escape caches serve every
 * call) and encoded by WebAssembly in this thread. All or nothing: on a bad point the rows
 * already built are discarded and the error is thrown.
 */
export function encodePointsInThreadWasm(
  points: readonly Point[], w: ResolvedEncodeOptions, maxBodyBytes: number, builder: PointColumnBuilder,
  initialBytes?: number, alloc?: (bytes: number) => Buffer, lanes?: RowLanes,
): EncodedInput {
  const writer = new ColumnarBodyWriter(maxBodyBytes, initialBytes, alloc);
  const skippedRows: number[] = [];
  lanes?.reset();
  const encode = (layout: PointLayout): void => encodeWithLanes(layout, layout.rowBase, writer, w, skippedRows, lanes);
  // Each layout is encoded as it closes, from views of the builder's columns: no copy.
  builder.addAll(points, encode);
  return finished(writer, skippedRows, lanes);
}

function arrowRows(data: unknown): number | undefined {
  if (isArrowTable(data) || isArrowRecordBatch(data)) return (data as { numRows: number }).numRows;
  return undefined; // readers and iterables: unknown, possibly large
}

function isPointObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !isArrowTable(x) && !isArrowRecordBatch(x);
}

/**
 * From this many point objects in one slice of the batch writer, building them into columns for
 * the WebAssembly encoder beats the point encoder (a fifth of its CPU).
 */
export const WRITER_COLUMNAR_MIN_POINTS = 256;

/** Under `auto`, an array long enough that the writer may build it into columns (before looking at its items). */
export function writerMayBuildColumns(data: unknown, choice: EncoderChoice): boolean {
  return choice === 'auto' && Array.isArray(data) && data.length >= WRITER_COLUMNAR_MIN_POINTS;
}

/**
 * Encoded synchronously by the TypeScript encoders in the calling thread: line protocol, a point,
 * or an array of at most `maxItems` that does not start with Arrow data. Not Arrow input, not
 * another iterable (those are sliced or handed to `encodeForWrite`).
 */
export function isSmallSyncInput(data: unknown, maxItems: number): boolean {
  if (typeof data === 'string' || data instanceof Uint8Array) return true;
  if (typeof data !== 'object' || data === null) return true; // refused by the encoder with a clear error
  if (Array.isArray(data)) return data.length <= maxItems && !(data.length > 0 && (isArrowTable(data[0]) || isArrowRecordBatch(data[0])));
  return !isArrowInput(data) && !isIterable(data) && !isAsyncIterable(data);
}

/**
 * How the batch writer encodes one slice (at most batchSize rows or points):
 * - `points`: point objects built into columns by the writer's own builder and encoded by
 *   WebAssembly in this thread (its escape caches serve every slice);
 * - `here`: the TypeScript encoders, synchronously, into the writer's scratch body;
 * - `arrow`: an Arrow slice under `auto`, by WebAssembly in this thread (a slice is far below the
 *   pool's break-even) with the writer's own layout builder, whose dictionary cache serves every slice;
 * - `write`: `encodeForWrite`, where `routeOf` decides (the pool, for `wasm`).
 */
export type WriterRoute = 'points' | 'here' | 'arrow' | 'write';

export function writerRoute(part: unknown, choice: EncoderChoice): WriterRoute {
  // A point is never an array (routeOf's test lets arrays through, to be refused by the encoder).
  if (writerMayBuildColumns(part, choice) && (part as unknown[]).every((x) => !Array.isArray(x) && isPointObject(x))) return 'points';
  if (choice !== 'wasm' && isSmallSyncInput(part, Infinity) && !isArrowInput(part)) return 'here';
  if (choice === 'auto' && (isArrowRecordBatch(part) || isArrowTable(part))) return 'arrow';
  return 'write';
}

/** Where an input is encoded: the TypeScript encoders or the WebAssembly one here, or the pool. */
export type Route = 'ts' | 'wasm' | 'pool';

/**
 * The routing policy. Arrow input (a table, a batch, a reader) and non-empty arrays of point
 * objects can go to the WebAssembly encoder; everything else (line protocol, a single point,
 * generators, arrays of record batches, mixed items) takes the TypeScript encoders with every
 * choice. `inThread` (for `encode()`): no pool; what would go there runs on the WebAssembly
 * encoder here, which beats the TypeScript encoders at those sizes (the table above; the batch
 * writer's measure for points).
 */
export function routeOf(data: unknown, choice: EncoderChoice, inThread: boolean): Route {
  if (choice === 'ts') return 'ts';
  const far: Route = inThread ? 'wasm' : 'pool';
  if (isArrowInput(data)) {
    const rows = arrowRows(data);
    return choice === 'wasm' || rows === undefined || rows >= POOL_MIN_TABLE_ROWS ? far : 'wasm';
  }
  if (Array.isArray(data) && data.length > 0 && (choice === 'wasm' || data.length >= POOL_MIN_POINTS) && data.every(isPointObject)) return far;
  return 'ts';
}

/**
 * `encode()`'s encoder: the input encoded in the calling thread, synchronously, by the encoder
 * `routeOf` picks without a pool. Every choice gives the same bytes and the same errors.
 */
export function encodeInThread(data: unknown, w: ResolvedEncodeOptions, choice: EncoderChoice, maxBodyBytes: number): EncodedInput {
  if (routeOf(data, choice, true) === 'ts') return encodeSync(data, w, maxBodyBytes);
  if (Array.isArray(data)) {
    // Given maxBodyBytes, the builder refuses a line too large for a body at the point, as the point encoder does.
    return encodePointsInThreadWasm(data as Point[], w, maxBodyBytes, new PointColumnBuilder({ ...w, maxBodyBytes }));
  }
  return encodeArrowInThreadWasm(data as ArrowTable | ArrowRecordBatch | Iterable<ArrowRecordBatch>, w, maxBodyBytes);
}

export async function encodeForWrite(
  data: unknown, w: ResolvedEncodeOptions, choice: EncoderChoice, maxBodyBytes: number, pool: () => EncoderPool,
): Promise<EncodedInput> {
  const route = routeOf(data, choice, false);
  if (route === 'ts') return encodeAny(data, w, maxBodyBytes);
  if (isArrowInput(data)) {
    if (route === 'pool') return pool().encodeArrow(data as ArrowInput, w, maxBodyBytes);
    return encodeArrowInThreadWasm(data as ArrowTable | ArrowRecordBatch, w, maxBodyBytes);
  }
  // Arrays of point objects: built into columns here, encoded by the workers in one pool job
  // over all layouts, so that small layouts share tasks and run in parallel.
  const layouts = [...pointsToLayouts(data as Point[], { ...w, maxBodyBytes })].map((layout) => ({ layout, rowBase: layout.rowBase }));
  return pool().encodeLayouts(layouts, {
    maxBodyBytes, nonFinite: w.nonFinite, invalidRows: w.invalidRows, allowNewlinesInStrings: w.allowNewlinesInStrings,
  });
}
