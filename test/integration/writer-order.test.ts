/**
 * Last-write-wins with several requests in flight, as a property against the real influxd behind
 * the fault proxy. Each of 20 series gets 10 timestamps, each written 5 times with increasing
 * values, in separate write() calls interleaved at random; small batches keep many requests out
 * while a random fault schedule (5xx, resets, answers lost or timed out after the server stored
 * the batch, 429 with Retry-After 0 or 1 s) makes the writer retry. Lanes keep one request out per
 * series, so a point is never stored before an earlier write of its series that is still in
 * flight or being retried:
 *   - the server's final value of every (series, time) is the last one written;
 *   - count(*) is 200 (a resend overwrote, it did not add);
 *   - the counters add up, with nothing pending, nothing refused, expired or dropped.
 * maxInFlight 1 is the control (in order by construction); 4 and 'auto' need the lanes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfluxDBClient } from '../../src/index.js';
import type { FaultAction } from '../helpers/fault-proxy.js';
import { behindFaultProxy } from '../helpers/file-fault-proxy.js';
import { rawQuery, uniqueDb } from '../helpers/server.js';
import { prng } from '../helpers/generators.js';

const shared = behindFaultProxy();
const url = shared.serverUrl;

const kSeries = 20;
const kTimes = 10;
const kUpdates = 5;
/** A request the proxy lets hang is given up after this long (a timeout after the server stored it). */
const kRequestTimeoutMs = 400;

const fault: fc.Arbitrary<FaultAction> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<FaultAction>({ pass: true }) },
  // Stored, but the answer is lost: an error, a reset, a timeout.
  { weight: 2, arbitrary: fc.constant<FaultAction>({ pass: true, then: { status: 500, body: '{"error":"timeout"}' } }) },
  { weight: 2, arbitrary: fc.constant<FaultAction>({ pass: true, then: { reset: true } }) },
  { weight: 1, arbitrary: fc.constant<FaultAction>({ pass: true, then: { hang: true } }) },
  // Not stored.
  { weight: 2, arbitrary: fc.constant<FaultAction>({ status: 500, body: '{"error":"engine: cache maximum memory size exceeded"}' }) },
  { weight: 2, arbitrary: fc.constant<FaultAction>({ status: 503, body: 'request throttled, queue full' }) },
  { weight: 2, arbitrary: fc.nat({ max: 600 }).map((afterBytes): FaultAction => ({ reset: true, afterBytes })) },
  { weight: 2, arbitrary: fc.constant<FaultAction>({ status: 429, headers: { 'retry-after': '0' }, body: 'slow down' }) },
  { weight: 1, arbitrary: fc.constant<FaultAction>({ status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }) },
);


interface Plan {
  /** The write() calls, each a body of lines; a call never holds two updates of one point. */
  calls: string[];
  /** `series|time` → the last value written. */
  last: Map<string, number>;
}

/** Every (series, time) updated kUpdates times with increasing values, interleaved at random, cut into calls. */
function plan(seed: number, maxCall: number): Plan {
  const rnd = prng(seed);
  const left: number[] = Array.from({ length: kSeries * kTimes }, () => kUpdates);
  const open: number[] = left.map((_, i) => i);
  const last = new Map<string, number>();
  const calls: string[] = [];
  let call: string[] = [];
  let inCall = new Set<number>();
  let callSize = 1 + Math.floor(rnd() * maxCall);
  let seq = 0;
  while (open.length > 0) {
    const at = Math.floor(rnd() * open.length);
    const p = open[at]!;
    if (--left[p]! === 0) open.splice(at, 1);
    if (inCall.has(p) || call.length >= callSize) {
      calls.push(call.join('\n'));
      call = [];
      inCall = new Set();
      callSize = 1 + Math.floor(rnd() * maxCall);
    }
    const series = `s${p % kSeries}`;
    const time = 1_000 + Math.floor(p / kSeries);
    seq += 1;
    call.push(`m,k=${series} v=${seq}i ${time}`);
    inCall.add(p);
    last.set(`${series}|${time}`, seq);
  }
  calls.push(call.join('\n'));
  return { calls, last };
}

async function storedValues(db: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'SELECT v FROM m GROUP BY k', db, epoch: 'ns' }) });
  const r = (await res.json()) as { results: Array<{ series?: Array<{ tags: { k: string }; values: Array<[number, number]> }> }> };
  const out = new Map<string, number>();
  for (const s of r.results[0]?.series ?? []) for (const [t, v] of s.values) out.set(`${s.tags.k}|${t}`, v);
  return out;
}

describe.each([
  { maxInFlight: 1 as const, runs: 8 },
  { maxInFlight: 4 as const, runs: 20 },
  { maxInFlight: 'auto' as const, runs: 20 },
])('last write wins under random faults, maxInFlight $maxInFlight', ({ maxInFlight, runs }) => {
  it('every (series, time) ends with its last value; count and counters add up', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fault, { maxLength: 12 }),
      fc.integer({ min: 20, max: 50 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer(),
      async (schedule, batchSize, maxCall, seed) => {
        const db = uniqueDb('order');
        await rawQuery(url, `CREATE DATABASE "${db}"`);
        shared.proxy.clear();
        shared.proxy.script(...schedule);
        const { calls, last } = plan(seed, maxCall);
        const c = new InfluxDBClient({ url: shared.proxy.url, db });
        const w = c.writer({
          batchSize, maxInFlight, flushIntervalMs: 5, retryInitialDelayMs: 5, retryMaxDelayMs: 50, requestTimeoutMs: kRequestTimeoutMs,
        });
        try {
          for (const body of calls) await w.write(body);
          await w.flush();
          await w.close({ timeoutMs: 20_000 });
        } finally {
          await c.close().catch(() => undefined);
        }
        const s = w.stats();
        const n = kSeries * kTimes * kUpdates;
        expect(s.accepted).toBe(n);
        expect(s.pending).toBe(0);
        expect(s.accepted).toBe(s.written + s.rejected + s.expired + s.dropped);
        expect(s.rejected + s.expired + s.dropped).toBe(0);

        const stored = await storedValues(db);
        expect(stored.size).toBe(kSeries * kTimes);
        const stale = [...last].filter(([key, v]) => stored.get(key) !== v).map(([key, v]) => `${key}: stored ${stored.get(key)}, last written ${v}`);
        expect(stale).toEqual([]);
        const count = await rawQuery(url, 'SELECT count(v) FROM m', { db });
        expect(count.results?.[0]?.series?.[0]?.values?.[0]?.[1]).toBe(kSeries * kTimes);
        await rawQuery(url, `DROP DATABASE "${db}"`);
      },
    ), { numRuns: runs });
  }, 90_000);
});
