/**
 * aioinflux's blocking mode against the real influxd started by globalSetup: every client method
 * returning its result instead of a promise, mode switching, state (db, precision …) following
 * the client, exact bigints and nanoseconds, Arrow both ways, the iterable output, errors rebuilt
 * as the same classes with the same messages as in async mode, what is refused (chunked,
 * writer(), async iterables), close() ending the worker, a script that exits by itself, and a
 * worker that dies or hangs in the middle of a call giving an error instead of a hang.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  BlockingWorkerError, ClientClosedError, InfluxDBClient, InfluxDBConnectionError, InfluxDBQueryError, InfluxDBResult,
  InfluxDBWriteError, InvalidOptionError, InvalidPointError, InvalidQueryError,
  type ArrowResult, type PingResult, type QueryResponse, type TagInfo, type WriteReport,
} from '../../src/index.js';
import { blockingInternals } from '../../src/blocking/channel.js';
import { blockingWorkerFile } from '../../src/blocking/worker-file.js';
import { kCrashForTestPrefix } from '../../src/blocking/slots.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

// Read by the worker when it starts: lets the crash-for-test queries below kill it mid-call.
process.env.FASTINFLUX_BLOCKING_TEST = '1';

const url = sharedInfluxUrl();
const db = uniqueDb('blocking');
let client: InfluxDBClient<'raw', 'blocking'>;
/** The same server through an async client: what blocking results and errors must equal. */
let ref: InfluxDBClient;

const values = (r: QueryResponse, statement = 0, series = 0): unknown[][] => r.results[statement]?.series?.[series]?.values ?? [];

/** What an error carries: class, own properties, message. */
function describeError(e: unknown): Record<string, unknown> {
  const err = e as Error & Record<string, unknown>;
  return { class: err.constructor.name, name: err.name, message: err.message, ...Object.fromEntries(Object.entries(err)) };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  client = new InfluxDBClient({ url, db, mode: 'blocking' });
  ref = new InfluxDBClient({ url, db });
  client.createDatabase();
});

afterAll(async () => {
  await rawQuery(url, `DROP DATABASE "${db}"`);
  await ref.close();
});

describe('aioinflux\'s example', () => {
  it('ping, write and query return their results, not promises', () => {
    const point = { time: '2009-11-10T23:00:00Z', measurement: 'cpu_load_short', tags: { host: 'server01', region: 'us-west' }, fields: { value: 0.64 } };
    const pong = client.ping();
    expect(pong).not.toBeInstanceOf(Promise);
    expect(pong.version).toMatch(/^1\./);
    expect(pong.durationMs).toBeGreaterThan(0);
    expect(client.write(point)).toBe(true);
    expect(client.query('SELECT value FROM cpu_load_short')).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'cpu_load_short', columns: ['time', 'value'], values: [['2009-11-10T23:00:00Z', 0.64]] }] }],
    });
    // Types only (the functions are not called): TypeScript knows what each mode returns.
    expectTypeOf(() => client.ping()).returns.toEqualTypeOf<PingResult>();
    expectTypeOf(() => client.write(point)).returns.toEqualTypeOf<true>();
    expectTypeOf(() => client.query('SELECT * FROM m')).returns.toEqualTypeOf<QueryResponse>();
    expectTypeOf(() => client.query('SELECT * FROM m', { output: 'arrow' })).returns.toEqualTypeOf<ArrowResult>();
    expectTypeOf(() => client.getTagInfo()).returns.toEqualTypeOf<TagInfo>();
    expectTypeOf(() => client.showDatabases()).returns.toEqualTypeOf<QueryResponse>();
    expectTypeOf(() => ref.ping()).returns.toEqualTypeOf<Promise<PingResult>>();
    expectTypeOf(() => ref.showDatabases()).returns.toEqualTypeOf<Promise<QueryResponse>>();
  });
});

