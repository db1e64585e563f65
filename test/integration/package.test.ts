/**
 * The package as a user gets it: `npm pack`, the tarball unpacked into a temp project's
 * node_modules (no network: its runtime dependencies are linked from this checkout), then a
 * CommonJS file (`require`) and an ES module file (`import`) run by node as child processes:
 * `encode()`, a client round trip against the shared influxd (TypeScript encoder, WebAssembly
 * encoder on the worker pool, blocking mode), `fastinflux/server` and `fastinflux/package.json`.
 * Also that the tarball holds what they need (the WASM encoder, the worker files, the CLI) and
 * that its type declarations resolve for TypeScript users, from ESM and from CommonJS.
 *
 * dist/ must be built (`npm test` builds it first); the tarball is packed with --ignore-scripts
 * so that this file never rebuilds dist/ under the other test files that use it.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const url = sharedInfluxUrl();
const run = promisify(execFile);
// Under os.tmpdir(), outside the checkout: module resolution from the installed package can then
// only find what the temp project's node_modules holds, never this checkout's node_modules.
const work = mkdtempSync(join(tmpdir(), 'fastinflux-package-test-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'fastinflux');

/** Paths inside the tarball (npm pack --json lists them without the `package/` prefix). */
let packedFiles: string[] = [];
/** The package.json as packed. */
let packedManifest: { version: string; dependencies?: Record<string, string> };

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = info!.files.map((f) => f.path);
  mkdirSync(installed, { recursive: true });
  // The tarball's entries all sit under package/.
  await run('tar', ['-xzf', join(work, info!.filename), '-C', installed, '--strip-components=1']);
  packedManifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  // What `npm install <tarball>` would add, taken from this checkout: the declared runtime
  // dependencies (their own dependencies resolve from their real paths), and @types/node, which a
  // TypeScript user has.
  for (const dep of [...Object.keys(packedManifest.dependencies ?? {}), '@types/node']) {
    mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
  }
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <file>` in the temp project with FI_URL and FI_DB set, to its exit. */
async function node(file: string, db: string): Promise<Run> {
  const child = spawn(process.execPath, [file], {
    cwd: project,
    env: { ...process.env, FI_URL: url, FI_DB: db },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * The user program, shared by the CommonJS and the ES module variant: `fi`, `server` and `pkg` are
 * what the variant's `require`s or `import`s give. It prints one JSON line of what it saw.
 */
const BODY = String.raw`
async function main(fi, server, pkg) {
  const out = { version: pkg.version, exports: Object.keys(fi).sort() };
  const point = {
    measurement: 'cpu load',
    tags: { host: 'a,b' },
    fields: { value: 0.64, n: 9007199254740993n, s: 'say "hi"' },
    time: 1257894000000000001n,
  };
  out.encoded = fi.encode(point).toString();
  out.influxd = server.findInfluxd() ?? null;
  out.quoted = server.quoteInfluxIdent('a"b');

  const client = new fi.InfluxDBClient({ url: process.env.FI_URL, db: process.env.FI_DB });
  try {
    out.pingVersion = (await client.ping()).version;
    await client.createDatabase();
    out.writeTs = await client.write(point, { encoder: 'ts' });
    // The WebAssembly encoder on the worker pool: build/encoder.wasm and dist/pool/ in the package.
    out.writeWasm = await client.write([{ ...point, time: 1257894000000000002n }], { encoder: 'wasm' });
    const series = (await client.query('SELECT * FROM "cpu load"')).results[0].series[0];
    out.columns = series.columns;
    out.rows = series.values.map((row) => row.map((v) => (typeof v === 'bigint' ? 'bigint:' + v : v)));
    // Blocking mode runs the client in a worker thread: dist/blocking/ in the package.
    client.setMode('blocking');
    out.blockingPingVersion = client.ping().version;
    client.setMode('async');
  } finally {
    await client.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
`;

const CJS = String.raw`'use strict';
const fi = require('fastinflux');
const server = require('fastinflux/server');
const pkg = require('fastinflux/package.json');
${BODY}
main(fi, server, pkg).catch((err) => { console.error(err); process.exitCode = 1; });
`;

const MJS = String.raw`import * as fi from 'fastinflux';
import * as server from 'fastinflux/server';
import { createRequire } from 'node:module';
// JSON modules need an import attribute and warn on Node 20; createRequire goes through the same exports map.
const pkg = createRequire(import.meta.url)('fastinflux/package.json');
${BODY}
await main(fi, server, pkg);
`;

describe('the packed package', () => {
  it('holds the built code, the WebAssembly encoder, the worker files, the CLI and the types', () => {
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/server/index.js',
      'dist/server/index.d.ts',
      'build/encoder.wasm',
      'dist/pool/worker.js',
      'dist/pool/worker-file.js',
      'dist/blocking/worker.js',
      'dist/blocking/worker-file.js',
      'dist/cli/main.js',
    ]) {
      expect(packedFiles, f).toContain(f);
    }
    // Every file the manifest points at is in the tarball.
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const targets: string[] = [manifest.main, manifest.types, ...Object.values<string>(manifest.bin)];
    for (const entry of Object.values<string | Record<string, string>>(manifest.exports)) {
      targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    }
    for (const t of targets) expect(packedFiles, t).toContain(t.replace(/^\.\//, ''));
  });

  it('has no install script for npm to warn about', () => {
    const scripts = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).scripts ?? {};
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) expect(scripts, s).not.toHaveProperty(s);
  });

  const expectedEncoded = 'cpu\\ load,host=a\\,b value=0.64,n=9007199254740993i,s="say \\"hi\\"" 1257894000000000001\n';

  for (const [kind, file, source] of [
    ['require() from CommonJS', 'user.cjs', CJS],
    ['import from an ES module', 'user.mjs', MJS],
  ] as const) {
    it(`works with ${kind}: encode, fastinflux/server, a round trip against influxd`, async () => {
      const db = uniqueDb('package');
      writeFileSync(join(project, file), source);
      try {
        const r = await node(file, db);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.version).toBe(packedManifest.version);
        expect(out.exports).toEqual(expect.arrayContaining(['InfluxDBClient', 'encode', 'InfluxDBError', 'quoteIdentifier']));
        expect(out.encoded).toBe(expectedEncoded);
        expect(typeof out.influxd).toBe('string');
        expect(out.quoted).toBe('"a\\"b"');
        expect(out.pingVersion).toMatch(/^1\./);
        expect(out.writeTs).toBe(true);
        expect(out.writeWasm).toBe(true);
        expect(out.columns).toEqual(['time', 'host', 'n', 's', 'value']);
        expect(out.rows).toEqual([
          ['2009-11-10T23:00:00.000000001Z', 'a,b', 'bigint:9007199254740993', 'say "hi"', 0.64],
          ['2009-11-10T23:00:00.000000002Z', 'a,b', 'bigint:9007199254740993', 'say "hi"', 0.64],
        ]);
        expect(out.blockingPingVersion).toBe(out.pingVersion);
      } finally {
        await rawQuery(url, `DROP DATABASE "${db}"`);
      }
    }, 60_000);
  }

  it('gives TypeScript users its types, from ESM and from CommonJS', async () => {
    writeFileSync(
      join(project, 'types.mts'),
      [
        "import { InfluxDBClient, encode, type Point } from 'fastinflux';",
        "import { findInfluxd } from 'fastinflux/server';",
        "const point: Point = { measurement: 'm', fields: { v: 1 } };",
        'export const bytes: Buffer = encode(point);',
        "export const version: Promise<{ version: string }> = new InfluxDBClient({ db: 'x' }).ping();",
        'export const influxd: string | undefined = findInfluxd();',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'types.cts'),
      [
        "import fi = require('fastinflux');",
        "import server = require('fastinflux/server');",
        "const bytes: Buffer = fi.encode({ measurement: 'm', fields: { v: 1 } });",
        'const influxd: string | undefined = server.findInfluxd();',
        'export = { bytes, influxd };',
        '',
      ].join('\n'),
    );
    // A wrong use must fail, or a declaration that resolved to nothing (any) would pass unseen.
    writeFileSync(join(project, 'wrong.mts'), "import { InfluxDBClient } from 'fastinflux';\nexport const n: number = new InfluxDBClient();\n");
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // skipLibCheck: the dependencies' own declarations are not what this checks (and cost seconds).
    const flags = ['--module', 'nodenext', '--target', 'es2022', '--strict', '--noEmit', '--skipLibCheck', '--types', 'node'];
    // tsc prints its errors on stdout: make them the failure's message.
    await run(process.execPath, [tsc, ...flags, 'types.mts', 'types.cts'], { cwd: project }).catch((err: { stdout: string }) => {
      throw new Error(err.stdout);
    });
    const wrong = await run(process.execPath, [tsc, ...flags, 'wrong.mts'], { cwd: project }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    expect(wrong).toMatch(/wrong\.mts\(2,14\): error TS2322: Type 'InfluxDBClient<.*>' is not assignable to type 'number'/);
  }, 60_000);
});
