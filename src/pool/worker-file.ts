/**
 * Where the encoder worker's code is. piscina starts workers with plain Node, which cannot run
 * TypeScript, so a worker is always JavaScript:
 *
 * - Built package (`dist/`, after `npm run build`): `worker.js` next to the pool's own file.
 * - Sources run by a TypeScript-aware runner (vitest, tsx: the pool's file is `.ts`): pointing
 *   at `dist/pool/worker.js` would run whatever was last built, silently stale while `src/`
 *   changes. Instead the sources under `src/` are transpiled (TypeScript's `transpileModule`:
 *   types stripped, no type check, about a second, once per process and content) into
 *   `node_modules/.cache/fastinflux-pool/<hash of the sources>/`, whose `pool/worker.js` is
 *   the worker. The directory is written atomically (temporary directory, then rename), so
 *   parallel test processes share it safely; bare imports (`piscina`) resolve from the
 *   repository's `node_modules` above it; transpiles of older sources are removed after a day.
 *   Only this path needs `typescript` (a dev dependency).
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let fromSources: Promise<URL> | undefined;

/** The worker file of this copy of the pool (see the module comment). */
export function defaultWorkerFile(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(new URL('./worker.js', import.meta.url));
  fromSources ??= transpileSources();
  return fromSources;
}

async function listTs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTs(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

async function transpileSources(): Promise<URL> {
  const src = fileURLToPath(new URL('../', import.meta.url));
  const root = dirname(src);
  const files = await listTs(src);
  const sources = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(relative(src, f)).update('\0').update(sources[i]!).update('\0'));
  const cache = join(root, 'node_modules', '.cache', 'fastinflux-pool');
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  const worker = join(dir, 'pool', 'worker.js');
  if (existsSync(worker)) return pathToFileURL(worker);

  const ts = (await import('typescript')).default;
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, 'tmp-'));
  try {
    for (let i = 0; i < files.length; i++) {
      const out = ts.transpileModule(sources[i]!, {
        fileName: files[i]!,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
      });
      const dest = join(tmp, relative(src, files[i]!)).replace(/\.ts$/, '.js');
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, out.outputText);
    }
    await writeFile(join(tmp, 'package.json'), '{ "type": "module" }\n');
    await rename(tmp, dir);
    await removeStale(cache, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another process renamed the same content first: use it.
    if (!existsSync(worker)) throw e;
  }
  return pathToFileURL(worker);
}

/** Transpiles of other (older) sources, untouched for a day: removed, so that the cache does not grow forever. */
async function removeStale(cache: string, keep: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const e of await readdir(cache, { withFileTypes: true })) {
    const p = join(cache, e.name);
    if (!e.isDirectory() || p === keep) continue;
    try {
      if ((await stat(p)).mtimeMs < dayAgo) await rm(p, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
