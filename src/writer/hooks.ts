/**
 * What the batch writer owes the process around it: the user's callbacks, called so that
 * neither a throw nor a rejected promise (an `async` callback) escapes into the writer or ends
 * the process as an unhandled rejection; and the warning at process exit, with the count of
 * points not acknowledged yet (the batch being filled included) and of writes still waiting.
 */
import { writeSync } from 'node:fs';

/**
 * Calls a user callback; a throw, or a rejection of the promise it returns, becomes a process
 * warning naming the callback (it must not stop the writer, nor end the process).
 */
export function callUser<A extends unknown[]>(name: string, cb: ((...args: A) => unknown) | undefined, ...args: A): void {
  if (!cb) return;
  const warn = (err: unknown): void => {
    process.emitWarning(`fastinflux: the batch writer's ${name} callback threw: ${(err as Error)?.message ?? String(err)}`);
  };
  try {
    const out = cb(...args);
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
      // A thenable whose then() itself throws is reported too.
      Promise.resolve(out).catch(warn);
    }
  } catch (err) {
    warn(err);
  }
}

/** What the exit warning needs of a writer. */
export interface ExitWatched {
  /** Points accepted and not yet settled (written, rejected, expired or dropped). */
  pendingPoints(): number;
  /** write() calls not taken in yet (waiting for room or behind earlier ones). */
  waitingWrites(): number;
}

// Writers holding points, for the warning at process exit (WeakRefs: never keeps a writer alive).
const gLive = new Set<WeakRef<ExitWatched>>();
let gExitHooked = false;

export function exitMessage(pending: number, waiting: number): string | undefined {
  if (pending <= 0 && waiting <= 0) return undefined;
  const parts: string[] = [];
  if (pending > 0) parts.push(`${pending} points accepted by a batch writer and not written`);
  if (waiting > 0) parts.push(`${waiting} write() calls not taken in yet`);
  return `fastinflux: the process is exiting with ${parts.join(' and ')} (await writer.close() before exiting)\n`;
}

/** Watches a writer until `unwatch`; at exit, what it still holds is reported on stderr. */
export function watchExit(w: ExitWatched): WeakRef<ExitWatched> {
  const ref = new WeakRef(w);
  gLive.add(ref);
  if (!gExitHooked) {
    gExitHooked = true;
    process.on('exit', () => {
      for (const r of gLive) {
        const x = r.deref();
        const msg = x && exitMessage(x.pendingPoints(), x.waitingWrites());
        // Synchronous: nothing asynchronous runs in an 'exit' listener.
        if (msg) writeSync(2, msg);
      }
    });
  }
  return ref;
}

export function unwatchExit(ref: WeakRef<ExitWatched>): void {
  gLive.delete(ref);
}
