/**
 * Which server takes the next batch. The client's own server and the `spread` servers form the
 * group written to at once: each batch goes to the one with the least work per unit of speed
 * ((requests out + 1) / acknowledged bytes per ms), so that each takes batches in proportion to
 * how fast it acknowledges them. Each has its own in-flight limit (adaptive or fixed). A server
 * that fails is left out until its backoff ends, then takes the next request (the probe), and
 * one at a time until one is acknowledged, before it gets its share again. When the whole group is down, the `failover` servers are tried in turn,
 * and the writer stays on one while it works, as before spread existed.
 */
import type { InFlightLimit } from './concurrency.js';
import type { WriteTarget } from './targets.js';

export interface TargetState {
  readonly target: WriteTarget;
  readonly limit: InFlightLimit;
  inFlight: number;
  /** Acknowledged body bytes per ms of round trip, smoothed; 0 until the first ack. */
  speed: number;
  /** Lines acknowledged by it. */
  written: number;
  /** Left out until then (ms since the epoch); 0 when up. */
  downUntil: number;
  /** Failures since its last ack: above 0, it takes one request at a time (a probe). */
  failures: number;
}

/** Weight of a new ack in a server's speed. */
const kSpeedSmoothing = 0.2;

export class TargetSet {
  readonly group: TargetState[];
  readonly standby: TargetState[];
  /** 0: the group; i > 0: standby[i - 1] (failover), kept while it works. */
  #slot = 0;

  constructor(group: WriteTarget[], standby: WriteTarget[], makeLimit: () => InFlightLimit) {
    const state = (target: WriteTarget): TargetState => ({ target, limit: makeLimit(), inFlight: 0, speed: 0, written: 0, downUntil: 0, failures: 0 });
    this.group = group.map(state);
    this.standby = standby.map(state);
  }

  /** Slots the failover rotation goes through: the group, then each failover server. */
  get slots(): number {
    return 1 + this.standby.length;
  }

  /** The server written to, for messages and stats (the first of the group that is up, or the failover in use). */
  get current(): TargetState {
    if (this.#slot > 0) return this.standby[this.#slot - 1]!;
    return this.group.find((s) => s.downUntil === 0) ?? this.group[0]!;
  }

  /** Every server, the group first. */
  get all(): TargetState[] {
    return [...this.group, ...this.standby];
  }

  /** The sum of the limits of the servers in use. */
  get limit(): number {
    if (this.#slot > 0) return this.standby[this.#slot - 1]!.limit.limit;
    let n = 0;
    for (const s of this.group) n += s.limit.limit;
    return n;
  }

  /** The server for the next batch, or undefined when none can take one now. */
  pick(now: number): TargetState | undefined {
    if (this.#slot > 0) {
      const s = this.standby[this.#slot - 1]!;
      return s.inFlight < s.limit.limit ? s : undefined;
    }
    const group = this.group;
    if (group.length === 1) {
      const s = group[0]!;
      return s.inFlight < s.limit.limit && s.downUntil <= now ? s : undefined;
    }
    let fastest = 0;
    for (const s of group) {
      // A server whose backoff ended takes the next batch as its probe, whatever its speed: by
      // cost alone a faster peer with room would take every batch of a light load, and a server
      // that came back would never be tried, nor taken back.
      if (s.failures > 0 && s.inFlight === 0 && s.downUntil <= now) return s;
      if (s.speed > fastest) fastest = s.speed;
    }
    let best: TargetState | undefined;
    let bestCost = Infinity;
    for (const s of group) {
      if (s.downUntil > now) continue;
      if (s.inFlight >= (s.failures > 0 ? 1 : s.limit.limit)) continue;
      // A server not measured yet counts as the fastest: it gets batches, and so a speed.
      const cost = (s.inFlight + 1) / (s.speed > 0 ? s.speed : fastest > 0 ? fastest : 1);
      if (cost < bestCost) {
        bestCost = cost;
        best = s;
      }
    }
    return best;
  }

  /** When a server left out comes back (Infinity when none is out). */
  nextUpAt(now: number): number {
    let at = Infinity;
    if (this.#slot === 0) for (const s of this.group) if (s.downUntil > now && s.downUntil < at) at = s.downUntil;
    return at;
  }

  sent(s: TargetState): void {
    s.inFlight++;
  }

  answered(s: TargetState): void {
    s.inFlight--;
  }

  acked(s: TargetState, rttMs: number, bytes: number, lines: number, inFlightAtSend: number): void {
    s.written += lines;
    s.failures = 0;
    s.downUntil = 0;
    const speed = bytes / Math.max(0.1, rttMs);
    s.speed = s.speed === 0 ? speed : s.speed + kSpeedSmoothing * (speed - s.speed);
    s.limit.onAck(rttMs, bytes, inFlightAtSend);
  }

  /**
   * A failed request of `s`, to be retried. In a group of several, the server is left out for
   * `waitMs` and true is returned while another one is up (the batch goes there; nothing else
   * changes). False: the writer's own rotation and pause apply, as with one server.
   */
  leaveOut(s: TargetState, now: number, waitMs: number): boolean {
    s.failures++;
    if (this.#slot !== 0 || this.group.length === 1 || !this.group.includes(s)) return false;
    s.downUntil = now + waitMs;
    return this.group.some((g) => g.downUntil <= now);
  }

  /** Failover: the next slot (the group, then each failover server in turn). */
  rotate(): void {
    this.#slot = (this.#slot + 1) % this.slots;
  }
}
