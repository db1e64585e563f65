/**
 * The calling thread's side of the blocking mode: a worker thread that owns an ordinary async
 * client, and a call that posts a request to it and waits for the answer without returning to
 * the event loop, so that `client.query(…)` can return a value to synchronous code.
 *
 * How the waiting works:
 * - The request goes over a MessagePort. The worker posts its reply on the same port, then
 *   increments a slot of a SharedArrayBuffer and `Atomics.notify`s it.
 * - The calling thread sleeps in `Atomics.wait` on that slot (allowed on Node's main thread,
 *   unlike browsers'): the thread is parked by the OS, no busy waiting, no CPU used.
 * - Its event loop does not run meanwhile, so a `'message'` listener would never fire:
 *   `receiveMessageOnPort` takes the reply off the port synchronously instead.
 * - The wait is cut into short slices (`kWaitSliceMs`): between them the caller checks that the
 *   worker is alive. A worker that exits (process.exit, uncaught exception) says so in the shared
 *   memory from its exit hook, and the call throws `BlockingWorkerError` at once; one that stops
 *   without it (killed by an out-of-memory error, stuck in synchronous code) stops its heartbeat,
 *   and the call throws after `stallTimeoutMs` without one. The caller always gets an answer or
 *   an error, never waits forever. There is no other time limit: the worker's client applies the
 *   client's `timeout` to each request as a deadline (headers and whole body), as in async mode,
 *   so a server trickling its answer ends the call with that error, long before a stall.
 * - The worker is started on the first blocking call and unref'd (it never keeps the process
 *   alive); `close()` terminates it.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BlockingWorkerError, InvalidOptionError } from '../errors.js';
import { rebuildError } from './errors.js';
import type { BlockingReply, BlockingRequest, BlockingWorkerData, ClientState, ExitNotice } from './protocol.js';
import { Slot, WorkerState, kSlots } from './slots.js';
import { blockingWorkerFile } from './worker-file.js';

/** @internal Tunables and counters, for tests. */
export const blockingInternals = {
  /** A worker whose event loop has not turned for this long is declared stalled (ms). */
  stallTimeoutMs: 60_000,
  /** Thread ids of the blocking workers started and not yet exited, in this process. */
  liveWorkers: new Set<number>(),
};

/** Longest single `Atomics.wait`: how often a waiting caller checks that the worker is alive. */
const kWaitSliceMs = 100;

type Op = BlockingRequest['op'];

export class BlockingChannel {
  readonly #options: unknown;
  #worker: Worker | undefined;
  #port: MessagePort | undefined;
  #shared: Int32Array | undefined;
  #nextId = 1;

  /** `options`: the client's constructor argument, without `mode` (the worker's client is async). */
  constructor(options: unknown) {
    this.#options = options;
  }

  get started(): boolean {
    return this.#worker !== undefined;
  }

  #start(): void {
    let file: URL;
    try {
      file = blockingWorkerFile();
    } catch (e) {
      // Running from TypeScript sources without FASTINFLUX_DEV_WORKERS (src/worker-file.ts).
      throw new BlockingWorkerError(`the blocking mode's worker could not be prepared: ${(e as Error).message}`, { cause: e });
    }
    if (!existsSync(fileURLToPath(file))) throw new BlockingWorkerError(`the blocking mode's worker is missing: ${fileURLToPath(file)} (run npm run build)`);
    const { port1, port2 } = new MessageChannel();
    const shared = new Int32Array(new SharedArrayBuffer(kSlots * Int32Array.BYTES_PER_ELEMENT));
    const workerData: BlockingWorkerData = { port: port2, shared: shared.buffer as SharedArrayBuffer, options: this.#options };
    let worker: Worker;
    try {
      worker = new Worker(file, { workerData, transferList: [port2], execArgv: workerExecArgv(process.execArgv) });
    } catch (e) {
      throw new BlockingWorkerError(`the blocking mode's worker could not start: ${(e as Error).message}`, { cause: e });
    }
    // Never keeps the process alive: a script or a REPL that forgets close() still exits.
    worker.unref();
    port1.unref();
    // An uncaught exception in the worker is also emitted here; without a listener it would
    // crash this process. The waiting caller learns of it from the shared memory instead.
    worker.on('error', () => {});
    const threadId = worker.threadId;
    blockingInternals.liveWorkers.add(threadId);
    worker.once('exit', () => {
      blockingInternals.liveWorkers.delete(threadId);
    });
    this.#worker = worker;
    this.#port = port1;
    this.#shared = shared;
  }

