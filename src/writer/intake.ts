/**
 * The intake: what `write()` and `tryWrite()` are given, cut into slices of at most batchSize
 * rows or points (arrays, Arrow tables and record batches, iterables), encoded by the encoder
 * `writerRoute` picks for each slice, and taken into the buffer one slice at a time, each after
 * waiting for room. Writes enter in call order; at most maxWaitingWrites wait. Rows left out by
 * `invalidRows: 'skip'` are reported here, with their index in the write.
 */
import { BufferFullError, InvalidOptionError, InvalidPointError, SpoolFullError, WriterClosedError } from '../errors.js';
import { LineTooLargeError, type EncodedBody } from '../encode/body-builder.js';
import { stampMissingTimes } from '../encode/line-protocol/stamp.js';
import { NS_PER, floorDiv, nowNs } from '../encode/time.js';
import { ArrowLayoutBuilder, isArrowInput, isArrowRecordBatch, isArrowTable, type ArrowRecordBatch, type ArrowTable } from '../encode/arrow/index.js';
import { RowLanes } from '../encode/columnar/lanes.js';
import { PointColumnBuilder } from '../encode/columnar/point-builder.js';
import { InputEncoder, isAsyncIterable, isIterable, type EncodedInput, type WriteData, type WriteItem } from '../encode/input.js';
import type { Point } from '../encode/point-encoder.js';
import {
  encodeArrowInThreadWasm, encodeForWrite, encodePointsInThreadWasm, isSmallSyncInput, writerMayBuildColumns, writerRoute, type WriterRoute,
} from '../encode/route.js';
import type { EncoderChoice, ResolvedWriterOptions } from '../options/index.js';
import type { EncoderPool } from '../pool/encoder-pool.js';
import type { WriteBuffer } from './buffer.js';
import type { Flusher } from './flusher.js';
import type { Ledger } from './ledger.js';
import type { WriterSpool } from './spool.js';

/** What the writer takes: what `client.write()` takes, and iterables mixing points, line protocol and Arrow batches. */
export type WriterInput =
  | WriteData
  | Iterable<WriteItem | ArrowRecordBatch | ArrowTable>
  | AsyncIterable<WriteItem | ArrowRecordBatch | ArrowTable>;

/** What `write()` resolves to once its data is in the buffer. */
export interface AcceptReport {
  /** Points (lines) taken into the buffer by this call. */
  accepted: number;
  /** Of those, points dropped at once by `whenFull: 'dropNewest'`. */
  dropped: number;
  /** Input indices of points or rows left out by `invalidRows: 'skip'` (not counted as accepted). */
  skippedRows: number[];
}

/** The client's encoders: its choice, and its worker pool (made on first use). */
export interface EncoderContext {
  pool: () => EncoderPool;
  encoder: EncoderChoice;
}

/** Longest run of encoding (ms) before the writer lets I/O callbacks run, while requests are out. */
const kYieldEveryMs = 3;

function rebase(e: unknown, offset: number, acceptedBefore: number): unknown {
  if (!(e instanceof InvalidPointError) || (offset === 0 && acceptedBefore === 0)) return e;
  const out = new InvalidPointError(e.pointIndex + offset, e.element, e.key, e.reason, e.line, e.lineText);
  if (acceptedBefore > 0) out.message += ` (the ${acceptedBefore} points before it in this write were accepted)`;
  return out;
}

export class Intake {
  readonly #o: ResolvedWriterOptions;
  readonly #ctx: EncoderContext;
  readonly #ledger: Ledger;
  readonly #buffer: WriteBuffer;
  /** Asked whether requests are out (to yield to them) and whether close() gave up (to refuse). */
  readonly #flusher: Flusher;
  /** The encoder of small inputs, reused: its body moves into the buffer's open body. */
  readonly #scratch: InputEncoder;
  #tail: Promise<unknown> = Promise.resolve();
  #busy = 0;
  /** The refusal of writes beyond maxWaitingWrites, shared while the intake stays at the bound. */
  #waitingRefusal: BufferFullError | undefined;
  /** Kept across writes: its caches (plans per schema, escaped dictionaries) serve every slice. */
  #arrowBuilder: ArrowLayoutBuilder | undefined;
  /** Likewise for point objects: escaped names and tag values are cached across slices. */
  #pointBuilder: PointColumnBuilder | undefined;
  /** The durable spool, once open (set by the writer before any write is taken in). */
  #spool: WriterSpool | undefined;
  /** The lanes of the rows of the slice being encoded (with more than one lane). */
  #rowLanes: RowLanes | undefined;
  /** Mean encoded line size so far, to size the next slice's body in one allocation. */
  #bytesPerLine = 160;
  #lastYield = 0;

