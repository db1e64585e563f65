/**
 * Arrow tables through the columnar encoder into the real influxd (started by globalSetup):
 * aioinflux's DataFrame example, every timestamp unit stored exactly, nulls left out, hostile
 * names and strings, integer extremes. The client's write() does not take Arrow yet: the bodies
 * from `encodeArrow` are POSTed to /write here, and what was stored is read back with /query
 * (exact JSON: integers beyond 2^53 as bigint).
 */
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeArrow, type ArrowEncodeOptions, type ArrowInput } from '../../src/encode/arrow/index.js';
import { formatNsAsIso } from '../../src/encode/time.js';
import { parseExactJson } from '../../src/query/exact-json.js';
import type { Precision } from '../../src/options/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb, type RawQueryResult } from '../helpers/server.js';

const url = sharedInfluxUrl();
const db = uniqueDb('arrow');

beforeAll(async () => {
  const r = await rawQuery(url, `CREATE DATABASE "${db}"`);
  expect(r.results?.[0]?.error).toBeUndefined();
});

afterAll(async () => {
  await rawQuery(url, `DROP DATABASE "${db}"`);
});

/** Encodes `input` and POSTs every body; returns the encode result. */
async function write(input: ArrowInput, options: Partial<ArrowEncodeOptions> & { precision: Precision }, maxBodyBytes = 5_000_000) {
  const r = await encodeArrow(input, { measurement: 'm', ...options }, maxBodyBytes);
  for (const b of r.bodies) {
    const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=${options.precision}`, { method: 'POST', body: new Uint8Array(b.body.buffer, b.body.byteOffset, b.body.length) as Uint8Array<ArrayBuffer> });
    expect(res.status, await res.text()).toBe(204);
  }
  return r;
}

interface Series {
  columns: string[];
  values: unknown[][];
}

/** The first series of a query's answer, parsed exactly (integers beyond 2^53 as bigint). */
async function select(q: string, epoch?: 'ns'): Promise<Series> {
  const form = new URLSearchParams({ q, db });
  if (epoch !== undefined) form.set('epoch', epoch);
  const res = await fetch(`${url}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const json = parseExactJson(await res.text()) as RawQueryResult;
  const result = json.results?.[0];
  expect(result?.error).toBeUndefined();
  const s = result?.series?.[0];
  return { columns: s?.columns ?? [], values: (s?.values ?? []) as unknown[][] };
}

/** Rows as objects keyed by column. */
function rows(s: Series): Record<string, unknown>[] {
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
}

const tsVector = (unit: A.TimeUnit, raw: bigint[], tz: string | null = null) =>
  A.makeVector({ type: new A.Timestamp(unit, tz), data: BigInt64Array.from(raw), length: raw.length } as never);

describe('aioinflux DataFrame example, as an Arrow table', () => {
  it('prices: float columns, a tag column, an extra tag, a UTC timestamp index', async () => {
    // aioinflux's frame: index 2017-06-24 08:45:17.929097+00:00 and every 90 minutes after.
    const start = 1498293917929097n; // microseconds
    const times = [0n, 1n, 2n, 3n, 4n].map((k) => start + k * 5_400_000_000n);
    const table = new A.Table({
      time: tsVector(A.TimeUnit.MICROSECOND, times, 'UTC'),
      LUY: A.vectorFromArray([2.545409, -0.306673, 0.894738, -1.799512, 0.390137], new A.Float64()),
      BEM: A.vectorFromArray([5.173134, -1.132941, -0.561979, -1.722805, -0.016709], new A.Float64()),
      AJW: A.vectorFromArray([5.532397, -2.130625, -1.487940, -2.308823, -0.667895], new A.Float64()),
      tag: A.vectorFromArray(['B', 'E', 'B', 'D', 'E'], new A.Dictionary(new A.Utf8(), new A.Int32())),
    });
    const r = await write(table, { measurement: 'prices', tagColumns: ['tag'], tags: { asset_class: 'equities' }, precision: 'u' });
    expect(r.lines).toBe(5);
    expect(r.bodies[0]!.body.toString().split('\n')[0]).toBe('prices,asset_class=equities,tag=B LUY=2.545409,BEM=5.173134,AJW=5.532397 1498293917929097');
    const s = await select('SELECT * FROM prices');
    expect(s.columns).toEqual(['time', 'AJW', 'BEM', 'LUY', 'asset_class', 'tag']);
    expect(s.values).toEqual([
      ['2017-06-24T08:45:17.929097Z', 5.532397, 5.173134, 2.545409, 'equities', 'B'],
      ['2017-06-24T10:15:17.929097Z', -2.130625, -1.132941, -0.306673, 'equities', 'E'],
      ['2017-06-24T11:45:17.929097Z', -1.48794, -0.561979, 0.894738, 'equities', 'B'],
      ['2017-06-24T13:15:17.929097Z', -2.308823, -1.722805, -1.799512, 'equities', 'D'],
      ['2017-06-24T14:45:17.929097Z', -0.667895, -0.016709, 0.390137, 'equities', 'E'],
    ]);
    const keys = await select('SHOW TAG KEYS FROM prices');
    expect(keys.values).toEqual([['asset_class'], ['tag']]);
  });
});

describe('time', () => {
  const units: [string, A.TimeUnit, bigint, bigint[]][] = [
    ['s', A.TimeUnit.SECOND, 1_000_000_000n, [0n, 1_704_067_200n, -1n, 9_000_000_000n, -9_000_000_000n]],
    ['ms', A.TimeUnit.MILLISECOND, 1_000_000n, [0n, 1_704_067_200_123n, -1n, 9_000_000_000_123n, -9_000_000_000_123n]],
    ['us', A.TimeUnit.MICROSECOND, 1_000n, [0n, 1_704_067_200_123_456n, -1n, 9_000_000_000_123_456n, -9_000_000_000_123_456n]],
    ['ns', A.TimeUnit.NANOSECOND, 1n, [0n, 1_704_067_200_123_456_789n, -1n, 9_000_000_000_123_456_789n, -9_000_000_000_123_456_789n]],
  ];

  for (const [name, unit, src, raw] of units) {
    it(`Timestamp<${name}> is stored exactly (ns precision), with and without a zone`, async () => {
      const m = `t_${name}`;
      const table = new A.Table({ time: tsVector(unit, raw, name === 'ms' ? 'Asia/Tokyo' : null), v: A.vectorFromArray(raw.map((_, i) => i), new A.Int32()) });
      await write(table, { measurement: m, precision: 'n' });
      const byIso = await select(`SELECT v FROM ${m}`);
      const want = raw.map((r, i) => [formatNsAsIso(r * src), i]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      // influxd answers in time order; RFC 3339 strings of these instants sort the same way except for negative years, which there are none of.
      expect(byIso.values.map((v) => [v[0], Number(v[1])])).toEqual(want);
      const byNs = await select(`SELECT v FROM ${m}`, 'ns');
      const exact = byNs.values.map((v) => [BigInt(v[0] as number | bigint), Number(v[1])]);
      expect(exact).toEqual(raw.map((r, i) => [r * src, i]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    });
  }

  it('to a coarser precision: floor toward the past, as the server stores it', async () => {
    const raw = [1_704_067_200_123_456_789n, -1n, -1_000_001n];
    const table = new A.Table({ time: tsVector(A.TimeUnit.NANOSECOND, raw), v: A.vectorFromArray([1, 2, 3], new A.Float64()) });
    await write(table, { measurement: 'coarse', precision: 'ms' });
    const s = await select('SELECT v FROM coarse', 'ns');
    expect(s.values.map((v) => [BigInt(v[0] as number | bigint), v[1]])).toEqual([
      [-2_000_000n, 3], [-1_000_000n, 2], [1_704_067_200_123_000_000n, 1],
    ]);
  });

  it('Date columns (days, milliseconds) and several batches', async () => {
    const days = new A.Table({
      time: A.makeVector({ type: new A.DateDay(), data: Int32Array.of(19723, 19724, -1), length: 3 } as never),
      v: A.vectorFromArray([1, 2, 3], new A.Float64()),
    });
    const twoBatches = new A.Table([...days.slice(0, 1).batches, ...days.slice(1).batches]);
    expect(twoBatches.batches.length).toBe(2);
    await write(twoBatches, { measurement: 'days', precision: 's' });
    const s = await select('SELECT v FROM days');
    expect(s.values).toEqual([['1969-12-31T00:00:00Z', 3], ['2024-01-01T00:00:00Z', 1], ['2024-01-02T00:00:00Z', 2]]);
  });
});

describe('values', () => {
  it('nulls are left out; rows without a field are skipped and reported', async () => {
    const table = new A.Table({
      time: tsVector(A.TimeUnit.MILLISECOND, [1n, 2n, 3n, 4n]),
      host: A.vectorFromArray(['a', null, 'b', 'c'], new A.Dictionary(new A.Utf8(), new A.Int32())),
      f: A.vectorFromArray([1.5, null, null, 4.5], new A.Float64()),
      i: A.vectorFromArray([null, 2n, null, 4n], new A.Int64()),
      s: A.vectorFromArray(['x', null, null, null], new A.Utf8()),
      ok: A.vectorFromArray([null, true, null, false], new A.Bool()),
    });
    const r = await write(table, { measurement: 'nulls', precision: 'ms', invalidRows: 'skip' });
    expect(r.skippedRows).toEqual([2]);
    expect(r.bodies.map((b) => b.body.toString()).join('')).toBe(
      'nulls,host=a f=1.5,s="x" 1\nnulls i=2i,ok=true 2\nnulls,host=c f=4.5,i=4i,ok=false 4\n');
    const s = await select('SELECT * FROM nulls', 'ns');
    expect(rows(s)).toEqual([
      { time: 1_000_000, f: 1.5, host: 'a', i: null, ok: null, s: 'x' },
      { time: 2_000_000, f: null, host: null, i: 2, ok: true, s: null },
      { time: 4_000_000, f: 4.5, host: 'c', i: 4, ok: false, s: null },
    ]);
    const types = await select('SHOW FIELD KEYS FROM nulls');
    expect(types.values).toEqual([['f', 'float'], ['i', 'integer'], ['ok', 'boolean'], ['s', 'string']]);
  });

  it('hostile names and strings, integer extremes and awkward floats round-trip exactly', async () => {
    const tags = ['a b', 'x,y=z', 'ü€😀', 'back\\slash'];
    const strings = ['say "hi"', 'C:\\path\\', '\\', 'ünï€😀'];
    const table = new A.Table({
      time: tsVector(A.TimeUnit.NANOSECOND, [1n, 2n, 3n, 4n]),
      'tag key,=': A.vectorFromArray(tags, new A.Dictionary(new A.Utf8(), new A.Int32())),
      'field key': A.vectorFromArray(strings, new A.Utf8()),
      big: A.vectorFromArray([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n], new A.Int64()),
      ubig: A.vectorFromArray([2n ** 63n - 1n, 0n, 2n ** 53n + 1n, 4294967295n], new A.Uint64()),
      u32: A.vectorFromArray([4294967295, 0, 1, 2], new A.Uint32()),
      f: A.vectorFromArray([1e21, 5e-324, 63.414885615, 0.1 + 0.2], new A.Float64()),
      f32: A.vectorFromArray([0.1, -2.5, 3.4028234663852886e38, 1e-7], new A.Float32()),
    });
    await write(table, { measurement: 'weird,meas urement', precision: 'n' });
    const s = await select('SELECT * FROM "weird,meas urement"', 'ns');
    const got = rows(s);
    expect(got.map((r) => r['tag key,='])).toEqual(tags);
    expect(got.map((r) => r['field key'])).toEqual(strings);
    expect(got.map((r) => BigInt(r.big as bigint))).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]);
    expect(got.map((r) => BigInt(r.ubig as bigint))).toEqual([2n ** 63n - 1n, 0n, 2n ** 53n + 1n, 4294967295n]);
    expect(got.map((r) => r.u32)).toEqual([4294967295, 0, 1, 2]);
    expect(got.map((r) => r.f)).toEqual([1e21, 5e-324, 63.414885615, 0.1 + 0.2]);
    expect(got.map((r) => r.f32)).toEqual([Math.fround(0.1), -2.5, 3.4028234663852886e38, Math.fround(1e-7)]);
  });

  it('many rows across several bodies, from an IPC stream', async () => {
    const n = 20_000;
    const time = BigInt64Array.from({ length: n }, (_, i) => 1_704_067_200_000_000_000n + BigInt(i) * 1_000_000n);
    const host = Int32Array.from({ length: n }, (_, i) => i % 7);
    const dict = A.vectorFromArray(Array.from({ length: 7 }, (_, h) => `host-${h}`), new A.Utf8());
    const table = new A.Table({
      time: A.makeVector({ type: new A.TimestampNanosecond(), data: time, length: n } as never),
      host: A.makeVector(A.makeData({ type: new A.Dictionary(new A.Utf8(), new A.Int32()), length: n, nullCount: 0, data: host, dictionary: dict })),
      v: A.makeVector(Float64Array.from({ length: n }, (_, i) => i / 1000)),
    });
    const reader = A.RecordBatchReader.from(A.tableToIPC(table, 'stream'));
    const r = await write(reader, { measurement: 'many', precision: 'n' }, 100_000);
    expect(r.lines).toBe(n);
    expect(r.bodies.length).toBeGreaterThan(5);
    const count = await select('SELECT count(v) FROM many');
    expect(Number(count.values[0]![1])).toBe(n);
    const series = await rawQuery(url, 'SELECT count(v) FROM many GROUP BY host', { db });
    expect(series.results?.[0]?.series?.map((x) => [x.tags?.host, x.values?.[0]?.[1]])).toEqual(
      Array.from({ length: 7 }, (_, h) => [`host-${h}`, Math.ceil((n - h) / 7)]));
    const last = await select('SELECT last(v), host FROM many', 'ns');
    expect(last.values[0]!.slice(1)).toEqual([(n - 1) / 1000, `host-${(n - 1) % 7}`]);
  });
});
