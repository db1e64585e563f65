/**
 * Schema lookups for typed output (src/query/output/schema.ts) against a fake `run` that
 * answers like influxd 1.6.7: getTagInfo's one request, SchemaCache's batching, caching,
 * invalidation, failures and the multi-type / odd-name cases.
 */
import { describe, expect, it } from 'vitest';
import { getTagInfo, SchemaCache, type RunQuery } from '../../../../src/query/output/schema.js';
import type { QueryResponse, Series } from '../../../../src/query/response.js';

interface Call {
  q: string;
  db: string | undefined;
}

/** A fake server: answers each statement of a request with `answer(statement)`. */
function fakeRun(answer: (statement: string, db: string | undefined) => Series[] | undefined): { run: RunQuery; calls: Call[] } {
  const calls: Call[] = [];
  const run: RunQuery = async (q, opts) => {
    calls.push({ q, db: opts?.db });
    const statements = q.split('; ');
    const resp: QueryResponse = {
      results: statements.map((s, i) => {
        const series = answer(s, opts?.db);
        return series === undefined || series.length === 0 ? { statement_id: i } : { statement_id: i, series };
      }),
    };
    return resp;
  };
  return { run, calls };
}

// What influxd 1.6.7 answered for a database with cpu(host, region; b, f, i, s) and mem(dc, host; free, used).
const kFields: Record<string, Array<[string, string]>> = {
  cpu: [['b', 'boolean'], ['f', 'float'], ['i', 'integer'], ['s', 'string']],
  mem: [['free', 'float'], ['used', 'integer']],
  multi: [['v', 'float'], ['v', 'integer']],
  'we"ird': [['v', 'string']],
};
const kTags: Record<string, string[]> = { cpu: ['host', 'region'], mem: ['dc', 'host'], 'we"ird': ['t'] };

/** Parses `FROM "a", "b"` back into names (undoing quoteIdentifier). */
function fromList(statement: string): string[] | undefined {
  const m = / FROM (.*)$/.exec(statement);
  if (!m) return undefined;
  return [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!.replace(/\\(.)/g, '$1'));
}

function schemaServer(statement: string): Series[] | undefined {
  const names = fromList(statement) ?? Object.keys({ ...kFields, ...kTags });
  if (statement.startsWith('SHOW FIELD KEYS')) {
    return names.filter((n) => kFields[n]).map((n) => ({ name: n, columns: ['fieldKey', 'fieldType'], values: kFields[n]! }));
  }
  if (statement.startsWith('SHOW TAG KEYS')) {
    return names.filter((n) => kTags[n]).map((n) => ({ name: n, columns: ['tagKey'], values: kTags[n]!.map((k) => [k]) }));
  }
  if (statement.startsWith('SHOW TAG VALUES')) {
    return [
      { name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b'], ['region', 'eu'], ['region', 'us']] },
      { name: 'mem', columns: ['key', 'value'], values: [['dc', 'x'], ['host', 'a']] },
    ];
  }
  throw new Error(`unexpected statement ${statement}`);
}

describe('getTagInfo', () => {
  it('gathers { measurement: { tagKey: [values] } } in one request', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const info = await getTagInfo(run, 'mydb');
    expect(calls).toEqual([{ q: 'SHOW TAG KEYS; SHOW TAG VALUES WITH KEY =~ /.*/', db: 'mydb' }]);
    expect(JSON.parse(JSON.stringify(info))).toEqual({
      cpu: { host: ['a', 'b'], region: ['eu', 'us'] },
      mem: { dc: ['x'], host: ['a'] },
      'we"ird': { t: [] },
    });
  });

  it('is empty for a database without tags, and safe for any measurement name', async () => {
    expect(Object.keys(await getTagInfo(fakeRun(() => undefined).run))).toEqual([]);
    const { run } = fakeRun((s) => (s.startsWith('SHOW TAG KEYS')
      ? [{ name: '__proto__', columns: ['tagKey'], values: [['constructor']] }]
      : [{ name: '__proto__', columns: ['key', 'value'], values: [['constructor', 'v']] }]));
    const info = await getTagInfo(run);
    expect(Object.keys(info)).toEqual(['__proto__']);
    // An own key named __proto__ (not the prototype): read through the property descriptor.
    expect(Object.getOwnPropertyDescriptor(info, '__proto__')?.value.constructor).toEqual(['v']);
    expect(({} as Record<string, unknown>).constructor).toBe(Object); // nothing polluted
  });
});

