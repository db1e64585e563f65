/**
 * Query output formats against the real influxd started by globalSetup: iterable results and
 * iterpoints, getTagInfo and the schema cache, Arrow tables with every type exact (ns times,
 * int64 at both ends), GROUP BY maps, statement arrays, and chunked streams for both formats.
 * The client answers `raw`; these tests feed its answers to the output modules, as the client
 * will once they are wired in.
 */
import { Table, type RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient, type QueryOptions, type QueryResponse } from '../../src/index.js';
import {
  formatResponse, getTagInfo, InfluxDBChunkedResult, InfluxDBResult, iterpoints, responseChunksToRecordBatches, responseToArrow,
  SchemaCache, type ArrowResult, type RunQuery,
} from '../../src/query/output/index.js';
import { int64s } from '../helpers/arrow-read.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;
let run: RunQuery;
let cache: SchemaCache;

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
const T1 = 1700000000123456789n;
const CHUNK_ROWS = 250;

async function arrow(q: string, options: QueryOptions = {}): Promise<ArrowResult> {
  const resp = await client.query(q, { epoch: 'n', ...options, chunked: false, output: 'raw' });
  return responseToArrow(resp, await cache.lookupFor(resp, db));
}

beforeAll(async () => {
  db = uniqueDb('output');
  client = new InfluxDBClient({ url, db });
  await client.createDatabase();
  run = (q, o) => client.query(q, o);
  cache = new SchemaCache(run);
  await client.write([
    'cpu,host=a,region=us f=1,i=1i 5',
    `cpu,host=a,region=us f=1.5,i=${I64_MAX}i,s="x",b=true ${T1}`,
    `cpu,host=b,region=eu f=2,i=${I64_MIN}i,b=false,s="é 🙂" ${T1 + 1n}`,
    'mem,host=a used=3i 1',
    'mem,dc=x free=4 2',
    'conf,x=t x=1 1',
  ].join('\n'));
  const lines: string[] = [];
  for (let k = 0; k < 4 * CHUNK_ROWS + 17; k++) lines.push(`big,part=s${k % 3} v=${k}i,w=${k / 4} ${T1 + BigInt(k)}`);
  await client.write(lines.join('\n'));
});

afterAll(async () => {
  await client.dropDatabase(db);
  await client.close();
});

describe('iterable', () => {
  it('iterpoints yields plain value lists, or what aioinflux\'s dict(zip(columns, x)) parser makes', async () => {
    const r = await client.query('SELECT f, host FROM cpu', { epoch: 'n' });
    expect([...iterpoints(r)]).toEqual([[5, 1, 'a'], [T1, 1.5, 'a'], [T1 + 1n, 2, 'b']]);
    const dicts = [...iterpoints(r, (x, meta) => Object.fromEntries(meta.columns.map((c, i) => [c, x[i]])))];
    expect(dicts).toEqual([{ time: 5, f: 1, host: 'a' }, { time: T1, f: 1.5, host: 'a' }, { time: T1 + 1n, f: 2, host: 'b' }]);
    const metas = [...iterpoints(r, (_x, meta) => meta)];
    expect(metas[0]).toEqual({ columns: ['time', 'f', 'host'], name: 'cpu', statement_id: 0 });
  });

  it('InfluxDBResult iterates every statement and series and dumps them', async () => {
    const q = 'SELECT f FROM cpu GROUP BY host; SELECT used FROM mem WHERE used > 0';
    const r = new InfluxDBResult(await client.query(q, { epoch: 'n' }), { query: q });
    expect([...r]).toEqual([[5, 1], [T1, 1.5], [T1 + 1n, 2], [1, 3]]);
    expect(r.series.map((s) => [s.statement_id, s.name, s.tags])).toEqual([[0, 'cpu', { host: 'a' }], [0, 'cpu', { host: 'b' }], [1, 'mem', undefined]]);
    expect(r.show().split('\n')).toEqual([
      '== statement 0: cpu,host=a (2 rows) ==', 'time\tf', '5\t1', `${T1}\t1.5`,
      '== statement 0: cpu,host=b (1 row) ==', 'time\tf', `${T1 + 1n}\t2`,
      '== statement 1: mem (1 row) ==', 'time\tused', '1\t3',
    ]);
  });

  it('InfluxDBChunkedResult streams points across several chunks, and iterchunks gives the chunks', async () => {
    const q = 'SELECT v FROM big';
    const r = new InfluxDBChunkedResult(await client.query(q, { chunked: true, chunkSize: CHUNK_ROWS, epoch: 'n' }), { query: q });
    let n = 0;
    let last: unknown;
    for await (const p of r) {
      expect(p).toEqual([T1 + BigInt(n), n]);
      n++;
      last = p;
    }
    expect(n).toBe(4 * CHUNK_ROWS + 17);
    expect(last).toEqual([T1 + BigInt(n - 1), n - 1]);
    await expect(async () => {
      for await (const _ of r) { /* second pass */ }
    }).rejects.toThrow(/read only once/);

    const chunks: QueryResponse[] = [];
    for await (const c of new InfluxDBChunkedResult(await client.query(q, { chunked: true, chunkSize: CHUNK_ROWS, epoch: 'n' })).iterchunks()) chunks.push(c);
    expect(chunks.length).toBe(5);
    expect(chunks.map((c) => c.results[0]!.series![0]!.values!.length)).toEqual([CHUNK_ROWS, CHUNK_ROWS, CHUNK_ROWS, CHUNK_ROWS, 17]);
    expect(chunks[0]!.results[0]!.series![0]!.partial).toBe(true);
  });
});

