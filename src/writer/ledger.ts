/**
 * The writer's books: every accepted point ends in exactly one of written, rejected, expired or
 * dropped, and `accepted = written + rejected + expired + dropped + pending` at all times
 * (reliability.md). Keeps those counters and the request tallies, the failures not yet reported,
 * the flush() calls waiting for their points to settle, and the warning at process exit.
 *
 * What is still pending it learns from the places that hold batches (the buffer, the flusher),
 * through `PendingSource`: it never looks into them.
 */
import { WriteDeliveryError } from '../errors.js';
import type { ResolvedWriterOptions } from '../options/index.js';
import { callUser, unwatchExit, watchExit, type ExitWatched } from './hooks.js';

/** A place that holds accepted points not settled yet. */
export interface PendingSource {
  /** The lowest sequence number of a point it holds; Infinity when it holds none. */
  lowestPendingSeq(): number;
}

export type Outcome = 'rejected' | 'expired' | 'dropped';

interface Failure {
  firstSeq: number;
  outcome: Outcome;
  count: number;
  lines: string[];
  error: Error;
}

export interface FlushWaiter {
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
  /** flush() takes the failures it reports; close()'s own wait leaves them for its final report. */
  takesFailures: boolean;
}

/** Most lines kept per failure for flush()/close() errors; onRejected always gets them all. */
const kMaxLinesPerFailure = 100_000;

/** `1 point`, `2 points`: counts in messages. */
export const pts = (n: number): string => `${n} point${n === 1 ? '' : 's'}`;

export class Ledger {
  readonly #o: ResolvedWriterOptions;
  readonly #sources: PendingSource[] = [];
  #accepted = 0;
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
  /** The lowest sequence number of an expired or dropped point (a lower bound), Infinity: none. */
  #lostFrom = Infinity;
  readonly #flushWaiters: FlushWaiter[] = [];
  /** A configuration error was given to the flush() calls waiting; set back by an acknowledgement. */
  #surfaced = false;
  #exitRef: WeakRef<ExitWatched> | undefined;
  /** What the exit warning reads (held here, so that it lives as long as the writer). */
  readonly #exitView: ExitWatched;

  constructor(options: ResolvedWriterOptions, waitingWrites: () => number) {
    this.#o = options;
    this.#exitView = { pendingPoints: () => this.pending, waitingWrites };
  }

  /** The places whose batches count as pending. */
  track(...sources: PendingSource[]): void {
    this.#sources.push(...sources);
  }

  // ---- counters ------------------------------------------------------------------------------

  get accepted(): number {
    return this.#accepted;
  }

  get expired(): number {
    return this.#expired;
  }

  get pending(): number {
    return this.#accepted - this.#written - this.#rejected - this.#expired - this.#dropped;
  }

  accept(points: number): void {
    this.#accepted += points;
  }

  skip(rows: number): void {
    this.#skipped += rows;
  }

  wrote(points: number): void {
    this.#written += points;
  }

  /** The server acknowledged a batch: the next configuration error is surfaced to flush() again. */
  healthy(): void {
    this.#surfaced = false;
  }

  requestSent(bytes: number): void {
    this.#requests++;
    this.#bytesSent += bytes;
  }

