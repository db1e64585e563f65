import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, FixedLimit, type InFlightLimit } from '../../../src/writer/concurrency.js';

/**
 * A simulated server with `cores` workers, each serving a body at `msPerKiB`, first come first
 * served: requests beyond the cores wait. The sender always has a batch ready (a bulk load) and
 * keeps `limit.limit` requests out. Returns the throughput (KiB/ms) and the limits seen.
 */
function simulate(limit: InFlightLimit, o: { cores: number; msPerKiB: (t: number) => number; kib: number | ((i: number) => number); requests: number; fail?: (t: number) => boolean }) {
  let now = 0;
  const workers = new Array<number>(o.cores).fill(0); // when each worker is free
  const out: { sentAt: number; doneAt: number; kib: number; inFlightAtSend: number; failed: boolean }[] = [];
  const limits: number[] = [];
  let done = 0;
  let kib = 0;
  let sent = 0;
  const size = (i: number): number => (typeof o.kib === 'number' ? o.kib : o.kib(i));
  while (done < o.requests) {
    while (out.length < limit.limit) {
      const w = workers.indexOf(Math.min(...workers));
      const start = Math.max(now, workers[w]!);
      const k = size(sent++);
      const doneAt = start + k * o.msPerKiB(start) + 0.2;
      workers[w] = doneAt;
      out.push({ sentAt: now, doneAt, kib: k, inFlightAtSend: out.length + 1, failed: o.fail?.(now) ?? false });
    }
    out.sort((a, b) => a.doneAt - b.doneAt);
    const r = out.shift()!;
    now = r.doneAt;
    if (r.failed) limit.onCongestion(now);
    else {
      limit.onAck(r.doneAt - r.sentAt, r.kib * 1024, r.inFlightAtSend);
      kib += r.kib;
    }
    done++;
    limits.push(limit.limit);
  }
  return { kibPerMs: kib / now, limits };
}

describe('adaptive in-flight limit', () => {
  it('rises on a server with idle cores, to the concurrency that saturates it, and not far beyond', () => {
    for (const cores of [1, 2, 4]) {
      const l = new AdaptiveLimit({ max: 16 });
      const r = simulate(l, { cores, msPerKiB: () => 0.03, kib: 700, requests: 600 });
      // After the climb, the limit stays between the cores and twice as many (but for the short
      // probes at 1 that measure the idle round trip again).
      const settled = r.limits.slice(300);
      const within = settled.filter((n) => n >= cores && n <= 2 * cores).length;
      expect(within / settled.length, `cores ${cores}: ${settled.join(',')}`).toBeGreaterThan(0.9);
      // The server's capacity: cores KiB per (0.03 ms/KiB + the fixed 0.2 ms).
      const capacity = cores * 700 / (700 * 0.03 + 0.2);
      expect(r.kibPerMs / capacity, `cores ${cores}`).toBeGreaterThan(0.9);
    }
  });

  it('never exceeds its maximum (the number of lanes)', () => {
    const l = new AdaptiveLimit({ max: 3 });
    const r = simulate(l, { cores: 8, msPerKiB: () => 0.03, kib: 700, requests: 300 });
    expect(Math.max(...r.limits)).toBe(3);
    expect(r.limits.at(-1)).toBe(3);
  });

  it('falls when the server slows down under the same load, and halves on congestion signals', () => {
    const l = new AdaptiveLimit({ max: 16 });
    simulate(l, { cores: 4, msPerKiB: () => 0.03, kib: 700, requests: 400 });
    const before = l.limit;
    expect(before).toBeGreaterThanOrEqual(4);
    // The server now has one core for us (another tenant took the rest): round trips rise.
    const slow = simulate(l, { cores: 1, msPerKiB: () => 0.03, kib: 700, requests: 200 });
    expect(Math.min(...slow.limits)).toBeLessThan(before);
    expect(slow.limits.at(-1)).toBeLessThanOrEqual(2);
    // 503s: halved at once, once per round trip however many fail together.
    const l2 = new AdaptiveLimit({ max: 16, initial: 8 });
    // The first three requests go alone (the baseline), then the limit is the initial one.
    expect(l2.limit).toBe(1);
    for (let i = 0; i < 3; i++) l2.onAck(20, 700 * 1024, 1);
    expect(l2.limit).toBe(8);
    l2.onCongestion(1000);
    expect(l2.limit).toBe(4);
    l2.onCongestion(1001);
    expect(l2.limit).toBe(4);
    l2.onCongestion(2000);
    expect(l2.limit).toBe(2);
    l2.onCongestion(3000);
    l2.onCongestion(4000);
    expect(l2.limit).toBe(1);
  });

  it('does not grow while the input, not the server, is the bottleneck', () => {
    const l = new AdaptiveLimit({ max: 16 });
    // One request at a time is all the input gives: acks come with one in flight.
    for (let i = 0; i < 500; i++) l.onAck(20, 700 * 1024, 1);
    expect(l.limit).toBe(2);
  });

  it('measures per byte: small timer-flushed batches neither look like an idle server nor a full one', () => {
    const l = new AdaptiveLimit({ max: 16 });
    // Every other batch is a tenth of the size: per request, its round trip is far shorter.
    const r = simulate(l, { cores: 4, msPerKiB: () => 0.03, kib: (i) => (i % 2 === 0 ? 700 : 70), requests: 600 });
    const settled = r.limits.slice(300);
    expect(settled.filter((n) => n >= 4 && n <= 8).length / settled.length, settled.join(',')).toBeGreaterThan(0.9);
  });

  it('a fixed limit stays what it was given', () => {
    const l = new FixedLimit(3);
    l.onAck();
    l.onCongestion();
    expect(l.limit).toBe(3);
  });
});
