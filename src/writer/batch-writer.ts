/**
 * The batch writer: `write()` encodes on the way in and queues line protocol in a bounded
 * buffer; batches are cut by size (`batchSize` lines, `batchBytes`) or time (`flushIntervalMs`)
 * and sent by a flusher with retries, splitting and partial-write handling.
 *
 * The contract (reliability.md): every accepted point ends in exactly one of written, rejected,
 * expired or dropped, and `accepted = written + rejected + expired + dropped + pending` at all
 * times. Points are encoded with their timestamp at `write()` (a point without one gets the
 * clock then), so that resending a batch after an ambiguous failure stores the same points again
 * rather than new ones.
 */
import { gzip } from 'node:zlib';
import {
  BufferFullError, DeliveryTimeoutError, InfluxDBConnectionError, InfluxDBWriteError, InvalidOptionError, InvalidPointError,
  PointsDroppedError, WriteDeliveryError, WriterClosedError,
} from '../errors.js';
import { BodyBuilder, LineTooLargeError, type EncodedBody } from '../encode/body-builder.js';
import { ArrowLayoutBuilder, isArrowInput, isArrowRecordBatch, isArrowTable, type ArrowRecordBatch, type ArrowTable } from '../encode/arrow/index.js';
import { InputEncoder, isAsyncIterable, isIterable, type WriteData, type WriteItem } from '../encode/input.js';
import { PointColumnBuilder } from '../encode/columnar/point-builder.js';
import type { Point } from '../encode/point-encoder.js';
import { encodeArrowInThreadWasm, encodeForWrite, encodePointsInThreadWasm } from '../encode/route.js';
import type { EncoderChoice, ResolvedWriterOptions } from '../options.js';
import type { EncoderPool } from '../pool/encoder-pool.js';
import { readErrorMessage, type HttpTransport } from '../transport/http-transport.js';
import { exchange, type ExchangeDecision } from './exchange.js';
import { callUser, unwatchExit, watchExit, type ExitWatched } from './hooks.js';
import { quoteIdentifier } from '../query/influxql.js';
import { splitLines, type LineRange } from '../encode/line-protocol/scan.js';
import { analyzeRejection, type RejectionContext } from './rejections.js';
import { backoffDelay, kPauseReason, retryWait } from './retry.js';
import { writerStream, type WriterStreamOptions } from './stream.js';
import { makeTargets, type WriteTarget } from './targets.js';
import type { Writable } from 'node:stream';

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

/** `stats()`: the counters add up: accepted = written + rejected + expired + dropped + pending. */
export interface WriterStats {
  accepted: number;
  written: number;
  rejected: number;
  expired: number;
  dropped: number;
  pending: number;
  /** Points or rows left out by `invalidRows: 'skip'` (never accepted). */
  skipped: number;
  /** Bytes held: the batch being filled, batches waiting or being retried, and in flight. */
  bufferedBytes: number;
  /** Batches waiting to be sent (retries included). */
  queuedBatches: number;
  /** Requests in flight, and their bodies' bytes. */
  inFlight: number;
  inFlightBytes: number;
  requests: number;
  retries: number;
  /** 413 answers that split a batch. */
  splits: number;
  /** Bytes sent (after gzip), acknowledged or not. */
  bytesSent: number;
  /** Request round trips in ms: the last, the mean and the longest. */
  latencyMs: { last: number; mean: number; max: number };
  /** Set while sending is paused: until when (ms since the epoch) and why. */
  pausedUntil: number | undefined;
  pauseReason: string | undefined;
  /** The server being written to (failover moves it). */
  target: string;
}

interface Batch {
  body: Buffer;
  lines: number;
  /** Sequence number of the first point (points are numbered in acceptance order). */
  firstSeq: number;
  /** When its first point was accepted (ms since the epoch): the delivery deadline counts from it. */
  acceptedAt: number;
  attempts: number;
  gz: Buffer | undefined;
  /** Bytes charged to the buffer for it. */
  mem: number;
  lastError: Error | undefined;
  /** The body owns its whole backing store and nothing else points into it: reusable once acknowledged. */
  recyclable: boolean;
  /** How many 400 answers led to this batch (lines resent after an answer that did not name them all). */
  rounds?: number;
  /** The batch a 413 split this one from (shared by all its pieces). */
  family?: SplitFamily;
}

interface SplitFamily {
  lines: number;
  bytes: number;
  /** Set once the server refused an ordinary line of it alone: the other pieces are refused unsent. */
  refused?: Error;
}

interface Failure {
  firstSeq: number;
  outcome: 'rejected' | 'expired' | 'dropped';
  count: number;
  lines: string[];
  error: Error;
}

interface FlushWaiter {
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
  /** flush() takes the failures it reports; close()'s own wait leaves them for its final report. */
  takesFailures: boolean;
}

interface RoomWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** From this many point objects in a slice, columns + WebAssembly beat the point encoder. */
const kColumnarMinPoints = 256;

/** `1 point`, `2 points`: counts in messages. */
const pts = (n: number): string => `${n} point${n === 1 ? '' : 's'}`;

function isPointObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !isArrowTable(x) && !isArrowRecordBatch(x) && !Array.isArray(x);
}

/** Most lines kept per failure for flush()/close() errors; onRejected always gets them all. */
const kMaxLinesPerFailure = 100_000;
/** Longest run of encoding (ms) before the writer lets I/O callbacks run, while requests are out. */
const kYieldEveryMs = 3;
/** Shard group duration assumed by the 400 analysis when the retention policy cannot be read. */
const kUnknownShardGroupMs = 3_600_000;

/** A Go duration as influxd prints it (`168h0m0s`, `0s`, `1h30m0s`) in ms; undefined if unreadable. */
function goDurationMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(v)) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * unit[m[2]!]!;
  return Math.round(ms);
}

/** Resends after 400 answers that leave lines unnamed, before those lines are rejected. */
const kMaxRejectionRounds = 16;

