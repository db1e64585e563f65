/**
 * Where the blocking mode's worker code is: the same mechanism as the encoder pool's
 * (`src/pool/worker-file.ts`), but synchronous, since the first blocking call has to start the
 * worker before it returns and cannot await anything.
 *
 * - Built package (`dist/`): `worker.js` next to this file.
 * - Sources run by a TypeScript-aware runner (vitest, tsx): `src/` transpiled with TypeScript's
 *   `transpileModule` into the pool's cache, `node_modules/.cache/fastinflux-pool/<hash of the
 *   sources>/`, with the same hash, options and atomic rename: either module reuses what the
 *   other wrote. `typescript` is loaded with `require` (it is CommonJS), which is synchronous.
 *   The cache also gets a `build` link to the package's `build/`: the transpiled
 *   `encode/wasm/module.js` looks for the WebAssembly encoder three directories up, and the
 *   blocking worker (unlike the pool's workers, which are handed the compiled module) loads it.
 * @module
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let fromSources: URL | undefined;

/** The blocking worker's file of this copy of the package (see the module comment). */
export function blockingWorkerFile(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  fromSources ??= transpileSourcesSync();
  return fromSources;
}

function listTs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function transpileSourcesSync(): URL {
  const src = fileURLToPath(new URL('../', import.meta.url));
  const root = dirname(src);
  // Sorted full paths and the same hash input as src/pool/worker-file.ts.
  const files = listTs(src).sort();
  const sources = files.map((f) => readFileSync(f, 'utf8'));
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(relative(src, f)).update('\0').update(sources[i]!).update('\0'));
  const cache = join(root, 'node_modules', '.cache', 'fastinflux-pool');
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  const worker = join(dir, 'blocking', 'worker.js');
  linkBuild(cache, root);
  if (existsSync(worker)) return pathToFileURL(worker);

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
    if (!existsSync(worker)) throw e;
  }
  return pathToFileURL(worker);
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

/** Transpiles of other (older) sources, untouched for a day: removed, as the pool's module does. */
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
