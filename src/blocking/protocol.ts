/**
 * What goes between the calling thread and the blocking mode's worker, and how values that
 * structured clone cannot carry as they are get across:
 *
 * - Arrow tables and record batches (classes with methods, in both directions) travel as Arrow
 *   IPC bytes (`tableToIPC` / `tableFromIPC`), their buffer transferred, not copied again.
 * - Write input: a synchronous iterable (generator, Set, sync RecordBatchReader) is read into an
 *   array on the calling thread, in order, so that point indices stay the same; async input
 *   cannot be read by a thread that waits, and is refused.
 * - Everything else (points with `Date` and `bigint`, line protocol, the raw JSON answer with
 *   its bigints, GROUP BY `Map`s) is structured-cloned as is.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { Table, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import { InvalidOptionError } from '../errors.js';
import { isArrowBatchReader, isArrowRecordBatch, isArrowTable } from '../encode/arrow/index.js';
import { isAsyncIterable, isIterable } from '../encode/input.js';
import type { ArrowResult, ArrowStatementResult } from '../query/output/index.js';
import type { SerializedError } from './errors.js';

/** Calling thread → worker. `state` carries the client's settings that may change between calls. */
export interface BlockingRequest {
  readonly id: number;
  readonly op: 'ping' | 'write' | 'query' | 'getTagInfo' | 'invalidateSchema';
  readonly args: readonly unknown[];
  readonly state: ClientState;
}

export interface ClientState {
  db: string | undefined;
  rp: string | undefined;
  precision: string;
  encoder: string;
}

/** What the calling thread puts in `workerData`. */
export interface BlockingWorkerData {
  readonly port: MessagePort;
  readonly shared: SharedArrayBuffer;
  /** The calling client's constructor argument, without `mode`. */
  readonly options: unknown;
}

/** Posted from the exit hook (id -2): why this thread is ending, for the calling thread's error message. */
export interface ExitNotice {
  readonly id: -2;
  readonly exitCode: number;
  readonly reason: string | undefined;
}

/** Worker → calling thread. */
export type BlockingReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

// ---- Arrow ------------------------------------------------------------------------------------

/** Arrow IPC bytes of a table: one fresh buffer, owned by nobody else, so it can be transferred. */
function ipc(table: Table): Uint8Array {
  const bytes = tableToIPC(table, 'stream');
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

export type WireArrow =
  | { readonly t: 'table'; readonly ipc: Uint8Array }
  | { readonly t: 'map'; readonly entries: Array<[string, WireArrow]> }
  | { readonly t: 'array'; readonly items: WireArrow[] };

/** A query's Arrow result (a Table, a Map of them, an array per statement) as IPC bytes; fills `transfer`. */
export function encodeArrowResult(r: ArrowResult, transfer: ArrayBuffer[]): WireArrow {
  if (Array.isArray(r)) return { t: 'array', items: r.map((x) => encodeArrowResult(x, transfer)) };
  if (r instanceof Map) return { t: 'map', entries: [...r].map(([k, v]) => [k, encodeArrowResult(v, transfer)]) };
  const bytes = ipc(r);
  transfer.push(bytes.buffer as ArrayBuffer);
  return { t: 'table', ipc: bytes };
}

export function decodeArrowResult(w: WireArrow): ArrowResult {
  switch (w.t) {
    case 'table':
      return tableFromIPC(w.ipc);
    case 'map':
      return new Map(w.entries.map(([k, v]) => [k, decodeArrowResult(v) as Table]));
    case 'array':
      return w.items.map((x) => decodeArrowResult(x) as ArrowStatementResult);
  }
}

// ---- write input ------------------------------------------------------------------------------

export type WireWriteData =
  /** A point or line protocol, cloned. */
  | { readonly t: 'value'; readonly value: unknown }
  /** A Table or a RecordBatch (`batch`: given as a RecordBatch, rebuilt as one). */
  | { readonly t: 'arrow'; readonly ipc: Uint8Array; readonly batch: boolean }
  /** A synchronous iterable read into an array; `arrow[i]` set for the items that are Arrow. */
  | { readonly t: 'items'; readonly items: unknown[]; readonly arrow: Array<{ ipc: Uint8Array; batch: boolean } | undefined> };

/** Bytes the worker may own: a copy of just the view (cloning a view clones its whole ArrayBuffer). */
function ownBytes(u: Uint8Array, transfer: ArrayBuffer[]): Uint8Array {
  const copy = new Uint8Array(u);
  transfer.push(copy.buffer);
  return copy;
}

function arrowItem(x: unknown, transfer: ArrayBuffer[]): { ipc: Uint8Array; batch: boolean } {
  const batch = !isArrowTable(x);
  const bytes = ipc(batch ? new Table(x as RecordBatch) : (x as Table));
  transfer.push(bytes.buffer as ArrayBuffer);
  return { ipc: bytes, batch };
}

const kAsyncRefused = 'write() in blocking mode cannot read an async iterable (the calling thread waits and cannot run it): '
  + 'pass an array or a synchronous iterable, or use async mode (client.mode = \'async\')';

/** The calling thread's side of a write's input. */
export function encodeWriteData(data: unknown, transfer: ArrayBuffer[]): WireWriteData {
  if (typeof data === 'string') return { t: 'value', value: data };
  if (data instanceof Uint8Array) return { t: 'value', value: ownBytes(data, transfer) };
  if (isArrowTable(data) || isArrowRecordBatch(data)) {
    const { ipc: bytes, batch } = arrowItem(data, transfer);
    return { t: 'arrow', ipc: bytes, batch };
  }
  if (isArrowBatchReader(data) && (data as unknown as { isAsync(): boolean }).isAsync()) throw new InvalidOptionError(kAsyncRefused);
  if (isIterable(data)) {
    const items: unknown[] = [];
    const arrow: Array<{ ipc: Uint8Array; batch: boolean } | undefined> = [];
    for (const item of data) {
      if (isArrowTable(item) || isArrowRecordBatch(item)) {
        arrow[items.length] = arrowItem(item, transfer);
        items.push(undefined);
      } else {
        items.push(item instanceof Uint8Array ? ownBytes(item, transfer) : item);
      }
    }
    return { t: 'items', items, arrow };
  }
  if (isAsyncIterable(data)) throw new InvalidOptionError(kAsyncRefused);
  return { t: 'value', value: data };
}

function decodeArrowItem(a: { ipc: Uint8Array; batch: boolean }): Table | RecordBatch {
  const table = tableFromIPC(a.ipc);
  return a.batch && table.batches.length === 1 ? table.batches[0]! : table;
}

/** The worker's side of a write's input. */
export function decodeWriteData(w: WireWriteData): unknown {
  switch (w.t) {
    case 'value':
      return w.value;
    case 'arrow':
      return decodeArrowItem(w);
    case 'items':
      return w.items.map((x, i) => {
        const a = w.arrow[i];
        return a === undefined ? x : decodeArrowItem(a);
      });
  }
}