  constructor(options: ResolvedWriterOptions, ctx: EncoderContext, ledger: Ledger, buffer: WriteBuffer, flusher: Flusher) {
    this.#o = options;
    this.#ctx = ctx;
    this.#ledger = ledger;
    this.#buffer = buffer;
    this.#flusher = flusher;
    this.#scratch = new InputEncoder(options.write, options.batchBytes);
  }

  /** With the `spool` option: writes wait for it to open (and for what it held to be taken in). */
  useSpool(ready: Promise<WriterSpool>): void {
    this.#tail = ready.then((spool) => {
      this.#spool = spool;
    });
  }

  /** write() calls not taken in yet. */
  get waiting(): number {
    return this.#busy;
  }

  /** Settles once every write() called so far is taken in (or refused). */
  get drained(): Promise<unknown> {
    return this.#tail;
  }

  get #encoder(): EncoderChoice {
    return this.#o.write.encoder ?? this.#ctx.encoder;
  }

  write(data: WriterInput): Promise<AcceptReport> {
    // Fast path: nothing ahead in the intake, room now, and an input encoded here and now.
    // (Not for many point objects under 'auto': #ingest builds those into columns for WebAssembly,
    // a fraction of the point encoder's CPU.)
    // (Never with a spool: a write is on disk before it resolves.)
    if (this.#o.spool === undefined && this.#busy === 0 && this.#buffer.hasRoom() && !writerMayBuildColumns(data, this.#encoder) && isSmallSyncInput(data, this.#o.batchSize)) {
      try {
        return Promise.resolve(this.#acceptSmall(data));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // Each waiting write holds its input and a promise: unawaited writes must not pile up without end.
    // One error for every refusal of a burst: a million refusals must not cost a million stack
    // traces (measured: 612 MB of RSS with one each, 286 MB with one shared).
    if (this.#busy >= this.#o.maxWaitingWrites) return Promise.reject(this.#waitingRefusal ??= this.#waitingError());
    this.#busy++;
    if (this.#busy === 1) this.#ledger.updateExitWatch();
    const p = this.#tail.then(() => this.#ingest(data));
    const done = (): void => {
      this.#busy--;
      this.#waitingRefusal = undefined;
      if (this.#busy === 0) this.#ledger.updateExitWatch();
    };
    this.#tail = p.then(done, done);
    return p;
  }

  tryWrite(data: WriterInput): boolean {
    if (isArrowInput(data) || isAsyncIterable(data)) throw new InvalidOptionError('tryWrite() takes points and line protocol; use write() for Arrow data and async iterables');
    if (this.#o.spool !== undefined) throw new InvalidOptionError('tryWrite() cannot be used with spool: a write is on disk before it is accepted, which takes an fsync; use write()');
    if (this.#busy > 0 || !this.#buffer.hasRoom()) return false;
    this.#acceptSmall(data);
    return true;
  }

  #waitingError(): BufferFullError {
    const o = this.#o;
    return new BufferFullError(`write() refused at once: ${this.#busy} earlier write() calls are still waiting to be taken in (maxWaitingWrites ${o.maxWaitingWrites}); await write() to follow the writer's backpressure, or use tryWrite()`, this.#buffer.bufferedBytes(), o.maxBufferBytes);
  }

  /** Points and line protocol, encoded here and now; all of it is accepted or none. */
  #acceptSmall(data: unknown): AcceptReport {
    const enc = this.#scratch;
    enc.reset();
    try {
      if (Array.isArray(data) || (isIterable(data) && typeof data !== 'string')) {
        for (const item of data as Iterable<unknown>) enc.add(item);
      } else {
        enc.add(data);
      }
    } catch (e) {
      enc.reset();
      throw e;
    }
    const lines = enc.builder.lineCount;
    const skippedRows = enc.skipped;
    this.#ledger.skip(skippedRows.length);
    if (lines === 0) {
      enc.reset();
      return { accepted: 0, dropped: 0, skippedRows };
    }
    if (this.#buffer.dropsNewest()) {
      enc.builder.cut();
      const bodies = enc.builder.drain();
      enc.reset();
      return { accepted: lines, dropped: this.#buffer.accept(bodies, lines), skippedRows };
    }
    this.#buffer.adopt(enc.builder, lines);
    return { accepted: lines, dropped: 0, skippedRows };
  }

  /** Slices of at most batchSize rows or points, encoded and taken in one at a time, each after waiting for room. */
  async #ingest(data: unknown): Promise<AcceptReport> {
    if (this.#flusher.abandoning) throw new WriterClosedError();
    const report: AcceptReport = { accepted: 0, dropped: 0, skippedRows: [] };
    let offset = 0;
    const size = this.#o.batchSize;
    const slice = async (part: unknown, rows: number): Promise<void> => {
      try {
        await this.#buffer.room();
        // close()'s deadline passed while this slice waited: it is refused, not taken in.
        if (this.#flusher.abandoning) throw new WriterClosedError();
        // A promise that is already resolved yields to microtasks only: a long input encoded
        // slice after slice would keep undici from reading the answers of the requests in flight
        // (and from sending the next), leaving the server idle. Give the event loop a turn every
        // few milliseconds of encoding while requests are out.
        if (this.#flusher.inFlight > 0 && performance.now() - this.#lastYield > kYieldEveryMs) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.#lastYield = performance.now();
        }
        const route = writerRoute(part, this.#encoder);
        if (this.#o.spool !== undefined) {
          await this.#spooled(part, route, report, offset);
        } else if (route === 'here') {
          const r = this.#acceptSmall(part);
          report.accepted += r.accepted;
          report.dropped += r.dropped;
          for (const i of r.skippedRows) report.skippedRows.push(i + offset);
        } else {
          const enc = route === 'write'
            ? await encodeForWrite(part, this.#o.write, this.#encoder, this.#o.batchBytes, this.#ctx.pool)
            : this.#encodeHere(part, rows, route);
          if (enc.lines > 0) this.#bytesPerLine = enc.bodies.reduce((n, b) => n + b.body.length, 0) / enc.lines;
          this.#ledger.skip(enc.skippedRows.length);
          for (const r of enc.skippedRows) report.skippedRows.push(r + offset);
          if (enc.lines > 0) {
            report.accepted += enc.lines;
            // The columnar encoders here write every line themselves (no raw text among them):
            // the lanes may cut their bodies at each newline (LaneSplitter's trusted scan).
            report.dropped += this.#buffer.accept(enc.bodies, enc.lines, route !== 'write' && !this.#o.write.allowNewlinesInStrings, enc.lanes);
          }
        }
      } catch (e) {
        throw rebase(e instanceof LineTooLargeError ? new InvalidPointError(0, 'point', undefined, e.message) : e, offset, report.accepted);
      }
      offset += rows;
    };
    const table = async (t: ArrowTable | ArrowRecordBatch): Promise<void> => {
      for (const batch of isArrowTable(t) ? (t as ArrowTable).batches : [t as ArrowRecordBatch]) {
        const n = batch.numRows;
        const sliceable = typeof (batch as { slice?: unknown }).slice === 'function';
        if (n <= size || !sliceable) {
          await slice(batch, n);
          continue;
        }
        // Zero-copy views of the batch: the encoders honour Arrow's offsets.
        for (let i = 0; i < n; i += size) await slice((batch as unknown as { slice(b: number, e: number): ArrowRecordBatch }).slice(i, Math.min(n, i + size)), Math.min(size, n - i));
      }
    };
    if (isArrowTable(data) || isArrowRecordBatch(data)) {
      await table(data as ArrowTable);
    } else if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i += size) await slice(data.slice(i, i + size), Math.min(size, data.length - i));
    } else if (isIterable(data) || isAsyncIterable(data)) {
      // Items are grouped into slices; Arrow items go on their own.
      let group: unknown[] = [];
      for await (const item of data as AsyncIterable<unknown>) {
        if (isArrowTable(item) || isArrowRecordBatch(item)) {
          if (group.length > 0) await slice(group, group.length);
          group = [];
          await table(item as ArrowTable);
        } else {
          group.push(item);
          if (group.length >= size) {
            await slice(group, group.length);
            group = [];
          }
        }
      }
      if (group.length > 0) await slice(group, group.length);
    } else {
      await slice(data, 1);
    }
    return report;
  }

  /**
   * With a spool: the slice encoded, its lines without a time given the time now (a resend must
   * overwrite, not add), its bodies appended to the spool (durable), then taken in with their
   * record ids. whenFull applies when the spool has no room.
   */
  async #spooled(part: unknown, route: WriterRoute, report: AcceptReport, offset: number): Promise<void> {
    let enc: EncodedInput;
    if (route === 'here') {
      const e = this.#scratch;
      e.reset();
      try {
        if (Array.isArray(part) || (isIterable(part) && typeof part !== 'string')) for (const item of part as Iterable<unknown>) e.add(item);
        else e.add(part);
        const lines = e.builder.lineCount;
        e.builder.cut();
        enc = { bodies: e.builder.drain(), lines, skippedRows: e.skipped };
      } finally {
        e.reset();
      }
    } else {
      enc = route === 'write'
        ? await encodeForWrite(part, this.#o.write, this.#encoder, this.#o.batchBytes, this.#ctx.pool)
        : this.#encodeHere(part, Array.isArray(part) ? part.length : (part as { numRows?: number }).numRows ?? 1, route);
    }
    this.#ledger.skip(enc.skippedRows.length);
    for (const r of enc.skippedRows) report.skippedRows.push(r + offset);
    if (enc.lines === 0) return;
    let bodies = enc.bodies;
    // Columnar encoders always write a time; text and the other encoders' output may lack one.
    if (route === 'here' || route === 'write') {
      const p = this.#o.write.precision;
      const now = String(floorDiv(nowNs(), NS_PER[p]));
      bodies = bodies.map((b) => {
        const body = stampMissingTimes(b.body, now, p);
        return body === b.body ? b : { body, lines: b.lines };
      });
    }
    const lanes = enc.lanes;
    const ids = await this.#appendToSpool(bodies);
    report.accepted += enc.lines;
    if (ids === undefined) {
      // whenFull 'dropNewest' with the spool full: accepted and dropped at once, never on disk.
      report.dropped += this.#buffer.dropAll(bodies, enc.lines);
      return;
    }
    report.dropped += this.#buffer.accept(bodies, enc.lines, route !== 'write' && route !== 'here' && !this.#o.write.allowNewlinesInStrings, lanes, ids);
  }

  /** The slice's bodies on disk; undefined when dropped (whenFull 'dropNewest', the spool full). */
  async #appendToSpool(bodies: readonly EncodedBody[]): Promise<number[] | undefined> {
    const spool = this.#spool!;
    const deadline = Date.now() + this.#o.maxBlockMs;
    for (;;) {
      try {
        return await spool.append(bodies, Date.now());
      } catch (e) {
        if (!(e instanceof SpoolFullError)) throw e;
        if (this.#o.whenFull === 'dropNewest') return undefined;
        const left = deadline - Date.now();
        if (this.#o.whenFull !== 'block' || left <= 0) throw e;
        // Room comes back as batches are acknowledged and whole segments are deleted.
        this.#buffer.unblock();
        await spool.nextRelease(Math.min(left, 1000));
        if (this.#flusher.abandoning) throw new WriterClosedError();
      }
    }
  }

  /**
   * A slice encoded by WebAssembly in this thread, synchronously, with the writer's own builders
   * (their caches serve every slice) and a body sized from the lines so far (not regrown).
   */
  #encodeHere(part: unknown, rows: number, route: 'points' | 'arrow'): EncodedInput {
    const o = this.#o;
    const initialBytes = Math.ceil(rows * this.#bytesPerLine * 1.05) + 1024;
    // The rows' lanes from the layouts' dictionaries: the buffer need not read the lines' keys.
    const lanes = this.#buffer.laneCount > 1 ? (this.#rowLanes ??= new RowLanes(this.#buffer.laneCount)) : undefined;
    return route === 'points'
      ? encodePointsInThreadWasm(part as Point[], o.write, o.batchBytes, this.#pointBuilder ??= new PointColumnBuilder({ ...o.write, maxBodyBytes: o.batchBytes }), initialBytes, this.#buffer.allocBody, lanes)
      : encodeArrowInThreadWasm(part as ArrowRecordBatch, o.write, o.batchBytes, this.#arrowBuilder ??= new ArrowLayoutBuilder(o.write), initialBytes, this.#buffer.allocBody, lanes);
  }
}
