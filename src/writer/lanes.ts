/**
 * Per-series lanes: the queue of batches waiting to be sent, one FIFO per lane, and which lanes
 * have a request out. A lane holds the series whose key hashes to it (the intake splits bodies
 * by `seriesHash`), and sends one batch at a time: a batch is never stored before an earlier
 * batch of its lane, even across retries, 413 splits and 400 resends (they go back to the head
 * of their lane). So last-write-wins updates of one series stay in order with many requests in
 * flight, as Kafka keeps order per partition.
 *
 * One more queue, index `lanes`, holds barriers: a batch of every lane at once (the buffer merges
 * the lanes' small open bodies into one request when the writer is idle, so that a trickle of
 * points costs one request per flush, not one per lane). A barrier goes only when no lane has a
 * batch out, and nothing goes while a barrier is queued or out: it is made only when nothing is
 * queued or in flight, so every batch queued after it is newer.
 */

export interface LaneItem {
  lane: number;
  acceptedAt: number;
  firstSeq: number;
}

export class LaneQueues<B extends LaneItem> {
  readonly #queues: B[][];
  /** 1 while the lane has a batch in flight, being analysed or waiting for its retry's turn. */
  readonly #busy: Uint8Array;
  /** Where the next search for a sendable lane starts: lanes take turns. */
  #turn = 0;
  #size = 0;

  constructor(readonly lanes: number) {
    this.#queues = Array.from({ length: lanes + 1 }, () => []);
    this.#busy = new Uint8Array(lanes + 1);
  }

  /** The lane index of a barrier (a batch of every lane). */
  get barrier(): number {
    return this.lanes;
  }

  /** Nothing queued and nothing out: a barrier may be made now. */
  get idle(): boolean {
    if (this.#size > 0) return false;
    for (let i = 0; i <= this.lanes; i++) if (this.#busy[i] !== 0) return false;
    return true;
  }

  /** Batches queued (not in flight). */
  get size(): number {
    return this.#size;
  }

  push(b: B): void {
    this.#queues[b.lane]!.push(b);
    this.#size++;
  }

  /** Back at the head of its lane: a retry, or the pieces of a split or a resend, in their order. */
  unshift(b: B): void {
    this.#queues[b.lane]!.unshift(b);
    this.#size++;
  }

  /** The next batch to send: the head of the next lane in turn with none out. Marks its lane busy. */
  take(): B | undefined {
    const n = this.lanes;
    if (this.#busy[n] !== 0) return undefined;
    const barriers = this.#queues[n]!;
    if (barriers.length > 0) {
      for (let i = 0; i < n; i++) if (this.#busy[i] !== 0) return undefined;
      this.#busy[n] = 1;
      this.#size--;
      return barriers.shift();
    }
    for (let k = 0; k < n; k++) {
      const i = (this.#turn + k) % n;
      const q = this.#queues[i]!;
      if (this.#busy[i] === 0 && q.length > 0) {
        this.#turn = (i + 1) % n;
        this.#busy[i] = 1;
        this.#size--;
        return q.shift();
      }
    }
    return undefined;
  }

  /** The lane's batch is settled or back in its queue: the lane may send again. */
  release(lane: number): void {
    this.#busy[lane] = 0;
  }

  /** True when a batch could be taken now. */
  get sendable(): boolean {
    const n = this.lanes;
    if (this.#busy[n] !== 0) return false;
    if (this.#queues[n]!.length > 0) {
      for (let i = 0; i < n; i++) if (this.#busy[i] !== 0) return false;
      return true;
    }
    for (let i = 0; i < n; i++) if (this.#busy[i] === 0 && this.#queues[i]!.length > 0) return true;
    return false;
  }

  /** The queued batch accepted first (heads only: each lane is in acceptance order). */
  oldest(): B | undefined {
    let best: B | undefined;
    for (const q of this.#queues) {
      const h = q[0];
      if (h && (!best || h.acceptedAt < best.acceptedAt || (h.acceptedAt === best.acceptedAt && h.firstSeq < best.firstSeq))) best = h;
    }
    return best;
  }

  /** Removes and returns the oldest queued batch. */
  shiftOldest(): B | undefined {
    const b = this.oldest();
    if (b) {
      this.#queues[b.lane]!.shift();
      this.#size--;
    }
    return b;
  }

  /** Removes and returns every queued batch whose time is up (`due`), lane heads first. */
  takeDue(due: (b: B) => boolean): B[] {
    const out: B[] = [];
    for (const q of this.#queues) {
      while (q.length > 0 && due(q[0]!)) {
        out.push(q.shift()!);
        this.#size--;
      }
    }
    return out;
  }

  /** Removes the queued batches `pick` selects (pieces of one refused split). */
  remove(pick: (b: B) => boolean): B[] {
    const out: B[] = [];
    for (const q of this.#queues) {
      for (let i = 0; i < q.length;) {
        if (pick(q[i]!)) {
          out.push(q.splice(i, 1)[0]!);
          this.#size--;
        } else {
          i++;
        }
      }
    }
    return out;
  }

  /** Every queued batch, in no particular order. */
  *[Symbol.iterator](): IterableIterator<B> {
    for (const q of this.#queues) yield* q;
  }

  /** Removes and returns everything queued. */
  clear(): B[] {
    const out: B[] = [];
    for (const q of this.#queues) out.push(...q.splice(0));
    this.#size = 0;
    return out;
  }
}
