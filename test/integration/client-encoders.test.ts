/**
 * The encoder choice of the client and of each write (`ts`, `wasm` on the worker pool, `auto`):
 * the same data stores the same points whichever encoder wrote it, errors are the same, and
 * close() ends the pool.
 */
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient, InvalidOptionError, InvalidPointError, type Point } from '../../src/index.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;

/**
 * `n` rows with an Int64 field and a string field that needs escaping (quotes, backslashes), so
 * that the encoders are compared on both; the workload tables of generators.ts have neither.
 */
function table(n: number): A.Table {
  const time = BigInt64Array.from({ length: n }, (_, i) => 1704067200000000000n + BigInt(i));
  return new A.Table({
    time: A.makeVector(A.makeData({ type: new A.TimestampNanosecond(), length: n, data: time })),
    host: A.vectorFromArray(Array.from({ length: n }, (_, i) => `h${i % 5}`), new A.Dictionary(new A.Utf8(), new A.Int32())),
    v: A.makeVector(Float64Array.from({ length: n }, (_, i) => i / 8)),
    n: A.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n)),
    s: A.vectorFromArray(Array.from({ length: n }, (_, i) => `s "${i}" \\`), new A.Utf8()),
  });
}

async function summary(m: string): Promise<unknown[]> {
  const r = await client.query(`SELECT count(v), sum(v), max(n), min(n), last(s) FROM "${m}"`);
  return r.results[0]!.series![0]!.values![0]!.slice(1);
}

beforeAll(async () => {
  db = uniqueDb('encoders');
  client = new InfluxDBClient({ url, db, workers: 2 });
  await client.createDatabase();
});

afterAll(async () => {
  await client.dropDatabase();
  await client.close();
});

describe('encoder choice', () => {
  it('stores the same points from an Arrow table with ts, wasm (pool) and auto', async () => {
    const t = table(30_000);
    await client.write(t, { measurement: 'enc_ts', encoder: 'ts' });
    await client.write(t, { measurement: 'enc_wasm', encoder: 'wasm' });
    await client.write(t, { measurement: 'enc_auto' });
    const expected = await summary('enc_ts');
    expect(expected[0]).toBe(30_000);
    expect(await summary('enc_wasm')).toEqual(expected);
    expect(await summary('enc_auto')).toEqual(expected);
  });

  it('stores the same points from point objects through the pool', async () => {
    const points: Point[] = Array.from({ length: 25_000 }, (_, i) => ({
      measurement: 'penc', tags: { host: `h${i % 3}` }, time: BigInt(i), fields: { v: i / 4, n: BigInt(i), s: `x${i}` },
    }));
    await client.write(points, { encoder: 'wasm' });
    await client.write(points.map((p) => ({ ...p, measurement: 'penc_ts' })), { encoder: 'ts' });
    const a = await client.query('SELECT count(v), sum(v), sum(n) FROM penc');
    const b = await client.query('SELECT count(v), sum(v), sum(n) FROM penc_ts');
    expect(a.results[0]!.series![0]!.values).toEqual(b.results[0]!.series![0]!.values);
    expect(a.results[0]!.series![0]!.values![0]![1]).toBe(25_000);
  });

  it('gives the same error for a bad row whichever encoder runs', async () => {
    const t = new A.Table({
      time: A.makeVector(A.makeData({ type: new A.TimestampNanosecond(), length: 3, data: BigInt64Array.from([1n, 2n, 3n]) })),
      v: A.vectorFromArray([1, Number.POSITIVE_INFINITY, 3], new A.Float64()),
    });
    const errors = [];
    for (const encoder of ['ts', 'wasm', 'auto'] as const) {
      errors.push(await client.write(t, { measurement: 'bad', encoder }).catch((e: unknown) => e));
    }
    for (const e of errors) {
      expect(e).toBeInstanceOf(InvalidPointError);
      expect((e as Error).message).toBe('invalid point #1: field "v": Infinity cannot be written: InfluxDB floats must be finite');
    }
    expect((await client.query('SELECT count(v) FROM bad')).results[0]!.series).toBeUndefined();
  });

  it('validates the choice', () => {
    expect(() => new InfluxDBClient({ url, encoder: 'gpu' as never })).toThrow(/options\.encoder must be one of 'ts', 'wasm', 'auto'/);
    expect(() => {
      client.encoder = 'fast' as never;
    }).toThrow(InvalidOptionError);
    return expect(client.write('m v=1 1', { encoder: 'js' as never })).rejects.toThrow(/write options\.encoder must be one of/);
  });
});