  answered(ms: number): void {
    this.#latLast = ms;
    this.#latSum += ms;
    if (ms > this.#latMax) this.#latMax = ms;
  }

  retried(): void {
    this.#retries++;
  }

  split(): void {
    this.#splits++;
  }

  /** The counters of stats(), in its order. */
  counts() {
    return {
      accepted: this.#accepted, written: this.#written, rejected: this.#rejected, expired: this.#expired, dropped: this.#dropped,
      pending: this.pending, skipped: this.#skipped,
      requests: this.#requests, retries: this.#retries, splits: this.#splits, bytesSent: this.#bytesSent,
      latencyMs: { last: this.#latLast, mean: this.#requests ? this.#latSum / this.#requests : 0, max: this.#latMax },
    };
  }

  // ---- failures ------------------------------------------------------------------------------

  report(e: Error): void {
    callUser('onError', this.#o.onError, e);
  }

  /** A configuration error: reported at once, and to every flush() waiting (the points stay buffered). */
  surface(e: Error): void {
    this.report(e);
    if (this.#surfaced) return;
    this.#surfaced = true;
    for (const w of this.#flushWaiters.splice(0)) w.reject(e);
  }

  /** `settle: false` when more failures of the same moment follow (flush() must see them all). */
  fail(outcome: Outcome, firstSeq: number, count: number, lines: string[], error: Error, settle = true): void {
    if (outcome === 'rejected') this.#rejected += count;
    else {
      if (outcome === 'expired') this.#expired += count;
      else this.#dropped += count;
      if (firstSeq < this.#lostFrom) this.#lostFrom = firstSeq;
    }
    callUser('onRejected', this.#o.onRejected, lines, error);
    this.#failures.push({ firstSeq, outcome, count, lines: lines.length > kMaxLinesPerFailure ? lines.slice(0, kMaxLinesPerFailure) : lines, error });
    if (settle) this.settle();
  }

  /** The failures of points below `upTo` not yet reported by a flush(), as one error. */
  takeFailures(upTo: number, closeTimedOut: boolean): WriteDeliveryError | undefined {
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

  // ---- flush waiters -------------------------------------------------------------------------

  /**
   * How far the points are settled, by sequence number (a point's place in acceptance order):
   * every point below `settledBelow` is settled; below `deliveredBelow`, none of them expired or
   * was dropped either (written, or rejected by the server for good). Both are lower bounds.
   */
  progress(): { accepted: number; settledBelow: number; deliveredBelow: number } {
    const settledBelow = Math.min(this.#accepted, this.lowestPending());
    return { accepted: this.#accepted, settledBelow, deliveredBelow: Math.min(settledBelow, this.#lostFrom) };
  }

  /** Lowest sequence number not settled yet (Infinity when everything accepted is settled). */
  lowestPending(): number {
    let min = Infinity;
    for (const s of this.#sources) min = Math.min(min, s.lowestPendingSeq());
    return min;
  }

  /** A flush() (or close()) waiting for the points below `w.upTo`; settled at once if they are. */
  waitFor(w: FlushWaiter): void {
    this.#flushWaiters.push(w);
    this.settle();
  }

  /** Takes out the waiting flush() calls (not close()'s own wait), for close() to answer them. */
  takeFlushCalls(): FlushWaiter[] {
    const calls = this.#flushWaiters.filter((w) => w.takesFailures);
    this.#flushWaiters.splice(0, this.#flushWaiters.length, ...this.#flushWaiters.filter((w) => !w.takesFailures));
    return calls;
  }

  /** Resolves or rejects the flush() calls whose points are all settled. */
  settle(): void {
    if (this.#flushWaiters.length === 0) {
      this.updateExitWatch();
      return;
    }
    const low = this.lowestPending();
    for (let i = 0; i < this.#flushWaiters.length;) {
      const w = this.#flushWaiters[i]!;
      if (w.upTo <= low) {
        this.#flushWaiters.splice(i, 1);
        const err = w.takesFailures ? this.takeFailures(w.upTo, false) : undefined;
        if (err) w.reject(err);
        else w.resolve();
      } else {
        i++;
      }
    }
    this.updateExitWatch();
  }

  // ---- exit warning --------------------------------------------------------------------------

  updateExitWatch(): void {
    const holds = this.#exitView.pendingPoints() > 0 || this.#exitView.waitingWrites() > 0;
    if (holds && !this.#exitRef) this.#exitRef = watchExit(this.#exitView);
    else if (!holds && this.#exitRef) {
      unwatchExit(this.#exitRef);
      this.#exitRef = undefined;
    }
  }

  /** Points accepted into the open batch count for the exit warning too (checked only while unwatched: cheap). */
  watchIfUnwatched(): void {
    if (!this.#exitRef) this.updateExitWatch();
  }
}