function gzipAsync(body: Buffer, level: number): Promise<Buffer> {
  // zlib's async API runs on libuv's thread pool: compression stays off the main thread.
  return new Promise((resolve, reject) => gzip(body, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** A body's memory: its backing store when it owns one (what the process really holds). */
function memOf(body: Buffer): number {
  return body.byteLength >= 4096 && body.buffer.byteLength < 2 * body.byteLength + 65_536 ? body.buffer.byteLength : body.byteLength;
}

function isSmallSyncInput(data: unknown, batchSize: number): boolean {
  if (typeof data === 'string' || data instanceof Uint8Array) return true;
  if (typeof data !== 'object' || data === null) return true; // refused by the encoder with a clear error
  if (Array.isArray(data)) return data.length <= batchSize && !(data.length > 0 && (isArrowTable(data[0]) || isArrowRecordBatch(data[0])));
  return !isArrowInput(data) && !isIterable(data) && !isAsyncIterable(data);
}

function rebase(e: unknown, offset: number, acceptedBefore: number): unknown {
  if (!(e instanceof InvalidPointError) || (offset === 0 && acceptedBefore === 0)) return e;
  const out = new InvalidPointError(e.pointIndex + offset, e.element, e.key, e.reason, e.line, e.lineText);
  if (acceptedBefore > 0) out.message += ` (the ${acceptedBefore} points before it in this write were accepted)`;
  return out;
}

/** The lines of a body as strings (for the dead letter). */
function linesOf(body: Buffer, ranges?: readonly LineRange[]): string[] {
  return (ranges ?? splitLines(body)).map((r) => body.toString('utf8', r.start, r.end));
}

export interface BatchWriterContext {
  transport: HttpTransport;
  pool: () => EncoderPool;
  encoder: EncoderChoice;
}

export class BatchWriter {
  readonly #o: ResolvedWriterOptions;
  readonly #ctx: BatchWriterContext;
  readonly #targets: WriteTarget[];
  #active = 0;

  // ---- intake -------------------------------------------------------------------------------
  readonly #builder: BodyBuilder;
  readonly #scratch: InputEncoder;
  #intakeTail: Promise<unknown> = Promise.resolve();
  #intakeBusy = 0;
  readonly #roomWaiters: RoomWaiter[] = [];
  /** The refusal of writes beyond maxWaitingWrites, shared while the intake stays at the bound. */
  #waitingRefusal: BufferFullError | undefined;
  /** Kept across writes: its caches (plans per schema, escaped dictionaries) serve every slice. */
  #arrowBuilder: ArrowLayoutBuilder | undefined;
  /** Likewise for point objects: escaped names and tag values are cached across slices. */
  #pointBuilder: PointColumnBuilder | undefined;
  /** Mean encoded line size so far, to size the next slice's body in one allocation. */
  #bytesPerLine = 160;
  /** Bodies acknowledged by the server, whose memory the next slices reuse. */
  readonly #spare: Buffer[] = [];
  readonly #allocBody = (bytes: number): Buffer => {
    // A spare at least as large, but not wastefully so (it would be held by a small body).
    for (let i = this.#spare.length - 1; i >= 0; i--) {
      const b = this.#spare[i]!;
      if (b.length >= bytes && b.length <= 2 * bytes + 65_536) {
        this.#spare.splice(i, 1);
        return b;
      }
    }
    // Rounded up to 64 KiB so that slices of similar size find each other's spares.
    return Buffer.allocUnsafe(Math.ceil(bytes / 65_536) * 65_536);
  };

  // ---- buffer -------------------------------------------------------------------------------
  /** Sequence number of the first line not yet in a queued batch (the open body starts there). */
  #nextBatchSeq = 0;
  #openSince = 0;
  readonly #queue: Batch[] = [];
  readonly #inFlight = new Set<Batch>();
  /** Batches refused (400) whose analysis waits for the retention policy's durations. */
  readonly #analyzing = new Set<Batch>();
  /** The retention policy's durations for the 400 analysis: unknown yet, null when unavailable. */
  #rpInfo: { retentionMs: number; shardGroupMs: number } | null | undefined;
  /** Bytes of queued and in-flight batches (the open body is counted by the builder). */
  #batchMem = 0;
  #inFlightBytes = 0;

  // ---- flusher ------------------------------------------------------------------------------
  #flushTimer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #pausedUntil = 0;
  #pauseReason: string | undefined;
  #consecutiveFailures = 0;
  #surfaced = false;
  readonly #abort = new AbortController();
  #abandoning = false;

  // ---- outcomes -----------------------------------------------------------------------------
  #accepted = 0;
  #lastYield = 0;
  #written = 0;
  #rejected = 0;
  #expired = 0;
  #dropped = 0;
  #skipped = 0;
  #requests = 0;
  #retries = 0;
  #splits = 0;
  #bytesSent = 0;
  #latLast = 0;
  #latSum = 0;
  #latMax = 0;
  #failures: Failure[] = [];
  readonly #flushWaiters: FlushWaiter[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;
  #exitRef: WeakRef<ExitWatched> | undefined;

  constructor(options: ResolvedWriterOptions, ctx: BatchWriterContext) {
    this.#o = options;
    this.#ctx = ctx;
    this.#targets = makeTargets(ctx.transport, options);
    this.#builder = new BodyBuilder(options.batchBytes, 64 * 1024, options.batchSize);
    this.#scratch = new InputEncoder(options.write, options.batchBytes);
  }

  // ================================================================================ public API

  /**
   * Takes `data` (anything `client.write()` takes) into the buffer. Resolves once it is accepted,
   * which under `whenFull: 'block'` waits for room: that is the backpressure. Rejects with
   * `InvalidPointError` (nothing of the bad slice accepted), `BufferFullError` or `WriterClosedError`.
   * Writes enter the buffer in call order.
   */
  write(data: WriterInput): Promise<AcceptReport> {
    if (this.#closing) return Promise.reject(new WriterClosedError());
    // Fast path: nothing ahead in the intake, room now, and an input encoded here and now.
    // (Not for many point objects under 'auto': #ingest builds those into columns for WebAssembly,
    // a fraction of the point encoder's CPU.)
    const columnar = Array.isArray(data) && data.length >= kColumnarMinPoints && (this.#o.write.encoder ?? this.#ctx.encoder) === 'auto';
    if (this.#intakeBusy === 0 && this.#hasRoom() && !columnar && isSmallSyncInput(data, this.#o.batchSize)) {
      try {
        return Promise.resolve(this.#acceptSmall(data));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // Each waiting write holds its input and a promise: unawaited writes must not pile up without end.
    // One error for every refusal of a burst: a million refusals must not cost a million stack
    // traces (measured: 612 MB of RSS with one each, 286 MB with one shared).
    if (this.#intakeBusy >= this.#o.maxWaitingWrites) return Promise.reject(this.#waitingRefusal ??= this.#waitingError());
    this.#intakeBusy++;
    if (this.#intakeBusy === 1) this.#updateExitWatch();
    const p = this.#intakeTail.then(() => this.#ingest(data));
    const done = (): void => {
      this.#intakeBusy--;
      this.#waitingRefusal = undefined;
      if (this.#intakeBusy === 0) this.#updateExitWatch();
    };
    this.#intakeTail = p.then(done, done);
    return p;
  }

  /**
   * Takes points or line protocol only if there is room now, without waiting: false when the
   * buffer is full or earlier writes are still being taken in. Throws on invalid input.
   */
  tryWrite(data: WriterInput): boolean {
    if (this.#closing) throw new WriterClosedError();
    if (isArrowInput(data) || isAsyncIterable(data)) throw new InvalidOptionError('tryWrite() takes points and line protocol; use write() for Arrow data and async iterables');
    if (this.#intakeBusy > 0 || !this.#hasRoom()) return false;
    this.#acceptSmall(data);
    return true;
  }

  /**
   * Sends what is buffered now and resolves when every point accepted before the call is
   * written. Rejects with `WriteDeliveryError` (counts, lines, reasons) if some of them were
   * rejected, expired or dropped, and at once with the error when the server refuses the
   * credentials or the database (the points stay buffered until deliveryTimeoutMs).
   */
  flush(): Promise<void> {
    const upTo = this.#accepted;
    this.#seal();
    return new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ upTo, resolve, reject, takesFailures: true });
      this.#settle();
      this.#pump();
    });
  }

  /**
   * Stops accepting writes, sends everything (retries included) and resolves when all is
   * written. After `timeoutMs` (default deliveryTimeoutMs), what is left is given up: close
   * rejects with a `WriteDeliveryError` carrying the count and the lines of every point not
   * written (as it does when some were rejected earlier and no flush() reported them).
   */
  close(options?: { timeoutMs?: number }): Promise<void> {
    if (this.#closed) return this.#closed;
    const timeoutMs = options?.timeoutMs ?? this.#o.closeTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) return Promise.reject(new InvalidOptionError(`close options.timeoutMs must be a non-negative integer (got ${String(timeoutMs)})`));
    this.#closing = true;
    this.#closed = this.#close(timeoutMs);
    return this.#closed;
  }

  /** A Writable in object mode over this writer: `await pipeline(source, writer.stream())`. */
  stream(options?: WriterStreamOptions): Writable {
    return writerStream(this, options);
  }

  get closed(): boolean {
    return this.#closing;
  }

  stats(): WriterStats {
    const settled = this.#written + this.#rejected + this.#expired + this.#dropped;
    return {
      accepted: this.#accepted, written: this.#written, rejected: this.#rejected, expired: this.#expired, dropped: this.#dropped,
      pending: this.#accepted - settled, skipped: this.#skipped,
      bufferedBytes: this.#bufferedBytes(), queuedBatches: this.#queue.length,
      inFlight: this.#inFlight.size, inFlightBytes: this.#inFlightBytes,
      requests: this.#requests, retries: this.#retries, splits: this.#splits, bytesSent: this.#bytesSent,
      latencyMs: { last: this.#latLast, mean: this.#requests ? this.#latSum / this.#requests : 0, max: this.#latMax },
      pausedUntil: this.#pausedUntil > Date.now() ? this.#pausedUntil : undefined,
      pauseReason: this.#pausedUntil > Date.now() ? this.#pauseReason : undefined,
      target: this.#targets[this.#active]!.describe,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ================================================================================ intake

  #bufferedBytes(): number {
    return this.#batchMem + this.#builder.openBytes;
  }

  #hasRoom(): boolean {
    return this.#bufferedBytes() < this.#o.maxBufferBytes;
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
    this.#skipped += skippedRows.length;
    if (lines === 0) {
      enc.reset();
      return { accepted: 0, dropped: 0, skippedRows };
    }
    if (this.#o.whenFull === 'dropNewest' && !this.#hasRoom()) {
      enc.builder.cut();
      const bodies = enc.builder.drain();
      enc.reset();
      const report: AcceptReport = { accepted: 0, dropped: 0, skippedRows };
      this.#acceptEncoded(bodies, lines, report);
      return report;
    }
    const before = this.#builder.openLines;
    enc.builder.moveTo(this.#builder);
    this.#afterAdd(before, lines);
    return { accepted: lines, dropped: 0, skippedRows };
  }

  /** Encoded bodies of one slice, into the buffer. */
  #acceptBodies(bodies: readonly EncodedBody[], lines: number): void {
    const before = this.#builder.openLines;
    for (const b of bodies) this.#builder.addBody(b.body, b.lines, true);
    this.#afterAdd(before, lines);
  }

  /** Counts accepted lines, queues the batches the builder completed, and arms the time trigger. */
  #afterAdd(openBefore: number, lines: number): void {
    const now = Date.now();
    if (openBefore === 0) this.#openSince = now;
    this.#accepted += lines;
    const done = this.#builder.drain();
    if (done.length > 0) {
      for (let i = 0; i < done.length; i++) this.#enqueue(done[i]!, i === 0 ? this.#openSince : now);
      this.#openSince = now;
    }
    this.#armFlushTimer();
    if (done.length > 0) this.#pump();
    // Points in a batch never sent yet count for the exit warning too.
    else if (!this.#exitRef) this.#updateExitWatch();
  }

  #enqueue(b: EncodedBody, acceptedAt: number): void {
    const mem = memOf(b.body);
    const batch: Batch = {
      body: b.body, lines: b.lines, firstSeq: this.#nextBatchSeq, acceptedAt, attempts: 0, gz: undefined, mem, lastError: undefined,
      recyclable: b.body.byteOffset === 0 && b.body.byteLength >= 65_536 && b.body.buffer.byteLength <= 2 * b.body.byteLength + 65_536,
    };
    this.#nextBatchSeq += b.lines;
    this.#batchMem += mem;
    this.#queue.push(batch);
  }

  /** Ends the batch being filled, so that it is sent now. */
  #seal(): void {
    if (this.#builder.openLines === 0) return;
    this.#builder.cut();
    for (const b of this.#builder.drain()) this.#enqueue(b, this.#openSince);
    this.#armFlushTimer();
  }

  #armFlushTimer(): void {
    const open = this.#builder.openLines > 0;
    if (!open) {
      if (this.#flushTimer) {
        clearTimeout(this.#flushTimer);
        this.#flushTimer = undefined;
      }
      return;
    }
    if (this.#flushTimer) return;
    if (this.#o.flushIntervalMs === 0) {
      this.#seal();
      this.#pump();
      return;
    }
    const delay = this.#o.flushIntervalMs + (this.#o.flushJitterMs > 0 ? Math.random() * this.#o.flushJitterMs : 0);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#seal();
      this.#pump();
    }, delay);
  }

  /** Slices of at most batchSize rows or points, encoded and taken in one at a time, each after waiting for room. */
  async #ingest(data: unknown): Promise<AcceptReport> {
    if (this.#closing && this.#abandoning) throw new WriterClosedError();
    const report: AcceptReport = { accepted: 0, dropped: 0, skippedRows: [] };
    let offset = 0;
    const size = this.#o.batchSize;
    const slice = async (part: unknown, rows: number): Promise<void> => {
      try {
        await this.#room();
        // close()'s deadline passed while this slice waited: it is refused, not taken in.
        if (this.#abandoning) throw new WriterClosedError();
        // A promise that is already resolved yields to microtasks only: a long input encoded
        // slice after slice would keep undici from reading the answers of the requests in flight
        // (and from sending the next), leaving the server idle. Give the event loop a turn every
        // few milliseconds of encoding while requests are out.
        if (this.#inFlight.size > 0 && performance.now() - this.#lastYield > kYieldEveryMs) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.#lastYield = performance.now();
        }
        const encoder = this.#o.write.encoder ?? this.#ctx.encoder;
        if (encoder === 'auto' && Array.isArray(part) && part.length >= kColumnarMinPoints && part.every(isPointObject)) {
          // Many points: built into columns and encoded by WebAssembly here (a fifth of the point encoder's CPU).
          const enc = encodePointsInThreadWasm(part as Point[], this.#o.write, this.#o.batchBytes, this.#pointBuilder ??= new PointColumnBuilder({ ...this.#o.write, maxBodyBytes: this.#o.batchBytes }), Math.ceil(rows * this.#bytesPerLine * 1.05) + 1024, this.#allocBody);
          if (enc.lines > 0) this.#bytesPerLine = enc.bodies.reduce((n, b) => n + b.body.length, 0) / enc.lines;
          this.#skipped += enc.skippedRows.length;
          for (const r of enc.skippedRows) report.skippedRows.push(r + offset);
          if (enc.lines > 0) this.#acceptEncoded(enc.bodies, enc.lines, report);
        } else if (encoder !== 'wasm' && isSmallSyncInput(part, Infinity) && !isArrowInput(part)) {
          const r = this.#acceptSmall(part);
          this.#merge(report, r, offset);
        } else {
          // Arrow slices under 'auto': WebAssembly in this thread (a slice is far below the pool's
          // break-even), with the writer's own layout builder, whose dictionary cache serves every slice.
          const enc = encoder === 'auto' && (isArrowRecordBatch(part) || isArrowTable(part))
            ? encodeArrowInThreadWasm(part as ArrowRecordBatch, this.#o.write, this.#o.batchBytes, this.#arrowBuilder ??= new ArrowLayoutBuilder(this.#o.write), Math.ceil(rows * this.#bytesPerLine * 1.05) + 1024, this.#allocBody)
            : await encodeForWrite(part, this.#o.write, encoder, this.#o.batchBytes, this.#ctx.pool);
          if (enc.lines > 0) this.#bytesPerLine = enc.bodies.reduce((n, b) => n + b.body.length, 0) / enc.lines;
          this.#skipped += enc.skippedRows.length;
          for (const r of enc.skippedRows) report.skippedRows.push(r + offset);
          if (enc.lines > 0) this.#acceptEncoded(enc.bodies, enc.lines, report);
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

  #merge(into: AcceptReport, r: AcceptReport, offset: number): void {
    into.accepted += r.accepted;
    into.dropped += r.dropped;
    for (const i of r.skippedRows) into.skippedRows.push(i + offset);
  }

  #acceptEncoded(bodies: readonly EncodedBody[], lines: number, report: AcceptReport): void {
    // dropNewest: the slice is accepted and dropped at once when the buffer is still full.
    if (this.#o.whenFull === 'dropNewest' && !this.#hasRoom()) {
      // Sealing first makes the dropped lines' numbers follow every batched one.
      this.#seal();
      const seq = this.#accepted;
      this.#accepted += lines;
      this.#nextBatchSeq += lines;
      report.accepted += lines;
      report.dropped += lines;
      const all: string[] = [];
      for (const b of bodies) for (const l of linesOf(b.body)) all.push(l);
      this.#fail('dropped', seq, lines, all, new PointsDroppedError(`${pts(lines)} dropped: the writer's buffer is full (whenFull: 'dropNewest', maxBufferBytes ${this.#o.maxBufferBytes})`));
      return;
    }
    this.#acceptBodies(bodies, lines);
    report.accepted += lines;
  }

  /** Waits for room in the buffer according to the whenFull policy. */
  #room(): Promise<void> | void {
    if (this.#hasRoom()) return;
    const o = this.#o;
    switch (o.whenFull) {
      case 'error':
        throw this.#fullError();
      case 'dropNewest':
        return; // the slice is encoded, then dropped (counted and reported) by #acceptEncoded
      case 'dropOldest':
        this.#dropOldest();
        return;
      default:
        break;
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = { resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const i = this.#roomWaiters.indexOf(waiter);
        if (i >= 0) this.#roomWaiters.splice(i, 1);
        reject(this.#fullError());
      }, o.maxBlockMs);
      this.#roomWaiters.push(waiter);
      // The open body may be what fills the buffer: send it so that room can come back.
      this.#seal();
      this.#pump();
    });
  }

  #waitingError(): BufferFullError {
    const o = this.#o;
    return new BufferFullError(`write() refused at once: ${this.#intakeBusy} earlier write() calls are still waiting to be taken in (maxWaitingWrites ${o.maxWaitingWrites}); await write() to follow the writer's backpressure, or use tryWrite()`, this.#bufferedBytes(), o.maxBufferBytes);
  }

  #fullError(): BufferFullError {
    const b = this.#bufferedBytes();
    const o = this.#o;
    const why = o.whenFull === 'block' ? `stayed full for maxBlockMs (${o.maxBlockMs} ms)` : 'is full (whenFull: \'error\')';
    return new BufferFullError(`the batch writer's buffer ${why}: ${b} bytes held, maxBufferBytes ${o.maxBufferBytes}`, b, o.maxBufferBytes);
  }

  #wakeRoomWaiters(): void {
    while (this.#roomWaiters.length > 0 && this.#hasRoom()) {
      const w = this.#roomWaiters.shift()!;
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** dropOldest: the oldest batches not in flight make room (counted and reported as dropped). */
  #dropOldest(): void {
    this.#seal();
    while (!this.#hasRoom() && this.#queue.length > 0) {
      const b = this.#queue.shift()!;
      this.#release(b);
      this.#fail('dropped', b.firstSeq, b.lines, linesOf(b.body), new PointsDroppedError(`${pts(b.lines)} dropped to make room for newer ones (whenFull: 'dropOldest', maxBufferBytes ${this.#o.maxBufferBytes})`));
    }
    this.#settle();
  }

  // ================================================================================ flusher

  #pump(): void {
    const now = Date.now();
    this.#expireDue(now);
    const o = this.#o;
    while (this.#inFlight.size < o.maxInFlight && this.#queue.length > 0) {
      if (now < this.#pausedUntil) {
        this.#wake(this.#pausedUntil);
        break;
      }
      const b = this.#queue.shift()!;
      this.#inFlight.add(b);
      this.#inFlightBytes += b.body.length;
      void this.#send(b);
    }
    // Queued batches expire even while sending is paused; with nothing queued, no timer keeps the process alive.
    const head = this.#queue[0];
    if (head) this.#wake(head.acceptedAt + o.deliveryTimeoutMs);
    else if (this.#wakeTimer) {
      clearTimeout(this.#wakeTimer);
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
    }
    this.#settle();
  }

  #wake(at: number): void {
    if (at >= this.#wakeAt && this.#wakeTimer) return;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
      this.#pump();
    }, Math.max(0, at - Date.now()));
  }

  #expireDue(now: number): void {
    const limit = this.#o.deliveryTimeoutMs;
    while (this.#queue.length > 0 && this.#queue[0]!.acceptedAt + limit <= now) this.#expire(this.#queue.shift()!);
  }

  #expire(b: Batch, why?: string): void {
    this.#release(b);
    const cause = b.lastError;
    // Expired means not confirmed: when the last attempt reached the server (a timeout, a reset
    // after sending), it may have stored the points; resending them later stores the same points.
    const maybeStored = cause instanceof InfluxDBConnectionError && cause.requestSent;
    const msg = why ?? `${pts(b.lines)} not confirmed written within deliveryTimeoutMs (${this.#o.deliveryTimeoutMs} ms) after ${b.attempts} attempts` +
      `${maybeStored ? ' (the last request was sent, so the server may have stored them: expired means not confirmed, not "not stored")' : ''}` +
      `${cause ? `; last error: ${cause.message}` : ''}`;
    this.#fail('expired', b.firstSeq, b.lines, linesOf(b.body), new DeliveryTimeoutError(msg, cause ? { cause } : undefined));
  }

  async #send(b: Batch): Promise<void> {
    const o = this.#o;
    const t = this.#targets[this.#active]!;
    b.attempts++;
    let decision: ExchangeDecision;
    const started = performance.now();
    try {
      let body = b.body;
      let headers: Record<string, string> | undefined;
      if (o.gzipLevel > 0) {
        if (!b.gz) {
          b.gz = await gzipAsync(b.body, o.gzipLevel);
          // The compressed copy is kept for retries: it counts against the buffer.
          b.mem += b.gz.length;
          this.#batchMem += b.gz.length;
        }
        body = b.gz;
        headers = { 'content-encoding': 'gzip' };
      }
      this.#requests++;
      this.#bytesSent += body.length;
      decision = await exchange(t, {
        body, headers, timeoutMs: o.requestTimeoutMs, closeSignal: this.#abort.signal,
        note: `batch of ${b.lines} lines, ${body.length} bytes, attempt ${b.attempts}`,
      });
    } catch (err) {
      // gzip failed: nothing was sent.
      decision = { kind: 'fatal', error: err instanceof Error ? err : new Error(String(err)) };
    }
    const ms = performance.now() - started;
    this.#latLast = ms;
    this.#latSum += ms;
    if (ms > this.#latMax) this.#latMax = ms;
    this.#inFlight.delete(b);
    this.#inFlightBytes -= b.body.length;
    try {
      await this.#handle(b, decision);
    } finally {
      this.#pump();
      this.#wakeRoomWaiters();
    }
  }

  async #handle(b: Batch, d: ExchangeDecision): Promise<void> {
    const o = this.#o;
    const now = Date.now();
    if (d.kind === 'ack') {
      this.#written += b.lines;
      this.#consecutiveFailures = 0;
      this.#surfaced = false;
      this.#release(b);
      // Split parents are never recyclable (their halves point into them); a few spares suffice.
      if (b.recyclable && this.#spare.length < this.#o.maxInFlight + 2) this.#spare.push(Buffer.from(b.body.buffer, 0, b.body.buffer.byteLength));
      return;
    }
    if (this.#abandoning) {
      this.#expire(b, `${pts(b.lines)} not written before close()'s timeout${d.error ? `; last error: ${d.error.message}` : ''}`);
      return;
    }
    // Another piece of its split batch showed the server refuses even a single line.
    if (b.family?.refused) {
      this.#release(b);
      this.#fail('rejected', b.firstSeq, b.lines, linesOf(b.body), b.family.refused);
      return;
    }
    switch (d.kind) {
      case 'retry': {
        b.lastError = d.error;
        this.#retries++;
        this.#report(d.error);
        const n = this.#targets.length;
        this.#consecutiveFailures++;
        const backoff = backoffDelay(Math.ceil(this.#consecutiveFailures / n), o);
        if (d.retryAfterMs !== undefined) {
          // The server may lengthen the wait, never shorten it (Retry-After: 0 made a hot loop).
          this.#pause(now + retryWait(d.retryAfterMs, backoff, o.maxRetryAfterMs), `Retry-After from ${this.#targets[this.#active]!.describe}`);
        } else {
          if (d.failover && n > 1) this.#active = (this.#active + 1) % n;
          // Every target failed once in this round: back off before the next round.
          if (n === 1 || this.#consecutiveFailures % n === 0) this.#pause(now + backoff, `backoff after ${d.error.message}`);
        }
        this.#requeue(b, now);
        return;
      }
      case 'split': {
        this.#splits++;
        if (b.lines <= 1) {
          this.#refusedAlone(b, d.error);
          return;
        }
        const family = b.family ?? { lines: b.lines, bytes: b.body.length };
        // Later batches are cut below the size the server refused.
        const lower = Math.max(1024, Math.floor(b.body.length / 2));
        if (lower < this.#builder.limit) this.#builder.limit = lower;
        const ranges = splitLines(b.body);
        const mid = ranges[Math.floor(ranges.length / 2)]!.start;
        const first = this.#child(b, 0, mid, Math.floor(ranges.length / 2), 0, family);
        const second = this.#child(b, mid, b.body.length, ranges.length - Math.floor(ranges.length / 2), Math.floor(ranges.length / 2), family);
        this.#release(b);
        this.#unshift(second);
        this.#unshift(first);
        return;
      }
      case 'refused': {
        // The analysis needs the retention policy's durations (fetched once): meanwhile the
        // batch is neither queued nor in flight, and must still count as pending.
        this.#analyzing.add(b);
        let context: RejectionContext;
        try {
          context = await this.#rejectionContext();
        } finally {
          this.#analyzing.delete(b);
        }
        this.#refused(b, d.error, context);
        return;
      }
      case 'rejectAll':
        this.#release(b);
        this.#fail('rejected', b.firstSeq, b.lines, linesOf(b.body), d.error);
        return;
      case 'pause': {
        b.lastError = d.error;
        if (d.why === 'database' && o.createDatabase && o.api === 'v1') {
          try {
            await this.#createDatabase();
            this.#requeue(b, now);
            return;
          } catch (e) {
            b.lastError = e as Error;
            this.#surface(e as Error);
          }
        } else {
          this.#surface(d.error);
        }
        // Probe slowly: a configuration error does not heal by hammering the server.
        this.#pause(now + o.retryMaxDelayMs, kPauseReason[d.why]);
        this.#requeue(b, now);
        return;
      }
      case 'fatal': {
        b.lastError = d.error;
        this.#surface(d.error);
        this.#pause(now + o.retryMaxDelayMs, d.error.message);
        this.#requeue(b, now);
        return;
      }
    }
  }

  #child(parent: Batch, start: number, end: number, lines: number, seqOffset: number, family: SplitFamily): Batch {
    const body = parent.body.subarray(start, end);
    return { body, lines, firstSeq: parent.firstSeq + seqOffset, acceptedAt: parent.acceptedAt, attempts: 0, gz: undefined, mem: body.length, lastError: parent.lastError, recyclable: false, family };
  }

  /**
   * 413 for a single line. A line much larger than the others of its batch is rejected alone and
   * the splitting goes on; an ordinary one means the server's limit is below any batch: the rest
   * of the batch is refused at once, unsent (10 lines used to cost 18 requests).
   */
  #refusedAlone(b: Batch, cause: InfluxDBWriteError): void {
    const f = b.family;
    const ordinary = f !== undefined && b.body.length <= 2 * (f.bytes / f.lines);
    const rest = ordinary ? this.#queue.filter((q) => q.family === f) : [];
    const restLines = rest.reduce((n, q) => n + q.lines, 0);
    const error = new InfluxDBWriteError(
      `the server refuses even a single line (${b.body.length} bytes) with 413 Request Entity Too Large${ordinary ? `, an ordinary line of its batch: the ${restLines} lines left of that batch are refused with it, unsent` : ': rejected'}. `
        + 'Raise the server\'s request size limit (influxd: max-body-size in [http], default 25000000 bytes; or that of a proxy in front of it)',
      { status: 413, serverMessage: cause.serverMessage, endpoint: 'write', rejectedLines: linesOf(b.body) },
    );
    if (ordinary) f.refused = error;
    this.#release(b);
    for (const q of rest) this.#queue.splice(this.#queue.indexOf(q), 1);
    // Settled once, after all: a flush() waiting for these points reports them together.
    this.#fail('rejected', b.firstSeq, b.lines, linesOf(b.body), error, false);
    for (const q of rest) {
      this.#release(q);
      this.#fail('rejected', q.firstSeq, q.lines, linesOf(q.body), error, false);
    }
    this.#settle();
  }

  /** A batch (back) at the head of the queue, unless its time is up. */
  #requeue(b: Batch, now: number): void {
    if (b.acceptedAt + this.#o.deliveryTimeoutMs <= now) {
      this.#expire(b);
      return;
    }
    this.#queue.unshift(b);
  }

  #unshift(b: Batch): void {
    this.#batchMem += b.mem;
    this.#queue.unshift(b);
  }

  #pause(until: number, reason: string): void {
    if (until > this.#pausedUntil) {
      this.#pausedUntil = until;
      this.#pauseReason = reason;
    }
  }

  /** 400: the lines the server refused are rejected with its reason; the rest were stored, or are sent again. */
  #refused(b: Batch, error: InfluxDBWriteError, context: RejectionContext): void {
    const a = analyzeRejection(error.serverMessage, b.body, context);
    this.#release(b);
    const refused = a.rejected.map((r) => b.body.toString('utf8', r.start, r.end));
    const reasons = [...new Set(a.rejected.map((r) => r.reason))];
    const detail = new InfluxDBWriteError(error.message, {
      status: 400, serverMessage: error.serverMessage, endpoint: 'write', rejectedLines: refused, partial: a.stored,
    });
    if (reasons.length > 0 && reasons[0] !== error.serverMessage) detail.message += ` [${reasons.slice(0, 3).join('; ')}]`;
    if (a.stored) {
      const bad = refused.length + a.unidentified;
      this.#written += Math.max(0, b.lines - bad);
      if (bad > 0) this.#fail('rejected', b.firstSeq, bad, refused, detail);
      return;
    }
    // Not all known: the lines refused for sure are rejected; the rest is sent again, one batch
    // per shard group (so that each answer is about one shard and names what it refused). A
    // line stored already is stored again, harmlessly: same series, time and values.
    const resendLines = a.resend.length;
    const otherBad = b.lines - resendLines;
    // Every round refuses at least the lines its answer names, so rounds are few; the cap is a
    // guard against a server whose answers do not follow influxd's.
    const rounds = (b.rounds ?? 0) + 1;
    const giveUp = resendLines > 0 && rounds > kMaxRejectionRounds;
    // The resends are queued before any failure is recorded: recording one settles flush()
    // calls, which must still see these lines pending.
    if (resendLines > 0 && !giveUp) {
      for (const g of [...a.resendGroups].reverse()) {
        const body = Buffer.concat(g.map((r) => b.body.subarray(r.start, Math.min(b.body.length, r.end + 1))));
        this.#unshift({ body, lines: g.length, firstSeq: b.firstSeq, acceptedAt: b.acceptedAt, attempts: 0, gz: undefined, mem: body.length, lastError: detail, recyclable: false, rounds });
      }
    }
    if (otherBad > 0) {
      const keep = new Set(a.resend.map((r) => r.start));
      const lines = splitLines(b.body).filter((r) => !keep.has(r.start)).map((r) => b.body.toString('utf8', r.start, r.end));
      this.#fail('rejected', b.firstSeq, otherBad, lines, detail);
    }
    if (giveUp) {
      const lines = a.resend.map((r) => b.body.toString('utf8', r.start, r.end));
      const error = new InfluxDBWriteError(`${detail.message} (still refused after ${kMaxRejectionRounds} resends of the lines not named)`, {
        status: 400, serverMessage: detail.serverMessage, endpoint: 'write', rejectedLines: lines, partial: false,
      });
      this.#fail('rejected', b.firstSeq, resendLines, lines, error);
    }
  }

  /**
   * What analyzeRejection needs to place lines in shard groups and to see retention drops: the
   * write's precision, and the duration and shard group duration of the retention policy
   * written to, asked once (SHOW RETENTION POLICIES). When they cannot be had (no permission, the
   * v2 API), shard groups are taken as 1 h, the shortest influxd allows: a group of ours then
   * never spans two of the server's (whose durations are whole hours), so what is certain stays
   * certain; it only costs more resend requests.
   */
  async #rejectionContext(): Promise<RejectionContext> {
    if (this.#rpInfo === undefined) this.#rpInfo = await this.#fetchRetentionPolicy().catch(() => null);
    const context: RejectionContext = { precision: this.#o.write.precision, nowMs: Date.now(), shardGroupMs: kUnknownShardGroupMs };
    if (this.#rpInfo) {
      context.retentionMs = this.#rpInfo.retentionMs;
      context.shardGroupMs = this.#rpInfo.shardGroupMs;
    }
    return context;
  }

  async #fetchRetentionPolicy(): Promise<{ retentionMs: number; shardGroupMs: number } | null> {
    if (this.#o.api !== 'v1') return null;
    const res = await this.#postQuery(`SHOW RETENTION POLICIES ON ${quoteIdentifier(this.#o.write.db)}`);
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    const json = await res.body.json() as { results?: { series?: { columns?: string[]; values?: unknown[][] }[] }[] };
    const series = json.results?.[0]?.series?.[0];
    const cols = series?.columns ?? [];
    const [iName, iDur, iShard, iDefault] = ['name', 'duration', 'shardGroupDuration', 'default'].map((c) => cols.indexOf(c));
    const want = this.#o.write.rp;
    const row = (series?.values ?? []).find((v) => (want === undefined ? v[iDefault!] === true : v[iName!] === want));
    if (!row) return null;
    const retentionMs = goDurationMs(row[iDur!]);
    const shardGroupMs = goDurationMs(row[iShard!]);
    if (retentionMs === undefined || shardGroupMs === undefined || shardGroupMs <= 0) return null;
    return { retentionMs, shardGroupMs };
  }

  /** One InfluxQL statement to the active target's /query, as a form POST. */
  #postQuery(q: string): ReturnType<HttpTransport['request']> {
    const t = this.#targets[this.#active]!;
    return t.transport.request({ method: 'POST', endpoint: 'query', body: new URLSearchParams({ q }).toString(), contentType: 'application/x-www-form-urlencoded', signal: this.#abort.signal });
  }

  async #createDatabase(): Promise<void> {
    const t = this.#targets[this.#active]!;
    const db = this.#o.write.db;
    const res = await this.#postQuery(`CREATE DATABASE ${quoteIdentifier(db)}`);
    if (res.statusCode !== 200) {
      const msg = await readErrorMessage(res);
      throw new InfluxDBWriteError(`creating database ${JSON.stringify(db)} on ${t.describe} failed with HTTP ${res.statusCode}: ${msg}`, { status: res.statusCode, serverMessage: msg, endpoint: 'query' });
    }
    const text = await res.body.text();
    if (text.includes('"error"')) throw new InfluxDBWriteError(`creating database ${JSON.stringify(db)} on ${t.describe} failed: ${text.slice(0, 500)}`, { status: 200, serverMessage: text, endpoint: 'query' });
  }

  #release(b: Batch): void {
    this.#batchMem -= b.mem;
  }

  // ================================================================================ outcomes

  #report(e: Error): void {
    callUser('onError', this.#o.onError, e);
  }

  /** A configuration error: reported at once, and to every flush() waiting (the points stay buffered). */
  #surface(e: Error): void {
    this.#report(e);
    if (this.#surfaced) return;
    this.#surfaced = true;
    for (const w of this.#flushWaiters.splice(0)) w.reject(e);
  }

  /** `settle: false` when more failures of the same moment follow (flush() must see them all). */
  #fail(outcome: Failure['outcome'], firstSeq: number, count: number, lines: string[], error: Error, settle = true): void {
    if (outcome === 'rejected') this.#rejected += count;
    else if (outcome === 'expired') this.#expired += count;
    else this.#dropped += count;
    callUser('onRejected', this.#o.onRejected, lines, error);
    this.#failures.push({ firstSeq, outcome, count, lines: lines.length > kMaxLinesPerFailure ? lines.slice(0, kMaxLinesPerFailure) : lines, error });
    if (settle) this.#settle();
  }

  /** Lowest sequence number not settled yet (Infinity when everything accepted is settled). */
  #lowestPending(): number {
    let min = this.#builder.openLines > 0 ? this.#nextBatchSeq : Infinity;
    for (const b of this.#queue) if (b.firstSeq < min) min = b.firstSeq;
    for (const b of this.#inFlight) if (b.firstSeq < min) min = b.firstSeq;
    for (const b of this.#analyzing) if (b.firstSeq < min) min = b.firstSeq;
    return min;
  }

  /** Resolves or rejects the flush() calls whose points are all settled. */
  #settle(): void {
    if (this.#flushWaiters.length === 0) {
      this.#updateExitWatch();
      return;
    }
    const low = this.#lowestPending();
    for (let i = 0; i < this.#flushWaiters.length;) {
      const w = this.#flushWaiters[i]!;
      if (w.upTo <= low) {
        this.#flushWaiters.splice(i, 1);
        const err = w.takesFailures ? this.#takeFailures(w.upTo, false) : undefined;
        if (err) w.reject(err);
        else w.resolve();
      } else {
        i++;
      }
    }
    this.#updateExitWatch();
  }

  /** The failures of points below `upTo` not yet reported by a flush(), as one error. */
  #takeFailures(upTo: number, closeTimedOut: boolean): WriteDeliveryError | undefined {
    const mine: Failure[] = [];
    this.#failures = this.#failures.filter((f) => {
      if (f.firstSeq < upTo) {
        mine.push(f);
        return false;
      }
      return true;
    });
    if (mine.length === 0) return undefined;
    const counts = { rejected: 0, expired: 0, dropped: 0 };
    const lines: string[] = [];
    const errors: Error[] = [];
    for (const f of mine) {
      counts[f.outcome] += f.count;
      for (const l of f.lines) lines.push(l);
      if (!errors.includes(f.error)) errors.push(f.error);
    }
    const parts = (['rejected', 'expired', 'dropped'] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`);
    const first = errors[0]!.message;
    return new WriteDeliveryError(`${pts(counts.rejected + counts.expired + counts.dropped)} not written (${parts.join(', ')})${closeTimedOut ? ' by close()\'s deadline' : ''}: ${first.length > 500 ? `${first.slice(0, 500)}…` : first}`, counts, lines, errors, closeTimedOut);
  }

  /** What the exit warning reads (held here, so that it lives as long as the writer). */
  readonly #exitView: ExitWatched = {
    pendingPoints: () => this.#accepted - this.#written - this.#rejected - this.#expired - this.#dropped,
    waitingWrites: () => this.#intakeBusy,
  };

  #updateExitWatch(): void {
    const holds = this.#exitView.pendingPoints() > 0 || this.#intakeBusy > 0;
    if (holds && !this.#exitRef) this.#exitRef = watchExit(this.#exitView);
    else if (!holds && this.#exitRef) {
      unwatchExit(this.#exitRef);
      this.#exitRef = undefined;
    }
  }

  // ================================================================================ close

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      // Writes called before close() are taken in first (they may be waiting for room).
      const intake = this.#intakeTail.then(() => 'intake' as const);
      if ((await Promise.race([intake, timedOut])) === 'intake') {
        const all = new Promise<void>((resolve) => {
          this.#seal();
          this.#flushWaiters.push({ upTo: this.#accepted, resolve, reject: () => resolve(), takesFailures: false });
          // A flush waiter rejected by #surface still lets close() go on waiting until the deadline.
          this.#settle();
          this.#pump();
        });
        const settled = async (): Promise<'done'> => {
          await all;
          // #surface may have released the waiter early: wait for real settlement.
          while (this.#lowestPending() !== Infinity && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
          }
          return 'done';
        };
        await Promise.race([settled(), timedOut]);
      }
    } finally {
      clearTimeout(timer);
    }
    // flush() calls still waiting share close()'s verdict on what its deadline gave up.
    let waiting: FlushWaiter[] = [];
    if (this.#lowestPending() !== Infinity || this.#intakeBusy > 0) {
      waiting = this.#flushWaiters.filter((w) => w.takesFailures);
      this.#flushWaiters.splice(0, this.#flushWaiters.length, ...this.#flushWaiters.filter((w) => !w.takesFailures));
      await this.#abandon();
    }
    this.#stopTimers();
    this.#rejectRoomWaiters();
    await Promise.all(this.#targets.filter((t) => t.owned).map((t) => t.transport.close()));
    this.#updateExitWatch();
    const err = this.#takeFailures(Infinity, this.#expiredByClose > 0);
    for (const w of waiting) {
      if (err) w.reject(err);
      else w.resolve();
    }
    if (err) throw err;
  }

  #expiredByClose = 0;

  #rejectRoomWaiters(): void {
    for (const w of this.#roomWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new WriterClosedError());
    }
  }

  /** close()'s deadline: in-flight requests are aborted; everything left is given up, as expired. */
  async #abandon(): Promise<void> {
    this.#abandoning = true;
    // Writes waiting for room are refused first: aborting the requests in flight frees room,
    // which would otherwise let them in after the deadline, to be neither sent nor reported.
    this.#rejectRoomWaiters();
    const before = this.#expired;
    this.#seal();
    for (const b of this.#queue.splice(0)) this.#expire(b, `${pts(b.lines)} not written before close()'s timeout${b.lastError ? `; last error: ${b.lastError.message}` : ''}`);
    if (this.#inFlight.size + this.#analyzing.size > 0) {
      const done = new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.#inFlight.size + this.#analyzing.size === 0) resolve();
          else setTimeout(check, 5);
        };
        check();
      });
      this.#abort.abort();
      await done;
    }
    // Writes still being taken in are refused (their promise rejects): nothing of them was accepted after this.
    for (const b of this.#queue.splice(0)) this.#expire(b);
    this.#expiredByClose = this.#expired - before;
  }

  #stopTimers(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#flushTimer = undefined;
    this.#wakeTimer = undefined;
  }

  toString(): string {
    return `BatchWriter(${this.#targets.map((t) => t.describe).join(', ')})`;
  }
}

