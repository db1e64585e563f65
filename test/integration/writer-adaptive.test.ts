/**
 * The adaptive in-flight limit of `maxInFlight: 'auto'` against the real influxd:
 *   - on a fast server (influxd itself, a bulk load of 200k points over 64 series) the limit
 *     sampled as the load goes is at 2 or more at some point once the writer has measured the
 *     server, never above the 8 lanes of one server;
 *   - when the fault proxy holds each answer 150 ms or 4x the mean round trip so far (an injected delay, not a test sleep), the
 *     limit falls below what it was before the delay began;
 *   - after a stretch of 503s the limit is lower than before the stretch;
 *   - nothing is lost: every point is in the database at the end, the counters add up.
 * The limit is read where it acts: after each write() resolves (writes wait for room in a small
 * buffer, so they follow the load), and in the proxy's handler as each request arrives.
 */
import { describe, expect, it } from 'vitest';
import type { BatchWriter } from '../../src/index.js';
import type { FaultAction, ProxyRequestRecord } from '../helpers/fault-proxy.js';
import { addsUp, proxiedWrites } from '../helpers/proxied-writes.js';
import { concurrencyStats } from '../helpers/restartable-server.js';

const { url, proxy, clientFor, newDb: makeDb, count } = proxiedWrites();

/**
 * A new database whose shard already exists (a point of another measurement in the same week,
 * written straight to influxd): the first batch would otherwise pay for creating it, and that one
 * slow round trip would skew the writer's first measurements.
 */
async function newDb(prefix: string): Promise<string> {
  const db = await makeDb(prefix);
  const res = await fetch(`${url}/write?${new URLSearchParams({ db })}`, { method: 'POST', body: 'warm v=1i 1' });
  expect(res.status).toBe(204);
  return db;
}

const kSeries = 64;
/** `n` lines from `from`: 64 series (so that all 8 lanes have work), time = index + 1. */
const bulk = (n: number, from: number): string =>
  Array.from({ length: n }, (_, j) => `m,k=s${(from + j) % kSeries} v=${from + j}i ${from + j + 1}`).join('\n');

async function writeAll(w: BatchWriter, total: number, perCall: number, after?: () => void): Promise<void> {
  for (let i = 0; i < total; i += perCall) {
    await w.write(bulk(Math.min(perCall, total - i), i));
    after?.();
  }
}

/** Requests the proxy relayed and influxd acknowledged. */
const acked = (requests: readonly ProxyRequestRecord[]): number => requests.filter((r) => r.upstreamStatus === 204 && r.fault !== undefined && 'pass' in r.fault && !r.fault.then && r.finishedAt !== undefined).length;

describe("maxInFlight 'auto'", () => {
  it('rises to 2 or more on a fast server (a bulk load into influxd), within the 8 lanes', async () => {
    const n = 200_000;
    const db = await newDb('adapt_up');
    const w = clientFor(url, db).writer({ maxInFlight: 'auto', batchSize: 1000, maxBufferBytes: 512 * 1024 });
    const samples: Array<{ limit: number; requests: number }> = [];
    await writeAll(w, n, 2000, () => {
      const s = concurrencyStats(w);
      samples.push({ limit: s.limit, requests: s.requests });
    });
    await w.close();
    const s = concurrencyStats(w);
    expect(s).toMatchObject({ accepted: n, written: n, pending: 0, rejected: 0, expired: 0, dropped: 0 });
    addsUp(s);
    expect(await count(db)).toBe(n);
    expect(s.lanes).toBe(8);
    // Once the writer has measured the server (10 round trips), not the limit it starts with.
    const measured = samples.filter((x) => x.requests >= 10).map((x) => x.limit);
    expect(measured.length).toBeGreaterThan(10);
    expect(Math.max(...measured)).toBeGreaterThanOrEqual(2);
    for (const l of measured) {
      expect(l).toBeGreaterThanOrEqual(1);
      expect(l).toBeLessThanOrEqual(8);
    }
  });

  /**
   * Phase 1 passes answers at once until the writer has 10 acknowledged requests and a limit of
   * 2 or more; phase 2 applies `fault` to each request until the limit read at a request's
   * arrival is below the one phase 2 began with (or `maxFaulted` requests); then answers pass again.
   */
  async function phases(prefix: string, faultFor: FaultAction | ((meanLatencyMs: number) => FaultAction), maxFaulted: number) {
    const n = 100_000;
    const db = await newDb(prefix);
    const p = await proxy();
    const w = clientFor(p.url, db).writer({ maxInFlight: 'auto', batchSize: 500, retryInitialDelayMs: 20, retryMaxDelayMs: 200 });
    let before: number | undefined;
    let faulted = 0;
    let lowest = Infinity;
    let over = false;
    let fault: FaultAction | undefined;
    p.setHandler((req) => {
      if (!req.path.startsWith('/write') || over) return undefined;
      const limit = concurrencyStats(w).limit;
      if (before === undefined) {
        if (!(limit >= 2) || acked(p.requests) < 10) return undefined;
        before = limit;
        fault = typeof faultFor === 'function' ? faultFor(w.stats().latencyMs.mean) : faultFor;
      } else {
        lowest = Math.min(lowest, limit);
        if (limit < before || faulted >= maxFaulted) {
          over = true;
          return undefined;
        }
      }
      faulted++;
      return fault;
    });
    await writeAll(w, n, 5000);
    await w.close();
    const s = w.stats();
    expect(s).toMatchObject({ accepted: n, written: n, pending: 0, rejected: 0, expired: 0, dropped: 0 });
    addsUp(s);
    expect(await count(db)).toBe(n);
    return { before, lowest, faulted };
  }

  it('falls when the proxy holds each answer (150 ms, or 4x the round trips so far); nothing lost', async () => {
    // 150 ms, or four times the round trips so far when the machine is so busy that those are
    // long already: the injected delay must dwarf what the writer measured as its baseline.
    const { before, lowest, faulted } = await phases('adapt_slow', (mean) => ({ pass: true, delayMs: Math.max(150, Math.ceil(4 * mean)) }), 40);
    expect(before).toBeGreaterThanOrEqual(2);
    expect(faulted).toBeGreaterThan(0);
    expect(lowest).toBeLessThan(before!);
  });

  it('is lower after a stretch of 503s than before it; nothing lost', async () => {
    const { before, lowest, faulted } = await phases('adapt_503', { status: 503, body: 'request throttled, queue full' }, 12);
    expect(before).toBeGreaterThanOrEqual(2);
    expect(faulted).toBeGreaterThan(0);
    expect(lowest).toBeLessThan(before!);
  });
});
