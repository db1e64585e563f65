/**
 * Output formats through the client, as aioinflux documents them: `client.output` switched on
 * the fly, per-call `output`, `dataframe` as an alias of `arrow`, chunked iteration for every
 * format, `iterpoints` with a parser, and `getTagInfo`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordBatch, Table } from 'apache-arrow';
import { InfluxDBClient, InfluxDBChunkedResult, InfluxDBResult, InvalidOptionError, iterpoints } from '../../src/index.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;
const T0 = 1439856000000000000n;

beforeAll(async () => {
  db = uniqueDb('output');
  client = new InfluxDBClient({ url, db });
  await client.createDatabase();
  // aioinflux's h2o_quality example, plus a few more rows for chunking.
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const location = i % 2 ? 'santa_monica' : 'coyote_creek';
    lines.push(`h2o_quality,location=${location},randtag=${(i % 3) + 1} index=${(i * 7) % 100}i ${T0 + BigInt(i) * 360_000_000_000n}`);
  }
  await client.write(lines.join('\n'));
});

afterAll(async () => {
  await client.dropDatabase();
  await client.close();
});

describe('output formats', () => {
  it('switches on the fly with client.output, and accepts dataframe as arrow', async () => {
    client.output = 'iterable';
    expect(client.output).toBe('iterable');
    const it = await client.query('SELECT * FROM h2o_quality LIMIT 10');
    expect(it).toBeInstanceOf(InfluxDBResult);
    client.output = 'dataframe';
    expect(client.output).toBe('arrow');
    const t = await client.query('SELECT * FROM h2o_quality LIMIT 10');
    expect(t).toBeInstanceOf(Table);
    client.output = 'raw';
    expect((await client.query('SELECT * FROM h2o_quality LIMIT 1')) as unknown).toHaveProperty('results');
    expect(() => {
      client.output = 'pandas' as never;
    }).toThrow(InvalidOptionError);
  });

  it('takes the output per call, and from the constructor', async () => {
    const t = await client.query('SELECT * FROM h2o_quality LIMIT 5', { output: 'arrow' });
    expect(t).toBeInstanceOf(Table);
    const table = t as Table;
    expect(table.numRows).toBe(5);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'time:Timestamp<NANOSECOND, UTC>', 'index:Int64', 'location:Dictionary<Int32, Utf8>', 'randtag:Dictionary<Int32, Utf8>',
    ]);
    // Nanoseconds stay exact in the Timestamp column's int64 buffer.
    expect(table.getChild('time')!.data[0]!.values[1]).toBe(T0 + 360_000_000_000n);
    const c = new InfluxDBClient({ url, db, output: 'arrow' });
    expect(await c.query('SELECT * FROM h2o_quality LIMIT 1')).toBeInstanceOf(Table);
    await c.close();
    await expect(client.query('SELECT 1', { output: 'csv' as never })).rejects.toThrow(/query options\.output must be one of 'raw', 'iterable', 'arrow', 'dataframe' \(got "csv"\)/);
  });

  it('iterpoints: a plain value list per point, or what the parser makes of it (aioinflux\'s example)', async () => {
    const r = await client.query('SELECT * from h2o_quality LIMIT 5', { output: 'raw', epoch: 'n' });
    const plain = [...iterpoints(r)];
    expect(plain[0]).toEqual([T0, 0, 'coyote_creek', '1']);
    const dicts = [...iterpoints(r, (x, meta) => Object.fromEntries(meta.columns.map((c, i) => [c, x[i]])))];
    expect(dicts[1]).toEqual({ time: T0 + 360_000_000_000n, index: 7, location: 'santa_monica', randtag: '2' });
    const viaResult = await client.query('SELECT * from h2o_quality LIMIT 5', { output: 'iterable', epoch: 'n', parser: (x, meta) => `${meta.name}:${x[2]}` });
    expect([...viaResult]).toEqual(['h2o_quality:coyote_creek', 'h2o_quality:santa_monica', 'h2o_quality:coyote_creek', 'h2o_quality:santa_monica', 'h2o_quality:coyote_creek']);
    await expect(client.query('SELECT 1', { parser: (x) => x })).rejects.toThrow(/parser applies to output 'iterable'/);
  });

  it('GROUP BY gives a Map keyed like aioinflux; several statements an array', async () => {
    const m = await client.query('SELECT count(index) FROM h2o_quality GROUP BY location', { output: 'arrow' });
    expect(m).toBeInstanceOf(Map);
    expect([...(m as Map<string, Table>).keys()]).toEqual(['h2o_quality,location=coyote_creek', 'h2o_quality,location=santa_monica']);
    const two = await client.query('SELECT * FROM h2o_quality LIMIT 2; SELECT count(index) FROM h2o_quality', { output: 'arrow' });
    expect(Array.isArray(two)).toBe(true);
    expect((two as Table[]).map((t) => t.numRows)).toEqual([2, 1]);
  });
});

describe('chunked responses', () => {
  it('iterates point by point across chunks (iterable), and chunk by chunk with iterchunks()', async () => {
    const r = await client.query('SELECT * FROM h2o_quality', { chunked: true, chunkSize: 64, output: 'iterable' });
    expect(r).toBeInstanceOf(InfluxDBChunkedResult);
    let n = 0;
    for await (const p of r) {
      expect(Array.isArray(p)).toBe(true);
      n++;
    }
    expect(n).toBe(300);
    const r2 = await client.query('SELECT * FROM h2o_quality', { chunked: true, chunkSize: 64, output: 'iterable' });
    let chunks = 0;
    for await (const chunk of r2.iterchunks()) {
      chunks++;
      expect(chunk.results[0]!.series![0]!.values!.length).toBeLessThanOrEqual(64);
    }
    expect(chunks).toBe(Math.ceil(300 / 64));
  });

  it('streams Arrow record batches (which aioinflux disallowed)', async () => {
    const batches = await client.query('SELECT * FROM h2o_quality', { chunked: true, chunkSize: 100, output: 'arrow' });
    const all: RecordBatch[] = [];
    for await (const b of batches) {
      expect(b).toBeInstanceOf(RecordBatch);
      all.push(b);
    }
    expect(all.map((b) => b.numRows)).toEqual([100, 100, 100]);
    const t = new Table(all);
    expect(t.numRows).toBe(300);
    const times = t.getChild('time')!.data.flatMap((d) => [...(d.values as BigInt64Array)]);
    expect(times[299]).toBe(T0 + 299n * 360_000_000_000n);
  });

  it('hands raw chunks through for output raw', async () => {
    const chunks = await client.query('SELECT * FROM h2o_quality', { chunked: true, chunkSize: 150, output: 'raw' });
    let rows = 0;
    for await (const c of chunks) rows += c.results[0]!.series![0]!.values!.length;
    expect(rows).toBe(300);
  });
});

describe('tag info', () => {
  it('gathers tag keys and values per measurement, as aioinflux\'s get_tag_info', async () => {
    expect(await client.getTagInfo()).toEqual({
      h2o_quality: { location: ['coyote_creek', 'santa_monica'], randtag: ['1', '2', '3'] },
    });
  });
});