describe('exact values', () => {
  it('int64 extremes and nanosecond times, as the async client reads them', async () => {
    client.write([
      'exactvals,t=a i=9223372036854775807i,f=1.5,s="x y",b=true 1704067200000000001',
      { measurement: 'exactvals', tags: { t: 'b' }, time: 1704067200123456789n, fields: { i: -9223372036854775808n, f: 0.1, s: 'é"\\', b: false } },
      { measurement: 'exactvals', tags: { t: 'c' }, time: '2024-01-01T00:00:00.999999999Z', fields: { i: 2n ** 53n + 1n } },
    ]);
    const r = client.query('SELECT * FROM exactvals', { epoch: 'n' });
    expect(values(r)).toEqual([
      [1704067200000000001n, true, 1.5, 9223372036854775807n, 'x y', 'a'],
      [1704067200123456789n, false, 0.1, -9223372036854775808n, 'é"\\', 'b'],
      [1704067200999999999n, null, null, 9007199254740993n, null, 'c'],
    ]);
    expect(r).toEqual(await ref.query('SELECT * FROM exactvals', { epoch: 'n' }));
    expect(client.query('SELECT * FROM exactvals')).toEqual(await ref.query('SELECT * FROM exactvals'));
  });
});

describe('write inputs', () => {
  it('line protocol as text and bytes (a view into a larger buffer), generators, options, WriteReport', () => {
    const big = Buffer.from('xxxxinputs,src=view v=2 2000\nyyyy');
    expect(client.write('inputs,src=text v=1 1000')).toBe(true);
    expect(client.write(big.subarray(4, 29))).toBe(true);
    function* gen() {
      yield { time: 3000n, fields: { v: 3 } };
      yield 'inputs,src=gen v=4 4000';
    }
    expect(client.write(gen(), { measurement: 'inputs', tags: { src: 'gen' } })).toBe(true);
    expect(client.write(new Set([{ measurement: 'inputs', tags: { src: 'set' }, time: 5, fields: { v: 5 } }]), { precision: 's' })).toBe(true);
    const report = client.write([{ measurement: 'inputs', time: 6000n, tags: { src: 'skip' }, fields: { v: 6 } }, { measurement: 'inputs', fields: { v: null } }], { invalidRows: 'skip' });
    expect(report).toEqual({ written: 1, skipped: 1, skippedRows: [1] });
    expectTypeOf(report).toEqualTypeOf<WriteReport>();
    expect(values(client.query('SELECT v, src FROM inputs', { epoch: 'n' }))).toEqual([
      [1000, 1, 'text'], [2000, 2, 'view'], [3000, 3, 'gen'], [4000, 4, 'gen'], [6000, 6, 'skip'], [5_000_000_000, 5, 'set'],
    ]);
  });

  it('Arrow tables, record batches and iterables of batches (sent as IPC)', () => {
    const table = new A.Table({
      time: A.makeVector(A.makeData({ type: new A.Timestamp(A.TimeUnit.NANOSECOND, 'UTC'), length: 3, data: BigInt64Array.from([1n, 2n, 1704067200000000003n]) })),
      host: A.vectorFromArray(['a', 'b', 'a'], new A.Dictionary(new A.Utf8(), new A.Int32())),
      usage: A.vectorFromArray([0.5, null, 0.25], new A.Float64()),
      count: A.vectorFromArray([1n, 9223372036854775807n, -3n], new A.Int64()),
      note: A.vectorFromArray(['x', 'y z', null], new A.Utf8()),
    });
    expect(client.write(table, { measurement: 'arrow_in', tags: { src: 'table' } })).toBe(true);
    expect(client.write(table.batches[0]!, { measurement: 'arrow_in', tags: { src: 'batch' }, encoder: 'ts' })).toBe(true);
    expect(client.write([table.batches[0]!], { measurement: 'arrow_in', tags: { src: 'batches' }, encoder: 'wasm' })).toBe(true);
    const r = client.query('SELECT * FROM arrow_in GROUP BY src', { epoch: 'n' });
    const expected = [[1, 1, 'a', 'x', 0.5], [2, 9223372036854775807n, 'b', 'y z', null], [1704067200000000003n, -3, 'a', null, 0.25]];
    expect(r.results[0]!.series!.map((s) => [s.tags, s.values])).toEqual(['batch', 'batches', 'table'].map((src) => [{ src }, expected]));
    const bad = new A.Table({ v: A.vectorFromArray([1, Number.NaN], new A.Float64()) });
    expect(describeError(thrown(() => client.write(bad, { measurement: 'arrow_in' })))).toMatchObject({ class: 'InvalidPointError', pointIndex: 1, key: 'v' });
  });

  it('refuses async iterables and values that cannot cross threads, clearly', () => {
    async function* agen() {
      yield 'x v=1';
    }
    expect(() => client.write(agen())).toThrow(InvalidOptionError);
    expect(() => client.write(agen())).toThrow(/async iterable/);
    expect(() => client.write({ measurement: 'm', fields: { v: 1 }, extra: () => 1 } as never)).toThrow(/^write\(\) in blocking mode got a value that cannot be sent to the worker thread/);
  });

  it('a function as a field value is the same InvalidPointError as in async mode', async () => {
    const points = [{ measurement: 'm', fields: { v: 1 } }, { measurement: 'm', fields: { v: 1, f: () => 1 } }] as never;
    const e = thrown(() => client.write(points));
    expect(e).toBeInstanceOf(InvalidPointError);
    expect(describeError(e)).toEqual(describeError(await ref.write(points).catch((x: unknown) => x)));
  });
});

