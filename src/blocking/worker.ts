/**
 * The blocking mode's worker thread: it owns an async core (core/async-core.ts, built from the
 * calling client's options) and runs one request at a time for the calling thread, which
 * waits for the answer with `Atomics.wait` (see `channel.ts`). Each reply is posted on the
 * shared MessagePort, then the shared Signal slot is bumped and notified.
 *
 * Only `node:` modules and `slots.ts` are imported statically, so that the exit hook and the
 * heartbeat are in place before anything that could fail loads: whatever happens to this
 * thread, the calling thread learns it and never waits forever.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { Slot, WorkerState, kCrashForTestPrefix, kHeartbeatMs } from './slots.js';
import type { BlockingReply, BlockingRequest, BlockingWorkerData, ClientState, ExitNotice, WireWriteData } from './protocol.js';
import type { AsyncCore } from '../core/async-core.js';
import type { ClientSettings } from '../core/core.js';
import type { EncoderChoice, Precision, QueryOptions, WriteOptions } from '../options/index.js';

const data = workerData as BlockingWorkerData;
const shared = new Int32Array(data.shared);
const port = data.port;

function signal(): void {
  Atomics.add(shared, Slot.Signal, 1);
  Atomics.notify(shared, Slot.Signal);
}

// 'exit' runs on process.exit(), after an uncaught exception or unhandled rejection, and at the
// natural end: the calling thread, perhaps blocked in Atomics.wait, is told at once. (A thread
// killed without it, e.g. out of memory, stops the heartbeat: see channel.ts.)
let fatal: unknown;
process.on('uncaughtExceptionMonitor', (err) => {
  fatal = err;
});
process.on('exit', (exitCode) => {
  const reason = fatal instanceof Error ? `${fatal.name}: ${fatal.message}` : fatal === undefined ? undefined : String(fatal);
  try {
    port.postMessage({ id: -2, exitCode, reason } satisfies ExitNotice);
  } catch {
    // The port is closed already.
  }
  Atomics.store(shared, Slot.State, WorkerState.Exited);
  signal();
});

// Proof that this thread's event loop turns; unref'd: it must not keep the thread alive alone.
const heartbeat = setInterval(() => Atomics.add(shared, Slot.Heartbeat, 1), kHeartbeatMs);
heartbeat.unref();

type Modules = [typeof import('../core/async-core.js'), typeof import('./protocol.js'), typeof import('./errors.js'), typeof import('../errors.js')];
let modules: Modules | undefined;
try {
  modules = await Promise.all([import('../core/async-core.js'), import('./protocol.js'), import('./errors.js'), import('../errors.js')]);
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  port.postMessage({
    id: 0, ok: false,
    error: { $error: true, classes: ['Error'], message: `the blocking mode's worker could not load the client: ${err.message}`, stack: err.stack, props: {} },
  } satisfies BlockingReply);
  Atomics.store(shared, Slot.State, WorkerState.Failed);
  signal();
  port.close();
}

if (modules !== undefined) serve(modules);

function serve([{ workerCore }, protocol, errors, { BlockingWorkerError }]: Modules): void {
  let core: AsyncCore;
  let settings: ClientSettings;
  try {
    ({ core, settings } = workerCore(data.options));
  } catch (e) {
    // Cannot happen (the calling thread validated the same options); reported on every call if it does.
    port.on('message', (req: BlockingRequest) => reply({ id: req.id, ok: false, error: errors.serializeError(e) }, []));
    Atomics.store(shared, Slot.State, WorkerState.Ready);
    return;
  }

  // The calling client checked them when they were set.
  function applyState(s: ClientState): void {
    settings.db = s.db;
    settings.rp = s.rp;
    settings.precision = s.precision as Precision;
    settings.encoder = s.encoder as EncoderChoice;
  }

  async function run(req: BlockingRequest, transfer: ArrayBuffer[]): Promise<unknown> {
    const a = req.args;
    switch (req.op) {
      case 'ping':
        return core.ping();
      case 'write':
        return core.write(protocol.decodeWriteData(a[0] as WireWriteData) as never, a[1] as WriteOptions);
      case 'query': {
        const text = a[0] as string;
        if (process.env.FASTINFLUX_BLOCKING_TEST === '1' && text.startsWith(kCrashForTestPrefix)) return crashForTest(text.slice(kCrashForTestPrefix.length));
        const options = a[1] as QueryOptions & { output: 'raw' | 'arrow' };
        const r = await core.query(text, options);
        return options.output === 'arrow' ? protocol.encodeArrowResult(r as never, transfer) : r;
      }
      case 'getTagInfo':
        return core.getTagInfo(a[0] as string | undefined);
      case 'invalidateSchema':
        core.invalidateSchema(a[0] as string | undefined, a[1] as string | undefined);
        return undefined;
    }
  }

  function reply(r: BlockingReply, transfer: ArrayBuffer[]): void {
    try {
      port.postMessage(r, transfer);
    } catch (e) {
      // A value structured clone refuses: the caller must still get an answer.
      const err = new BlockingWorkerError(`the result of the blocking call could not be sent to the calling thread: ${(e as Error).message}`, { cause: e });
      port.postMessage({ id: r.id, ok: false, error: errors.serializeError(err) } satisfies BlockingReply);
    }
    signal();
  }

  async function handle(req: BlockingRequest): Promise<void> {
    const transfer: ArrayBuffer[] = [];
    let r: BlockingReply;
    try {
      applyState(req.state);
      r = { id: req.id, ok: true, value: await run(req, transfer) };
    } catch (e) {
      r = { id: req.id, ok: false, error: errors.serializeError(e) };
      transfer.length = 0;
    }
    // id -1: posted without waiting for an answer (invalidateSchema).
    if (req.id >= 0) reply(r, transfer);
  }

  // One request at a time, in order (the calling thread sends the next one only after the answer,
  // except fire-and-forget ones, which must still run in order).
  let queue = Promise.resolve();
  port.on('message', (req: BlockingRequest) => {
    queue = queue.then(() => handle(req));
  });
  Atomics.store(shared, Slot.State, WorkerState.Ready);
}

/** Test-only deaths (FASTINFLUX_BLOCKING_TEST=1), in the middle of a call. */
function crashForTest(mode: string): Promise<never> {
  if (mode === 'exit') process.exit(70);
  if (mode === 'hang') {
    // A thread stuck in synchronous code: no exit, no heartbeat.
    for (;;) {
      // spin until terminated
    }
  }
  return new Promise<never>(() => {
    setImmediate(() => {
      throw new Error('test: uncaught exception in the blocking worker');
    });
  });
}
