/**
 * Where the blocking mode's worker code is: `workerFile('blocking')` (see `src/worker-file.ts`).
 * @module
 */
import { workerFile } from '../worker-file.js';

/** The blocking worker's file of this copy of the package. */
export function blockingWorkerFile(): URL {
  return workerFile('blocking');
}
