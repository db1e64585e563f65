/**
 * The WASM encoder's glue: `WasmEncoder#encodeLayout` has the signature and the semantics of
 * `encodeLayout` in `../columnar/ts-encoder.ts` (same bytes, same bodies, same first error, same
 * skipped rows), so the pool can call either. The work is done by the AssemblyScript module
 * (`assembly/`, compiled to `build/encoder.wasm`); this file moves bytes in and out of its memory
 * (placed and grown by `memory.ts`) and turns its status codes into the writer's bodies and
 * `layoutError(...)`s.
 *
 * The memory protocol (`protocol.ts`, described in `assembly/protocol.ts`) is hand-written:
 *
 * - The module owns one memory; everything above its header belongs to this instance, which
 *   lays out, per call: descriptors, the static region (measurement, keys, dictionaries, copied
 *   once per call), the derived region (written by the module's `prepare()`), the skip and
 *   segment lists, then a window of rows and last the output region. Memory only grows (never
 *   shrinks, as wasm memory cannot) and is reused by every later call of this instance.
 * - Rows go through in windows of a few thousand: each array of the layout is copied in once per
 *   window with one `Uint8Array#set` of its rows (no per-row JavaScript work), then one `encode`
 *   call writes the window's lines into the output region. Windows keep the module's memory
 *   small (a few MB) whatever the layout's size, and a call's input and output cache-sized.
 * - `encode` returns when the window is done, when the output region (or a list) is full, when it
 *   needs a bigger output region for one line, or at the first refused row. Its output is copied
 *   into the writer after every call, and the body cuts it reports (segments) are replayed with
 *   the writer's own `commit`, so bodies are cut exactly where the TypeScript encoder cuts them.
 *
 * One instance per thread (a worker makes its own from the `WebAssembly.Module` it is given).
 * @module
 */
import { ErrorCode, FieldKind, type ColumnarLayout, type FieldColumn } from '../columnar/layout.js';
import type { ColumnarBodyWriter } from '../columnar/body-writer.js';
import { layoutError, rowsWithoutField } from '../columnar/layout-error.js';
import type { ColumnarEncodeOptions } from '../columnar/ts-encoder.js';
import { ModuleMemory, readAsString } from './memory.js';
import { getEncoderModule, type EncoderVariant } from './module.js';
import * as P from './protocol.js';

/** The module's exports (assembly/index.ts). */
interface EncoderExports {
  readonly memory: WebAssembly.Memory;
  protocolVersion(): number;
  headerAddress(): number;
  prepare(): void;
  encode(from: number, to: number): number;
  noop(): number;
}

/** Rows per window: about 0.5 MB of input and 1 MB of output on the standard workload. */
const kWindowRows = 8192;
/** String bytes per window above which a window is halved (down to one row). */
const kWindowStringBytes = 4 * 1024 * 1024;
/** Initial output region; grown (never shrunk) when one line needs more. */
const kOutputBytes = 2 * 1024 * 1024;
/** Rows of the skip list (invalidRows: 'skip'); a full list is flushed and the call resumed. */
const kSkipCap = 4096;
/** Segments (body cuts) per call; a full list is flushed and the call resumed. */
const kSegCap = 256;

export interface WasmEncoderOptions {
  /** Measure where the time goes (`WasmEncoder#timings`). Default false. */
  timings?: boolean;
}

export interface WasmEncoderTimings {
  /** Copying the layout's rows into the module's memory (and growing it). */
  copyIn: number;
  /** In the module's `encode`. */
  encode: number;
  /** Copying lines out into the writer's bodies (including the writer's own allocations). */
  copyOut: number;
  /** `encode` calls. */
  calls: number;
}

export class WasmEncoder {
  readonly #exports: EncoderExports;
  /** The module's memory: views, growth, and the cursor that places the regions. */
  readonly #mem: ModuleMemory;
  /** Address of the header; the regions start HEADER_BYTES above it. */
  readonly #header: number;
  /** Output region capacity (grows on NEED_ROOM). */
  #outCap = kOutputBytes;
  /** Where the time goes, when asked for (`options.timings`): see `timings`. */
  readonly #timings: WasmEncoderTimings | null;

