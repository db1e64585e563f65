/**
 * The buffer: encoded lines go by series into lanes (a LaneSplitter; one lane when maxInFlight
 * is 1), each with its open body (a BodyBuilder), which is cut into batches by size (`batchSize`
 * lines, `batchBytes`) or time (`flushIntervalMs`) and handed to the flusher. Owns the memory
 * account (the open bodies, and every batch until it leaves the writer) against maxBufferBytes,
 * the whenFull policies and the writers waiting for room, the numbering of points into batches,
 * and the recycling of acknowledged bodies for later slices.
 *
 * One file of about 460 lines, over the house's 400 (issue 14): it is one class, and every part
 * of it (taking slices in, cutting lanes into batches, the whenFull policies, the waiters for
 * room, giving bodies back) moves the same memory account and sequence numbers under one
 * invariant (every byte counted in is counted out once); split, that arithmetic would be read
 * across files.
 */
import { BufferFullError, PointsDroppedError, WriterClosedError } from '../errors.js';
import { BodyBuilder, type EncodedBody } from '../encode/body-builder.js';
import { LaneSplitter } from '../encode/line-protocol/series.js';
import type { ResolvedWriterOptions } from '../options/index.js';
import { linesOf, newBatch, type Batch, type BatchAccount, type SpoolClaim } from './batch.js';
import type { Flusher } from './flusher.js';
import { pts, type Ledger, type PendingSource } from './ledger.js';
import { LaneRuns, type SpooledRecord, type WriterSpool } from './spool.js';

