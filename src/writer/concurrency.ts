/**
 * The adaptive in-flight limit of `maxInFlight: 'auto'`: how many write requests the writer keeps
 * out at once. It owns the limit and nothing else; the flusher asks `limit` before it sends and
 * reports every answer.
 *
 * The choice (README, "How many requests in flight"): latency-based, as TCP Vegas and Netflix
 * concurrency-limits' Gradient2, with AIMD's halving on congestion signals.
 * - influxd is CPU-bound: once its cores are busy, throughput stops rising while each extra
 *   request in flight only waits longer. So the signal is the ratio of the lowest recent round
 *   trip to the current smoothed one (the gradient): near 1, the server has idle capacity and the
 *   limit grows by one; well below it, requests queue and the limit shrinks by one.
 * - A round trip is measured per byte of body: a lane flushed by the timer sends a small batch,
 *   whose short round trip must not look like an idle server (nor a full one like a slow server).
 * - Timeouts, 429, 503 and Retry-After halve the limit at once (AIMD's multiplicative decrease),
 *   at most once per round trip, so that one burst of failures counts once.
 * - The limit grows only while it is used: a writer whose input is slower than the server keeps
 *   few requests out, and that says nothing about the server.
 * - The baseline is the round trip of a request alone at the server. Requests that queue never
 *   show it again, so every 256 acks the limit drops to 1 for one round trip to measure it anew
 *   (a server slower for good, with a bigger index or a busier disk, then resets the baseline
 *   instead of shrinking the limit forever). It costs a few percent of one round trip in 256.
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

/** Above this gradient (baseline/current round trip per byte), the server has room: grow. */
const kGrowAbove = 0.8;
/** Below this, requests queue at the server: shrink. */
const kShrinkBelow = 0.5;
/** Acks between probes of the baseline. */
const kProbeEvery = 256;
/** Weight of a new sample in the smoothed round trip. */
const kSmoothing = 0.25;
/** Bodies below this many bytes are measured as this many: fixed costs dominate tiny requests. */
const kMinBytes = 16 * 1024;

export class AdaptiveLimit implements InFlightLimit {
  readonly #max: number;
  #limit: number;
  /** Smoothed ms per KiB; 0 until the first sample. */
  #smoothed = 0;
  /** The round trip of a request that had the server to itself, ms per KiB. */
  #baseline = Infinity;
  #acks = 0;
  /** While probing: the limit to go back to (the probe runs at 1). */
  #probeRestore = 0;
  /** Acks since the limit last changed: a change is judged after a round of requests at the new limit. */
  #sinceChange = 0;
  /** No second halving before this time (one per round trip). */
  #calmUntil = 0;
  #lastRttMs = 0;

  constructor(o: AdaptiveLimitOptions) {
    this.#max = Math.max(1, Math.floor(o.max));
    this.#limit = Math.min(this.#max, Math.max(1, Math.floor(o.initial ?? 2)));
  }

  get limit(): number {
    return this.#limit;
  }

  /** The baseline and the smoothed round trip, ms per KiB (for stats and tests). */
  get rtt(): { baselineMsPerKiB: number; smoothedMsPerKiB: number } {
    return { baselineMsPerKiB: this.#baseline, smoothedMsPerKiB: this.#smoothed };
  }

  onAck(rttMs: number, bytes: number, inFlightAtSend: number): void {
    const perKiB = rttMs / (Math.max(kMinBytes, bytes) / 1024);
    if (!(perKiB > 0) || !Number.isFinite(perKiB)) return;
    this.#lastRttMs = rttMs;
    if (this.#probeRestore > 0) {
      // Probing: the requests sent before the probe drain; the first one sent alone is the new
      // baseline, which may be higher than the old one (a server slower for good).
      if (inFlightAtSend > 1) return;
      this.#baseline = perKiB;
      this.#smoothed = perKiB;
      this.#set(this.#probeRestore);
      this.#probeRestore = 0;
      return;
    }
    this.#smoothed = this.#smoothed === 0 ? perKiB : this.#smoothed + kSmoothing * (perKiB - this.#smoothed);
    if (perKiB < this.#baseline) this.#baseline = perKiB;
    // Once a request queues behind another, its round trip never again shows the idle server
    // (TCP Vegas' blind spot): every so often, one round trip at a limit of 1 measures it again.
    if (++this.#acks % kProbeEvery === 0 && this.#limit > 1) {
      this.#probeRestore = this.#limit;
      this.#set(1);
      return;
    }
    // Judged after a round of acks at the current limit, not on each one.
    if (++this.#sinceChange < this.#limit) return;
    const gradient = this.#baseline / this.#smoothed;
    if (gradient < kShrinkBelow && this.#limit > 1) {
      this.#set(this.#limit - 1);
    } else if (gradient > kGrowAbove && this.#limit < this.#max && inFlightAtSend >= this.#limit) {
      // Used: the request went out with the limit reached; else the input is the bottleneck.
      this.#set(this.#limit + 1);
    }
  }

  onCongestion(nowMs: number): void {
    if (nowMs < this.#calmUntil) return;
    // The requests already out were sent at the old limit: their failures are the same signal.
    this.#calmUntil = nowMs + Math.max(100, this.#lastRttMs);
    if (this.#probeRestore > 0) this.#probeRestore = Math.max(1, Math.floor(this.#probeRestore / 2));
    else this.#set(Math.max(1, Math.floor(this.#limit / 2)));
  }

  #set(limit: number): void {
    this.#limit = limit;
    this.#sinceChange = 0;
  }
}