  /**
   * Instantiates the encoder module (default: the release build, compiled once per process).
   * Synchronous: instantiating a compiled Module is cheap.
   */
  constructor(module: WebAssembly.Module = getEncoderModule(), options: WasmEncoderOptions = {}) {
    this.#timings = options.timings === true ? { copyIn: 0, encode: 0, copyOut: 0, calls: 0 } : null;
    let memory: WebAssembly.Memory | undefined;
    const imports = {
      env: {
        // Only the debug build imports it: a failed `assert`, i.e. a bug in the encoder or the glue.
        abort(msg: number, file: number, line: number, column: number): never {
          throw new Error(`WASM encoder assertion failed: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${column}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(module, imports);
    this.#exports = instance.exports as unknown as EncoderExports;
    memory = this.#exports.memory;
    this.#mem = new ModuleMemory(memory);
    const version = this.#exports.protocolVersion();
    if (version !== P.PROTOCOL_VERSION) {
      throw new Error(`the WASM encoder module speaks protocol ${version}, this glue ${P.PROTOCOL_VERSION}: rebuild it (npm run build)`);
    }
    this.#header = this.#exports.headerAddress();
    this.#mem.ensure(this.#header + P.HEADER_BYTES);
  }

  /** An encoder for the given build of the module (`debug`: with runtime checks, for tests). */
  static create(variant: EncoderVariant | WebAssembly.Module = 'release'): WasmEncoder {
    return new WasmEncoder(variant instanceof WebAssembly.Module ? variant : getEncoderModule(variant));
  }

  /**
   * Milliseconds spent, since the encoder was made, copying rows in, encoding in the module and
   * copying lines out into writers, and the number of `encode` calls; null unless made with
   * `{ timings: true }` (a clock read per window and per call).
   */
  get timings(): Readonly<WasmEncoderTimings> | null {
    return this.#timings === null ? null : { ...this.#timings };
  }

  /** Calls the module's no-op export `n` times: the cost of crossing the JS/WASM boundary. */
  noopCalls(n: number): number {
    const noop = this.#exports.noop;
    let s = 0;
    for (let k = 0; k < n; k++) s += noop();
    return s;
  }

  // ---- encoding ----------------------------------------------------------------------------

  /**
   * Encodes rows `from .. to` of `layout` into `writer`: exactly `encodeLayout` of
   * ts-encoder.ts (same bodies, same first error, same skipped rows).
   */
  encodeLayout(layout: ColumnarLayout, writer: ColumnarBodyWriter, options: ColumnarEncodeOptions = {}): void {
    const rowBase = options.rowBase ?? 0;
    const from = options.from ?? 0;
    const to = options.to ?? layout.rows;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > layout.rows) {
      throw new RangeError(`rows ${from} .. ${to} are not rows of the layout (0 .. ${layout.rows})`);
    }
    if (from >= to) return;
    const skipNonFinite = options.nonFinite === 'skipField';
    const skipRows = options.invalidRows === 'skip';
    const allowNewlines = options.allowNewlinesInStrings ?? false;

    const mem = this.#mem;
    mem.views();
    const h = this.#header;
    const tags = layout.tags;
    const fields = layout.fields;

    // Header and descriptors, then the static region.
    mem.cursor = h + P.HEADER_BYTES;
    const tagsPtr = mem.place(tags.length * P.TAG_BYTES);
    const fieldsPtr = mem.place(fields.length * P.FIELD_BYTES);
    const measPtr = mem.copy(layout.measurement);
    let derived = 64;
    for (let t = 0; t < tags.length; t++) {
      const c = tags[t]!;
      const d = tagsPtr + t * P.TAG_BYTES;
      const entries = Math.max(0, c.dictOffsets.length - 1);
      mem.set(d + P.T_KEY_PTR, mem.copy(c.key));
      mem.set(d + P.T_KEY_LEN, c.key.length);
      mem.set(d + P.T_KEY_INVALID, c.keyInvalid !== 0 ? 1 : 0);
      mem.set(d + P.T_HAS_INDICES, c.indices !== null ? 1 : 0);
      mem.set(d + P.T_HAS_VALIDITY, c.validity !== null ? 1 : 0);
      mem.set(d + P.T_DICT_DATA, mem.copy(c.dictData));
      mem.set(d + P.T_DICT_OFFSETS, mem.copy(c.dictOffsets));
      mem.set(d + P.T_ENTRIES, entries);
      mem.set(d + P.T_HAS_INVALID, c.dictInvalid !== null ? 1 : 0);
      if (c.dictInvalid !== null) mem.set(d + P.T_DICT_INVALID, mem.copyRows(c.dictInvalid, 0, entries, 1, 1));
      mem.set(d + P.T_FALLBACK, c.fallback);
      // `,key=value` per entry, entries + 1 offsets, padding. (The entries' lengths, summed from
      // the offsets, not dictData.length: corrupt offsets may overlap, and must not overflow.)
      let values = 0;
      for (let e = 0; e < entries; e++) values += Math.max(0, c.dictOffsets[e + 1]! - c.dictOffsets[e]!);
      derived += 4 * (entries + 1) + entries * (c.key.length + 2) + values + P.SLACK + 16;
    }
    for (let f = 0; f < fields.length; f++) {
      const c = fields[f]!;
      const d = fieldsPtr + f * P.FIELD_BYTES;
      mem.set(d + P.F_KIND, c.kind);
      mem.set(d + P.F_KEY_PTR, mem.copy(c.key));
      mem.set(d + P.F_KEY_LEN, c.key.length);
      mem.set(d + P.F_KEY_INVALID, c.keyInvalid !== 0 ? 1 : 0);
      mem.set(d + P.F_HAS_VALIDITY, c.validity !== null ? 1 : 0);
      derived += 4 + c.key.length + 2 + P.SLACK + 16;
    }
    const derivedPtr = mem.place(derived);
    const skipPtr = mem.place(kSkipCap * 4);
    const segPtr = mem.place(kSegCap * P.SEGMENT_BYTES);
    const windowStart = mem.cursor;
    // Views may have been rebuilt by growth above: write through the current ones from here on.
    mem.set(h + P.H_FLAGS, (skipNonFinite ? P.FLAG_SKIP_NON_FINITE : 0) | (skipRows ? P.FLAG_SKIP_ROWS : 0) | (allowNewlines ? P.FLAG_ALLOW_NEWLINES : 0));
    mem.set(h + P.H_MEAS_PTR, measPtr);
    mem.set(h + P.H_MEAS_LEN, layout.measurement.length);
    mem.set(h + P.H_N_TAGS, tags.length);
    mem.set(h + P.H_TAGS_PTR, tagsPtr);
    mem.set(h + P.H_N_FIELDS, fields.length);
    mem.set(h + P.H_FIELDS_PTR, fieldsPtr);
    mem.set(h + P.H_DERIVED_PTR, derivedPtr);
    mem.set(h + P.H_DERIVED_CAP, derived);
    mem.set(h + P.H_SKIP_PTR, skipPtr);
    mem.set(h + P.H_SKIP_CAP, kSkipCap);
    mem.set(h + P.H_SEG_PTR, segPtr);
    mem.set(h + P.H_SEG_CAP, kSegCap);
    mem.set(h + P.H_HAS_TIME_INVALID, layout.timeInvalid !== null ? 1 : 0);
    mem.f64[(h + P.H_LIMIT) >> 3] = writer.limit;
    this.#exports.prepare();

    const stringCols = fields.filter((f) => f.kind === FieldKind.STRING);
    const skipped = options.skippedRows;
    for (let row = from; row < to;) {
      // The window: kWindowRows rows, fewer when their strings are large.
      let end = Math.min(to, row + kWindowRows);
      while (end - row > 1) {
        let bytes = 0;
        for (const f of stringCols) bytes += f.offsets[end]! - f.offsets[row]!;
        if (bytes <= kWindowStringBytes) break;
        end = row + ((end - row) >> 1);
      }
      const timings = this.#timings;
      let t0 = timings === null ? 0 : performance.now();
      mem.cursor = windowStart;
      this.#window(layout, tagsPtr, fieldsPtr, row, end);
      for (let next = row; ;) {
        mem.f64[(h + P.H_BODY_LEN) >> 3] = writer.len;
        let t1 = 0;
        if (timings !== null) {
          t1 = performance.now();
          timings.copyIn += t1 - t0;
        }
        const status = this.#exports.encode(next, end);
        mem.views();
        let t2 = 0;
        if (timings !== null) {
          t2 = performance.now();
          timings.encode += t2 - t1;
          timings.calls++;
        }
        this.#flush(writer, skipped, rowBase);
        if (timings !== null) {
          t0 = performance.now();
          timings.copyOut += t0 - t2;
        }
        next = mem.i32[(h + P.H_NEXT_ROW) >> 2]!;
        if (status === P.STATUS_DONE) break;
        if (status === P.STATUS_NEED_ROOM) {
          // One line may need more than the whole output region: grow it (it is the last region).
          const need = mem.f64[(h + P.H_NEED) >> 3]!;
          this.#outCap = Math.max(need, Math.ceil(this.#outCap * 1.5));
          this.#output();
        } else if (status === P.STATUS_ERROR) {
          throw this.#error(layout, writer, rowBase, to, skipNonFinite);
        }
        // STATUS_FULL: the lists or the output were flushed; go on from `next`.
      }
      row = end;
    }
  }

  /** Copies rows [from, to) of every row array in, and points the descriptors at them. */
  #window(layout: ColumnarLayout, tagsPtr: number, fieldsPtr: number, from: number, to: number): void {
    const mem = this.#mem;
    const h = this.#header;
    mem.set(h + P.H_TIME_BASE, mem.copyRows(layout.time, from, to, 8));
    if (layout.timeInvalid !== null) mem.set(h + P.H_TIME_INVALID_BASE, mem.copyBits(layout.timeInvalid, from, to));
    const tags = layout.tags;
    for (let t = 0; t < tags.length; t++) {
      const c = tags[t]!;
      const d = tagsPtr + t * P.TAG_BYTES;
      if (c.indices !== null) mem.set(d + P.T_INDICES_BASE, mem.copyRows(c.indices, from, to, 4, 0xff));
      if (c.validity !== null) mem.set(d + P.T_VALIDITY_BASE, mem.copyBits(c.validity, from, to));
    }
    const fields = layout.fields;
    for (let f = 0; f < fields.length; f++) {
      const c = fields[f]!;
      const d = fieldsPtr + f * P.FIELD_BYTES;
      if (c.validity !== null) mem.set(d + P.F_VALIDITY_BASE, mem.copyBits(c.validity, from, to));
      switch (c.kind) {
        case FieldKind.FLOAT:
        case FieldKind.FLOAT_AS_INT:
          mem.set(d + P.F_VALUES_BASE, mem.copyRows(c.values, from, to, 8, 0xff));
          break;
        case FieldKind.INT64:
        case FieldKind.UINT64:
          mem.set(d + P.F_VALUES_BASE, mem.copyRows(c.values, from, to, 8));
          break;
        case FieldKind.INT32:
          mem.set(d + P.F_VALUES_BASE, mem.copyRows(c.values, from, to, 4));
          break;
        case FieldKind.BOOL:
          mem.set(d + P.F_VALUES_BASE, mem.copyBits(c.values, from, to));
          break;
        case FieldKind.STRING: {
          // Offsets of rows [from, to] as they are (absolute); the data they span, based so
          // that data + offset is the byte.
          mem.set(d + P.F_OFFSETS_BASE, mem.copyRows(c.offsets, from, to + 1, 4));
          const a = Math.min(Math.max(0, c.offsets[from] ?? 0), c.values.length);
          const b = Math.min(Math.max(a, c.offsets[to] ?? 0), c.values.length);
          const at = mem.place(b - a);
          mem.u8.set(c.values.subarray(a, b), at);
          mem.set(d + P.F_VALUES_BASE, (at - a) | 0);
          break;
        }
        default:
          throw new TypeError(`unknown field kind ${String((c as { kind: unknown }).kind)} in column ${JSON.stringify((c as FieldColumn).name)}`);
      }
    }
    this.#output();
  }

  /** Places the output region after the window (it is always last, so it grows in place). */
  #output(): void {
    const mem = this.#mem;
    const h = this.#header;
    const out = (mem.cursor + 15) & ~15;
    mem.ensure(out + this.#outCap + P.SLACK);
    mem.set(h + P.H_OUT_PTR, out);
    mem.set(h + P.H_OUT_CAP, this.#outCap);
  }

  /**
   * Moves what a call produced into the writer: the skipped rows, and the lines, segment by
   * segment. A segment with a cut starts with a line that did not fit the open body: it is
   * appended alone and committed with its start, so that the writer's `commit` cuts the body
   * there, as it does for the TypeScript encoder. The other lines fit (the module checked), so
   * they are appended in one copy and committed with `commit(0)` once each, which only counts
   * them.
   */
  #flush(writer: ColumnarBodyWriter, skipped: number[] | undefined, rowBase: number): void {
    const h = this.#header;
    const i32 = this.#mem.i32;
    const u8 = this.#mem.u8;
    if (skipped !== undefined) {
      const n = i32[(h + P.H_SKIP_COUNT) >> 2]!;
      const list = i32[(h + P.H_SKIP_PTR) >> 2]! >> 2;
      for (let k = 0; k < n; k++) skipped.push(rowBase + i32[list + k]!);
    }
    const out = i32[(h + P.H_OUT_PTR) >> 2]!;
    const segs = i32[(h + P.H_SEG_PTR) >> 2]!;
    const count = i32[(h + P.H_SEG_COUNT) >> 2]!;
    let start = 0;
    for (let s = 0; s < count; s++) {
      const sd = (segs + s * P.SEGMENT_BYTES) >> 2;
      const end = i32[sd + (P.S_END >> 2)]!;
      let lines = i32[sd + (P.S_LINES >> 2)]!;
      if (lines === 0) {
        start = end;
        continue;
      }
      if (i32[sd + (P.S_CUT >> 2)]! !== 0) {
        const firstEnd = i32[sd + (P.S_FIRST_END >> 2)]!;
        const n = firstEnd - start;
        const buf = writer.reserve(n);
        const lineStart = writer.len;
        buf.set(u8.subarray(out + start, out + firstEnd), lineStart);
        writer.len = lineStart + n;
        if (writer.commit(lineStart) !== 0) throw new Error('WASM encoder: a line the module accepted is larger than a body (glue bug)');
        start = firstEnd;
        lines--;
      }
      const n = end - start;
      if (n > 0) {
        const buf = writer.reserve(n);
        buf.set(u8.subarray(out + start, out + end), writer.len);
        writer.len += n;
      }
      for (let k = 0; k < lines; k++) writer.commit(0);
      start = end;
    }
    // Bytes past the last segment: a line refused as larger than a body, which the writer holds
    // (uncommitted) when the TypeScript encoder reports it.
    const tail = i32[(h + P.H_OUT_LEN) >> 2]! - start;
    if (tail > 0) {
      const buf = writer.reserve(tail);
      buf.set(u8.subarray(out + start, out + start + tail), writer.len);
      writer.len += tail;
    }
  }

  /** The InvalidPointError for the module's STATUS_ERROR, worded by layoutError as for the TypeScript encoder. */
  #error(layout: ColumnarLayout, writer: ColumnarBodyWriter, rowBase: number, to: number, skipNonFinite: boolean): Error {
    const h = this.#header;
    const i32 = this.#mem.i32;
    const code = i32[(h + P.H_ERR_CODE) >> 2]! as ErrorCode;
    const row = i32[(h + P.H_ERR_ROW) >> 2]!;
    const column = i32[(h + P.H_ERR_COLUMN) >> 2]!;
    const entry = i32[(h + P.H_ERR_ENTRY) >> 2]!;
    let detail: number | number[] = i32[(h + P.H_ERR_DETAIL) >> 2]!;
    // Name the rows without a field: this one and the next ones of the range, up to the limit.
    if (code === ErrorCode.NO_FIELD) detail = rowsWithoutField(layout.fields, row, to, rowBase, skipNonFinite);
    return layoutError(layout, rowBase, code, row, column, entry, detail, writer.limit);
  }
}

// ---- default instance ------------------------------------------------------------------------

let shared: WasmEncoder | undefined;

/**
 * `encodeLayout` of ts-encoder.ts, run by the WASM encoder: one instance per thread, made on
 * first use from the release build.
 */
export function encodeLayoutWasm(layout: ColumnarLayout, writer: ColumnarBodyWriter, options: ColumnarEncodeOptions = {}): void {
  shared ??= new WasmEncoder();
  shared.encodeLayout(layout, writer, options);
}

