/**
 * vitest globalSetup: the sources under `src/` as JavaScript, for the worker threads that the
 * tests start while the package runs from its TypeScript sources. A worker is started with plain
 * Node, which cannot run TypeScript, and pointing it at `dist/` would run whatever was last built,
 * silently stale while `src/` changes. The directory goes to the library in
 * `FASTINFLUX_DEV_WORKERS`, which only its TypeScript sources read (`src/worker-file.ts`); the
 * built package never does. A value already set is kept (`FASTINFLUX_DEV_WORKERS=$PWD/dist`
 * runs the tests against the built workers).
 *
 * - `src/` is transpiled with TypeScript's `transpileModule` (types stripped, no type check,
 *   about a second, once per content) into
 *   `node_modules/.cache/fastinflux-pool/<hash of the sources>/`.
 * - The directory is written atomically (temporary directory, then rename), so parallel test
 *   runs share it safely; bare imports (`piscina`) resolve from the repository's
 *   `node_modules` above it; transpiles of older sources are removed after a day.
 * - The cache also gets a `build` link to the package's `build/`: the transpiled
 *   `encode/wasm/module.js` looks for the WebAssembly encoder three directories up.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  process.env.FASTINFLUX_DEV_WORKERS ??= transpile();
}

function listTs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The directory holding `src/` transpiled to JavaScript (see the module comment). */
function transpile(): string {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const files = listTs(src).sort();
  const sources = files.map((f) => readFileSync(f, 'utf8'));
  const hash = createHash('sha256');
  for (const [i, f] of files.entries()) hash.update(relative(src, f)).update('\0').update(sources[i]!).update('\0');
  const cache = join(root, 'node_modules', '.cache', 'fastinflux-pool');
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  linkBuild(cache, root);
  if (existsSync(dir)) return dir;

  // Loaded only when the sources changed since the last transpile.
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, 'tmp-'));
  try {
    for (let i = 0; i < files.length; i++) {
      const out = ts.transpileModule(sources[i]!, {
        fileName: files[i]!,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
      });
      const dest = join(tmp, relative(src, files[i]!)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, out.outputText);
    }
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    renameSync(tmp, dir);
    removeStale(cache, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process renamed the same content first: use it.
    if (!existsSync(dir)) throw e;
  }
  return dir;
}

/** `<cache>/build` → the package's `build/` (a link, else a copy), where transpiled code looks for the WASM encoder. */
function linkBuild(cache: string, root: string): void {
  const target = join(root, 'build');
  const link = join(cache, 'build');
  if (!existsSync(target)) return;
  try {
    lstatSync(link);
    return;
  } catch {
    // Not there yet.
  }
  mkdirSync(cache, { recursive: true });
  try {
    symlinkSync(relative(cache, target), link, 'dir');
  } catch {
    try {
      cpSync(target, link, { recursive: true });
    } catch {
      // Another process made it first, or WASM writes will say the encoder is missing.
    }
  }
}

/** Transpiles of other (older) sources, untouched for a day: removed, so that the cache does not grow forever. */
function removeStale(cache: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const e of readdirSync(cache, { withFileTypes: true })) {
    const p = join(cache, e.name);
    if (!e.isDirectory() || p === keep || e.name === 'build') continue;
    try {
      if (statSync(p).mtimeMs < dayAgo) rmSync(p, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
