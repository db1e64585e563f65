/**
 * `spread`: one writer over two real servers of its own (each its own process, temp dir and free
 * port), one of which is stopped in the middle of the load and started again on the same port and
 * data directory:
 *   - each server takes a fair share: each holds at least 25% of the points (influxd, the bottleneck),
 *     the one stopped a fifth (it is down for a stretch, and may be the slower of the two on a busy machine);
 *     VictoriaMetrics answers faster than the client makes batches, so there shares follow speed: 10%;
 *   - together they hold every point (the union of (series, time) covers all, with the value written);
 *   - the stopped server is left out while down and taken back once it answers again: its count of
 *     acknowledged points (stats().targets) grows after the restart; while it was down, the
 *     writer reported it down;
 *   - each server holds at least the points it acknowledged (influxd survives SIGKILL with them);
 *   - the counters add up, nothing pending, and the servers' acknowledged points add up to `written`.
 * influxd: a million points, killed with SIGKILL once it acknowledged a quarter of them (or 60% were
 * written, should it be the slower of the two).
 * VictoriaMetrics (api 'v2'): 100k points, stopped with SIGTERM: VictoriaMetrics keeps the samples
 * of its last second or two in memory before it writes them out, so a SIGKILL loses samples it
 * acknowledged (its documented behaviour on a hard stop, not the writer's doing); SIGTERM flushes them.
 * write() waits for room in a small buffer, so the writes follow the load and the kill lands mid-load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxDBClient, type BatchWriter } from '../../src/index.js';
import { addsUp } from '../helpers/proxied-writes.js';
import {
  concurrencyStats, eachInfluxPoint, eachVictoriaSample, influxCount, startRestartableInfluxd, startRestartableVictoria,
  type RestartableServer, type TargetStats,
} from '../helpers/restartable-server.js';

const servers: RestartableServer[] = [];
const clients: InfluxDBClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const kSeries = 20;
const t0 = 1_700_000_000_000; // ms
/** Point i: series s(i % 20), time t0 + i ms, v = i. */
const chunk = (from: number, n: number): string =>
  Array.from({ length: n }, (_, j) => `m,k=s${(from + j) % kSeries} v=${from + j}i ${t0 + from + j}`).join('\n');

const targetOf = (w: BatchWriter, server: RestartableServer): TargetStats | undefined =>
  concurrencyStats(w).targets?.find((t) => new URL(t.url).port === String(server.port));

interface Load {
  n: number;
  perWrite: number;
  /**
   * Stop the second server once it acknowledged this many points, or once 60% of the points were
   * written, whichever comes first: a server slower than its peer may reach `stopAt` late, and the
   * writer must still have points left to meet it down.
   */
  stopAt: number;
  signal: 'SIGKILL' | 'SIGTERM';
  /** The last this-many points are written only once the stopped server is back. */
  tail: number;
}

/**
 * Writes `load.n` points through `w` (spread over `a` and `b`), stops `b` once it acknowledged
 * `load.stopAt` of them (or 60% of the points are written), starts it again (in the background) once
 * the writer reports it down, and holds the last `load.tail` points until it is back. The restart
 * waits for the writer's report, never for a position: a restart before the writer met the server
 * down would leave nothing to observe. Returns what the writer reported about `b`.
 */
async function runLoad(w: BatchWriter, b: RestartableServer, load: Load) {
  let stoppedAt: number | undefined;
  let restart: Promise<void> | undefined;
  let sawDown = false;
  for (let i = 0; i < load.n; i += load.perWrite) {
    if (stoppedAt !== undefined && !restart && targetOf(w, b)?.down) {
      // The writer has seen it fail and left it out: it comes back (in the background).
      sawDown = true;
      restart = b.restart();
    }
    if (restart && i >= load.n - load.tail) await restart;
    await w.write(chunk(i, Math.min(load.perWrite, load.n - i)));
    const tb = targetOf(w, b);
    if (stoppedAt === undefined && tb !== undefined && (tb.written >= load.stopAt || i + load.perWrite >= load.n * 0.6)) {
      stoppedAt = tb.written;
      await b.kill(load.signal);
    }
  }
  // Never met down (the assertion on sawDown says so); start it anyway so that close() can finish.
  restart ??= b.restart();
  await restart;
  await w.close({ timeoutMs: 60_000 });
  return { stoppedAt, sawDown };
}

function checkStats(w: BatchWriter, n: number, a: RestartableServer, b: RestartableServer): { a: TargetStats; b: TargetStats } {
  const s = concurrencyStats(w);
  expect(s).toMatchObject({ accepted: n, written: n, pending: 0, rejected: 0, expired: 0, dropped: 0 });
  addsUp(s);
  expect(s.targets).toHaveLength(2);
  const ta = targetOf(w, a)!;
  const tb = targetOf(w, b)!;
  expect(ta).toBeDefined();
  expect(tb).toBeDefined();
  // Each point was acknowledged once, by one of them.
  expect(ta.written + tb.written).toBe(n);
  return { a: ta, b: tb };
}