  /**
   * Runs `op` in the worker and returns its value, or throws its error rebuilt as the same class.
   * `transfer`: buffers of `args` handed over to the worker (Arrow IPC bytes), not copied.
   */
  call(op: Op, args: readonly unknown[], state: ClientState, transfer: ArrayBuffer[] = []): unknown {
    if (this.#worker === undefined) this.#start();
    const port = this.#port!;
    const shared = this.#shared!;
    const id = this.#nextId++;
    try {
      port.postMessage({ id, op, args, state } satisfies BlockingRequest, transfer);
    } catch (e) {
      throw new InvalidOptionError(`${op}() in blocking mode got a value that cannot be sent to the worker thread: ${(e as Error).message}`, { cause: e });
    }

    let beat = Atomics.load(shared, Slot.Heartbeat);
    let beatAt = performance.now();
    for (;;) {
      // Read the counter before looking at the port: a reply posted after the look changes it,
      // so the wait below returns at once instead of sleeping through that reply.
      const seen = Atomics.load(shared, Slot.Signal);
      const got = receiveMessageOnPort(port);
      if (got !== undefined) {
        const reply = got.message as BlockingReply | ExitNotice;
        if (reply.id === id) return this.#result(reply as BlockingReply);
        if (reply.id === 0 || reply.id === -2) return this.#afterDeath(op, reply, port, id);
        continue;
      }
      const state = Atomics.load(shared, Slot.State);
      if (state === WorkerState.Exited || state === WorkerState.Failed) return this.#afterDeath(op, undefined, port, id);
      const now = performance.now();
      const b = Atomics.load(shared, Slot.Heartbeat);
      if (b !== beat) {
        beat = b;
        beatAt = now;
      } else if (now - beatAt > blockingInternals.stallTimeoutMs) {
        void this.#discard();
        throw new BlockingWorkerError(
          `the blocking mode's worker thread stopped responding during ${op}() (its event loop did not turn for ${Math.round(now - beatAt)} ms): `
          + 'it was terminated, the outcome of this call is unknown; the next call starts a new worker',
        );
      }
      Atomics.wait(shared, Slot.Signal, seen, kWaitSliceMs);
    }
  }

  #result(reply: BlockingReply): unknown {
    if (reply.ok) return reply.value;
    throw rebuildError(reply.error, callSite());
  }

  /**
   * The worker is gone (or could not load): what is left on the port says how. A reply to this
   * call posted before the end still counts; otherwise this throws.
   */
  #afterDeath(op: Op, first: BlockingReply | ExitNotice | undefined, port: MessagePort, id: number): unknown {
    const left: Array<BlockingReply | ExitNotice> = first === undefined ? [] : [first];
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) left.push(m.message as BlockingReply | ExitNotice);
    void this.#discard();
    const mine = left.find((m): m is BlockingReply => m.id === id);
    if (mine !== undefined) return this.#result(mine);
    const failed = left.find((m): m is BlockingReply => m.id === 0);
    if (failed !== undefined) return this.#result(failed);
    const notice = left.find((m): m is ExitNotice => m.id === -2);
    const how = notice === undefined ? 'exited' : `exited with code ${notice.exitCode}${notice.reason === undefined ? '' : ` (${notice.reason})`}`;
    throw new BlockingWorkerError(`the blocking mode's worker thread ${how} during ${op}(): the outcome of this call is unknown; the next call starts a new worker`);
  }

  /** Posts a request whose answer nobody waits for (it runs in order with the calls). */
  post(op: Op, args: readonly unknown[], state: ClientState): void {
    this.#port?.postMessage({ id: -1, op, args, state } satisfies BlockingRequest);
  }

  /** Drops the worker (the next call starts a new one) and terminates it. */
  #discard(): Promise<unknown> {
    const worker = this.#worker;
    this.#port?.close();
    this.#worker = undefined;
    this.#port = undefined;
    this.#shared = undefined;
    // terminate() stops the thread even inside synchronous code; its promise settles on exit.
    return worker === undefined ? Promise.resolve() : worker.terminate().catch(() => undefined);
  }

  /**
   * Ends the worker (its client's sockets close with the thread; there is nothing else to flush:
   * no call is under way while the caller is not blocked). Resolves once the thread has exited.
   */
  close(): Promise<unknown> {
    return this.#discard();
  }
}

/** Options about the main script, with a value (`-e code`, `--input-type=module`). */
const kMainOnlyWithValue = new Set(['-e', '--eval', '-p', '--print', '--input-type']);
/** Options about the main script, without one. */
const kMainOnly = new Set(['-i', '--interactive', '-c', '--check', '--test', '--watch']);

/**
 * The process's Node options for the worker (memory limits, --conditions, --import hooks …),
 * without those about the main script, which a worker inherits by default: started from
 * `node -e '…'` (or `-p`, `-i`), a worker with the same options hangs.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq === -1 ? a : a.slice(0, eq);
    if (kMainOnlyWithValue.has(name) || /^-[a-z]*[ep]$/.test(name)) {
      if (eq === -1) i++; // the value is the next argument
      continue;
    }
    if (!kMainOnly.has(name)) out.push(a);
  }
  return out;
}

/** The caller's frames, appended to the stack of an error rebuilt from the worker. */
function callSite(): string | undefined {
  const stack = new Error().stack;
  if (stack === undefined) return undefined;
  // Drop "Error" and the frames of this module.
  return stack.split('\n').slice(1).filter((l) => !l.includes('/blocking/channel.')).join('\n');
}