describe('schema', () => {
  it('getTagInfo gathers { measurement: { tagKey: [values] } }', async () => {
    const info = await getTagInfo(run, db);
    expect(JSON.parse(JSON.stringify(info))).toEqual({
      big: { part: ['s0', 's1', 's2'] },
      conf: { x: ['t'] },
      cpu: { host: ['a', 'b'], region: ['eu', 'us'] },
      mem: { dc: ['x'], host: ['a'] },
    });
  });

  it('SchemaCache reads field types and tag keys from the server', async () => {
    const s = await new SchemaCache(run).load(['cpu', 'mem', 'nothing'], db);
    expect(s.get('cpu')).toEqual({ fields: new Map([['b', 'boolean'], ['f', 'float'], ['i', 'integer'], ['s', 'string']]), tags: new Set(['host', 'region']) });
    expect(s.get('mem')).toEqual({ fields: new Map([['free', 'float'], ['used', 'integer']]), tags: new Set(['dc', 'host']) });
    expect(s.get('nothing')).toEqual({ fields: new Map(), tags: new Set() });
  });
});

describe('arrow', () => {
  it('round-trips every type: exact ns times, int64 near 2^63, float, string, boolean, tags', async () => {
    const t = (await arrow('SELECT * FROM cpu')) as Table;
    expect(t).toBeInstanceOf(Table);
    expect(t.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['time', 'Timestamp<NANOSECOND, UTC>'], ['b', 'Bool'], ['f', 'Float64'], ['host', 'Dictionary<Int32, Utf8>'], ['i', 'Int64'],
      ['region', 'Dictionary<Int32, Utf8>'], ['s', 'Utf8'],
    ]);
    const time = t.getChild('time')!.data[0]!.values;
    expect(time).toBeInstanceOf(BigInt64Array);
    expect([...time]).toEqual([5n, T1, T1 + 1n]);
    expect(int64s(t, 'i')).toEqual([1n, I64_MAX, I64_MIN]);
    expect([...t.getChild('i')!]).toEqual([1n, I64_MAX, I64_MIN]);
    expect([...t.getChild('f')!]).toEqual([1, 1.5, 2]);
    expect([...t.getChild('b')!]).toEqual([null, true, false]);
    expect([...t.getChild('s')!]).toEqual([null, 'x', 'é 🙂']);
    expect([...t.getChild('host')!]).toEqual(['a', 'a', 'b']);
    expect([...t.getChild('region')!]).toEqual(['us', 'us', 'eu']);
    expect(t.schema.metadata.get('measurement')).toBe('cpu');
  });

  it('GROUP BY gives a Map keyed like aioinflux, with the group tags as constant columns', async () => {
    const m = (await arrow('SELECT f, i FROM cpu GROUP BY host, region')) as Map<string, Table>;
    expect(m).toBeInstanceOf(Map);
    expect([...m.keys()]).toEqual(['cpu,host=a,region=us', 'cpu,host=b,region=eu']);
    const a = m.get('cpu,host=a,region=us')!;
    expect(a.schema.fields.map((f) => f.name)).toEqual(['time', 'f', 'i', 'host', 'region']);
    expect(int64s(a, 'time')).toEqual([5n, T1]);
    expect(int64s(a, 'i')).toEqual([1n, I64_MAX]);
    expect([...a.getChild('host')!]).toEqual(['a', 'a']);
  });

  it('two statements give an array, one entry per statement (an empty Map for no series)', async () => {
    const r = (await arrow('SELECT used FROM mem; SELECT f FROM cpu GROUP BY host; SELECT f FROM cpu WHERE f > 100')) as unknown[];
    expect(Array.isArray(r)).toBe(true);
    expect(r).toHaveLength(3);
    expect(r[0]).toBeInstanceOf(Table);
    expect(int64s(r[0] as Table, 'used')).toEqual([3n]);
    expect([...(r[1] as Map<string, Table>).keys()]).toEqual(['cpu,host=a', 'cpu,host=b']);
    expect(r[2]).toEqual(new Map());
  });

  it('aggregates: count is Int64, mean Float64, integer max/sum exact (influxd wraps sum past 2^63)', async () => {
    const m = (await arrow('SELECT mean(f), count(i), max(i), sum(i), first(s) FROM cpu GROUP BY host')) as Map<string, Table>;
    const a = m.get('cpu,host=a')!;
    expect(a.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['time', 'Timestamp<NANOSECOND, UTC>'], ['mean', 'Float64'], ['count', 'Int64'], ['max', 'Int64'], ['sum', 'Int64'], ['first', 'Utf8'], ['host', 'Dictionary<Int32, Utf8>'],
    ]);
    expect([...a.getChild('mean')!]).toEqual([1.25]);
    expect(int64s(a, 'count')).toEqual([2n]);
    expect(int64s(a, 'max')).toEqual([I64_MAX]);
    expect(int64s(a, 'sum')).toEqual([I64_MIN]); // 1 + (2^63 - 1), wrapped by the server
    expect(int64s(m.get('cpu,host=b')!, 'max')).toEqual([I64_MIN]);
  });

  it('SELECT * FROM cpu, mem types each column from the measurement that has it', async () => {
    const m = (await arrow('SELECT * FROM cpu, mem')) as Map<string, Table>;
    const mem = m.get('mem')!;
    expect(['i', 'used', 'dc', 'free', 'b'].map((c) => String(mem.getChild(c)!.type))).toEqual(['Int64', 'Int64', 'Dictionary<Int32, Utf8>', 'Float64', 'Bool']);
    expect([...mem.getChild('used')!]).toEqual([3n, null]);
  });

  it('a tag sharing a field\'s name (x_1) is a tag column', async () => {
    const t = (await arrow('SELECT * FROM conf')) as Table;
    expect(t.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([['time', 'Timestamp<NANOSECOND, UTC>'], ['x', 'Float64'], ['x_1', 'Dictionary<Int32, Utf8>']]);
  });

  it('SHOW statements come out typed from their values', async () => {
    const t = (await arrow('SHOW FIELD KEYS FROM cpu')) as Table;
    expect([...t.getChild('fieldKey')!]).toEqual(['b', 'f', 'i', 's']);
  });

  it('works without epoch (RFC 3339 times read exactly) and through formatResponse', async () => {
    const resp = await client.query('SELECT f FROM cpu');
    const t = (await formatResponse(resp, { output: 'arrow', schemas: cache, db })) as Table;
    expect(int64s(t, 'time')).toEqual([5n, T1, T1 + 1n]);
  });

  it('chunked: an async stream of RecordBatches, several chunks long, exact and concatenable', async () => {
    const chunks = await client.query('SELECT v, w, part FROM big', { chunked: true, chunkSize: CHUNK_ROWS, epoch: 'n' });
    const batches: RecordBatch[] = [];
    for await (const b of responseChunksToRecordBatches(chunks, (m) => cache.get(m, db))) batches.push(b);
    expect(batches.map((b) => b.numRows)).toEqual([CHUNK_ROWS, CHUNK_ROWS, CHUNK_ROWS, CHUNK_ROWS, 17]);
    expect(batches.map((b) => b.schema.metadata.get('partial') ?? '')).toEqual(['true', 'true', 'true', 'true', '']);
    expect(batches[0]!.schema.metadata.get('key')).toBe('big');
    const t = new Table(batches);
    const n = 4 * CHUNK_ROWS + 17;
    expect(t.numRows).toBe(n);
    expect(int64s(t, 'time')).toEqual(Array.from({ length: n }, (_, k) => T1 + BigInt(k)));
    expect(int64s(t, 'v')).toEqual(Array.from({ length: n }, (_, k) => BigInt(k)));
    expect(String(t.getChild('w')!.type)).toBe('Float64');
    expect(t.getChild('w')!.get(5)).toBe(1.25);
    expect(String(t.getChild('part')!.type)).toBe('Dictionary<Int32, Utf8>');
    expect(t.getChild('part')!.get(n - 1)).toBe(`s${(n - 1) % 3}`);
  });

  it('chunked GROUP BY: batches say which series they belong to', async () => {
    const chunks = await client.query('SELECT v FROM big GROUP BY part', { chunked: true, chunkSize: CHUNK_ROWS, epoch: 'n' });
    const rowsPerKey = new Map<string, number>();
    for await (const b of responseChunksToRecordBatches(chunks, (m) => cache.get(m, db))) {
      const key = b.schema.metadata.get('key')!;
      rowsPerKey.set(key, (rowsPerKey.get(key) ?? 0) + b.numRows);
      expect(b.getChild('part')!.get(0)).toBe(JSON.parse(b.schema.metadata.get('tags')!).part);
    }
    const n = 4 * CHUNK_ROWS + 17;
    expect(Object.fromEntries(rowsPerKey)).toEqual({
      'big,part=s0': Math.ceil(n / 3), 'big,part=s1': Math.ceil((n - 1) / 3), 'big,part=s2': Math.ceil((n - 2) / 3),
    });
  });
});
