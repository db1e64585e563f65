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
 *
 * This file is the face: it wires the path of a point, intake (slicing, encoding) -> buffer
 * (open body, memory, whenFull, cutting batches) -> flusher (queue, requests, answers), with the
 * ledger keeping the books of all three, and answers flush(), close() and stats().
 */
import type { Writable } from 'node:stream';
import { InvalidOptionError, WriterClosedError } from '../errors.js';
import type { ResolvedWriterOptions } from '../options/index.js';
import type { HttpTransport } from '../transport/http-transport.js';
import { WriteBuffer } from './buffer.js';
import { Flusher } from './flusher.js';
import { Intake, type AcceptReport, type EncoderContext, type WriterInput } from './intake.js';
import { Ledger, type FlushWaiter } from './ledger.js';
import { WriterSpool, type SpoolStats } from './spool.js';
import { writerStream, type WriterStreamOptions } from './stream.js';

export type { AcceptReport, WriterInput } from './intake.js';

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
  /** The server being written to (failover moves it; with spread, the first one up). */
  target: string;
  /** Requests allowed in flight now: the adaptive limit (maxInFlight 'auto') summed over the servers in use, or maxInFlight. */
  limit: number;
  /** Per-series lanes (one request in flight each). */
  lanes: number;
  /** Each server: its in-flight limit and requests out, points it acknowledged, and whether it is left out for now. */
  targets: { url: string; limit: number; inFlight: number; written: number; down: boolean }[];
  /** The durable spool (with the `spool` option, once open): bytes and segments on disk, records held, the oldest point's age, fsyncs. */
  spool: SpoolStats | undefined;
}

export interface BatchWriterContext extends EncoderContext {
  transport: HttpTransport;
}

export class BatchWriter {
  readonly #o: ResolvedWriterOptions;
  readonly #ledger: Ledger;
  readonly #buffer: WriteBuffer;
  readonly #flusher: Flusher;
  readonly #intake: Intake;
  #closing = false;
  #closed: Promise<void> | undefined;
  #spool: WriterSpool | undefined;
  #spoolReady: Promise<WriterSpool> | undefined;

  constructor(options: ResolvedWriterOptions, ctx: BatchWriterContext) {
    this.#o = options;
    this.#ledger = new Ledger(options, () => this.#intake.waiting);
    this.#buffer = new WriteBuffer(options, this.#ledger);
    this.#flusher = new Flusher(options, ctx.transport, this.#ledger, this.#buffer);
    this.#buffer.sendTo(this.#flusher);
    this.#ledger.track(this.#buffer, this.#flusher);
    this.#intake = new Intake(options, ctx, this.#ledger, this.#buffer, this.#flusher);
    if (options.spool !== undefined) {
      // Writes wait until the spool is open and what an earlier process left in it is taken in
      // (sent first); a spool that cannot be opened (locked by another process) fails every write.
      const ready = WriterSpool.open(options.spool).then(({ spool, recovered }) => {
        this.#spool = spool;
        this.#buffer.useSpool(spool);
        this.#buffer.acceptRecovered(recovered);
        return spool;
      });
      ready.catch(() => undefined); // reported by the writes (and close()), not as unhandled
      this.#spoolReady = ready;
      this.#intake.useSpool(ready);
    }
  }