describe('queries and output formats', () => {
  beforeAll(() => {
    client.write(['out,host=a v=1 1', 'out,host=b v=2 2', 'out,host=a v=3 3']);
  });

  it('several statements, an array of them, bind parameters', () => {
    const r = client.query(['SELECT count(v) FROM out', 'SELECT max(v) FROM out'], { epoch: 'n' });
    expect(r.results.length).toBe(2);
    expect(values(r, 0)).toEqual([[0, 3]]);
    expect(values(r, 1)).toEqual([[3, 3]]);
    expect(values(client.query('SELECT v FROM out WHERE host = $h', { params: { h: 'b' }, epoch: 'n' }))).toEqual([[2, 2]]);
  });

  it('arrow: a Table with exact ns times, a Map for GROUP BY, an array for several statements, as async', async () => {
    const t = client.query('SELECT * FROM out', { output: 'arrow' }) as A.Table;
    expect(t).toBeInstanceOf(A.Table);
    expect([...t.getChild('time')!.data[0]!.values as BigInt64Array]).toEqual([1n, 2n, 3n]);
    expect(t.schema.metadata.get('measurement')).toBe('out');
    const same = await ref.query('SELECT * FROM out', { output: 'arrow' }) as A.Table;
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(same.schema.fields.map((f) => `${f.name}:${String(f.type)}`));
    expect(t.toArray().map((r) => r.toJSON())).toEqual(same.toArray().map((r) => r.toJSON()));
    const byHost = client.query('SELECT v FROM out GROUP BY host', { output: 'dataframe' }) as Map<string, A.Table>;
    expect(byHost).toBeInstanceOf(Map);
    expect([...byHost.keys()]).toEqual(['out,host=a', 'out,host=b']);
    expect(byHost.get('out,host=a')!.getChild('v')!.toArray()).toEqual(Float64Array.from([1, 3]));
    const several = client.query(['SELECT v FROM out', 'SELECT v FROM out GROUP BY host', 'SELECT v FROM nothing_here'], { output: 'arrow' }) as unknown[];
    expect(several.length).toBe(3);
    expect(several[0]).toBeInstanceOf(A.Table);
    expect(several[1]).toBeInstanceOf(Map);
    expect(several[2]).toEqual(new Map());
  });

  it('iterable: an InfluxDBResult, with a parser run in the calling thread', () => {
    const r = client.query('SELECT v, host FROM out', { output: 'iterable', epoch: 'n' });
    expect(r).toBeInstanceOf(InfluxDBResult);
    expect([...r]).toEqual([[1, 1, 'a'], [2, 2, 'b'], [3, 3, 'a']]);
    const parsed = client.query('SELECT v FROM out', { output: 'iterable', parser: (x, meta) => `${meta.name}:${String(x[1])}` });
    expect(parsed.toArray()).toEqual(['out:1', 'out:2', 'out:3']);
    client.output = 'iterable';
    try {
      expect(client.query('SELECT v FROM out')).toBeInstanceOf(InfluxDBResult);
    } finally {
      client.output = 'raw';
    }
  });

  it('chunked queries are refused with a clear InvalidOptionError', () => {
    const e = thrown(() => client.query('SELECT * FROM out', { chunked: true }));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toMatch(/^chunked queries are not available in blocking mode/);
  });
});

