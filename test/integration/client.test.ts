/**
 * The async client against the real influxd started by globalSetup: aioinflux's TL;DR,
 * every write input, exact round trips, queries (raw, chunked, multi-statement, params),
 * errors, db switching and close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientClosedError, InfluxDBClient, InfluxDBConnectionError, InfluxDBQueryError, InfluxDBWriteError, InvalidPointError,
  type Point, type QueryResponse,
} from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;

function rows(r: QueryResponse, statement = 0, series = 0): unknown[][] {
  return r.results[statement]?.series?.[series]?.values ?? [];
}

beforeAll(async () => {
  db = uniqueDb('client');
  client = new InfluxDBClient({ url, db });
  await client.createDatabase();
});

afterAll(async () => {
  await client.dropDatabase(db);
  await client.close();
});

describe('aioinflux TL;DR', () => {
  it('creates a database, writes a point and queries it back', async () => {
    const point = {
      time: '2009-11-10T23:00:00Z',
      measurement: 'cpu_load_short',
      tags: { host: 'server01', region: 'us-west' },
      fields: { value: 0.64 },
    };
    const c = new InfluxDBClient({ url, db: uniqueDb('tldr') });
    await c.createDatabase({ db: c.db });
    await expect(c.write(point)).resolves.toBe(true);
    const resp = await c.query('SELECT value FROM cpu_load_short');
    expect(resp).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'cpu_load_short', columns: ['time', 'value'], values: [['2009-11-10T23:00:00Z', 0.64]] }] }],
    });
    await c.dropDatabase();
    await c.close();
  });
});

describe('ping', () => {
  it('returns the version, build and duration', async () => {
    const r = await client.ping();
    expect(r.version).toMatch(/^1\.6\.7/);
    expect(r.build).toBe('OSS');
    expect(r.durationMs).toBeGreaterThan(0);
  });
});

describe('write inputs', () => {
  it('accepts line protocol as a string, a Buffer and a Uint8Array', async () => {
    await client.write('lp,src=string v=1 1000\nlp,src=string v=2 2000\n');
    await client.write(Buffer.from('lp,src=buffer v=3 3000'));
    await client.write(new TextEncoder().encode('lp,src=u8 v=4 4000'));
    const r = await client.query('SELECT v, src FROM lp', { epoch: 'n' });
    expect(rows(r)).toEqual([[1000, 1, 'string'], [2000, 2, 'string'], [3000, 3, 'buffer'], [4000, 4, 'u8']]);
  });

  it('accepts arrays, generators and async generators of mixed items', async () => {
    function* gen() {
      yield { measurement: 'mixed', time: 1n, fields: { v: 1 } };
      yield 'mixed v=2 2';
    }
    async function* agen() {
      yield { time: 3, fields: { v: 3 } };
      yield Buffer.from('mixed v=4 4');
    }
    await client.write([{ measurement: 'mixed', time: 0n, fields: { v: 0 } }, 'mixed v=0.5 5'], { precision: 'n' });
    await client.write(gen());
    await client.write(agen(), { measurement: 'mixed' });
    const r = await client.query('SELECT v FROM mixed', { epoch: 'n' });
    expect(rows(r)).toEqual([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 0.5]]);
  });

  it('merges extra tags into every point (aioinflux\'s keyword tags), the point\'s own tag winning', async () => {
    await client.write([
      { measurement: 'extra', time: 1, tags: { host: 'a' }, fields: { v: 1 } },
      { measurement: 'extra', time: 2, tags: { host: 'b', region: 'eu' }, fields: { v: 2 } },
    ], { tags: { region: 'us', asset_class: 'equities' } });
    const r = await client.query('SELECT v, host, region, asset_class FROM extra', { epoch: 'n' });
    expect(rows(r)).toEqual([[1, 1, 'a', 'us', 'equities'], [2, 2, 'b', 'eu', 'equities']]);
  });

  it('writes every field type, and integers only when asked', async () => {
    await client.write({
      measurement: 'types', time: 1n,
      fields: { f: 1, i: 42n, n: 7, s: 'he said "hi" \\o/', b: true, nothing: null },
    }, { fieldTypes: { n: 'integer' } });
    const keys = await client.showFieldKeys('types');
    expect(rows(keys)).toEqual([['b', 'boolean'], ['f', 'float'], ['i', 'integer'], ['n', 'integer'], ['s', 'string']]);
    const r = await client.query('SELECT * FROM types', { epoch: 'n' });
    expect(rows(r)).toEqual([[1, true, 1, 42, 7, 'he said "hi" \\o/']]);
  });

  it('accepts Date, ISO strings with nine fractional digits, numbers and bigints, in each precision', async () => {
    await client.write([
      { measurement: 'times', tags: { k: 'date' }, time: new Date('2024-01-01T00:00:00.123Z'), fields: { v: 1 } },
      { measurement: 'times', tags: { k: 'iso' }, time: '2024-01-01T00:00:00.123456789Z', fields: { v: 1 } },
      { measurement: 'times', tags: { k: 'offset' }, time: '2024-01-01T05:30:00.000000001+05:30', fields: { v: 1 } },
      { measurement: 'times', tags: { k: 'bigint' }, time: 1704067200123456789n, fields: { v: 1 } },
    ]);
    await client.write({ measurement: 'times', tags: { k: 'seconds' }, time: 1704067200, fields: { v: 1 } }, { precision: 's' });
    await client.write({ measurement: 'times', tags: { k: 'ms-date' }, time: new Date('2024-01-01T00:00:01.5Z'), fields: { v: 1 } }, { precision: 'ms' });
    const r = await client.query('SELECT v, k FROM times', { epoch: 'n' });
    const byTag = Object.fromEntries(rows(r).map(([t, , k]) => [k, t]));
    expect(byTag).toEqual({
      date: 1704067200123000000n,
      iso: 1704067200123456789n,
      offset: 1704067200000000001n,
      bigint: 1704067200123456789n,
      seconds: 1704067200000000000n,
      'ms-date': 1704067201500000000n,
    });
  });

  it('gives every point a timestamp from a clock that never repeats, so points do not overwrite each other', async () => {
    const points = Array.from({ length: 500 }, (_, i) => ({ measurement: 'notime', fields: { i } }));
    await client.write(points);
    const r = await client.query('SELECT count(i) FROM notime');
    expect(rows(r)[0]![1]).toBe(500);
  });

  it('reads raw line protocol as influxd does: CRLF line ends, newlines inside string fields', async () => {
    await client.write('crlf v=1 1\r\ncrlf v=2 2\r\n');
    await client.write('crlf s="two\nlines",v=3 3\ncrlf v=4 4', { db });
    // Split across bodies, the string with a newline stays whole.
    const small = new InfluxDBClient({ url, db, maxBodyBytes: 1024 });
    const lines = Array.from({ length: 100 }, (_, i) => `crlfs s="row ${i}\nsecond half",v=${i} ${i}`).join('\n');
    await small.write(lines);
    await small.close();
    const r = await client.query('SELECT v, s FROM crlf', { epoch: 'n' });
    expect(rows(r)).toEqual([[1, 1, null], [2, 2, null], [3, 3, 'two\nlines'], [4, 4, null]]);
    const r2 = await client.query('SELECT count(v) FROM crlfs');
    expect(rows(r2)[0]![1]).toBe(100);
    const r3 = await client.query('SELECT s FROM crlfs WHERE v = 42');
    expect(rows(r3)[0]![1]).toBe('row 42\nsecond half');
  });

  it('writes nothing and resolves for an empty input', async () => {
    await expect(client.write([])).resolves.toBe(true);
    await expect(client.write('\n  \n')).resolves.toBe(true);
  });
});

describe('exactness', () => {
  it('keeps nanosecond timestamps and int64 values near 2^63 exact through write and read', async () => {
    const max = 9223372036854775807n;
    const min = -9223372036854775808n;
    await client.write([
      { measurement: 'exact', time: 1704067200000000001n, fields: { i: max } },
      { measurement: 'exact', time: 1704067200000000002n, fields: { i: min } },
      { measurement: 'exact', time: 1704067200000000003n, fields: { i: 9007199254740993n } },
      { measurement: 'exact', time: '2024-01-01T00:00:00.000000004Z', fields: { i: 1n } },
    ]);
    const r = await client.query('SELECT i FROM "exact"', { epoch: 'n' });
    expect(rows(r)).toEqual([
      [1704067200000000001n, max],
      [1704067200000000002n, min],
      [1704067200000000003n, 9007199254740993n],
      [1704067200000000004n, 1],
    ]);
    // Without epoch the server returns RFC 3339 strings with all nine digits.
    const s = await client.query('SELECT i FROM "exact" WHERE i = 1');
    expect(rows(s)).toEqual([['2024-01-01T00:00:00.000000004Z', 1]]);
  });

  it('accepts timestamps at the edges of InfluxDB\'s range', async () => {
    const db2 = uniqueDb('edges');
    await client.createDatabase(db2);
    await client.write([
      { measurement: 'edge', time: 9223372036854775806n, fields: { i: 1n } },
      { measurement: 'edge', time: -9223372036854775806n, fields: { i: 2n } },
    ], { db: db2 });
    const r = await client.query('SELECT i FROM edge', { db: db2, epoch: 'n' });
    expect(rows(r)).toEqual([[-9223372036854775806n, 2], [9223372036854775806n, 1]]);
    await client.dropDatabase(db2);
  });

  it('reads naive date strings as UTC whatever TZ says', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(300);
      await client.write({ measurement: 'naive', time: '2024-07-01 12:00:00', fields: { v: 1 } });
      await client.write({ measurement: 'naive', time: '2024-01-01', fields: { v: 2 } });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    const r = await client.query('SELECT v FROM naive');
    expect(rows(r)).toEqual([['2024-01-01T00:00:00Z', 2], ['2024-07-01T12:00:00Z', 1]]);
  });
});

describe('bad input never reaches the wire', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['NaN', { fields: { v: Number.NaN } }, /field "v": NaN/],
    ['Infinity', { fields: { v: Infinity } }, /field "v": Infinity/],
    ['-Infinity', { fields: { v: -Infinity } }, /field "v": -Infinity/],
    ['an empty field set', { fields: {} }, /no field/],
    ['all-null fields', { fields: { a: null, b: undefined } }, /no field/],
    ['a newline in a tag value', { tags: { t: 'a\nb' }, fields: { v: 1 } }, /tag "t".*newline/],
    ['a newline in the measurement', { measurement: 'a\nb', fields: { v: 1 } }, /measurement.*newline/],
    ['a lone surrogate', { tags: { t: 'a\uD800' }, fields: { v: 1 } }, /surrogate/],
    ['a string over 64 KB', { fields: { s: 'x'.repeat(65 * 1024) } }, /64 KB/],
    ['int64 overflow', { fields: { i: 9223372036854775808n } }, /int64/],
    ['an unsafe integer', { fields: { n: 2 ** 53 + 2 } }, /safe integer/],
  ];
  for (const [what, point, message] of bad) {
    it(`rejects ${what}, naming the point and the field, and sends nothing`, async () => {
      const m = `bad_${what.replace(/\W+/g, '_')}`;
      const good = { measurement: m, time: 1, fields: { v: 1 } };
      const err = await client.write([good, good, { measurement: m, time: 2, ...(point as object) } as Point], { fieldTypes: { n: 'integer' } })
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidPointError);
      expect((err as InvalidPointError).code).toBe('FI_ERR_INVALID_POINT');
      expect((err as InvalidPointError).pointIndex).toBe(2);
      expect((err as Error).message).toMatch(/invalid point #2/);
      expect((err as Error).message).toMatch(message);
      const r = await rawQuery(url, `SELECT count(*) FROM "${m}"`, { db });
      expect(r.results?.[0]?.series).toBeUndefined();
    });
  }
});

describe('queries', () => {
  beforeAll(async () => {
    const points = [];
    for (let i = 0; i < 2500; i++) points.push({ measurement: 'big', tags: { host: `h${i % 3}` }, time: BigInt(i) * 1000n + 1704067200000000000n, fields: { i: BigInt(i), f: i / 4 } });
    await client.write(points);
  });

  it('streams a chunked answer larger than one chunk, parsed chunk by chunk', async () => {
    const chunks = await client.query('SELECT i, f FROM big', { chunked: true, chunkSize: 400, epoch: 'n' });
    let n = 0;
    let count = 0;
    let last = -1n;
    for await (const chunk of chunks) {
      n++;
      for (const row of rows(chunk)) {
        expect(typeof row[0]).toBe('bigint');
        expect(row[0] as bigint).toBeGreaterThan(last);
        last = row[0] as bigint;
        count++;
      }
    }
    expect(count).toBe(2500);
    expect(n).toBe(Math.ceil(2500 / 400));
  });

  it('lets a consumer stop a chunked stream early', async () => {
    const chunks = await client.query('SELECT i FROM big', { chunked: true, chunkSize: 100 });
    for await (const chunk of chunks) {
      expect(rows(chunk)).toHaveLength(100);
      break;
    }
    // The client still works afterwards (the socket was released, not leaked).
    await expect(client.ping()).resolves.toMatchObject({ build: 'OSS' });
  });

  it('runs several statements in one query', async () => {
    const r = await client.query('SELECT count(i) FROM big; SELECT max(i) FROM big');
    expect(r.results).toHaveLength(2);
    expect(rows(r, 0)[0]![1]).toBe(2500);
    expect(rows(r, 1)[0]![1]).toBe(2499);
    const r2 = await client.query(['SELECT count(i) FROM big', 'SELECT min(i) FROM big']);
    expect(rows(r2, 1)[0]![1]).toBe(0);
  });

  it('returns one series per GROUP BY tag', async () => {
    const r = await client.query('SELECT count(i) FROM big GROUP BY host');
    expect(r.results[0]!.series!.map((s) => s.tags)).toEqual([{ host: 'h0' }, { host: 'h1' }, { host: 'h2' }]);
  });

  it('binds parameters, with hostile values kept as values', async () => {
    const r = await client.query('SELECT count(i) FROM big WHERE host = $host', { params: { host: 'h1' } });
    expect(rows(r)[0]![1]).toBe(833);
    const evil = await client.query('SELECT count(i) FROM big WHERE host = $host', { params: { host: "h1' OR 1=1 --" } });
    expect(evil.results[0]!.series).toBeUndefined();
    const big = await client.query('SELECT count(i) FROM big WHERE i > $n', { params: { n: 2497n } });
    expect(rows(big)[0]![1]).toBe(2);
  });

  it('rejects an error reported inside a 200 answer', async () => {
    const err = await client.query('SELECT * FROM big', { db: 'no_such_db_here' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBQueryError);
    expect((err as InfluxDBQueryError).code).toBe('FI_ERR_QUERY');
    expect((err as InfluxDBQueryError).statementId).toBe(0);
    expect((err as Error).message).toMatch(/database not found: no_such_db_here/);
  });

  it('rejects a query the server cannot parse, with its message', async () => {
    const err = await client.query('SELEC nothing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBQueryError);
    expect((err as InfluxDBQueryError).status).toBe(400);
    expect((err as InfluxDBQueryError).serverMessage).toMatch(/error parsing query/);
  });
});

describe('write errors', () => {
  it('surfaces database not found (404) with the server message', async () => {
    const err = await client.write('m v=1 1', { db: 'does_not_exist_db' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect((err as InfluxDBWriteError).status).toBe(404);
    expect((err as Error).message).toMatch(/database not found: "does_not_exist_db"/);
    expect((err as InfluxDBWriteError).linesNotWritten).toBe(1);
  });

  it('refuses a line influxd cannot parse before sending anything, naming the line and influxd\'s reason', async () => {
    const err = await client.write('unparsed v=1 1\nunparsable line here\nunparsed v=3 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPointError);
    const e = err as InvalidPointError;
    expect(e.code).toBe('FI_ERR_INVALID_POINT');
    expect({ line: e.line, element: e.element, reason: e.reason, pointIndex: e.pointIndex }).toEqual({ line: 2, element: 'line', reason: 'invalid field format', pointIndex: 0 });
    expect(e.message).toBe('invalid line 2: invalid field format: "unparsable line here"');
    // Nothing reached the server: the good lines around it are not stored either.
    expect(rows(await client.query('SELECT count(v) FROM unparsed'))).toEqual([]);
  });

  it('keeps error messages short for a huge bad line, and when the server\'s message is huge', async () => {
    const huge = `huge v=oops=${'x'.repeat(20_000)} 1`;
    const bad = await client.write(huge).catch((e: unknown) => e) as InvalidPointError;
    expect(bad).toBeInstanceOf(InvalidPointError);
    expect(bad.message.length).toBeLessThan(300);
    // A type conflict names the measurement: 20,000 characters of it.
    const m = `h${'x'.repeat(20_000)}`;
    await client.write({ measurement: m, time: 1, fields: { v: 1.5 } });
    const err = await client.write({ measurement: m, time: 2, fields: { v: 'text' } }).catch((e: unknown) => e) as InfluxDBWriteError;
    expect(err.status).toBe(400);
    expect(err.message.length).toBeLessThan(4300);
    expect(err.message).toMatch(/more characters\)$/);
    expect(err.serverMessage.length).toBeGreaterThan(20_000);
  });

  it('reports a partial write: the good lines are stored, the count of the refused ones given', async () => {
    await client.write('pw v=0 1');
    const err = await client.write('pw v=1 1\npw v="text" 2\npw v=3 3').catch((e: unknown) => e) as InfluxDBWriteError;
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect(err.partial).toBe(true);
    expect(err.serverMessage).toMatch(/field type conflict.* dropped=1$/);
    expect(err.linesWritten).toBe(2);
    expect(err.linesNotWritten).toBe(1);
    const r = await client.query('SELECT count(v) FROM pw');
    expect(rows(r)[0]![1]).toBe(2);
  });

  it('reports a field type conflict as a rejected write', async () => {
    await client.write({ measurement: 'conflict', time: 1, fields: { v: 1.5 } });
    const err = await client.write({ measurement: 'conflict', time: 2, fields: { v: 'text' } }).catch((e: unknown) => e) as InfluxDBWriteError;
    expect(err.status).toBe(400);
    expect(err.serverMessage).toMatch(/field type conflict/);
  });

  it('fails with a connection error when nothing listens', async () => {
    const c = new InfluxDBClient({ host: '127.0.0.1', port: 1, db, timeout: 2000 });
    const err = await c.write('m v=1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect((err as InfluxDBConnectionError).reason).toBe('ECONNREFUSED');
    expect((err as InfluxDBConnectionError).retryable).toBe(true);
    await c.close();
  });
});

describe('large writes', () => {
  it('splits a large input into several requests under maxBodyBytes, all stored', async () => {
    const c = new InfluxDBClient({ url, db, maxBodyBytes: 64 * 1024 });
    const points = Array.from({ length: 20_000 }, (_, i) => ({ measurement: 'split', tags: { host: `host-${i % 7}` }, time: BigInt(i), fields: { i: BigInt(i), s: 'ok' } }));
    await c.write(points);
    const r = await c.query('SELECT count(i), sum(i) FROM split');
    expect(rows(r)[0]!.slice(1)).toEqual([20_000, (19_999 * 20_000) / 2]);
    await c.close();
  });
});

describe('retention policies, dispatcher, timeout', () => {
  it('writes to and queries a retention policy', async () => {
    await client.query(`CREATE RETENTION POLICY "short" ON "${db}" DURATION 1h REPLICATION 1`);
    const now = BigInt(Date.now()) * 1_000_000n;
    await client.write({ measurement: 'rpm', time: now, fields: { v: 1 } }, { rp: 'short' });
    expect(rows(await client.query('SELECT v FROM "short"."rpm"'))).toHaveLength(1);
    expect(rows(await client.query('SELECT v FROM rpm', { rp: 'short' }))).toHaveLength(1);
    expect(rows(await client.query('SELECT v FROM rpm'))).toHaveLength(0);
    const c = new InfluxDBClient({ url, db, rp: 'short' });
    expect(rows(await c.query('SELECT v FROM rpm'))).toHaveLength(1);
    await c.close();
  });

  it('sends requests through a caller\'s undici dispatcher', async () => {
    const { Agent } = await import('undici');
    let dispatched = 0;
    const agent = new Agent().compose((dispatch) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const c = new InfluxDBClient({ url, db, dispatcher: agent });
    await c.ping();
    await c.write('disp v=1 1');
    expect(rows(await c.query('SELECT v FROM disp', { epoch: 'n' }))).toEqual([[1, 1]]);
    expect(dispatched).toBe(3);
    await c.close();
    await agent.close();
  });

  it('puts credentials and tokens only in the Authorization header', async () => {
    const http = await import('node:http');
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    const capture = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url?.startsWith('/query') ? 200 : 204, { 'content-type': 'application/json' });
        res.end(req.url?.startsWith('/query') ? '{"results":[{"statement_id":0}]}' : '');
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    const port = (capture.address() as import('node:net').AddressInfo).port;
    const tok = new InfluxDBClient({ host: '127.0.0.1', port, db: 'x', token: 'tok-123' });
    await tok.write('m v=1 1');
    await tok.query('SHOW DATABASES');
    const basic = new InfluxDBClient(`http://u%40ser:p%3Ass@127.0.0.1:${port}/x`);
    await basic.ping();
    expect(seen.map((s) => s.auth)).toEqual(['Token tok-123', 'Token tok-123', `Basic ${Buffer.from('u@ser:p:ss').toString('base64')}`]);
    for (const s of seen) expect(s.url).not.toMatch(/tok-123|p:ss|p%3Ass|[?&][up]=/);
    await tok.close();
    await basic.close();
    await new Promise((resolve) => capture.close(resolve));
  });

  it('times out a server that never answers', async () => {
    const net = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const c = new InfluxDBClient({ host: '127.0.0.1', port, db, timeout: 300 });
    const started = Date.now();
    const err = await c.write('m v=1 1').catch((e: unknown) => e) as InfluxDBConnectionError;
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect(err.reason).toBe('deadline');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5000);
    await c.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

describe('database switching and lifecycle', () => {
  it('switches the database with client.db', async () => {
    const c = new InfluxDBClient({ url });
    const [a, b] = [uniqueDb('db1'), uniqueDb('db2')];
    await c.createDatabase(a);
    await c.createDatabase(b);
    c.db = a;
    await c.write('sw v=1 1');
    c.db = b;
    await c.write('sw v=2 1');
    expect(rows(await c.query('SELECT v FROM sw', { epoch: 'n' }))).toEqual([[1, 2]]);
    c.db = a;
    expect(rows(await c.query('SELECT v FROM sw', { epoch: 'n' }))).toEqual([[1, 1]]);
    await c.dropDatabase(a);
    await c.dropDatabase(b);
    await c.close();
  });

  it('rejects calls after close(), and supports await using', async () => {
    const c = new InfluxDBClient({ url, db });
    await c.ping();
    await c.close();
    await expect(c.ping()).rejects.toBeInstanceOf(ClientClosedError);
    await expect(c.write('m v=1')).rejects.toMatchObject({ code: 'FI_ERR_CLOSED' });
    await expect(c.query('SHOW DATABASES')).rejects.toThrow(/closed/);
    const d = new InfluxDBClient({ url, db });
    await d[Symbol.asyncDispose]();
    expect(d.closed).toBe(true);
  });

  it('needs a database for writes', async () => {
    const c = new InfluxDBClient({ url });
    await expect(c.write('m v=1')).rejects.toThrow(/no database/);
    await c.close();
  });
});
