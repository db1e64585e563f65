/**
 * The sources under `src/` as JavaScript, for worker threads started while the package runs from
 * its TypeScript sources (vitest, tsx): a worker is started with plain Node, which cannot run
 * TypeScript, and pointing it at `dist/` would run whatever was last built, silently stale while
 * `src/` changes. Used by the encoder pool's and the blocking mode's worker files; the built
 * package (`dist/`) never comes here.
 *
 * - `src/` is transpiled with TypeScript's `transpileModule` (types stripped, no type check,
 *   about a second, once per process and content) into
 *   `node_modules/.cache/fastinflux-pool/<hash of the sources>/`.
 * - The directory is written atomically (temporary directory, then rename), so parallel test
 *   processes share it safely; bare imports (`piscina`) resolve from the repository's
 *   `node_modules` above it; transpiles of older sources are removed after a day.
 * - Synchronous (`typescript` is loaded with `require`: it is CommonJS), because the first
 *   blocking call has to start its worker before it returns and cannot await anything.
 * - The cache also gets a `build` link to the package's `build/`: the transpiled
 *   `encode/wasm/module.js` looks for the WebAssembly encoder three directories up.
 *
 * Only this path needs `typescript` (a dev dependency).
 * @module
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

let dir: string | undefined;

/** The directory holding `src/` transpiled to JavaScript (see the module comment). */
export function transpiledSourcesDir(): string {
  dir ??= transpile();
  return dir;
}

function listTs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function transpile(): string {
  const src = fileURLToPath(new URL('../', import.meta.url));
  const root = dirname(src);
  const files = listTs(src).sort();
  const sources = files.map((f) => readFileSync(f, 'utf8'));
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(relative(src, f)).update('\0').update(sources[i]!).update('\0'));
  const cache = join(root, 'node_modules', '.cache', 'fastinflux-pool');
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  linkBuild(cache, root);
  if (existsSync(dir)) return dir;

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