describe('query patterns, tag info, databases', () => {
  it('every built-in pattern, custom patterns and getTagInfo', () => {
    const other = uniqueDb('blocking_other');
    client.createDatabase({ db: other });
    expect(values(client.showDatabases()).flat()).toContain(other);
    expect(values(client.showRetentionPolicies(other))[0]![0]).toBe('autogen');
    client.write(['pat,host=a,dc=x v=1 1', 'pat,host=b,dc=y v=2 2', 'gone v=1 1']);
    expect(values(client.showMeasurements()).flat()).toEqual(expect.arrayContaining(['pat', 'gone']));
    expect(values(client.showSeries('pat')).flat()).toEqual(['pat,dc=x,host=a', 'pat,dc=y,host=b']);
    expect(values(client.showSeries()).flat()).toContain('gone');
    expect(values(client.showTagKeys('pat')).flat()).toEqual(['dc', 'host']);
    expect(client.showTagKeys().results[0]!.series!.length).toBeGreaterThan(1);
    expect(values(client.showFieldKeys('pat'))).toEqual([['v', 'float']]);
    expect(client.showFieldKeys().results[0]!.series!.length).toBeGreaterThan(1);
    expect(values(client.showTagValues('host')).length).toBeGreaterThan(1);
    expect(values(client.showTagValuesFrom('pat', { key: 'host' }))).toEqual([['host', 'a'], ['host', 'b']]);
    expect(client.showUsers().results[0]!.series![0]!.columns).toEqual(['user', 'admin']);
    expect(client.showContinuousQueries().results[0]!.statement_id).toBe(0);
    client.dropMeasurement('gone');
    expect(values(client.showMeasurements()).flat()).not.toContain('gone');
    const info = client.getTagInfo();
    expect(info.pat).toEqual({ dc: ['x', 'y'], host: ['a', 'b'] });
    expect(Object.getPrototypeOf(info)).toBeNull();
    const hostLoad = client.setQueryPattern('hostLoad', "SELECT v FROM {m} WHERE host = '{host}' AND v > {min:number}");
    expect(values(hostLoad('pat', { host: 'b', min: 1 }))).toEqual([['1970-01-01T00:00:00.000000002Z', 2]]);
    expect(client.queryPattern('hostLoad', 'pat', 'a', 0)).toEqual(client.query(client.renderQueryPattern('hostLoad', 'pat', 'a', 0)));
    expect(() => client.queryPattern('nope')).toThrow(InvalidQueryError);
    client.invalidateSchema();
    client.dropDatabase(other);
    expect(values(client.showDatabases()).flat()).not.toContain(other);
  });
});

