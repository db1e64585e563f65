/**
 * Every TypeScript example of the README runs, in the README's order, against real servers: the
 * shared influxd, and for the sections about them an influxd with auth, one with a unix socket and
 * one with HTTPS. Each code block becomes a module: its `fastinflux` imports come from a shim
 * whose `InfluxDBClient` points the example's options at the test server (the examples say
 * `localhost:8086`, `/var/run/influxdb.sock`, `my.host.io`), and its other statements run in an
 * async function that returns the block's top-level names, for the checks below. Variables the
 * examples take as given (`client`, `point`, `points`, `table`, `source`, `r`) are provided when a
 * block does not declare them. A block that throws fails the test, with its README line.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery, sharedInfluxUrl, startVariant, type LocalInfluxd } from '../helpers/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const url = new URL(sharedInfluxUrl());

interface Block {
  line: number;
  heading: string;
  code: string;
}

/** The ```ts / ```js blocks of the README, with the nearest heading above each. */
function readmeBlocks(): Block[] {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const out: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(l);
    if (h) heading = h[1]!.trim();
    const fence = /^```(ts|typescript|js|javascript)\s*$/.exec(l);
    if (!fence) {
      if (/^```/.test(l)) for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++);
      continue;
    }
    const start = i + 1;
    const code: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) code.push(lines[i]!);
    out.push({ line: start, heading, code: code.join('\n') });
  }
  return out;
}

/** Where the examples of a section run. */
type Env = 'default' | 'auth' | 'socket' | 'https';
function envOf(heading: string): Env {
  if (heading === 'Authentication') return 'auth';
  if (heading === 'Unix domain sockets') return 'socket';
  if (heading === 'HTTPS/SSL') return 'https';
  return 'default';
}

const work = join(root, 'node_modules', '.cache', 'readme-examples', String(process.pid));
const servers: Partial<Record<Env, LocalInfluxd>> = {};

/** What the shim reads: how to point an example's client options at the test server of its section. */
interface ReadmeGlobal {
  env: Env;
  clients: { close(): Promise<void> }[];
  conn(o: unknown): unknown;
  caPem: string;
}
declare global {
  // eslint-disable-next-line no-var
  var __readme: ReadmeGlobal;
}

function conn(o: unknown): unknown {
  const env = globalThis.__readme.env;
  const s = env === 'default' ? undefined : servers[env];
  if (typeof o === 'string') {
    const target = s ? new URL(s.url) : url;
    return o.replace(/localhost:8086/, target.host);
  }
  if (typeof o !== 'object' || o === null) return o;
  const opts = { ...(o as Record<string, unknown>) };
  if (env === 'socket') return { ...opts, unixSocket: s!.unixSocketPath };
  if (opts.url !== undefined) return opts;
  const target = s ? new URL(s.url) : url;
  return { ...opts, host: target.hostname, port: Number(target.port) };
}

const shimPath = join(work, 'fastinflux-shim.mjs');
const tsOptions: ts.CompilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };

