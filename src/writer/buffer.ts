/**
 * The buffer: encoded lines go into the open body (a BodyBuilder), which is cut into batches by
 * size (`batchSize` lines, `batchBytes`) or time (`flushIntervalMs`) and handed to the flusher.
 * Owns the memory account (the open body, and every batch until it leaves the writer) against
 * maxBufferBytes, the whenFull policies and the writers waiting for room, the numbering of
 * points into batches, and the recycling of acknowledged bodies for later slices.
 */
import { BufferFullError, PointsDroppedError, WriterClosedError } from '../errors.js';
import { BodyBuilder, type EncodedBody } from '../encode/body-builder.js';
import type { ResolvedWriterOptions } from '../options.js';
import { linesOf, newBatch, type Batch, type BatchAccount } from './batch.js';
import type { Flusher } from './flusher.js';
import { pts, type Ledger, type PendingSource } from './ledger.js';

interface RoomWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class WriteBuffer implements BatchAccount, PendingSource {
  readonly #o: ResolvedWriterOptions;
  readonly #ledger: Ledger;
  /** Where cut batches go (set once by `sendTo`: the flusher is made with this buffer as its account). */
  #out!: Flusher;
  readonly #builder: BodyBuilder;
  /** Bytes of queued and in-flight batches (the open body is counted by the builder). */
  #batchMem = 0;
  /** Sequence number of the first line not yet in a queued batch (the open body starts there). */
  #nextBatchSeq = 0;
  #openSince = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #roomWaiters: RoomWaiter[] = [];
  /** Bodies acknowledged by the server, whose memory the next slices reuse. */
  readonly #spare: Buffer[] = [];

  constructor(options: ResolvedWriterOptions, ledger: Ledger) {
    this.#o = options;
    this.#ledger = ledger;
    this.#builder = new BodyBuilder(options.batchBytes, 64 * 1024, options.batchSize);
  }

  sendTo(flusher: Flusher): void {
    this.#out = flusher;
  }

  bufferedBytes(): number {
    return this.#batchMem + this.#builder.openBytes;
  }

  hasRoom(): boolean {
    return this.bufferedBytes() < this.#o.maxBufferBytes;
  }

  lowestPendingSeq(): number {
    return this.#builder.openLines > 0 ? this.#nextBatchSeq : Infinity;
  }

