/**
 * The flusher: batches cut by the buffer wait in per-series lanes (lanes.ts) and go out, one per
 * lane at a time and at most the servers' in-flight limits (concurrency.ts) together, to the
 * servers of the target set (spread.ts). Owns the queue, the requests in flight, the answers'
 * handling (acknowledge, retry with backoff and failover, split on 413, the 400 analysis, pause
 * on a configuration error), the delivery deadline of every batch it holds, and close()'s
 * abandonment.
 *
 * Which batch goes next, and where, is decided in `#next` alone. A lane is released only once
 * its batch is settled or back at the lane's head, so retries, splits and resends keep the order
 * of a series' writes.
 */
import { setMaxListeners } from 'node:events';
import { gzip } from 'node:zlib';
import { DeliveryTimeoutError, InfluxDBConnectionError, type InfluxDBWriteError } from '../errors.js';
import type { ResolvedWriterOptions } from '../options/index.js';
import type { HttpTransport } from '../transport/http-transport.js';
import { halves, refusal, refusedAlone } from './answers.js';
import { linesOf, type Batch, type BatchAccount } from './batch.js';
import { exchange, type ExchangeDecision } from './exchange.js';
import { pts, type Ledger, type PendingSource } from './ledger.js';
import type { RejectionContext } from './rejections.js';
import { backoffDelay, kPauseReason, retryWait } from './retry.js';
import { ServerInfo } from './server-info.js';
import { AdaptiveLimit, FixedLimit } from './concurrency.js';
import { LaneQueues } from './lanes.js';
import { TargetSet, type TargetState } from './spread.js';
import { makeTargets } from './targets.js';

