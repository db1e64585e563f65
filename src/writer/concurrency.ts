/**
 * The adaptive in-flight limit of `maxInFlight: 'auto'`: how many write requests the writer keeps
 * out at once. It owns the limit and nothing else; the flusher asks `limit` before it sends and
 * reports every answer.
 *
 * The choice (README, "How many requests in flight"): latency-based, as TCP Vegas and Netflix
 * concurrency-limits' Gradient2, with AIMD's halving on congestion signals.
 * - influxd is CPU-bound: once its cores are busy, throughput stops rising while each extra
 *   request in flight only waits longer. So the signal is the ratio of the round trip of a request
 *   alone (the baseline) to the mean round trip of a window of acks at the current limit (the
 *   gradient): above 0.8, the server has idle capacity and the limit grows by one; below 0.5,
 *   requests queue and the limit shrinks by one; between, it holds.
 * - A round trip is measured per byte of body: a lane flushed by the timer sends a small batch,
 *   whose short round trip must not look like an idle server (nor a full one like a slow server).
 * - Timeouts, 429, 503 and Retry-After halve the limit at once (AIMD's multiplicative decrease),
 *   at most once per round trip, so that one burst of failures counts once.
 * - The limit grows only while it is used: a writer whose input is slower than the server keeps
 *   few requests out, and that says nothing about the server.
 * - The baseline is the mean round trip of requests alone at the server: the first three requests
 *   go one at a time, and every 256 acks three more do (requests that queue never show it again).
 *   A server slower for good (a bigger index, a busier disk) so resets the baseline instead of
 *   shrinking the limit forever. It costs a few round trips at 1 in 256. A window whose mean is
 *   below the baseline lowers it (cold first requests: connections, JIT, the server warming up).
 * With a fixed `maxInFlight: N` the writer uses a `FixedLimit` and none of this runs.
 */

export interface InFlightLimit {
  /** Requests that may be in flight now. */
  readonly limit: number;
  /** An acknowledged request: its round trip, its body's bytes, and how many were in flight when it was sent. */
  onAck(rttMs: number, bytes: number, inFlightAtSend: number): void;
  /** A congestion signal: a timeout, 429, 503, or a Retry-After. */
  onCongestion(nowMs: number): void;
}

export class FixedLimit implements InFlightLimit {
  constructor(readonly limit: number) {}
  onAck(): void {}
  onCongestion(): void {}
}

export interface AdaptiveLimitOptions {
  /** The most requests in flight (the number of lanes). */
  max: number;
  /** Where it starts (default 2, or max when lower). */
  initial?: number;
}

/** Above this gradient (baseline / mean round trip per byte at the current limit), the server has room: grow. */
const kGrowAbove = 0.8;
/** Below this, requests queue at the server: shrink. */
const kShrinkBelow = 0.5;
/** Acks sent alone that a probe averages into the baseline. */
const kProbeAcks = 3;
/** Acks between probes of the baseline. */
const kProbeEvery = 256;
/** Bodies below this many bytes are measured as this many: fixed costs dominate tiny requests. */
const kMinBytes = 16 * 1024;

export class AdaptiveLimit implements InFlightLimit {
  readonly #max: number;
  #limit: number;
  /** Mean round trip of requests alone at the server, ms per KiB (a probe's average; blended across probes). */
  #baseline = 0;
  /** While probing: the limit to go back to, and the alone round trips measured so far. */
  #probeRestore = 0;
  #probeSum = 0;
  #probeN = 0;
  #acks = 0;
  /** The window at the current limit: acks to skip (sent before the change), then their sum and count. */
  #skip = 0;
  #sum = 0;
  #n = 0;
  #used = 0;
  /** No second halving before this time (one per round trip). */
  #calmUntil = 0;
  #lastRttMs = 0;

