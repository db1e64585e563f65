/**
 * The batch writer's 400 analysis with what the writer knows (precision, the retention policy's
 * durations, read from the server), checked against what the real influxd stores: the lines it
 * calls written are the ones stored, and the ones handed back are not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxDBClient, type WriterOptions } from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const clients: InfluxDBClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function newDb(prefix: string, extra = ''): Promise<string> {
  const db = uniqueDb(prefix);
  const r = await rawQuery(url, `CREATE DATABASE "${db}"${extra}`);
  expect(r.results?.[0]?.error).toBeUndefined();
  return db;
}

async function post(db: string, body: string, precision = 'n'): Promise<void> {
  const res = await fetch(`${url}/write?db=${db}&precision=${precision}`, { method: 'POST', body });
  expect(res.status, await res.text()).toBe(204);
}

/** The `id` tags stored in measurement m (setup points have id S). */
async function storedIds(db: string): Promise<string[]> {
  const r = await rawQuery(url, 'SELECT * FROM m GROUP BY id', { db });
  return (r.results?.[0]?.series ?? []).map((s) => s.tags?.id as string).filter((id) => id !== 'S').sort();
}

async function writeAll(db: string, lines: string[], options: WriterOptions): Promise<{ stats: ReturnType<import('../../src/index.js').BatchWriter['stats']>; handedBack: string[] }> {
  const c = new InfluxDBClient({ url, db });
  clients.push(c);
  const handedBack: string[] = [];
  const w = c.writer({ flushIntervalMs: 5, retryInitialDelayMs: 5, ...options, onRejected: (l) => handedBack.push(...l) });
  await w.write(lines.join('\n'));
  await w.flush().catch(() => undefined);
  const stats = w.stats();
  await w.close().catch(() => undefined);
  return { stats, handedBack };
}

const idOf = (line: string): string => /,id=(\w+)/.exec(line)![1]!;

describe('the 400 analysis in the writer', () => {
  it('precision s: lines two shard groups apart are placed in their own groups', async () => {
    const db = await newDb('ctx_prec');
    const W = 7 * 86400; // s
    const T1 = 1_700_000_000;
    const T2 = T1 + 2 * W;
    await post(db, `m,id=S f=1.5 ${T1}\nm,id=S f=2i ${T2}`, 's');
    const { stats, handedBack } = await writeAll(db, [`m,id=A f=2i ${T1 + 10}`, `m,id=B f=3i ${T2 + 10}`], { precision: 's' });
    expect(handedBack.map(idOf)).toEqual(['A']);
    expect(await storedIds(db)).toEqual(['B']);
    expect(stats).toMatchObject({ written: 1, rejected: 1, pending: 0 });
  });

  it('a retention policy of 1-day shard groups: lines 2 days apart are in two groups', async () => {
    const db = await newDb('ctx_rp', ' WITH DURATION 30d SHARD DURATION 1d');
    // Two days of one 7-day group (weeks start on Mondays, 00:00 UTC), a week ago: in two shard
    // groups of this policy, in one of the default policy's.
    const D = 86_400_000_000_000n;
    const day = Math.floor(Date.now() / 86_400_000);
    const monday = BigInt(day - ((day + 3) % 7)) * D; // 1970-01-01 was a Thursday
    const T1 = monday - 7n * D + 3_600_000_000_000n;
    const T2 = T1 + 2n * D;
    await post(db, `m,id=S f=1.5 ${T1}\nm,id=S f=2i ${T2}`);
    const { stats, handedBack } = await writeAll(db, [`m,id=A f=2i ${T1 + 10n}`, `m,id=B f=3i ${T2 + 10n}`], {});
    expect(handedBack.map(idOf)).toEqual(['A']);
    expect(await storedIds(db)).toEqual(['B']);
    expect(stats).toMatchObject({ written: 1, rejected: 1, pending: 0 });
  });

  it('a point beyond retention in a batch with a type conflict is handed back, not counted written', async () => {
    const db = await newDb('ctx_ret', ' WITH DURATION 1d SHARD DURATION 1h');
    const now = BigInt(Date.now()) * 1_000_000n;
    const H = 3_600_000_000_000n;
    await post(db, `m,id=S f=1.5 ${now - H}`);
    const { stats, handedBack } = await writeAll(db, [`m,id=A f=2i ${now - H + 1n}`, `m,id=B f=3 ${now - H + 2n}`, `m,id=C f=4 ${now - 48n * H}`], {});
    expect(handedBack.map(idOf).sort()).toEqual(['A', 'C']);
    expect(await storedIds(db)).toEqual(['B']);
    expect(stats).toMatchObject({ written: 1, rejected: 2, pending: 0 });
  });

  it('a named retention policy is the one read', async () => {
    const db = await newDb('ctx_named');
    await rawQuery(url, `CREATE RETENTION POLICY "short" ON "${db}" DURATION 2d REPLICATION 1 SHARD DURATION 1h`);
    const now = BigInt(Date.now()) * 1_000_000n;
    const H = 3_600_000_000_000n;
    await post(db.concat('&rp=short'), `m,id=S f=1.5 ${now - 5n * H}\nm,id=S f=2i ${now - 2n * H}`);
    const { handedBack } = await writeAll(db, [`m,id=A f=2i ${now - 5n * H + 1n}`, `m,id=B f=3i ${now - 2n * H + 1n}`], { rp: 'short' });
    expect(handedBack.map(idOf)).toEqual(['A']);
    const r = await rawQuery(url, 'SELECT * FROM "short"."m" GROUP BY id', { db });
    expect((r.results?.[0]?.series ?? []).map((s) => s.tags?.id).filter((id) => id !== 'S')).toEqual(['B']);
  });
});
