/**
 * The batch writer against the real influxd: every input kind, size and time triggers, exact
 * values, stats that add up, flush/close, the Writable stream, gzip, invalid input, and the
 * 404 rules (surface, or create the database on request).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InfluxDBClient, InfluxDBWriteError, InvalidOptionError, InvalidPointError, WriterClosedError, type Point, type WriterStats,
} from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;

beforeAll(() => {
  client = new InfluxDBClient({ url });
});
afterAll(async () => {
  await client.close();
});

async function newDb(prefix: string): Promise<string> {
  const db = uniqueDb(prefix);
  await rawQuery(url, `CREATE DATABASE "${db}"`);
  return db;
}

async function count(db: string, q = 'SELECT count(*) FROM /.*/'): Promise<number> {
  const r = await rawQuery(url, q, { db });
  const values = r.results?.[0]?.series?.[0]?.values?.[0];
  if (!values) return 0;
  return Math.max(...values.slice(1).map((v) => Number(v)));
}

function addsUp(s: WriterStats): void {
  expect(s.accepted).toBe(s.written + s.rejected + s.expired + s.dropped + s.pending);
}

/**
 * `rows` rows of host (50 dictionary tags), time (ns, 1_000_001 apart from `start`), usage
 * (float) and requests (Int64 from 2^53 + 1). Not generators.ts's workload or numberedTable:
 * the exactness test reads back an int64 above 2^53 and a time off the millisecond grid, which
 * neither has.
 */
function workloadTable(rows: number, start = 1_704_067_200_000_000_000n): A.Table {
  const hosts = Array.from({ length: 50 }, (_, i) => `host-${i}`);
  const host = A.vectorFromArray(Array.from({ length: rows }, (_, i) => hosts[i % 50]!), new A.Dictionary(new A.Utf8(), new A.Int32()));
  const time = new BigInt64Array(rows);
  const usage = new Float64Array(rows);
  const requests = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) {
    time[i] = start + BigInt(i) * 1_000_001n;
    usage[i] = (i % 10_000) / 100 + 0.123456789;
    requests[i] = 9_007_199_254_740_993n + BigInt(i);
  }
  return new A.Table({
    host,
    time: A.makeVector({ type: new A.TimestampNanosecond(), data: time }),
    usage: A.makeVector(usage),
    requests: A.makeVector(requests),
  });
}

