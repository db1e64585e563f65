/**
 * Where a worker thread's code is: the encoder pool's (`pool/worker.js`, started by piscina) and
 * the blocking mode's (`blocking/worker.js`). A worker starts with plain Node, which cannot run
 * TypeScript, so a worker is always JavaScript:
 *
 * - in the built package (`dist/`, this file is `.js`): `worker.js` of the part, below this file;
 * - under a TypeScript-aware runner (vitest: this file is `.ts`): the same file in the directory
 *   that `FASTINFLUX_DEV_WORKERS` names, a JavaScript copy of `src/` (the tests' setup,
 *   `test/helpers/dev-workers.ts`, makes one and sets it). The built package never reads it.
 * @module
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The parts of the package that start worker threads. */
export type WorkerPart = 'pool' | 'blocking';

/** The worker file of `part` in this copy of the package. */
export function workerFile(part: WorkerPart): URL {
  if (!import.meta.url.endsWith('.ts')) {
    // Literal paths, as bundlers look for them.
    return part === 'pool' ? new URL('./pool/worker.js', import.meta.url) : new URL('./blocking/worker.js', import.meta.url);
  }
  const dir = process.env.FASTINFLUX_DEV_WORKERS;
  if (!dir) {
    throw new Error(
      'fastinflux runs from its TypeScript sources, and its worker threads need JavaScript: set FASTINFLUX_DEV_WORKERS ' +
        "to a JavaScript copy of src/ (the tests' setup does), or use the built package (npm run build, dist/)",
    );
  }
  return pathToFileURL(join(dir, part, 'worker.js'));
}