describe('spread over two servers, one stopped mid-load and restarted', () => {
  it('influxd pair, 1M points, one SIGKILLed: fair shares, every point on one of the two, nothing lost', async () => {
    const n = 1_000_000;
    const [a, b] = await Promise.all([startRestartableInfluxd(), startRestartableInfluxd()]);
    servers.push(a, b);
    const db = 'spread';
    for (const s of [a, b]) {
      const r = await fetch(`${s.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE ${db}` }) });
      expect(r.status).toBe(200);
    }
    const c = new InfluxDBClient({ url: a.url, db });
    clients.push(c);
    const w = c.writer({
      spread: [b.url], maxInFlight: 'auto', precision: 'ms', batchSize: 2500, maxBufferBytes: 2 * 1024 * 1024,
      retryInitialDelayMs: 20, retryMaxDelayMs: 200,
    });
    const { stoppedAt, sawDown } = await runLoad(w, b, { n, perWrite: 10_000, stopAt: n / 4, signal: 'SIGKILL', tail: 200_000 });

    const t = checkStats(w, n, a, b);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(sawDown).toBe(true);
    // Taken back after the restart.
    expect(t.b.written).toBeGreaterThan(stoppedAt!);

    // Fair shares, and each holds what it acknowledged (SIGKILL loses nothing influxd acknowledged).
    const [countA, countB] = await Promise.all([influxCount(a.url, db, 'm'), influxCount(b.url, db, 'm')]);
    expect(countA).toBeGreaterThanOrEqual(n / 4);
    expect(countB).toBeGreaterThanOrEqual(n / 5);
    expect(countA).toBeGreaterThanOrEqual(t.a.written);
    expect(countB).toBeGreaterThanOrEqual(t.b.written);

    // The union covers every point, each with the series and value written.
    const seen = new Uint8Array(n);
    const wrong: string[] = [];
    await Promise.all([a, b].map((s) =>
      eachInfluxPoint(s.url, db, 'm', (k, time, v) => {
        const i = time - t0;
        if (i < 0 || i >= n || v !== i || k !== `s${i % kSeries}`) {
          if (wrong.length < 10) wrong.push(`${s.url}: k=${k} v=${v} time=${time}`);
        } else seen[i] = 1;
      })));
    expect(wrong).toEqual([]);
    const missing: number[] = [];
    for (let i = 0; i < n; i++) if (!seen[i] && missing.push(i) >= 10) break;
    expect(missing).toEqual([]);
  }, 90_000);

  it("VictoriaMetrics pair over api 'v2', 100k points, one stopped (SIGTERM) and restarted: fair shares, nothing lost", async () => {
    const n = 100_000;
    const [a, b] = await Promise.all([startRestartableVictoria(), startRestartableVictoria()]);
    servers.push(a, b);
    const c = new InfluxDBClient({ url: a.url, db: 'spread' });
    clients.push(c);
    const w = c.writer({
      spread: [b.url], api: 'v2', maxInFlight: 'auto', precision: 'ms', batchSize: 1000, maxBufferBytes: 1024 * 1024,
      retryInitialDelayMs: 20, retryMaxDelayMs: 200,
    });
    // VictoriaMetrics takes a batch faster than the client makes one: the client is the bottleneck,
    // and the shares follow how fast each answers. B is stopped early (an eighth), so that the
    // writer meets it down well before the tail.
    const { stoppedAt, sawDown } = await runLoad(w, b, { n, perWrite: 2_000, stopAt: n / 8, signal: 'SIGTERM', tail: 20_000 });

    const t = checkStats(w, n, a, b);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(sawDown).toBe(true);
    expect(t.b.written).toBeGreaterThan(stoppedAt!);

    // Per server: its distinct (series, time) points; together: all of them, with the value written.
    const seen = new Uint8Array(n);
    const wrong: string[] = [];
    const held: number[] = [];
    for (const s of [a, b]) {
      const mine = new Uint8Array(n);
      await eachVictoriaSample(s.url, '{__name__="m_v"}', (labels, time, v) => {
        const i = time - t0;
        if (i < 0 || i >= n || v !== i || labels.k !== `s${i % kSeries}`) {
          if (wrong.length < 10) wrong.push(`${s.url}: ${JSON.stringify(labels)} v=${v} time=${time}`);
        } else seen[i] = mine[i] = 1;
      });
      held.push(mine.reduce((x, y) => x + y, 0));
    }
    expect(wrong).toEqual([]);
    expect(held[0]).toBeGreaterThanOrEqual(n / 10);
    expect(held[1]).toBeGreaterThanOrEqual(n / 10);
    expect(held[0]).toBeGreaterThanOrEqual(t.a.written);
    expect(held[1]).toBeGreaterThanOrEqual(t.b.written);
    const missing: number[] = [];
    for (let i = 0; i < n; i++) if (!seen[i] && missing.push(i) >= 10) break;
    expect(missing).toEqual([]);
  }, 60_000);
});