describe('mode and state', () => {
  it('switches on the fly: client.mode = … and setMode()', async () => {
    const c = new InfluxDBClient({ url, db });
    expect(c.mode).toBe('async');
    const p = c.ping();
    expect(p).toBeInstanceOf(Promise);
    await p;
    c.mode = 'blocking';
    expect((c.ping() as unknown as PingResult).build).toBe('OSS');
    c.mode = 'async';
    expect(c.showMeasurements()).toBeInstanceOf(Promise);
    const b = c.setMode('blocking');
    expectTypeOf(b).toEqualTypeOf<InfluxDBClient<'raw', 'blocking'>>();
    expect(b).toBe(c);
    expect(values(b.query('SELECT v FROM out WHERE host = \'b\'', { epoch: 'n' }))).toEqual([[2, 2]]);
    expect(() => (c.mode = 'sync' as never)).toThrow("mode must be one of 'async', 'blocking' (got \"sync\")");
    expect(c.toJSON().mode).toBe('blocking');
    b.close();
    await expect(c.setMode('async').ping()).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('db, rp, precision and encoder set on the client follow into the worker', () => {
    const other = uniqueDb('blocking_state');
    client.createDatabase({ db: other });
    client.db = other;
    client.precision = 's';
    try {
      client.write('st v=1 1');
      expect(values(client.query('SELECT v FROM st', { epoch: 'n' }))).toEqual([[1_000_000_000, 1]]);
      client.encoder = 'ts';
      client.write({ measurement: 'st', time: 2, fields: { v: 2 } });
      expect(values(client.query('SELECT v FROM st', { epoch: 's' }))).toEqual([[1, 1], [2, 2]]);
    } finally {
      client.db = db;
      client.precision = 'n';
      client.encoder = 'auto';
      client.dropDatabase(other);
    }
    expect(values(client.query('SELECT v FROM st'))).toEqual([]);
  });

  it('writer() is refused in blocking mode', () => {
    expect(() => client.writer()).toThrow(InvalidOptionError);
    expect(() => client.writer()).toThrow(/^client\.writer\(\) is not available in blocking mode/);
  });
});

describe('errors: the same classes, codes, messages and properties as async mode', () => {
  it('a server error (a bad query, a missing database)', async () => {
    const e = thrown(() => client.query('SELEC nothing'));
    expect(e).toBeInstanceOf(InfluxDBQueryError);
    const a = await ref.query('SELEC nothing').catch((x: unknown) => x);
    expect(describeError(e)).toEqual(describeError(a));
    expect(describeError(e)).toMatchObject({ code: 'FI_ERR_QUERY', status: 400, endpoint: 'query' });
    expect((e as InfluxDBQueryError).isAuthError).toBe(false);
    expect(e.stack).toContain('called from');

    const w = thrown(() => client.write('m v=1', { db: 'no_such_db_blocking' }));
    expect(w).toBeInstanceOf(InfluxDBWriteError);
    expect(describeError(w)).toEqual(describeError(await ref.write('m v=1', { db: 'no_such_db_blocking' }).catch((x: unknown) => x)));
    expect(describeError(w)).toMatchObject({ status: 404, linesNotWritten: 1 });

    const st = thrown(() => client.query(['SELECT * FROM out', 'SELECT * FROM out WHERE time > now() - bad']));
    expect(describeError(st)).toEqual(describeError(await ref.query(['SELECT * FROM out', 'SELECT * FROM out WHERE time > now() - bad']).catch((x: unknown) => x)));
  });

  it('a bad point: InvalidPointError with the same message as async', async () => {
    const bad = [{ measurement: 'm', fields: { v: 1 } }, { measurement: 'm', fields: { v: Number.NaN } }];
    const e = thrown(() => client.write(bad));
    expect(e).toBeInstanceOf(InvalidPointError);
    expect(describeError(e)).toEqual(describeError(await ref.write(bad).catch((x: unknown) => x)));
    expect(describeError(e)).toMatchObject({ code: 'FI_ERR_INVALID_POINT', pointIndex: 1, element: 'fields', key: 'v' });
    // Option errors are thrown before anything crosses, with async's messages.
    const o = thrown(() => client.write('m v=1', { precision: 'x' as never }));
    expect(describeError(o)).toEqual(describeError(await ref.write('m v=1', { precision: 'x' as never }).catch((x: unknown) => x)));
  });

  it('connection refused', async () => {
    const dead = new InfluxDBClient({ host: '127.0.0.1', port: 1, db, mode: 'blocking' });
    const deadAsync = new InfluxDBClient({ host: '127.0.0.1', port: 1, db });
    const e = thrown(() => dead.ping());
    expect(e).toBeInstanceOf(InfluxDBConnectionError);
    expect(describeError(e)).toEqual(describeError(await deadAsync.ping().catch((x: unknown) => x)));
    expect(describeError(e)).toMatchObject({ reason: 'ECONNREFUSED', retryable: true });
    expect((e.cause as { code?: string }).code).toBe('ECONNREFUSED');
    dead.close();
    await deadAsync.close();
  });
});

describe('the worker', () => {
  it('close() ends the worker; later calls throw ClientClosedError', async () => {
    const before = new Set(blockingInternals.liveWorkers);
    const c = new InfluxDBClient({ url, db, mode: 'blocking' });
    c.ping();
    const mine = [...blockingInternals.liveWorkers].filter((id) => !before.has(id));
    expect(mine.length).toBe(1);
    // A promise in both modes, but the client is closed and the worker told to end at once.
    const closing = c.close();
    expect(closing).toBeInstanceOf(Promise);
    expect(() => c.ping()).toThrow(ClientClosedError);
    await expect.poll(() => blockingInternals.liveWorkers.has(mine[0]!), { timeout: 5000 }).toBe(false);
    await closing;
  });

  it('a script in blocking mode exits by itself, with or without close()', () => {
    // The package as plain JavaScript: the transpiled copy the worker itself runs from.
    const index = join(dirname(dirname(fileURLToPath(blockingWorkerFile()))), 'index.js');
    const script = `
      import { InfluxDBClient } from ${JSON.stringify(index)};
      const a = new InfluxDBClient({ url: ${JSON.stringify(url)}, db: ${JSON.stringify(db)}, mode: 'blocking' });
      a.write('script v=1 1');
      const n = a.query('SELECT count(v) FROM script').results[0].series[0].values[0][1];
      const b = new InfluxDBClient({ url: ${JSON.stringify(url)}, mode: 'blocking' });
      b.ping();
      b.close();
      console.log('count', n);
      // a is never closed: its worker is unref'd and must not keep the process alive.
    `;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('count 1');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a worker that exits mid-call gives an error, and the next call starts a new worker', () => {
    const c = new InfluxDBClient({ url, db, mode: 'blocking' });
    c.ping();
    const e = thrown(() => c.query(`${kCrashForTestPrefix}exit`));
    expect(e).toBeInstanceOf(BlockingWorkerError);
    expect((e as BlockingWorkerError).code).toBe('FI_ERR_BLOCKING_WORKER');
    expect(e.message).toMatch(/worker thread exited with code 70 during query\(\)/);
    expect(c.ping().build).toBe('OSS');
    const u = thrown(() => c.query(`${kCrashForTestPrefix}uncaught`));
    expect(u).toBeInstanceOf(BlockingWorkerError);
    expect(u.message).toMatch(/exited with code 1 \(Error: test: uncaught exception in the blocking worker\)/);
    expect(c.ping().build).toBe('OSS');
    c.close();
  });

  it('a worker stuck in synchronous code gives an error after the stall timeout', () => {
    const c = new InfluxDBClient({ url, db, mode: 'blocking' });
    c.ping();
    const saved = blockingInternals.stallTimeoutMs;
    blockingInternals.stallTimeoutMs = 1000;
    try {
      const started = Date.now();
      const e = thrown(() => c.query(`${kCrashForTestPrefix}hang`));
      expect(e).toBeInstanceOf(BlockingWorkerError);
      expect(e.message).toMatch(/stopped responding during query\(\)/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      blockingInternals.stallTimeoutMs = saved;
    }
    expect(c.ping().build).toBe('OSS');
    c.close();
  });
});

describe('closing the shared client', () => {
  it('close() closes at once, before its promise settles', async () => {
    const closing = client.close();
    expect(client.closed).toBe(true);
    expect(() => client.query('SELECT 1')).toThrow(ClientClosedError);
    expect(() => client.write('m v=1')).toThrow(ClientClosedError);
    await closing;
  });
});
