/**
 * Query patterns and quoting against the real parser: hostile names stay names, hostile values
 * stay values, and line-protocol escaping round-trips through influxd for random unicode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InfluxDBClient, InvalidQueryError, encode, quoteIdentifier, quoteLiteral, type Point, type QueryResponse } from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;

function values(r: QueryResponse): unknown[][] {
  return r.results[0]?.series?.[0]?.values ?? [];
}

beforeAll(async () => {
  db = uniqueDb('patterns');
  client = new InfluxDBClient({ url, db });
  await client.createDatabase();
});

afterAll(async () => {
  await client.dropDatabase();
  await client.close();
});

describe('built-in query patterns (aioinflux\'s examples)', () => {
  it('create_database, drop_measurement, show_users, show_tag_values_from', async () => {
    const foo = uniqueDb('foo');
    await client.createDatabase({ db: foo });
    expect(values(await client.showDatabases()).flat()).toContain(foo);
    await client.write([
      { measurement: 'bar', tags: { spam: 'eggs' }, time: 1, fields: { v: 1 } },
      { measurement: 'bar', tags: { spam: 'ham' }, time: 2, fields: { v: 2 } },
    ]);
    expect(client.renderQueryPattern('showTagValuesFrom', 'bar', { key: 'spam' })).toBe('SHOW TAG VALUES FROM "bar" WITH KEY = "spam"');
    expect(values(await client.showTagValuesFrom('bar', { key: 'spam' }))).toEqual([['spam', 'eggs'], ['spam', 'ham']]);
    expect(values(await client.showTagValues({ key: 'spam' }))).toEqual([['spam', 'eggs'], ['spam', 'ham']]);
    expect(values(await client.showMeasurements()).flat()).toContain('bar');
    expect(values(await client.showTagKeys('bar'))).toEqual([['spam']]);
    expect(values(await client.showFieldKeys({ measurement: 'bar' }))).toEqual([['v', 'float']]);
    expect(values(await client.showSeries('bar'))).toEqual([['bar,spam=eggs'], ['bar,spam=ham']]);
    expect(values(await client.showRetentionPolicies())[0]![0]).toBe('autogen');
    await expect(client.showUsers()).resolves.toMatchObject({ results: [{ statement_id: 0 }] });
    await expect(client.showContinuousQueries()).resolves.toMatchObject({ results: [{ statement_id: 0 }] });
    await client.dropMeasurement('bar');
    expect(values(await client.showMeasurements()).flat()).not.toContain('bar');
    await client.dropDatabase(foo);
    expect(values(await client.showDatabases()).flat()).not.toContain(foo);
  });

  it('adds user patterns with positional and named values', async () => {
    await client.write([
      { measurement: 'cpu', tags: { host: 'a' }, time: 1, fields: { v: 1 } },
      { measurement: 'cpu', tags: { host: 'b' }, time: 2, fields: { v: 5 } },
    ]);
    const hostLoad = client.setQueryPattern('hostLoad', "SELECT v FROM {measurement} WHERE host = '{host}' AND v > {min:number}");
    expect(client.renderQueryPattern('hostLoad', 'cpu', { host: 'b', min: 2 })).toBe('SELECT v FROM "cpu" WHERE host = \'b\' AND v > 2');
    expect(values(await hostLoad('cpu', 'b', 2))).toEqual([['1970-01-01T00:00:00.000000002Z', 5]]);
    // The method is on the client too, as in aioinflux.
    const asMethod = (client as unknown as Record<string, (...a: unknown[]) => Promise<QueryResponse>>).hostLoad!;
    expect(values(await asMethod('cpu', { host: 'a', min: 0 }))).toEqual([['1970-01-01T00:00:00.000000001Z', 1]]);
    expect(() => client.setQueryPattern('query', 'SHOW DATABASES')).toThrow(/hide a client method/);
  });
});

describe('hostile names and values', () => {
  const hostile = [
    'x"; DROP DATABASE "y',
    'x\'; DROP DATABASE "y',
    'trailing\\',
    'back\\slash "quoted" \'single\'',
    'über 测试 🚀',
    '; SHOW USERS',
    'a" OR ""="',
  ];

  it('creates and drops databases whose names are hostile, and nothing else happens', async () => {
    const guard = uniqueDb('guard');
    await client.createDatabase(guard);
    // influxd refuses database names with a backslash or slash ("invalid name"): the statement
    // still parses as one CREATE DATABASE, which is what matters here.
    await expect(client.createDatabase('x\\"; DROP DATABASE "y')).rejects.toThrow(/invalid name/);
    for (const name of hostile.filter((h) => !h.includes('\\'))) {
      await client.createDatabase(name);
      const dbs = values(await client.showDatabases()).flat();
      expect(dbs).toContain(name);
      expect(dbs).toContain(guard);
      await client.dropDatabase(name);
      expect(values(await client.showDatabases()).flat()).not.toContain(name);
    }
    expect(values(await client.showDatabases()).flat()).toContain(guard);
    await client.dropDatabase(guard);
  });

  it('writes and reads back measurements, tags and fields named with hostile text', async () => {
    const safe = hostile.filter((h) => !h.endsWith('\\'));
    for (const [i, name] of safe.entries()) {
      await client.write({ measurement: name, tags: { [name]: name }, time: i, fields: { [name]: name } });
      expect(values(await client.showTagValuesFrom(name, { key: name }))).toEqual([[name, name]]);
      const pattern = `sel${i}`;
      client.setQueryPattern(pattern, 'SELECT {field} FROM {measurement} WHERE {tag} = {value:literal}');
      const r = await client.queryPattern(pattern, { field: name, measurement: name, tag: name, value: name });
      expect(values(r)).toHaveLength(1);
      expect(values(r)[0]![1]).toBe(name);
    }
  });

  it('keeps injected statements inside literals (quoteLiteral)', async () => {
    await client.write({ measurement: 'lit', tags: { host: 'a' }, time: 1, fields: { v: 1 } });
    for (const evil of ["' OR 1=1 --", "a'; DROP DATABASE \"x", '\\', "\\'", 'line\nbreak']) {
      const r = await client.query(`SELECT v FROM lit WHERE host = ${quoteLiteral(evil)}`);
      expect(r.results).toHaveLength(1);
      expect(r.results[0]!.series).toBeUndefined();
    }
  });

  it('refuses names the parser cannot hold', () => {
    expect(() => client.renderQueryPattern('createDatabase', 'a\nb')).toThrow(InvalidQueryError);
    expect(() => client.renderQueryPattern('createDatabase', '')).toThrow(/empty/);
  });

  it('round-trips random string literals through the real parser', async () => {
    // Tag values the encoder accepts, written as points, then selected by literal: each literal
    // must match exactly its own point.
    const tagValue = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).filter((s) => !/[\0\n\r]|\\($|[ ,=])/.test(s));
    const samples = [...new Set(fc.sample(tagValue, 60))];
    await client.write(samples.map((k, i) => ({ measurement: 'echo', tags: { k }, time: i, fields: { i } })));
    for (const [i, k] of samples.entries()) {
      const r = await client.query(`SELECT i FROM "echo" WHERE "k" = ${quoteLiteral(k)}`, { epoch: 'n' });
      expect(values(r), JSON.stringify(k)).toEqual([[i, i]]);
    }
  });
});

describe('line-protocol escaping round-trips through influxd', () => {
  // Characters that matter to line protocol and InfluxQL, plus unicode.
  const specials = fc.constantFrom(',', '=', ' ', '"', "'", '\\', 'a', 'Z', '0', 'é', '测', '🚀', '\t', '#');
  const text = fc.array(specials, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
  // Whatever the encoder accepts must come back exactly; what it refuses never reaches the wire.
  const accepted = (p: Point): boolean => {
    try {
      encode(p);
      return true;
    } catch {
      return false;
    }
  };
  const record = fc.record({ m: text, tk: text, tv: text, fk: text, sv: text })
    .filter((r) => r.tk !== r.fk && accepted({ measurement: r.m, tags: { [r.tk]: r.tv }, fields: { [r.fk]: r.sv } }));

  it('measurement, tag key, tag value, field key and string value come back exactly', async () => {
    const rtDb = uniqueDb('roundtrip');
    await client.createDatabase(rtDb);
    const samples = fc.sample(record, 120);
    const points = samples.map((s, i) => ({ measurement: s.m, tags: { [s.tk]: s.tv }, time: i, fields: { [s.fk]: s.sv } }));
    await client.write(points, { db: rtDb });
    for (const [i, s] of samples.entries()) {
      // `::field` and `::tag`: another sample of the same measurement may use this tag key as a
      // field key, and a bare name in WHERE then means the field (found failing 1 run in 3).
      const q = `SELECT ${quoteIdentifier(s.fk)}::field FROM ${quoteIdentifier(s.m)} WHERE time = ${i} AND ${quoteIdentifier(s.tk)}::tag = ${quoteLiteral(s.tv)}`;
      const r = await rawQuery(url, q, { db: rtDb });
      expect(r.results?.[0]?.error).toBeUndefined();
      expect(r.results?.[0]?.series?.[0]?.values?.[0]?.[1], JSON.stringify(s)).toBe(s.sv);
    }
    await client.dropDatabase(rtDb);
  });
});