function gzipAsync(body: Buffer, level: number): Promise<Buffer> {
  // zlib's async API runs on libuv's thread pool: compression stays off the main thread.
  return new Promise((resolve, reject) => gzip(body, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

export class Flusher implements PendingSource {
  readonly #o: ResolvedWriterOptions;
  readonly #ledger: Ledger;
  readonly #account: BatchAccount;
  readonly #targets: TargetSet;
  readonly #server: ServerInfo;
  readonly #queue: LaneQueues<Batch>;
  readonly #inFlight = new Set<Batch>();
  #inFlightBytes = 0;
  /** Batches refused (400) whose analysis waits for the retention policy's durations. */
  readonly #analyzing = new Set<Batch>();
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #pausedUntil = 0;
  #pauseReason: string | undefined;
  #consecutiveFailures = 0;
  readonly #abort = new AbortController();
  #abandoning = false;

  constructor(options: ResolvedWriterOptions, transport: HttpTransport, ledger: Ledger, account: BatchAccount) {
    this.#o = options;
    this.#ledger = ledger;
    this.#account = account;
    // Each request in flight listens on close()'s signal (exchange.ts), so there are as many
    // listeners as requests: up to the in-flight limit of every server, past Node's default of 10,
    // whose leak warning would land on the user's stderr. The count is bounded by the limits.
    setMaxListeners(0, this.#abort.signal);
    const { group, standby } = makeTargets(transport, options);
    // The strategy is chosen here, once: an adaptive limit per server, or the fixed one.
    const max = options.maxInFlight;
    this.#targets = new TargetSet(group, standby, options.adaptive ? () => new AdaptiveLimit({ max }) : () => new FixedLimit(max));
    this.#queue = new LaneQueues<Batch>(max);
    this.#server = new ServerInfo(options, () => this.#targets.current.target, this.#abort.signal);
  }

  /** A batch cut by the buffer (already charged to it), at the end of the queue. */
  push(b: Batch): void {
    this.#queue.push(b);
  }

  /** Nothing queued, in flight or being analysed. */
  get idle(): boolean {
    return this.#queue.idle;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** close()'s deadline passed: what comes back is expired, what comes in is refused. */
  get abandoning(): boolean {
    return this.#abandoning;
  }

  lowestPendingSeq(): number {
    let min = Infinity;
    for (const b of this.#queue) if (b.firstSeq < min) min = b.firstSeq;
    for (const b of this.#inFlight) if (b.firstSeq < min) min = b.firstSeq;
    for (const b of this.#analyzing) if (b.firstSeq < min) min = b.firstSeq;
    return min;
  }

  /** dropOldest: the oldest batch not in flight, taken out of the queue (its memory still charged). */
  takeOldest(): Batch | undefined {
    return this.#queue.shiftOldest();
  }

  describeTargets(): string {
    return this.#targets.all.map((s) => s.target.describe).join(', ');
  }

  stats() {
    const now = Date.now();
    return {
      queuedBatches: this.#queue.size, inFlight: this.#inFlight.size, inFlightBytes: this.#inFlightBytes,
      pausedUntil: this.#pausedUntil > now ? this.#pausedUntil : undefined,
      pauseReason: this.#pausedUntil > now ? this.#pauseReason : undefined,
      target: this.#targets.current.target.describe,
      limit: Math.min(this.#o.maxInFlight, this.#targets.limit),
      lanes: this.#queue.lanes,
      targets: this.#targets.all.map((t: TargetState) => ({
        url: t.target.describe, limit: t.limit.limit, inFlight: t.inFlight, written: t.written, down: t.failures > 0 || t.downUntil > now,
      })),
    };
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Expires what is due, sends what may go now, and arms the timer for what comes next. */
  pump(): void {
    const now = Date.now();
    this.#expireDue(now);
    for (let next = this.#next(now); next; next = this.#next(now)) {
      this.#inFlight.add(next.batch);
      this.#inFlightBytes += next.batch.body.length;
      this.#targets.sent(next.target);
      void this.#send(next.batch, next.target);
    }
    // Queued batches expire even while sending is paused; with nothing queued, no timer keeps the process alive.
    const head = this.#queue.oldest();
    if (head) this.#wake(head.acceptedAt + this.#o.deliveryTimeoutMs);
    else if (this.#wakeTimer) {
      clearTimeout(this.#wakeTimer);
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
    }
    this.#ledger.settle();
  }

  /** The batch to send now and its target, taken off the queue; undefined when none may go (the limit, an empty queue, a pause). */
  #next(now: number): { batch: Batch; target: TargetState } | undefined {
    if (this.#inFlight.size >= this.#o.maxInFlight || !this.#queue.sendable) return undefined;
    if (now < this.#pausedUntil) {
      this.#wake(this.#pausedUntil);
      return undefined;
    }
    const target = this.#targets.pick(now);
    if (!target) {
      // Every server is at its limit (an answer will pump again), or left out until its backoff ends.
      const up = this.#targets.nextUpAt(now);
      if (up !== Infinity) this.#wake(up);
      return undefined;
    }
    return { batch: this.#queue.take()!, target };
  }

  #wake(at: number): void {
    if (at >= this.#wakeAt && this.#wakeTimer) return;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
      this.pump();
    }, Math.max(0, at - Date.now()));
  }

  stopTimer(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
  }

  async #send(b: Batch, s: TargetState): Promise<void> {
    const o = this.#o;
    const t = s.target;
    const inFlightAtSend = s.inFlight;
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
          this.#account.charge(b.gz.length);
        }
        body = b.gz;
        headers = { 'content-encoding': 'gzip' };
      }
      this.#ledger.requestSent(body.length);
      decision = await exchange(t, {
        body, headers, timeoutMs: o.requestTimeoutMs, closeSignal: this.#abort.signal,
        note: `batch of ${b.lines} lines, ${body.length} bytes, attempt ${b.attempts}`,
      });
    } catch (err) {
      // gzip failed: nothing was sent.
      decision = { kind: 'fatal', error: err instanceof Error ? err : new Error(String(err)) };
    }
    const rtt = performance.now() - started;
    this.#ledger.answered(rtt);
    this.#inFlight.delete(b);
    this.#inFlightBytes -= b.body.length;
    this.#targets.answered(s);
    if (decision.kind === 'ack') this.#targets.acked(s, rtt, b.body.length, b.lines, inFlightAtSend);
    try {
      await this.#handle(b, decision, s);
    } finally {
      // Settled, or back at the head of its lane: the lane may send again.
      this.#queue.release(b.lane);
      this.pump();
      this.#account.roomFreed();
    }
  }

  // ---- answers -------------------------------------------------------------------------------

  async #handle(b: Batch, d: ExchangeDecision, s: TargetState): Promise<void> {
    const o = this.#o;
    const now = Date.now();
    if (d.kind === 'ack') {
      this.#ledger.wrote(b.lines);
      this.#consecutiveFailures = 0;
      this.#ledger.healthy();
      this.#account.release(b);
      this.#account.recycle(b);
      return;
    }
    if (this.#abandoning) {
      this.#expire(b, `${pts(b.lines)} not written before close()'s timeout${d.error ? `; last error: ${d.error.message}` : ''}`);
      return;
    }
    // Another piece of its split batch showed the server refuses even a single line.
    if (b.family?.refused) {
      this.#reject(b, b.family.refused);
      return;
    }
    switch (d.kind) {
      case 'retry': {
        b.lastError = d.error;
        this.#ledger.retried();
        this.#ledger.report(d.error);
        // A failed attempt is a congestion signal (a timeout, 429, 503, a server going down):
        // that server's limit halves. Harmless when it was not: the limit grows back.
        s.limit.onCongestion(now);
        // Several servers in the group: this one is left out for its own backoff, the batch goes to another.
        if (this.#targets.leaveOut(s, now, retryWait(d.retryAfterMs, backoffDelay(s.failures + 1, o), o.maxRetryAfterMs))) {
          this.#requeue(b, now);
          return;
        }
        const n = this.#targets.slots;
        this.#consecutiveFailures++;
        const backoff = backoffDelay(Math.ceil(this.#consecutiveFailures / n), o);
        if (d.retryAfterMs !== undefined) {
          // The server may lengthen the wait, never shorten it (Retry-After: 0 made a hot loop).
          this.#pause(now + retryWait(d.retryAfterMs, backoff, o.maxRetryAfterMs), `Retry-After from ${s.target.describe}`);
        } else {
          if (d.failover && n > 1) this.#targets.rotate();
          // Every target failed once in this round: back off before the next round.
          if (n === 1 || this.#consecutiveFailures % n === 0) this.#pause(now + backoff, `backoff after ${d.error.message}`);
        }
        this.#requeue(b, now);
        return;
      }
      case 'split': {
        this.#ledger.split();
        if (b.lines <= 1) {
          this.#tooLargeAlone(b, d.error);
          return;
        }
        // Later batches are cut below the size the server refused.
        this.#account.lowerBatchBytes(Math.max(1024, Math.floor(b.body.length / 2)));
        const [first, second] = halves(b);
        this.#account.release(b);
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
          context = await this.#server.rejectionContext();
        } finally {
          this.#analyzing.delete(b);
        }
        const v = refusal(b, d.error, context);
        this.#account.release(b);
        this.#ledger.wrote(v.written);
        // The resends are queued before any failure is recorded: recording one settles flush()
        // calls, which must still see these lines pending.
        for (const r of [...v.resend].reverse()) this.#unshift(r);
        for (const r of v.rejected) this.#ledger.fail('rejected', b.firstSeq, r.count, r.lines, r.error);
        return;
      }
      case 'rejectAll':
        this.#reject(b, d.error);
        return;
      case 'pause': {
        b.lastError = d.error;
        if (d.why === 'database' && o.createDatabase && o.api === 'v1') {
          try {
            await this.#server.createDatabase();
            this.#requeue(b, now);
            return;
          } catch (e) {
            b.lastError = e as Error;
            this.#ledger.surface(e as Error);
          }
        } else {
          this.#ledger.surface(d.error);
        }
        // Probe slowly: a configuration error does not heal by hammering the server.
        this.#pause(now + o.retryMaxDelayMs, kPauseReason[d.why]);
        this.#requeue(b, now);
        return;
      }
      case 'fatal': {
        b.lastError = d.error;
        this.#ledger.surface(d.error);
        this.#pause(now + o.retryMaxDelayMs, d.error.message);
        this.#requeue(b, now);
        return;
      }
    }
  }

  /** 413 for one line: rejected, with the rest of its batch when the line is an ordinary one. */
  #tooLargeAlone(b: Batch, cause: InfluxDBWriteError): void {
    const { error, ordinary, rest } = refusedAlone(b, cause, [...this.#queue]);
    if (ordinary) b.family!.refused = error;
    const gone = new Set(rest);
    this.#queue.remove((q) => gone.has(q));
    // Settled once, after all: a flush() waiting for these points reports them together.
    this.#reject(b, error, false);
    for (const q of rest) this.#reject(q, error, false);
    this.#ledger.settle();
  }

  /** Every line of `b` rejected (`settle: false` as for Ledger.fail). */
  #reject(b: Batch, error: Error, settle = true): void {
    this.#account.release(b);
    this.#ledger.fail('rejected', b.firstSeq, b.lines, linesOf(b.body), error, settle);
  }

  /** A batch (back) at the head of the queue, unless its time is up. */
  #requeue(b: Batch, now: number): void {
    if (b.acceptedAt + this.#o.deliveryTimeoutMs <= now) {
      this.#expire(b);
      return;
    }
    this.#queue.unshift(b);
  }

  /** A new piece of a batch at the head of the queue, charged to the buffer. */
  #unshift(b: Batch): void {
    this.#account.charge(b.mem);
    this.#queue.unshift(b);
  }

  #pause(until: number, reason: string): void {
    if (until > this.#pausedUntil) {
      this.#pausedUntil = until;
      this.#pauseReason = reason;
    }
  }

  // ---- expiry --------------------------------------------------------------------------------

  #expireDue(now: number): void {
    const limit = this.#o.deliveryTimeoutMs;
    for (const b of this.#queue.takeDue((q) => q.acceptedAt + limit <= now)) this.#expire(b);
  }

  #expire(b: Batch, why?: string): void {
    this.#account.release(b);
    const cause = b.lastError;
    // Expired means not confirmed: when the last attempt reached the server (a timeout, a reset
    // after sending), it may have stored the points; resending them later stores the same points.
    const maybeStored = cause instanceof InfluxDBConnectionError && cause.requestSent;
    const msg = why ?? `${pts(b.lines)} not confirmed written within deliveryTimeoutMs (${this.#o.deliveryTimeoutMs} ms) after ${b.attempts} attempts` +
      `${maybeStored ? ' (the last request was sent, so the server may have stored them: expired means not confirmed, not "not stored")' : ''}` +
      `${cause ? `; last error: ${cause.message}` : ''}`;
    this.#ledger.fail('expired', b.firstSeq, b.lines, linesOf(b.body), new DeliveryTimeoutError(msg, cause ? { cause } : undefined));
  }

  /**
   * close()'s deadline: everything queued is given up, as expired; requests in flight are
   * aborted and what they bring back is expired too (#handle sees `abandoning`).
   */
  async abandon(): Promise<void> {
    this.#abandoning = true;
    for (const b of this.#queue.clear()) this.#expire(b, `${pts(b.lines)} not written before close()'s timeout${b.lastError ? `; last error: ${b.lastError.message}` : ''}`);
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
    for (const b of this.#queue.clear()) this.#expire(b);
  }

  /** Closes the transports the writer made (failover targets); the client's own is the client's. */
  async closeTransports(): Promise<void> {
    await Promise.all(this.#targets.all.filter((s) => s.target.owned).map((s) => s.target.transport.close()));
  }
}