/** The block as a module: imports on top, the rest in `export default async () => ({ names })`. */
function toModule(b: Block, n: number): string {
  const imports: string[] = [];
  const body: string[] = [];
  for (const l of b.code.split('\n')) {
    if (/^import\s.*\sfrom\s+['"][^'"]+['"];?\s*$/.test(l)) {
      imports.push(l.replace(/from\s+['"]fastinflux(\/server)?['"]/, (_m, sub: string | undefined) => (sub
        ? `from ${JSON.stringify(pathToFileURL(join(root, 'dist/server/index.js')).href)}`
        : `from ${JSON.stringify(pathToFileURL(shimPath).href)}`)));
    } else body.push(l);
  }
  let code = body.join('\n').replace(/readFileSync\('ca\.pem'\)/g, 'globalThis.__readme.caPem');
  // A block that is one object literal (a point's shape) is an expression.
  if (/^\s*\{/.test(code) && !/^\s*\{\s*$/.test(code.split('\n')[0]!)) code = `const __value = (${code.trim().replace(/;$/, '')});`;
  const declared = new Set<string>();
  for (const m of code.matchAll(/^(?:const|let|var|async function\*?|function\*?|class)\s+(\w+)/gm)) declared.add(m[1]!);
  for (const m of code.matchAll(/^(?:const|let|var)\s+\{([^}]*)\}\s*=/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.split(':').pop()!.trim();
      if (/^\w+$/.test(name)) declared.add(name);
    }
  }
  const given = ['client', 'point', 'points', 'table', 'source', 'r'].filter((g) => !declared.has(g) && new RegExp(`\\b${g}\\b`).test(code));
  // The library's exports an example uses without importing them (it continues an earlier block).
  const fromLib = libNames.filter((x) => !declared.has(x) && new RegExp(`\\b${x}\\b`).test(code) && !imports.some((i) => new RegExp(`\\b${x}\\b`).test(i)));
  const head = [
    ...imports,
    `import * as __lib from ${JSON.stringify(pathToFileURL(shimPath).href)};`,
    `import * as __given from ${JSON.stringify(pathToFileURL(join(work, 'given.mjs')).href)};`,
  ];
  const prelude = [
    ...(fromLib.length > 0 ? [`const { ${fromLib.join(', ')} } = __lib;`] : []),
    ...given.map((g) => `const ${g} = await __given.${g}(__lib);`),
  ];
  const names = [...declared].filter((x) => x !== '__value' || code.includes('__value'));
  const ret = `return { ${names.join(', ')} };`;
  const src = `${head.join('\n')}\nexport default async function block${n}() {\n${prelude.join('\n')}\n${code}\n${ret}\n}\n`;
  return ts.transpileModule(src, { compilerOptions: tsOptions, reportDiagnostics: false }).outputText;
}

const blocks = readmeBlocks();
let libNames: string[] = [];

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  const dist = pathToFileURL(join(root, 'dist/index.js')).href;
  libNames = Object.keys(await import(dist) as object);
  writeFileSync(shimPath, [
    `export * from ${JSON.stringify(dist)};`,
    `import { InfluxDBClient as Base } from ${JSON.stringify(dist)};`,
    'export class InfluxDBClient extends Base {',
    '  constructor(o) { super(globalThis.__readme.conn(o)); globalThis.__readme.clients.push(this); }',
    '}',
  ].join('\n'));
  // The variables the examples take as given.
  writeFileSync(join(work, 'given.mjs'), `
import { tableFromArrays, vectorFromArray, Dictionary, Utf8, Int32, Table, makeVector } from 'apache-arrow';
import { Readable } from 'node:stream';
export async function client(lib) { return new lib.InfluxDBClient({ db: 'testdb' }); }
export async function point() {
  return { time: '2009-11-10T23:00:00Z', measurement: 'cpu_load_short', tags: { host: 'server01', region: 'us-west' }, fields: { value: 0.64 } };
}
export async function points() {
  return Array.from({ length: 100 }, (_, i) => ({ measurement: 'cpu', tags: { host: 'h' + (i % 3) }, time: 1704067200000000000n + BigInt(i), fields: { usage: i / 10, v: i } }));
}
export async function table() {
  const t0 = Date.UTC(2017, 5, 24, 8, 45, 17, 929);
  const time = new BigInt64Array([0n, 1n, 2n].map((k) => BigInt(t0) * 1000000n + k * 5400000000000n));
  return tableFromArrays({
    time: makeVector(time), LUY: new Float64Array([2.545409, -0.306673, 0.894738]),
    BEM: new Float64Array([5.173134, -1.132941, -0.561979]), AJW: new Float64Array([5.532397, -2.130625, -1.48794]),
    tag: ['B', 'E', 'B'],
  });
}
export async function r(lib) {
  return new lib.InfluxDBClient({ db: 'testdb' }).query('SELECT * from h2o_quality LIMIT 10', { output: 'raw' });
}
export async function source() {
  return Readable.from(Array.from({ length: 50 }, (_, i) => ({ measurement: 'stream', fields: { i }, time: 1704067200000000000n + BigInt(i) })));
}
`);
  globalThis.__readme = { env: 'default', clients: [], conn, caPem: '' };
  const [auth, socket, https] = await Promise.all([
    startVariant({ auth: { username: 'user', password: 'pass' } }),
    startVariant({ unixSocket: true }),
    startVariant({ https: true }),
  ]);
  servers.auth = auth;
  servers.socket = socket;
  servers.https = https;
  globalThis.__readme.caPem = https.caPem!;
  // Data for the examples' queries.
  const base = url.origin;
  await rawQuery(base, 'DROP DATABASE "testdb"');
  await rawQuery(base, 'CREATE DATABASE "testdb"');
  const lines = [
    ...Array.from({ length: 20 }, (_, i) => `cpu,host=h${i % 3} usage=${i / 4},v=${i} ${1704067200000000000n + BigInt(i) * 1000000000n}`),
    ...Array.from({ length: 5 }, (_, i) => `mymeasurement myfield=${i} ${1704067200000000000n + BigInt(i)}`),
    ...Array.from({ length: 12 }, (_, i) => `h2o_quality,location=${i % 2 ? 'santa_monica' : 'coyote_creek'},randtag=${i % 3} index=${i}i ${1439856000000000000n + BigInt(i) * 360000000000n}`),
  ];
  const res = await fetch(`${base}/write?db=testdb`, { method: 'POST', body: lines.join('\n') });
  expect(res.status).toBe(204);
}, 60_000);

