/**
 * Where the encoder worker's code is. piscina starts workers with plain Node, which cannot run
 * TypeScript, so a worker is always JavaScript: `worker.js` next to the pool's own file in the
 * built package (`dist/`); under a TypeScript-aware runner (vitest, tsx: the pool's file is
 * `.ts`), the transpiled copy of `src/` (see `src/dev/transpiled-sources.ts`).
 * @module
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpiledSourcesDir } from '../dev/transpiled-sources.js';

/** The worker file of this copy of the pool. */
export function defaultWorkerFile(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(new URL('./worker.js', import.meta.url));
  try {
    return Promise.resolve(pathToFileURL(join(transpiledSourcesDir(), 'pool', 'worker.js')));
  } catch (e) {
    return Promise.reject(e);
  }
}