describe('SchemaCache', () => {
  it('fetches field types and tag keys of all missing measurements in one request', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run);
    const schemas = await cache.load(['cpu', 'mem', 'nothing'], 'db1');
    expect(calls).toEqual([{ q: 'SHOW FIELD KEYS FROM "cpu", "mem", "nothing"; SHOW TAG KEYS FROM "cpu", "mem", "nothing"', db: 'db1' }]);
    expect(schemas.get('cpu')).toEqual({
      fields: new Map([['b', 'boolean'], ['f', 'float'], ['i', 'integer'], ['s', 'string']]), tags: new Set(['host', 'region']),
    });
    expect(schemas.get('mem')!.fields.get('used')).toBe('integer');
    expect(schemas.get('nothing')).toEqual({ fields: new Map(), tags: new Set() });
  });

  it('caches per (db, measurement) until invalidated', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run);
    await cache.get('cpu', 'db1');
    await cache.get('cpu', 'db1');
    await cache.load(['cpu', 'mem'], 'db1');
    expect(calls.map((c) => c.q)).toEqual([
      'SHOW FIELD KEYS FROM "cpu"; SHOW TAG KEYS FROM "cpu"',
      'SHOW FIELD KEYS FROM "mem"; SHOW TAG KEYS FROM "mem"',
    ]);
    await cache.get('cpu', 'db2'); // another database: another entry
    expect(calls).toHaveLength(3);
    cache.invalidate('db1', 'cpu');
    await cache.load(['cpu', 'mem'], 'db1');
    expect(calls.at(-1)!.q).toBe('SHOW FIELD KEYS FROM "cpu"; SHOW TAG KEYS FROM "cpu"');
    cache.invalidate('db1');
    await cache.get('mem', 'db1');
    await cache.get('cpu', 'db2');
    expect(calls).toHaveLength(5);
    cache.invalidate();
    await cache.get('cpu', 'db2');
    expect(calls).toHaveLength(6);
  });

  it('shares one request between concurrent lookups', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run);
    const [a, b] = await Promise.all([cache.get('cpu'), cache.get('cpu')]);
    expect(a).toBe(b);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.db).toBeUndefined();
  });

  it('does not cache a failed request', async () => {
    let fail = true;
    const inner = fakeRun(schemaServer);
    const cache = new SchemaCache(async (q, o) => {
      if (fail) throw new Error('boom');
      return inner.run(q, o);
    });
    await expect(cache.get('cpu')).rejects.toThrow('boom');
    fail = false;
    await expect(cache.get('cpu')).resolves.toMatchObject({ tags: new Set(['host', 'region']) });
  });

  it('refetches after maxAgeMs and splits large loads by batchSize', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run, { maxAgeMs: 0, batchSize: 2 });
    await cache.load(['cpu', 'mem', 'multi']);
    expect(calls).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 2));
    await cache.get('cpu');
    expect(calls).toHaveLength(3);
  });

  it('resolves a field with several types to the one SELECT returns (float first), and quotes odd names', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run);
    expect((await cache.get('multi')).fields.get('v')).toBe('float');
    const weird = await cache.get('we"ird');
    expect(calls.at(-1)!.q).toBe('SHOW FIELD KEYS FROM "we\\"ird"; SHOW TAG KEYS FROM "we\\"ird"');
    expect(weird).toEqual({ fields: new Map([['v', 'string']]), tags: new Set(['t']) });
  });

  it('lookupFor loads the measurements of a response\'s SELECT series only', async () => {
    const { run, calls } = fakeRun(schemaServer);
    const cache = new SchemaCache(run);
    const resp: QueryResponse = {
      results: [
        { statement_id: 0, series: [{ name: 'cpu', tags: { host: 'a' }, columns: ['time', 'f'], values: [] }, { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'f'] }] },
        { statement_id: 1, series: [{ name: 'databases', columns: ['name'], values: [['x']] }] },
        { statement_id: 2, series: [{ name: 'mem', columns: ['time', 'used'], values: [] }] },
      ],
    };
    const lookup = await cache.lookupFor(resp, 'db');
    expect(calls.map((c) => c.q)).toEqual(['SHOW FIELD KEYS FROM "cpu", "mem"; SHOW TAG KEYS FROM "cpu", "mem"']);
    expect(lookup('cpu')!.tags.has('host')).toBe(true);
    expect(lookup('databases')).toBeUndefined();
    await cache.lookupFor({ results: [{ statement_id: 0 }] });
    expect(calls).toHaveLength(1);
  });
});
