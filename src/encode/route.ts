/**
 * Chooses the encoder of a write: the TypeScript encoders in the calling thread, or the
 * WebAssembly encoder on the worker pool. `auto` keeps small writes in the calling thread, where
 * a round trip to a worker costs more than it saves, and sends large ones to the pool.
 */
import type { EncoderChoice, ResolvedWriteOptions } from '../options.js';
import type { EncoderPool } from '../pool/encoder-pool.js';
import { isArrowInput, isArrowRecordBatch, isArrowTable, type ArrowInput } from './arrow/index.js';
import { pointsToLayouts } from './columnar/point-builder.js';
import { encodeAny, type EncodedInput } from './input.js';
import type { Point } from './point-encoder.js';

/**
 * Rows from which `auto` uses the pool. Measured with bench/pool-threshold.mjs on the 2-core
 * machine: below it the calling thread finishes first (worker start and transfers dominate).
 */
export const POOL_MIN_ROWS = 20_000;

function arrowRows(data: unknown): number | undefined {
  if (isArrowTable(data) || isArrowRecordBatch(data)) return (data as { numRows: number }).numRows;
  return undefined; // readers and iterables: unknown, possibly large
}

function isPointObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !isArrowTable(x) && !isArrowRecordBatch(x);
}

export async function encodeForWrite(
  data: unknown, w: ResolvedWriteOptions, choice: EncoderChoice, maxBodyBytes: number, pool: () => EncoderPool,
): Promise<EncodedInput> {
  if (choice === 'ts') return encodeAny(data, w, maxBodyBytes);
  if (isArrowInput(data)) {
    const rows = arrowRows(data);
    if (choice === 'wasm' || rows === undefined || rows >= POOL_MIN_ROWS) return pool().encodeArrow(data as ArrowInput, w, maxBodyBytes);
    return encodeAny(data, w, maxBodyBytes);
  }
  // Arrays of point objects: built into columns here, encoded by the workers. Other inputs
  // (line protocol, generators, mixed items) stay on the calling thread.
  if (Array.isArray(data) && data.length > 0 && (choice === 'wasm' || data.length >= POOL_MIN_ROWS) && data.every(isPointObject)) {
    // One pool job over all layouts, so that small layouts share tasks and run in parallel.
    const layouts = [...pointsToLayouts(data as Point[], { ...w, maxBodyBytes })].map((layout) => ({ layout, rowBase: layout.rowBase }));
    return pool().encodeLayouts(layouts, {
      maxBodyBytes, nonFinite: w.nonFinite, invalidRows: w.invalidRows, allowNewlinesInStrings: w.allowNewlinesInStrings,
    });
  }
  return encodeAny(data, w, maxBodyBytes);
}