describe('BatchWriter into influxd', () => {
  it('writes points one call at a time, batched by size, and the stats add up', async () => {
    const db = await newDb('w_points');
    // One lane: the size trigger alone decides the batches (with lanes each lane fills its own).
    const w = client.writer({ db, batchSize: 100, flushIntervalMs: 60_000, maxInFlight: 1 });
    for (let i = 0; i < 1000; i++) {
      await w.write({ measurement: 'm', tags: { t: `t${i % 7}` }, fields: { v: i, s: `x${i}` }, time: 1_700_000_000_000_000_000n + BigInt(i) });
    }
    await w.flush();
    const s = w.stats();
    expect(s).toMatchObject({ accepted: 1000, written: 1000, pending: 0, rejected: 0, expired: 0, dropped: 0, bufferedBytes: 0, inFlight: 0 });
    // Size trigger: 10 full batches of 100 lines, no more.
    expect(s.requests).toBe(10);
    addsUp(s);
    await w.close();
    expect(await count(db)).toBe(1000);
  });

  it('sends a part-filled batch after flushIntervalMs without flush()', async () => {
    const db = await newDb('w_interval');
    const w = client.writer({ db, flushIntervalMs: 100 });
    await w.write('m v=1 1700000000000000000');
    expect(w.stats().requests).toBe(0);
    const t0 = Date.now();
    // Polls for the event (the point written); the deadline only bounds a failing run.
    while (w.stats().written < 1 && Date.now() - t0 < 25_000) await new Promise((r) => setTimeout(r, 10));
    expect(w.stats().written).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    await w.close();
    expect(await count(db)).toBe(1);
  });

  it('writes an Arrow table exactly: nanosecond times and int64 beyond 2^53 survive', async () => {
    const db = await newDb('w_arrow');
    const w = client.writer({ db, measurement: 'cpu', batchSize: 5000, maxInFlight: 1 });
    const table = workloadTable(20_000);
    const r = await w.write(table);
    expect(r).toEqual({ accepted: 20_000, dropped: 0, skippedRows: [] });
    await w.close();
    expect(w.stats()).toMatchObject({ written: 20_000, requests: 4 });
    expect(await count(db)).toBe(20_000);
    const c = new InfluxDBClient({ url, db });
    const q = await c.query('SELECT requests FROM cpu ORDER BY time DESC LIMIT 1', { epoch: 'n' });
    expect(q.results[0]!.series![0]!.values![0]).toEqual([1_704_067_200_000_000_000n + 19_999n * 1_000_001n, 9_007_199_254_740_993n + 19_999n]);
    await c.close();
  });

  it('takes line protocol, Buffers, record batches and async iterables, in call order', async () => {
    const db = await newDb('w_mixed');
    const w = client.writer({ db, measurement: 'cpu', batchSize: 1000 });
    await w.write('lp v=1i 1\nlp v=2i 2\n');
    await w.write(Buffer.from('lp v=3i 3'));
    await w.write(workloadTable(2500).batches[0]!);
    async function* gen(): AsyncGenerator<Point | A.RecordBatch> {
      for (let i = 0; i < 1500; i++) yield { measurement: 'gen', fields: { i }, time: BigInt(i + 1) };
      yield workloadTable(10, 1n).batches[0]!;
    }
    await w.write(gen());
    await w.write(new Set<Point>([{ measurement: 'set', fields: { a: 1 }, time: 5n }]));
    await w.close();
    expect(w.stats()).toMatchObject({ accepted: 3 + 2500 + 1500 + 10 + 1, written: 3 + 2500 + 1500 + 10 + 1 });
    expect(await count(db, 'SELECT count(v) FROM lp')).toBe(3);
    expect(await count(db, 'SELECT count(i) FROM gen')).toBe(1500);
    expect(await count(db, 'SELECT count(usage) FROM cpu')).toBe(2510);
    expect(await count(db, 'SELECT count(a) FROM "set"')).toBe(1);
  });

  it('refuses a bad point with its index and field; nothing of that call is accepted; later writes go on', async () => {
    const db = await newDb('w_invalid');
    const w = client.writer({ db, measurement: 'm' });
    const points: Point[] = Array.from({ length: 10 }, (_, i) => ({ fields: { v: i }, time: BigInt(i + 1) }));
    points[6] = { fields: { v: Number.NaN }, time: 7n };
    const err = await w.write(points).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPointError);
    expect((err as InvalidPointError).pointIndex).toBe(6);
    expect((err as InvalidPointError).key).toBe('v');
    expect(w.stats().accepted).toBe(0);
    await w.write(points.filter((_, i) => i !== 6));
    await w.close();
    expect(await count(db)).toBe(9);
  });

  it('names the point across slices of a large write, and says how much was accepted before it', async () => {
    const db = await newDb('w_invalid_big');
    const w = client.writer({ db, measurement: 'm', batchSize: 100 });
    const points: Point[] = Array.from({ length: 1000 }, (_, i) => ({ fields: { v: i }, time: BigInt(i + 1) }));
    points[550] = { fields: { v: 1 }, tags: { bad: 'a\nb' }, time: 1n };
    const err = await w.write(points).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPointError);
    expect((err as InvalidPointError).pointIndex).toBe(550);
    expect((err as Error).message).toContain('500 points before it');
    await w.close();
    expect(w.stats()).toMatchObject({ accepted: 500, written: 500 });
    expect(await count(db)).toBe(500);
  });

  it('large point arrays (columns + WebAssembly) name the bad point and field the same way', async () => {
    const db = await newDb('w_invalid_col');
    const w = client.writer({ db, measurement: 'm', batchSize: 1000 });
    const points: Point[] = Array.from({ length: 5000 }, (_, i) => ({ tags: { h: `h${i % 9}` }, fields: { v: i, s: 'ok' }, time: BigInt(i + 1) }));
    points[3210] = { fields: { v: Number.POSITIVE_INFINITY }, time: 3211n };
    const err = await w.write(points).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPointError);
    expect(err).toMatchObject({ pointIndex: 3210, key: 'v' });
    expect((err as Error).message).toContain('3000 points before it');
    const skip = client.writer({ db, measurement: 'm2', batchSize: 1000, invalidRows: 'skip' });
    const r = await skip.write(Array.from({ length: 3000 }, (_, i) => ({ fields: { v: i % 1000 === 7 ? null : i }, time: BigInt(i + 1) })));
    expect(r.skippedRows).toEqual([7, 1007, 2007]);
    await Promise.all([w.close(), skip.close()]);
    expect(await count(db, 'SELECT count(v) FROM m')).toBe(3000);
    expect(await count(db, 'SELECT count(v) FROM m2')).toBe(2997);
  });

  it('reports rows skipped by invalidRows: skip, with their input index', async () => {
    const db = await newDb('w_skip');
    const w = client.writer({ db, measurement: 'm', invalidRows: 'skip' });
    const r = await w.write([{ fields: { v: 1 }, time: 1n }, { fields: { v: null }, time: 2n }, { fields: { v: 3 }, time: 3n }]);
    expect(r).toEqual({ accepted: 2, dropped: 0, skippedRows: [1] });
    await w.close();
    expect(w.stats()).toMatchObject({ skipped: 1, written: 2 });
  });

  it('pipes a Readable into writer.stream() and resolves once it is written', async () => {
    const db = await newDb('w_stream');
    const w = client.writer({ db, measurement: 'm', batchSize: 250 });
    const src = Readable.from((function* () {
      for (let i = 0; i < 2000; i++) yield { fields: { v: i }, time: BigInt(i + 1) } as Point;
    })());
    await pipeline(src, w.stream());
    expect(w.stats()).toMatchObject({ accepted: 2000, written: 2000, pending: 0 });
    expect(await count(db)).toBe(2000);
    await w.close();
  });

  it('gzips bodies when asked: the server stores the same points, fewer bytes go out', async () => {
    const db = await newDb('w_gzip');
    const w = client.writer({ db, measurement: 'cpu', gzip: true });
    await w.write(workloadTable(10_000));
    await w.close();
    const s = w.stats();
    expect(s.written).toBe(10_000);
    expect(s.bytesSent).toBeLessThan(10_000 * 30);
    expect(await count(db)).toBe(10_000);
  });

  it('refuses write() after close() and flushes on close', async () => {
    const db = await newDb('w_close');
    const w = client.writer({ db, flushIntervalMs: 60_000 });
    await w.write('m v=1 1');
    await w.close();
    expect(await count(db)).toBe(1);
    await expect(w.write('m v=2 2')).rejects.toBeInstanceOf(WriterClosedError);
    expect(() => w.tryWrite('m v=2 2')).toThrow(WriterClosedError);
  });

  it('client.close() closes its writers first, so nothing buffered is lost', async () => {
    const db = await newDb('w_clientclose');
    const c = new InfluxDBClient({ url, db });
    const w = c.writer({ flushIntervalMs: 60_000 });
    await w.write('m v=1 1\nm v=2 2');
    await c.close();
    expect(w.stats().written).toBe(2);
    expect(await count(db)).toBe(2);
  });

  it('404: surfaces at once through onError and flush(), keeps the points; createDatabase: true creates it', async () => {
    const db = uniqueDb('w_nodb');
    const errors: Error[] = [];
    const w = client.writer({ db, onError: (e) => errors.push(e), deliveryTimeoutMs: 5000, requestTimeoutMs: 1000, retryMaxDelayMs: 60_000 });
    await w.write('m v=1 1');
    const err = await w.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect((err as InfluxDBWriteError).status).toBe(404);
    expect(errors[0]).toBe(err);
    expect(w.stats()).toMatchObject({ pending: 1, pauseReason: 'database not found' });
    const closed = await w.close({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(closed).toMatchObject({ code: 'FI_ERR_DELIVERY', expired: 1, closeTimedOut: true, lines: ['m v=1 1'] });
    addsUp(w.stats());

    const w2 = client.writer({ db, createDatabase: true });
    await w2.write('m v=1 1');
    await w2.close();
    expect(await count(db)).toBe(1);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  });

  it('tryWrite() accepts points at once and refuses Arrow data', async () => {
    const db = await newDb('w_try');
    const w = client.writer({ db, measurement: 'm' });
    expect(w.tryWrite({ fields: { v: 1 }, time: 1n })).toBe(true);
    expect(() => w.tryWrite(workloadTable(1))).toThrow(InvalidOptionError);
    await w.close();
    expect(await count(db)).toBe(1);
  });
});
