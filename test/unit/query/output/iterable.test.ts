/**
 * The `iterable` output (src/query/output/iterable.ts): iterpoints over statements and series,
 * with and without a parser, InfluxDBResult's views and dump, and InfluxDBChunkedResult's
 * single-use streaming (points, raw chunks, early exit).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfluxDBError } from '../../../../src/errors.js';
import { InfluxDBChunkedResult, InfluxDBResult, iterpoints, seriesLabel, showResponse, type PointMeta } from '../../../../src/query/output/iterable.js';
import type { QueryResponse, QueryValue } from '../../../../src/query/response.js';

const BIG = 9223372036854775807n;

/** Two statements: a GROUP BY with two series (one with a null and a bigint), an empty one, and a SHOW-like one. */
const resp: QueryResponse = {
  results: [
    {
      statement_id: 0,
      series: [
        { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'v', 'i'], values: [[1, 0.5, 1], [2, null, BIG]] },
        { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'v', 'i'], values: [[3, 1.5, -1]] },
      ],
    },
    { statement_id: 1 },
    { statement_id: 2, series: [{ name: 'databases', columns: ['name'], values: [['_internal'], ['db\twith tab']] }] },
  ],
};

async function* chunksOf(...chunks: QueryResponse[]): AsyncGenerator<QueryResponse> {
  for (const c of chunks) yield c;
}

describe('iterpoints', () => {
  it('yields the plain value lists of every statement and series, in order', () => {
    expect([...iterpoints(resp)]).toEqual([[1, 0.5, 1], [2, null, BIG], [3, 1.5, -1], ['_internal'], ['db\twith tab']]);
  });

  it('yields the rows themselves, not copies', () => {
    const first = iterpoints(resp).next().value;
    expect(first).toBe(resp.results[0]!.series![0]!.values![0]);
  });

  it('passes aioinflux meta (columns, name, tags, statement_id) to the parser', () => {
    const metas: PointMeta[] = [];
    const out = [...iterpoints(resp, (x, meta) => {
      metas.push(meta);
      return Object.fromEntries(meta.columns.map((c, i) => [c, x[i]]));
    })];
    expect(out).toEqual([
      { time: 1, v: 0.5, i: 1 }, { time: 2, v: null, i: BIG }, { time: 3, v: 1.5, i: -1 }, { name: '_internal' }, { name: 'db\twith tab' },
    ]);
    expect(metas[0]).toEqual({ columns: ['time', 'v', 'i'], name: 'cpu', tags: { host: 'a' }, statement_id: 0 });
    expect(metas[1]).toBe(metas[0]); // one meta object per series
    expect(metas[2]).toEqual({ columns: ['time', 'v', 'i'], name: 'cpu', tags: { host: 'b' }, statement_id: 0 });
    expect(metas[3]).toEqual({ columns: ['name'], name: 'databases', statement_id: 2 });
    expect('tags' in metas[3]!).toBe(false);
  });

  it('handles answers without series or values', () => {
    expect([...iterpoints({ results: [] })]).toEqual([]);
    expect([...iterpoints({ results: [{ statement_id: 0 }, { statement_id: 1, series: [{ name: 'm', columns: ['time'] }] }] })]).toEqual([]);
  });

  it('property: yields exactly the concatenation of all rows', () => {
    const value = fc.oneof(fc.double(), fc.bigInt(), fc.string(), fc.boolean(), fc.constant(null));
    const series = fc.record({ name: fc.string(), columns: fc.constant(['a', 'b']), values: fc.array(fc.tuple(value, value), { maxLength: 5 }) });
    const answer = fc.array(fc.option(fc.array(series, { maxLength: 3 }), { nil: undefined }), { maxLength: 4 }).map((sts) => ({
      results: sts.map((s, i) => (s === undefined ? { statement_id: i } : { statement_id: i, series: s })),
    }) as QueryResponse);
    fc.assert(fc.property(answer, (r) => {
      const expected = r.results.flatMap((st) => (st.series ?? []).flatMap((s) => s.values ?? []));
      expect([...iterpoints(r)]).toEqual(expected);
      expect([...iterpoints(r, (x, m) => [m.statement_id, ...x])]).toHaveLength(expected.length);
    }));
  });
});

