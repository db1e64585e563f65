/**
 * Careless callers (issue 11), against the real influxd (through the fault proxy where a request
 * must fail):
 * - a polluted Object.prototype reaches no point written by client.write() (every encoder) or the
 *   batch writer: only own properties are tags and fields (the pollution is undone in `finally`);
 * - query pattern names that would shadow a client member or make the client a thenable are refused;
 * - close() called twice: both calls settle when closing is done (writers flushed);
 * - a multi-request write() whose third request is reset says how far it got: lines acknowledged,
 *   lines that may or may not be stored, lines never sent; what the server stored is queried back;
 *   a third request answered with Enterprise's 500 `hinted handoff queue not empty` counts as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InfluxDBClient, InfluxDBConnectionError, InfluxDBError, InfluxDBWriteError, InvalidOptionError, type Point,
} from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const proto = Object.prototype as Record<string, unknown>;
let db: string;
let admin: InfluxDBClient;

beforeAll(async () => {
  db = uniqueDb('callers');
  admin = new InfluxDBClient({ url, db });
  await admin.createDatabase();
});

afterAll(async () => {
  await admin.dropDatabase(db);
  await admin.close();
});

/** `fn()` with `Object.prototype.injected = 'evil'`, removed whatever happens. */
async function polluted<T>(fn: () => Promise<T>): Promise<T> {
  expect(Object.hasOwn(proto, 'injected')).toBe(false);
  proto.injected = 'evil';
  try {
    return await fn();
  } finally {
    delete proto.injected;
  }
}

/** The tag keys and field keys the server holds for a measurement. */
async function keysOf(measurement: string): Promise<{ tags: string[]; fields: string[] }> {
  const tags = await rawQuery(url, `SHOW TAG KEYS FROM "${measurement}"`, { db });
  const fields = await rawQuery(url, `SHOW FIELD KEYS FROM "${measurement}"`, { db });
  return {
    tags: (tags.results?.[0]?.series?.[0]?.values ?? []).map((r) => String(r[0])).sort(),
    fields: (fields.results?.[0]?.series?.[0]?.values ?? []).map((r) => String(r[0])).sort(),
  };
}

