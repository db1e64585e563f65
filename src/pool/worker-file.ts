/**
 * Where the encoder worker's code is: `workerFile('pool')` (see `src/worker-file.ts`).
 * @module
 */
import { workerFile } from '../worker-file.js';

/** The worker file of this copy of the pool. */
export function defaultWorkerFile(): Promise<URL> {
  try {
    return Promise.resolve(workerFile('pool'));
  } catch (e) {
    return Promise.reject(e);
  }
}