  constructor(o: AdaptiveLimitOptions) {
    this.#max = Math.max(1, Math.floor(o.max));
    // The first requests go one at a time: they measure the baseline, then the limit starts at 2.
    this.#probeRestore = Math.min(this.#max, Math.max(1, Math.floor(o.initial ?? 2)));
    this.#limit = 1;
  }

  get limit(): number {
    return this.#limit;
  }

  /** The baseline and the mean round trip at the current limit, ms per KiB (for stats and tests). */
  get rtt(): { baselineMsPerKiB: number; currentMsPerKiB: number } {
    return { baselineMsPerKiB: this.#baseline, currentMsPerKiB: this.#n > 0 ? this.#sum / this.#n : 0 };
  }

  onAck(rttMs: number, bytes: number, inFlightAtSend: number): void {
    const perKiB = rttMs / (Math.max(kMinBytes, bytes) / 1024);
    if (!(perKiB > 0) || !Number.isFinite(perKiB)) return;
    this.#lastRttMs = rttMs;
    this.#acks++;
    if (this.#probeRestore > 0) {
      // Probing: requests sent before the probe drain; those sent alone measure the baseline.
      if (inFlightAtSend > 1) return;
      this.#probeSum += perKiB;
      if (++this.#probeN < kProbeAcks) return;
      const alone = this.#probeSum / this.#probeN;
      // A mean, not a minimum: a client busy encoding delays every answer it reads, alone or not,
      // and one lucky round trip would make every later one look like queueing.
      this.#baseline = this.#baseline === 0 ? alone : (this.#baseline + alone) / 2;
      this.#set(this.#probeRestore);
      this.#probeRestore = 0;
      return;
    }
    // Once requests queue behind each other, none shows the idle server again (TCP Vegas' blind
    // spot): every so often a few round trips at a limit of 1 measure it anew. This also lets a
    // server slower for good (a bigger index, a busier disk) reset the baseline.
    if (this.#acks % kProbeEvery === 0 && this.#limit > 1) {
      this.#probe(this.#limit);
      return;
    }
    // The first acks after a change were sent at the old limit.
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#sum += perKiB;
    this.#n++;
    if (inFlightAtSend >= this.#limit) this.#used++;
    // Judged on a window of acks at the current limit (at least 4), not on each one.
    if (this.#n < Math.max(4, this.#limit)) return;
    const mean = this.#sum / this.#n;
    // A window faster than the baseline proves the baseline too high (the first requests pay for
    // connections, JIT and the server's own warm-up): it comes down to what was seen.
    if (mean < this.#baseline) this.#baseline = mean;
    const gradient = this.#baseline / mean;
    if (gradient < kShrinkBelow && this.#limit > 1) {
      this.#set(this.#limit - 1);
    } else if (gradient > kGrowAbove && this.#limit < this.#max && 2 * this.#used >= this.#n) {
      // Used: most requests went out with the limit reached; else the input is the bottleneck.
      this.#set(this.#limit + 1);
    } else {
      this.#set(this.#limit);
    }
  }

  onCongestion(nowMs: number): void {
    if (nowMs < this.#calmUntil) return;
    // The requests already out were sent at the old limit: their failures are the same signal.
    this.#calmUntil = nowMs + Math.max(100, this.#lastRttMs);
    if (this.#probeRestore > 0) this.#probeRestore = Math.max(1, Math.floor(this.#probeRestore / 2));
    else this.#set(Math.max(1, Math.floor(this.#limit / 2)));
  }

  #probe(restore: number): void {
    this.#probeRestore = restore;
    this.#probeSum = 0;
    this.#probeN = 0;
    this.#limit = 1;
  }

  /** A new window at `limit` (the same one: a fresh look at it). */
  #set(limit: number): void {
    this.#skip = limit === this.#limit ? 0 : Math.max(this.#limit, limit) - 1;
    this.#limit = limit;
    this.#sum = 0;
    this.#n = 0;
    this.#used = 0;
  }
}