  /**
   * Takes `data` (anything `client.write()` takes) into the buffer. Resolves once it is accepted,
   * which under `whenFull: 'block'` waits for room: that is the backpressure. Rejects with
   * `InvalidPointError` (nothing of the bad slice accepted), `BufferFullError` or `WriterClosedError`.
   * Writes enter the buffer in call order.
   */
  write(data: WriterInput): Promise<AcceptReport> {
    if (this.#closing) return Promise.reject(new WriterClosedError());
    return this.#intake.write(data);
  }

  /**
   * Takes points or line protocol only if there is room now, without waiting: false when the
   * buffer is full or earlier writes are still being taken in. Throws on invalid input.
   */
  tryWrite(data: WriterInput): boolean {
    if (this.#closing) throw new WriterClosedError();
    return this.#intake.tryWrite(data);
  }

  /**
   * Sends what is buffered now and resolves when every point accepted before the call is
   * written. Rejects with `WriteDeliveryError` (counts, lines, reasons) if some of them were
   * rejected, expired or dropped, and at once with the error when the server refuses the
   * credentials or the database (the points stay buffered until deliveryTimeoutMs).
   */
  flush(): Promise<void> {
    // What the spool held when it opened counts as accepted before any flush() call.
    if (this.#spoolReady !== undefined && this.#spool === undefined) return this.#spoolReady.then(() => this.flush());
    const upTo = this.#ledger.accepted;
    this.#buffer.seal();
    return new Promise<void>((resolve, reject) => {
      this.#ledger.waitFor({ upTo, resolve, reject, takesFailures: true });
      this.#flusher.pump();
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

  /**
   * How far the accepted points are settled, for checkpoints: points are numbered 0, 1, … in the
   * order write() took them in (`accepted` so far; rows skipped by `invalidRows: 'skip'` get no
   * number). Every point below `settledBelow` is settled; below `deliveredBelow`, each one was
   * written or rejected for good by the server (none expired or dropped): a resumed load may
   * start there. Lower bounds: never past a point that is not settled.
   */
  progress(): { accepted: number; settledBelow: number; deliveredBelow: number } {
    return this.#ledger.progress();
  }

  stats(): WriterStats {
    const c = this.#ledger.counts();
    const f = this.#flusher.stats();
    return {
      accepted: c.accepted, written: c.written, rejected: c.rejected, expired: c.expired, dropped: c.dropped,
      pending: c.pending, skipped: c.skipped,
      bufferedBytes: this.#buffer.bufferedBytes(), queuedBatches: f.queuedBatches,
      inFlight: f.inFlight, inFlightBytes: f.inFlightBytes,
      requests: c.requests, retries: c.retries, splits: c.splits, bytesSent: c.bytesSent,
      latencyMs: c.latencyMs,
      pausedUntil: f.pausedUntil, pauseReason: f.pauseReason,
      target: f.target, limit: f.limit, lanes: f.lanes, targets: f.targets,
      spool: this.#spool?.stats(),
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `BatchWriter(${this.#flusher.describeTargets()})`;
  }

  async #close(timeoutMs: number): Promise<void> {
    const ledger = this.#ledger;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      // Writes called before close() are taken in first (they may be waiting for room).
      const intake = this.#intake.drained.then(() => 'intake' as const);
      if ((await Promise.race([intake, timedOut])) === 'intake') {
        const all = new Promise<void>((resolve) => {
          this.#buffer.seal();
          // A flush waiter rejected by Ledger.surface still lets close() go on waiting until the deadline.
          ledger.waitFor({ upTo: ledger.accepted, resolve, reject: () => resolve(), takesFailures: false });
          this.#flusher.pump();
        });
        const settled = async (): Promise<'done'> => {
          await all;
          // Ledger.surface may have released the waiter early: wait for real settlement.
          while (ledger.lowestPending() !== Infinity && Date.now() < deadline) {
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
    let expiredByClose = 0;
    if (ledger.lowestPending() !== Infinity || this.#intake.waiting > 0) {
      waiting = ledger.takeFlushCalls();
      const before = ledger.expired;
      await this.#abandon();
      expiredByClose = ledger.expired - before;
    }
    this.#buffer.stopTimer();
    this.#flusher.stopTimer();
    this.#buffer.rejectRoomWaiters();
    await this.#flusher.closeTransports();
    // What close() gave up stays on disk: the next writer on the spool sends it (see #abandon).
    if (this.#spoolReady !== undefined) await this.#spoolReady.then((s) => s.close(), () => undefined);
    ledger.updateExitWatch();
    const err = ledger.takeFailures(Infinity, expiredByClose > 0);
    for (const w of waiting) {
      if (err) w.reject(err);
      else w.resolve();
    }
    if (err) throw err;
  }

  /** close()'s deadline: in-flight requests are aborted; everything left is given up, as expired. */
  async #abandon(): Promise<void> {
    // Writes waiting for room are refused first: aborting the requests in flight frees room,
    // which would otherwise let them in after the deadline, to be neither sent nor reported.
    this.#buffer.rejectRoomWaiters();
    this.#buffer.seal();
    // With a spool, what is given up here is not released: it is reported expired to this
    // process, and sent again by the next writer on the spool (a restart is what a spool is for).
    this.#buffer.keepSpooledRecords();
    await this.#flusher.abandon();
  }
}