describe('InfluxDBResult', () => {
  it('iterates points, with the parser given at construction', () => {
    expect([...new InfluxDBResult(resp)]).toEqual([...iterpoints(resp)]);
    const r = new InfluxDBResult(resp, { parser: (x, meta) => `${meta.statement_id}:${meta.name}:${String(x[0])}` });
    expect([...r]).toEqual(['0:cpu:1', '0:cpu:2', '0:cpu:3', '2:databases:_internal', '2:databases:db\twith tab']);
    expect(r.toArray()).toEqual([...r]); // iterable again: the data stays
  });

  it('exposes statements, a flat series list with statement ids, counts and the raw answer', () => {
    const r = new InfluxDBResult(resp, { query: 'SELECT v FROM cpu GROUP BY host; SHOW DATABASES' });
    expect(r.statements).toBe(resp.results);
    expect(r.series.map((s) => [s.statement_id, s.name, s.tags])).toEqual([[0, 'cpu', { host: 'a' }], [0, 'cpu', { host: 'b' }], [2, 'databases', undefined]]);
    expect(r.seriesCount).toBe(3);
    expect(r.length).toBe(5);
    expect(r.data).toBe(resp);
    expect(r.toJSON()).toBe(resp);
    expect(JSON.stringify(new InfluxDBResult({ results: [{ statement_id: 0 }] }))).toBe('{"results":[{"statement_id":0}]}');
    expect(String(r)).toBe('<InfluxDBResult [q="SELECT v FROM cpu GROUP BY host; SHOW DATABASES"]>');
  });

  it('show() dumps each series as a tab-separated table under a header naming it', () => {
    const text = new InfluxDBResult(resp).show();
    expect(text).toBe([
      '== statement 0: cpu,host=a (2 rows) ==',
      'time\tv\ti',
      '1\t0.5\t1',
      `2\t\t${BIG}`,
      '== statement 0: cpu,host=b (1 row) ==',
      'time\tv\ti',
      '3\t1.5\t-1',
      '== statement 1: no series ==',
      '== statement 2: databases (2 rows) ==',
      'name',
      '_internal',
      'db\\twith tab',
    ].join('\n'));
  });

  it('show() limits the rows per series', () => {
    const many: QueryResponse = { results: [{ statement_id: 0, series: [{ name: 'm', columns: ['time', 'v'], values: Array.from({ length: 5 }, (_, i) => [i, i]) }] }] };
    expect(showResponse(many, { maxRows: 2 }).split('\n')).toEqual(['== statement 0: m (5 rows) ==', 'time\tv', '0\t0', '1\t1', '... 3 more rows']);
    expect(showResponse(many, { maxRows: Infinity }).split('\n')).toHaveLength(7);
  });

  it('seriesLabel is aioinflux name: measurement then sorted tags', () => {
    expect(seriesLabel({ name: 'cpu', tags: { z: '1', a: 'x,y' } })).toBe('cpu,a=x,y,z=1');
    expect(seriesLabel({ name: 'cpu' })).toBe('cpu');
    expect(seriesLabel({ tags: { a: '1' } })).toBe('a=1');
    expect(seriesLabel({})).toBe('');
  });
});

describe('InfluxDBChunkedResult', () => {
  const chunk1: QueryResponse = { results: [{ statement_id: 0, series: [{ name: 'm', columns: ['time', 'v'], values: [[1, 1], [2, 2]], partial: true }], partial: true }] };
  const chunk2: QueryResponse = { results: [{ statement_id: 0, series: [{ name: 'm', columns: ['time', 'v'], values: [[3, 3]] }] }] };

  it('iterates points across chunks with for await', async () => {
    const points: QueryValue[][] = [];
    for await (const p of new InfluxDBChunkedResult(chunksOf(chunk1, chunk2))) points.push(p);
    expect(points).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('applies the parser to every point', async () => {
    const r = new InfluxDBChunkedResult(chunksOf(chunk1, chunk2), { parser: (x, meta) => ({ [meta.columns[1]!]: x[1] }) });
    const points: unknown[] = [];
    for await (const p of r) points.push(p);
    expect(points).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
  });

  it('iterchunks() yields the raw chunks, or InfluxDBResults with wrap', async () => {
    const raw: QueryResponse[] = [];
    for await (const c of new InfluxDBChunkedResult(chunksOf(chunk1, chunk2)).iterchunks()) raw.push(c);
    expect(raw).toEqual([chunk1, chunk2]);
    const wrapped: InfluxDBResult[] = [];
    for await (const c of new InfluxDBChunkedResult(chunksOf(chunk1, chunk2), { query: 'q' }).iterchunks({ wrap: true })) wrapped.push(c);
    expect(wrapped.map((w) => [w.query, w.length])).toEqual([['q', 2], ['q', 1]]);
  });

  it('is single-use: a second iteration throws a clear error', async () => {
    const r = new InfluxDBChunkedResult(chunksOf(chunk1, chunk2));
    expect(r.consumed).toBe(false);
    for await (const _ of r) { /* drain */ }
    expect(r.consumed).toBe(true);
    await expect(async () => {
      for await (const _ of r) { /* never */ }
    }).rejects.toThrow(InfluxDBError);
    expect(() => r.iterchunks()).toThrow(/can be read only once/);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<QueryResponse> {
      try {
        yield chunk1;
        yield chunk2;
      } finally {
        closed = true;
      }
    }
    for await (const p of new InfluxDBChunkedResult(source())) {
      expect(p).toEqual([1, 1]);
      break;
    }
    expect(closed).toBe(true);
  });

  it('propagates errors of the stream', async () => {
    async function* failing(): AsyncGenerator<QueryResponse> {
      yield chunk1;
      throw new Error('connection reset');
    }
    const seen: unknown[] = [];
    await expect(async () => {
      for await (const p of new InfluxDBChunkedResult(failing())) seen.push(p);
    }).rejects.toThrow('connection reset');
    expect(seen).toEqual([[1, 1], [2, 2]]);
  });
});