  /** A body for an encoder, from the spares when one fits. */
  readonly allocBody = (bytes: number): Buffer => {
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

  // ---- taking lines in -----------------------------------------------------------------------

  /** whenFull 'dropNewest' with the buffer full: what comes in now is dropped. */
  dropsNewest(): boolean {
    return this.#o.whenFull === 'dropNewest' && !this.hasRoom();
  }

  /** The lines of an encoder's builder, moved into the open body whole. */
  adopt(from: BodyBuilder, lines: number): void {
    const before = this.#builder.openLines;
    from.moveTo(this.#builder);
    this.#added(before, lines);
  }

  /** Encoded bodies of one slice, accepted; returns how many of their lines were dropped at once (dropNewest). */
  accept(bodies: readonly EncodedBody[], lines: number): number {
    if (this.dropsNewest()) {
      // Sealing first makes the dropped lines' numbers follow every batched one.
      this.seal();
      const seq = this.#ledger.accepted;
      this.#ledger.accept(lines);
      this.#nextBatchSeq += lines;
      const all: string[] = [];
      for (const b of bodies) for (const l of linesOf(b.body)) all.push(l);
      this.#ledger.fail('dropped', seq, lines, all, new PointsDroppedError(`${pts(lines)} dropped: the writer's buffer is full (whenFull: 'dropNewest', maxBufferBytes ${this.#o.maxBufferBytes})`));
      return lines;
    }
    const before = this.#builder.openLines;
    for (const b of bodies) this.#builder.addBody(b.body, b.lines, true);
    this.#added(before, lines);
    return 0;
  }

  /** Counts accepted lines, queues the batches the builder completed, and arms the time trigger. */
  #added(openBefore: number, lines: number): void {
    const now = Date.now();
    if (openBefore === 0) this.#openSince = now;
    this.#ledger.accept(lines);
    const done = this.#builder.drain();
    if (done.length > 0) {
      for (let i = 0; i < done.length; i++) this.#enqueue(done[i]!, i === 0 ? this.#openSince : now);
      this.#openSince = now;
    }
    this.#armFlushTimer();
    if (done.length > 0) this.#out.pump();
    // Points in a batch never sent yet count for the exit warning too.
    else this.#ledger.watchIfUnwatched();
  }

  #enqueue(b: EncodedBody, acceptedAt: number): void {
    const batch = newBatch(b, this.#nextBatchSeq, acceptedAt);
    this.#nextBatchSeq += b.lines;
    this.#batchMem += batch.mem;
    this.#out.push(batch);
  }

  // ---- cutting batches -----------------------------------------------------------------------

  /** Ends the batch being filled, so that it is sent now. */
  seal(): void {
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
      this.seal();
      this.#out.pump();
      return;
    }
    const delay = this.#o.flushIntervalMs + (this.#o.flushJitterMs > 0 ? Math.random() * this.#o.flushJitterMs : 0);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.seal();
      this.#out.pump();
    }, delay);
  }

  stopTimer(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  // ---- whenFull ------------------------------------------------------------------------------

  /** Waits for room in the buffer according to the whenFull policy. */
  room(): Promise<void> | void {
    if (this.hasRoom()) return;
    const o = this.#o;
    switch (o.whenFull) {
      case 'error':
        throw this.#fullError();
      case 'dropNewest':
        return; // the slice is encoded, then dropped (counted and reported) by accept()
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
      this.seal();
      this.#out.pump();
    });
  }

  #fullError(): BufferFullError {
    const b = this.bufferedBytes();
    const o = this.#o;
    const why = o.whenFull === 'block' ? `stayed full for maxBlockMs (${o.maxBlockMs} ms)` : 'is full (whenFull: \'error\')';
    return new BufferFullError(`the batch writer's buffer ${why}: ${b} bytes held, maxBufferBytes ${o.maxBufferBytes}`, b, o.maxBufferBytes);
  }

  /** dropOldest: the oldest batches not in flight make room (counted and reported as dropped). */
  #dropOldest(): void {
    this.seal();
    for (let b: Batch | undefined; !this.hasRoom() && (b = this.#out.takeOldest());) {
      this.release(b);
      this.#ledger.fail('dropped', b.firstSeq, b.lines, linesOf(b.body), new PointsDroppedError(`${pts(b.lines)} dropped to make room for newer ones (whenFull: 'dropOldest', maxBufferBytes ${this.#o.maxBufferBytes})`));
    }
    this.#ledger.settle();
  }

  roomFreed(): void {
    while (this.#roomWaiters.length > 0 && this.hasRoom()) {
      const w = this.#roomWaiters.shift()!;
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** close(): writes waiting for room are refused. */
  rejectRoomWaiters(): void {
    for (const w of this.#roomWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new WriterClosedError());
    }
  }

  // ---- the account of batches (BatchAccount) -------------------------------------------------

  charge(bytes: number): void {
    this.#batchMem += bytes;
  }

  release(b: Batch): void {
    this.#batchMem -= b.mem;
  }

  recycle(b: Batch): void {
    // Split parents are never recyclable (their halves point into them); a few spares suffice.
    if (b.recyclable && this.#spare.length < this.#o.maxInFlight + 2) this.#spare.push(Buffer.from(b.body.buffer, 0, b.body.buffer.byteLength));
  }

  lowerBatchBytes(bytes: number): void {
    if (bytes < this.#builder.limit) this.#builder.limit = bytes;
  }
}