afterAll(async () => {
  // The servers first: an example's client whose close() waits (a writer with data it could not
  // deliver) must not leave them running.
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
  const closing = (globalThis.__readme?.clients ?? []).map((c) => c.close().catch(() => undefined));
  await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5000).unref())]);
  rmSync(work, { recursive: true, force: true });
  await rawQuery(url.origin, 'DROP DATABASE "testdb"').catch(() => undefined);
}, 30_000);

/** Runs one block in the environment of its section; returns its top-level names. */
async function run(b: Block, n: number): Promise<Record<string, unknown>> {
  globalThis.__readme.env = envOf(b.heading);
  const file = join(work, `block-${n}-line-${b.line}.mjs`);
  writeFileSync(file, toModule(b, n));
  const mod = (await import(pathToFileURL(file).href)) as { default: () => Promise<Record<string, unknown>> };
  const log = console.log;
  console.log = () => undefined; // the examples print; the checks below look at their values
  try {
    return await mod.default();
  } finally {
    console.log = log;
  }
}

describe('README examples', () => {
  it('there are examples to run', () => {
    expect(blocks.length).toBeGreaterThan(20);
  });

  /** Checks of what some examples give, by the heading of their section. */
  const checks: Record<string, (names: Record<string, unknown>) => Promise<void>> = {
    'TL;DR': async ({ resp }) => {
      expect(resp).toEqual({ results: [{ statement_id: 0, series: [{ name: 'cpu_load_short', columns: ['time', 'value'], values: [['2009-11-10T23:00:00Z', 0.64]] }] }] });
    },
    Authentication: async ({ client }) => {
      const c = client as { query(q: string): Promise<unknown> };
      await expect(c.query('SHOW DATABASES')).resolves.toMatchObject({ results: [{ statement_id: 0 }] });
    },
    'Unix domain sockets': async ({ client }) => {
      await expect((client as { ping(): Promise<unknown> }).ping()).resolves.toMatchObject({ version: expect.any(String) });
    },
    'HTTPS/SSL': async ({ client, pinned }) => {
      // Verification is on: the self-signed certificate is refused until trusted explicitly.
      await expect((client as { ping(): Promise<unknown> }).ping()).rejects.toThrow();
      await expect((pinned as { ping(): Promise<unknown> }).ping()).resolves.toMatchObject({ version: expect.any(String) });
    },
    'Database selection': async ({ client }) => {
      expect((client as { db: string }).db).toBe('db2');
    },
  };

  blocks.forEach((b, n) => {
    it(`README line ${b.line} (${b.heading})`, async () => {
      const names = await run(b, n).catch((e: unknown) => {
        throw new Error(`the example at README.md:${b.line} (${b.heading}) failed: ${(e as Error)?.stack ?? e}`);
      });
      await checks[b.heading]?.(names);
    }, 30_000);
  });
});
