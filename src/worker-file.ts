/**
 * Where a worker thread's code is: the encoder pool's (`pool/worker.js`, started by piscina) and
 * the blocking mode's (`blocking/worker.js`). A worker starts with plain Node, which cannot run
 * TypeScript, so a worker is always JavaScript: `worker.js` of the part in the built package
 * (`dist/`, this file is `.js`); under a TypeScript-aware runner (vitest, tsx: this file is
 * `.ts`), the transpiled copy of `src/` (see `src/dev/transpiled-sources.ts`).
 * @module
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpiledSourcesDir } from './dev/transpiled-sources.js';

/** The parts of the package that start worker threads. */
export type WorkerPart = 'pool' | 'blocking';

/** The worker file of `part` in this copy of the package. */
export function workerFile(part: WorkerPart): URL {
  if (!import.meta.url.endsWith('.ts')) {
    // Literal paths, as bundlers look for them.
    return part === 'pool' ? new URL('./pool/worker.js', import.meta.url) : new URL('./blocking/worker.js', import.meta.url);
  }
  return pathToFileURL(join(transpiledSourcesDir(), part, 'worker.js'));
}
