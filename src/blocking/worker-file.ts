/**
 * Where the blocking mode's worker code is: `worker.js` next to this file in the built package
 * (`dist/`); under a TypeScript-aware runner (vitest, tsx), the transpiled copy of `src/` (see
 * `src/dev/transpiled-sources.ts`).
 * @module
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpiledSourcesDir } from '../dev/transpiled-sources.js';

/** The blocking worker's file of this copy of the package. */
export function blockingWorkerFile(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  return pathToFileURL(join(transpiledSourcesDir(), 'blocking', 'worker.js'));
}