async function countOf(measurement: string, database = db): Promise<number> {
  const r = await rawQuery(url, `SELECT count(v) FROM "${measurement}"`, { db: database });
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

const points = (n: number): Point[] => Array.from({ length: n }, (_, i) => ({
  tags: { host: `h${i % 3}` },
  fields: Object.assign(Object.create({ inherited: 1 }) as Record<string, number>, { v: i }),
  time: 1_600_000_000_000 + i,
}));

describe('a polluted Object.prototype', () => {
  it.each(['ts', 'wasm', 'auto'] as const)('client.write() with encoder %s writes only own tags and fields', async (encoder) => {
    const m = `polluted_write_${encoder}`;
    const c = new InfluxDBClient({ url, db, precision: 'ms', encoder });
    try {
      // The encoder pool's workers start before the pollution: under vitest, a worker started
      // while Object.prototype is polluted fails in vitest's own worker setup (plain node is fine).
      if (encoder === 'wasm') await c.write(points(1), { measurement: m });
      await polluted(() => c.write(points(50), { measurement: m }));
    } finally {
      await c.close();
    }
    expect(await keysOf(m)).toEqual({ tags: ['host'], fields: ['v'] });
    expect(await countOf(m)).toBe(50);
  });

  it('the batch writer writes only own tags and fields', async () => {
    const m = 'polluted_writer';
    const c = new InfluxDBClient({ url, db, precision: 'ms' });
    try {
      await polluted(async () => {
        const w = c.writer({ batchSize: 20, flushIntervalMs: 60_000 });
        await w.write(points(50).map((p) => ({ ...p, measurement: m })));
        await w.close();
      });
    } finally {
      await c.close();
    }
    expect(await keysOf(m)).toEqual({ tags: ['host'], fields: ['v'] });
    expect(await countOf(m)).toBe(50);
  });
});

describe('query pattern names', () => {
  const c = new InfluxDBClient({ url, db });
  afterAll(() => c.close());

  it.each(['then', 'catch', 'finally'])('refuses %s (the promise protocol), saying why', (name) => {
    expect(() => c.setQueryPattern(name, 'SHOW DATABASES')).toThrow(InvalidOptionError);
    expect(() => c.setQueryPattern(name, 'SHOW DATABASES')).toThrow(new RegExp(`"${name}" is refused: .*thenable`));
    expect(Object.hasOwn(c, name)).toBe(false);
  });

  it('the client stays a plain value: an async function returning it settles with it', async () => {
    try {
      c.setQueryPattern('then', 'SHOW DATABASES');
    } catch {
      // refused, as above
    }
    async function make(): Promise<InfluxDBClient> {
      return c;
    }
    expect(await make()).toBe(c);
  });

  it('refuses every name of the client\'s own methods and properties, and those it inherits', () => {
    const own = Object.getOwnPropertyNames(InfluxDBClient.prototype);
    expect(own).toEqual(expect.arrayContaining(['constructor', 'write', 'query', 'close', 'db', 'mode', 'closed', 'toJSON']));
    const inherited = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString', '__proto__', '__defineGetter__'];
    // Built-in patterns may be redefined (as in aioinflux); any other member is refused.
    const builtins = new Set(['createDatabase', 'dropDatabase', 'dropMeasurement', 'showDatabases', 'showMeasurements', 'showUsers', 'showSeries', 'showTagKeys', 'showFieldKeys', 'showTagValues', 'showTagValuesFrom', 'showRetentionPolicies', 'showContinuousQueries']);
    for (const name of [...own, ...inherited]) {
      if (builtins.has(name) || !/^[A-Za-z_$][\w$]*$/.test(name)) continue;
      let err: unknown;
      try {
        c.setQueryPattern(name, 'SHOW DATABASES');
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message, name).toMatch(new RegExp(`query pattern name "${name.replace(/\$/g, '\\$')}" is refused: it would hide a client (method|property) \\("`));
    }
    expect(() => c.setQueryPattern('valueOf', 'SHOW DATABASES')).toThrow(/method \("valueOf", inherited from Object.prototype\)/);
    expect(() => c.setQueryPattern('toString', 'SHOW DATABASES')).toThrow(/method \("toString", of the client's class\)/);
    expect(() => c.setQueryPattern('mode', 'SHOW DATABASES')).toThrow(/property \("mode", of the client's class\)/);
    expect(String(c)).toMatch(/^InfluxDBClient\(/);
  });

  it('still takes other names, and a built-in pattern may be redefined', async () => {
    const m = c.setQueryPattern('databasesNamed', 'SHOW DATABASES');
    expect(await m()).toHaveProperty('results');
    expect(c.renderQueryPattern('databasesNamed')).toBe('SHOW DATABASES');
    c.setQueryPattern('showUsers', 'SHOW USERS');
  });
});

describe('close() called twice', () => {
  it('both calls settle together, once the writers have flushed', async () => {
    const d = uniqueDb('close_twice');
    await admin.createDatabase(d);
    const c = new InfluxDBClient({ url, db: d, precision: 'ms' });
    const w = c.writer({ batchSize: 100_000, flushIntervalMs: 600_000 });
    await w.write(points(500).map((p) => ({ ...p, measurement: 'm' })));
    expect(w.stats().written).toBe(0);
    const first = c.close();
    let firstSettled = false;
    void first.then(() => (firstSettled = true));
    // The second call (a SIGTERM handler) is the one awaited before exiting.
    const second = c.close();
    expect(second).toBe(first);
    expect(c.closed).toBe(true);
    await second;
    expect(firstSettled).toBe(true);
    expect(w.stats().written).toBe(500);
    expect(await countOf('m', d)).toBe(500);
    await admin.dropDatabase(d);
  });

  it('waits for a writer its owner is closing, and reports that writer\'s outcome to its owner only', async () => {
    const d = uniqueDb('close_owner');
    await admin.createDatabase(d);
    const c = new InfluxDBClient({ url, db: d, precision: 'ms' });
    const w = c.writer({ batchSize: 100_000, flushIntervalMs: 600_000 });
    await w.write(points(300).map((p) => ({ ...p, measurement: 'm' })));
    const owners = w.close();
    await c.close();
    await owners;
    expect(w.stats().written).toBe(300);
    expect(await countOf('m', d)).toBe(300);
    await admin.dropDatabase(d);
  });
});

describe('a multi-request write() that fails part way', () => {
  let proxy: FaultProxy;
  let client: InfluxDBClient;
  // Every line is 40 bytes with its newline; 33 lines fit in 1,330 bytes: 100 lines go out as 33 + 33 + 33 + 1.
  const line = (i: number): string => `reset,pad=xxxxxxxxx v=${String(i).padStart(3, '0')} ${1_600_000_000_000 + i}`;
  const body = Array.from({ length: 100 }, (_, i) => line(i)).join('\n');
  const maxBodyBytes = 33 * 40 + 10;

  beforeAll(async () => {
    expect(Buffer.byteLength(line(0)) + 1).toBe(40);
    proxy = await startFaultProxy({ target: url });
  });
  afterAll(async () => {
    await client?.close();
    await proxy.close();
  });

  /** Writes the 100 lines to a new database with the third /write answered by `action`; the error and what was stored. */
  async function writeWithThird(action: Parameters<FaultProxy['script']>[0]): Promise<{ err: InfluxDBError; stored: number; requests: string[] }> {
    const d = uniqueDb('partway');
    await admin.createDatabase(d);
    proxy.clear();
    let writes = 0;
    proxy.setHandler((req) => (req.path.startsWith('/write') && ++writes === 3 ? action : undefined));
    client = new InfluxDBClient({ url: proxy.url, db: d, precision: 'ms', maxBodyBytes });
    let err: unknown;
    try {
      await client.write(body);
    } catch (e) {
      err = e;
    } finally {
      await client.close();
      proxy.setHandler(undefined);
    }
    const stored = await countOf('reset', d);
    await admin.dropDatabase(d);
    expect(err).toBeInstanceOf(InfluxDBError);
    return { err: err as InfluxDBError, stored, requests: proxy.requests.filter((r) => r.path.startsWith('/write')).map((r) => r.action) };
  }

  it('a reset third request: 66 lines written, the 33 of the third may or may not be stored, 1 never sent', async () => {
    const { err, stored, requests } = await writeWithThird({ reset: true });
    expect(requests).toHaveLength(3);
    expect(requests.slice(0, 2)).toEqual(['pass 204', 'pass 204']);
    expect(requests[2]).toMatch(/^reset/);
    expect(stored).toBe(66);
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    const e = err as InfluxDBConnectionError;
    expect(e.requestSent).toBe(true);
    expect({ written: e.linesWritten, unknown: e.linesUnknown, notWritten: e.linesNotWritten }).toEqual({ written: 66, unknown: 33, notWritten: 1 });
    expect(e.message).toMatch(/66 of 100 lines written \(2 of 4 requests acknowledged\); the 33 lines of request 3 may or may not be stored .*; 1 lines were never sent/);
  });

  it('the third request stored by the server, then reset on its way back: the 33 are unknown, and were stored', async () => {
    const { err, stored } = await writeWithThird({ pass: true, then: { reset: true } });
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect({ written: err.linesWritten, unknown: err.linesUnknown, notWritten: err.linesNotWritten }).toEqual({ written: 66, unknown: 33, notWritten: 1 });
    expect(stored).toBe(99);
  });

  it('a 500 on the third request: the server answered, so nothing is unknown', async () => {
    const { err, stored } = await writeWithThird({ status: 500, body: '{"error":"engine: boom"}' });
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect({ written: err.linesWritten, unknown: err.linesUnknown, notWritten: err.linesNotWritten }).toEqual({ written: 66, unknown: 0, notWritten: 34 });
    expect(stored).toBe(66);
  });

  it('a 500 "hinted handoff queue not empty" (InfluxDB Enterprise: the write will complete) counts as written, as the batch writer counts it', async () => {
    const d = uniqueDb('partway_hh');
    await admin.createDatabase(d);
    proxy.clear();
    let writes = 0;
    // The server stores the third request; the answer says what an Enterprise data node says when
    // it stored the points locally and will hand them to their owner.
    const hinted = { pass: true as const, then: { status: 500, body: '{"error":"write failed: hinted handoff queue not empty"}' } };
    proxy.setHandler((req) => (req.path.startsWith('/write') && ++writes === 3 ? hinted : undefined));
    const c = new InfluxDBClient({ url: proxy.url, db: d, precision: 'ms', maxBodyBytes });
    try {
      await expect(c.write(body)).resolves.toBe(true);
      expect(proxy.requests.filter((r) => r.path.startsWith('/write'))).toHaveLength(4);
      expect(await countOf('reset', d)).toBe(100);
    } finally {
      await c.close();
      proxy.setHandler(undefined);
      await admin.dropDatabase(d);
    }
  });

  it('a single-request write reset: its lines may or may not be stored', async () => {
    const d = uniqueDb('partway_one');
    await admin.createDatabase(d);
    proxy.clear();
    proxy.script({ reset: true });
    const c = new InfluxDBClient({ url: proxy.url, db: d, precision: 'ms' });
    try {
      const err = await c.write(body).then(() => undefined, (e: unknown) => e as InfluxDBConnectionError);
      expect(err).toBeInstanceOf(InfluxDBConnectionError);
      expect({ written: err!.linesWritten, unknown: err!.linesUnknown, notWritten: err!.linesNotWritten }).toEqual({ written: 0, unknown: 100, notWritten: 0 });
      expect(err!.message).toMatch(/0 of 100 lines written; the 100 lines of the request may or may not be stored/);
    } finally {
      await c.close();
      await admin.dropDatabase(d);
    }
  });
});
