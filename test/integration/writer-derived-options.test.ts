/**
 * Writer options that fit each other, against the real influxd: one option given alone (a memory
 * bound, a delivery budget) used to be refused because a default of another did not follow it.
 * Now the writer takes it, and every point is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient, InvalidOptionError, type Point, type WriterOptions } from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const N = 100_000;
const PER_CALL = 1000;
let client: InfluxDBClient;

beforeAll(() => {
  client = new InfluxDBClient({ url });
});
afterAll(async () => {
  await client.close();
});

async function storedCount(db: string): Promise<number> {
  const r = await rawQuery(url, 'SELECT count(v) FROM m', { db });
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

function points(from: number, n: number): Point[] {
  const out: Point[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({ measurement: 'm', tags: { host: `h${i % 20}` }, fields: { v: i, s: `value-${i}` }, time: 1_700_000_000_000_000_000n + BigInt(i) * 1000n });
  }
  return out;
}

describe('client.writer() with one dependent option given', () => {
  it.each<[string, WriterOptions]>([
    ['maxBufferBytes: 4 MiB (batchBytes follows it)', { maxBufferBytes: 4 * 2 ** 20 }],
    ['deliveryTimeoutMs: 20 s (requestTimeoutMs follows it)', { deliveryTimeoutMs: 20_000 }],
  ])(`%s: writes ${N} points, all stored, stats right`, async (_name, options) => {
    const db = uniqueDb('w_derived');
    await rawQuery(url, `CREATE DATABASE "${db}"`);
    const w = client.writer({ db, ...options });
    let peakBuffered = 0;
    for (let i = 0; i < N; i += PER_CALL) {
      await w.write(points(i, PER_CALL));
      peakBuffered = Math.max(peakBuffered, w.stats().bufferedBytes);
    }
    await w.flush();
    const s = w.stats();
    expect(s).toMatchObject({ accepted: N, written: N, rejected: 0, expired: 0, dropped: 0, pending: 0, bufferedBytes: 0, inFlight: 0, skipped: 0 });
    expect(s.requests).toBeGreaterThanOrEqual(N / 5000);
    if (options.maxBufferBytes !== undefined) {
      // The memory bound holds: a write is taken in while there is room, so at most a batch above it.
      expect(peakBuffered).toBeLessThanOrEqual(options.maxBufferBytes + 2 ** 20);
      // No request larger than a quarter of the buffer.
      expect(s.bytesSent / s.requests).toBeLessThanOrEqual(2 ** 20);
    }
    await w.close();
    expect(await storedCount(db)).toBe(N);
  });
});

describe('client.writer() and the options set on its client', () => {
  it('a batchBytes above a maxBodyBytes set on the client is refused, naming both; above the default it is taken', async () => {
    const limited = new InfluxDBClient({ url, db: 'x', maxBodyBytes: 1_000_000 });
    try {
      expect(() => limited.writer({ batchBytes: 2_000_000 })).toThrow(InvalidOptionError);
      expect(() => limited.writer({ batchBytes: 2_000_000 })).toThrow(/batchBytes \(2000000\) must be at most the client's maxBodyBytes \(1000000\)/);
    } finally {
      await limited.close();
    }
    const w = client.writer({ db: 'x', batchBytes: 20_000_000 });
    await w.close();
  });
});