/** A lane's open body: what it holds, since when, and the lowest sequence number in it. */
interface OpenLane {
  readonly index: number;
  readonly builder: BodyBuilder;
  firstSeq: number;
  openSince: number;
  /** With a spool: the records its open body's lines came from. */
  readonly runs: LaneRuns | undefined;
}

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
  readonly #lanes: OpenLane[];
  /** Undefined with one lane: nothing to split. */
  readonly #splitter: LaneSplitter | undefined;
  /** Bytes of queued and in-flight batches (the open bodies are counted by their builders). */
  #batchMem = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #roomWaiters: RoomWaiter[] = [];
  /** Bodies acknowledged by the server, whose memory the next slices reuse. */
  readonly #spare: Buffer[] = [];
  /** The durable spool, once open (`spool` option): batches claim their records, and release them. */
  #spool: WriterSpool | undefined;
  #keepSpooled = false;

  constructor(options: ResolvedWriterOptions, ledger: Ledger) {
    this.#o = options;
    this.#ledger = ledger;
    const lanes = options.maxInFlight;
    this.#lanes = Array.from({ length: lanes }, (_, index) => ({
      index, builder: new BodyBuilder(options.batchBytes, lanes === 1 ? 64 * 1024 : 16 * 1024, options.batchSize, this.allocBody), firstSeq: 0, openSince: 0,
      runs: options.spool === undefined ? undefined : new LaneRuns(),
    }));
    this.#splitter = lanes > 1 ? new LaneSplitter(lanes) : undefined;
  }

  sendTo(flusher: Flusher): void {
    this.#out = flusher;
  }

  /** The spool, open: from now on every batch claims its records. */
  useSpool(spool: WriterSpool): void {
    this.#spool = spool;
  }

  /**
   * Records an earlier process left in the spool, taken in before any new write (oldest first),
   * their points numbered as accepted now but their delivery deadline counted from `acceptedAt`.
   */
  acceptRecovered(records: readonly SpooledRecord[]): void {
    for (const r of records) {
      const seq = this.#ledger.accepted;
      this.#ledger.accept(r.lines);
      // Not `trusted`: a record may hold the user's own line protocol; the scanner reads it.
      this.#added(this.#route(r.body, r.lines, false, seq, r.acceptedAt, false, undefined, r.id));
    }
  }

  bufferedBytes(): number {
    let open = 0;
    for (const l of this.#lanes) open += l.builder.openBytes;
    return this.#batchMem + open;
  }

  hasRoom(): boolean {
    return this.bufferedBytes() < this.#o.maxBufferBytes;
  }

  lowestPendingSeq(): number {
    let min = Infinity;
    for (const l of this.#lanes) if (l.builder.openLines > 0 && l.firstSeq < min) min = l.firstSeq;
    return min;
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

  /** The lines of an encoder's builder, moved into the lanes' open bodies whole. */
  adopt(from: BodyBuilder, lines: number): void {
    const seq = this.#ledger.accepted;
    this.#ledger.accept(lines);
    const now = Date.now();
    let cut = 0;
    if (this.#splitter) {
      from.cut();
      for (const b of from.drain()) cut += this.#route(b.body, b.lines, false, seq, now);
      from.reset();
    } else {
      const lane = this.#lanes[0]!;
      if (lane.builder.openLines === 0) this.#opened(lane, seq, now);
      from.moveTo(lane.builder);
      lane.runs?.push(-1, lines);
      cut += this.#drain(lane, seq, now);
    }
    this.#added(cut);
  }

  /**
   * Encoded bodies of one slice, accepted; returns how many of their lines were dropped at once
   * (dropNewest). `trusted`: our encoders wrote every line (a newline ends a line, always).
   */
  accept(bodies: readonly EncodedBody[], lines: number, trusted = false, lineLanes?: Uint16Array, ids?: readonly number[]): number {
    if (this.dropsNewest()) {
      if (ids !== undefined) this.#spool?.drop(ids);
      return this.dropAll(bodies, lines);
    }
    const seq = this.#ledger.accepted;
    this.#ledger.accept(lines);
    const now = Date.now();
    let cut = 0;
    let at = 0;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i]!;
      cut += this.#route(b.body, b.lines, true, seq, now, trusted, lineLanes?.subarray(at, at + b.lines), ids?.[i] ?? -1);
      at += b.lines;
    }
    this.#added(cut);
    return 0;
  }

  /** whenFull 'dropNewest': the slice accepted and dropped at once (counted, and given back to onRejected). */
  dropAll(bodies: readonly EncodedBody[], lines: number): number {
    // Sealing first makes the dropped lines' numbers follow every batched one.
    this.seal();
    const seq = this.#ledger.accepted;
    this.#ledger.accept(lines);
    const all: string[] = [];
    for (const b of bodies) for (const l of linesOf(b.body)) all.push(l);
    const full = this.#spool !== undefined && this.hasRoom() ? 'spool is full (spool.maxBytes)' : `buffer is full (maxBufferBytes ${this.#o.maxBufferBytes})`;
    this.#ledger.fail('dropped', seq, lines, all, new PointsDroppedError(`${pts(lines)} dropped: the writer's ${full}, whenFull: 'dropNewest'`));
    return lines;
  }

  /** Lanes, for encoders that can tell each line's (columnar/lanes.ts); 1 when there is nothing to split. */
  get laneCount(): number {
    return this.#lanes.length;
  }

  /**
   * Lines of one write into their lanes' open bodies; returns how many batches that completed.
   * `seq`: the sequence number of the write's first point, a lower bound for each of its lines.
   */
  #route(body: Buffer, lines: number, owned: boolean, seq: number, now: number, trusted = false, lineLanes?: Uint16Array, id = -1): number {
    const splitter = this.#splitter;
    if (!splitter) return this.#add(this.#lanes[0]!, body, lines, owned, seq, now, id);
    if (lines === 1) return this.#add(this.#lanes[lineLanes?.[0] ?? splitter.laneOf(body, 0, body.length)]!, body, 1, false, seq, now, id);
    let cut = 0;
    // Our encoders' bodies: each lane's lines copied in one piece into its open body.
    const add = (lane: number, from: Buffer, start: number, end: number, n: number): void => {
      const l = this.#lanes[lane]!;
      if (l.builder.openLines === 0) this.#opened(l, seq, now);
      l.builder.addLines(from, start, end, n);
      l.runs?.push(id, n);
      cut += this.#drain(l, seq, now);
    };
    if (trusted && (lineLanes !== undefined ? splitter.routeKnown(body, lineLanes, add) : splitter.route(body, add))) {
      if (owned) this.#spareBody(body);
      return cut;
    }
    const split = splitter.split(body, lines, trusted);
    for (let i = 0; i < split.bodies.length; i++) {
      if (split.lines[i]! > 0) cut += this.#add(this.#lanes[i]!, split.bodies[i]!, split.lines[i]!, true, seq, now, id);
    }
    // The encoder's body was copied into the lanes: its memory serves the next slice.
    if (owned) this.#spareBody(body);
    return cut;
  }

  #add(lane: OpenLane, body: Buffer, lines: number, owned: boolean, seq: number, now: number, id: number): number {
    if (lane.builder.openLines === 0) this.#opened(lane, seq, now);
    lane.builder.addBody(body, lines, owned);
    lane.runs?.push(id, lines);
    return this.#drain(lane, seq, now);
  }

  #opened(lane: OpenLane, seq: number, now: number): void {
    lane.firstSeq = seq;
    lane.openSince = now;
  }

  /** Queues the batches the lane's builder completed; what stays open came with this write. */
  #drain(lane: OpenLane, seq: number, now: number): number {
    const done = lane.builder.drain();
    for (const b of done) {
      this.#enqueue(b, lane);
      this.#opened(lane, seq, now);
    }
    return done.length;
  }

  /** Arms the time trigger, and sends what was cut. */
  #added(cut: number): void {
    this.#armFlushTimer();
    if (cut > 0) this.#out.pump();
    // Points in a batch never sent yet count for the exit warning too.
    else this.#ledger.watchIfUnwatched();
  }

  #enqueue(b: EncodedBody, lane: OpenLane): void {
    const batch = newBatch(b, lane.index, lane.firstSeq, lane.openSince, this.#claim(lane.runs?.take(b.lines)));
    this.#batchMem += batch.mem;
    this.#out.push(batch);
  }

  // ---- cutting batches -----------------------------------------------------------------------

  /** Ends the batches being filled, so that they are sent now. */
  seal(): void {
    this.#sealOpenSince(Infinity);
  }

  /** Seals the lanes opened at or before `since` (all of them with Infinity), or merges a trickle. */
  #sealOpenSince(since: number): void {
    if (this.#merge()) return;
    let any = false;
    for (const lane of this.#lanes) {
      if (lane.builder.openLines === 0 || lane.openSince > since) continue;
      lane.builder.cut();
      for (const b of lane.builder.drain()) this.#enqueue(b, lane);
      any = true;
    }
    if (any) this.#armFlushTimer();
  }

  /**
   * A trickle (the time trigger, or flush(), with little open): the lanes' open bodies go as ONE
   * request, a barrier of every lane (lanes.ts), so that a slow writer sends one request per
   * flush as with one lane. Only while nothing is queued or out, so it passes no earlier batch.
   */
  #merge(): boolean {
    if (!this.#splitter || !this.#out.idle) return false;
    let lines = 0;
    let bytes = 0;
    let open = 0;
    let firstSeq = Infinity;
    let since = Infinity;
    for (const l of this.#lanes) {
      if (l.builder.openLines === 0) continue;
      open++;
      lines += l.builder.openLines;
      bytes += l.builder.openBytes;
      if (l.firstSeq < firstSeq) firstSeq = l.firstSeq;
      if (l.openSince < since) since = l.openSince;
    }
    if (open < 2 || lines > this.#o.batchSize || bytes > this.#lanes[0]!.builder.limit) return false;
    const parts: Buffer[] = [];
    const runs: number[] = [];
    for (const l of this.#lanes) {
      if (l.builder.openLines === 0) continue;
      l.builder.cut();
      for (const b of l.builder.drain()) {
        parts.push(b.body);
        if (l.runs !== undefined) for (const x of l.runs.take(b.lines)) runs.push(x);
      }
    }
    const batch = newBatch({ body: Buffer.concat(parts, bytes), lines }, this.#lanes.length, firstSeq, since, this.#claim(runs));
    this.#batchMem += batch.mem;
    this.#out.push(batch);
    this.#armFlushTimer();
    return true;
  }

  #open(): boolean {
    for (const l of this.#lanes) if (l.builder.openLines > 0) return true;
    return false;
  }

  #armFlushTimer(): void {
    const open = this.#open();
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
    // Due when the oldest open body is flushIntervalMs old. Each lane is sealed when its OWN body
    // is that old: in a bulk load the lanes fill long before, and sealing them all at every tick
    // cut eight part-filled batches a second.
    let oldest = Infinity;
    for (const l of this.#lanes) if (l.builder.openLines > 0 && l.openSince < oldest) oldest = l.openSince;
    const delay = Math.max(0, oldest + this.#o.flushIntervalMs - Date.now()) + (this.#o.flushJitterMs > 0 ? Math.random() * this.#o.flushJitterMs : 0);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#sealOpenSince(Date.now() - this.#o.flushIntervalMs);
      this.#armFlushTimer();
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
      this.unblock();
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
    if (this.#roomWaiters.length > 0) this.unblock();
  }

  /**
   * Writers wait for room. While batches are out or queued, their answers bring it back; only
   * when nothing is, the open bodies are what fills the buffer, and are sent. (Sealing every lane
   * at each wait cut a bulk load into batches a third of batchSize: 755 requests instead of 208.)
   */
  unblock(): void {
    if (this.#out.idle) this.seal();
    this.#out.pump();
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
    // Settled (or cut into pieces that now hold the claim): the spool may let its records go.
    if (b.spool !== undefined && !this.#keepSpooled) this.#spool?.settle(b.spool);
  }

  /** close()'s deadline: what it gives up stays in the spool, for the next writer on it. */
  keepSpooledRecords(): void {
    this.#keepSpooled = true;
  }

  /** A batch's claim on its spool records (ids -1: lines that never were in the spool). */
  #claim(runs: number[] | undefined): SpoolClaim | undefined {
    if (runs === undefined || this.#spool === undefined) return undefined;
    return this.#spool.claim(runs.some((x, i) => i % 2 === 0 && x < 0) ? stripUnspooled(runs) : runs);
  }

  recycle(b: Batch): void {
    // Split parents are never recyclable (their halves point into them); a few spares suffice.
    if (b.recyclable) this.#spareBody(b.body);
  }

  #spareBody(body: Buffer): void {
    if (this.#spare.length < this.#o.maxInFlight + 2 && body.byteOffset === 0 && body.buffer.byteLength >= 65_536 && body.buffer.byteLength <= 2 * body.byteLength + 65_536) {
      this.#spare.push(Buffer.from(body.buffer, 0, body.buffer.byteLength));
    }
  }

  lowerBatchBytes(bytes: number): void {
    for (const l of this.#lanes) if (bytes < l.builder.limit) l.builder.limit = bytes;
  }
}

/** Runs without those of lines that were never in the spool (id -1). */
function stripUnspooled(runs: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs.length; i += 2) if (runs[i]! >= 0) out.push(runs[i]!, runs[i + 1]!);
  return out;
}
