/**
 * The pool's worker threads (`EncoderWorkers`, over piscina): started at the first task, each
 * task run once more on a new worker if its worker dies, and stopped by `destroy()` (the pool's
 * `close()`).
 *
 * Failures: a task whose worker dies (exit, uncaught exception) is run once more on a new worker;
 * if that one dies too, the encode rejects with `EncoderWorkerError`. piscina starts a worker
 * only when a task is submitted or a worker frees up, so when the last worker dies with tasks
 * still queued (dying on a last attempt, or while starting), the pool starts one itself, or fails
 * those tasks if that one cannot start either (see `#unstrand`): no encode, and so no `close()`,
 * waits forever. Any other exception inside the worker (not a refused row) is deterministic: it
 * rejects at once with `EncoderWorkerError`, not retried.
 * @module
 */
// Types only: piscina itself is imported when the first pool starts (#start), so that programs
// that never use the pool (the CLI's load, most writers) do not pay for loading it.
import type { Piscina } from 'piscina';
import { EncoderWorkerError } from '../errors.js';
import { exactError, type EncodeSettings, type SegmentSource, type TaskOutcome } from './job.js';
import type { EncodeTask, EncodeTaskResult } from './wire.js';
import { defaultWorkerFile } from './worker-file.js';
import type { EncoderWorkerData } from './worker.js';

/** How the threads are started: the pool's options, checked by `EncoderPool`. */
export interface WorkerSettings {
  readonly size: number;
  readonly idleTimeoutMs: number;
  /** kernel 'wasm': the compiled encoder, sent to every worker in `workerData`; undefined: the TypeScript kernel. */
  readonly wasmModule: WebAssembly.Module | undefined;
  /** Tests: another worker file, another environment. */
  readonly workerFile: string | URL | undefined;
  readonly env: Record<string, string> | undefined;
}

export class EncoderWorkers {
  readonly #settings: WorkerSettings;
  /** Set once the worker file (and the WASM module) are known. */
  #piscina: Piscina | undefined;
  #ready: Promise<Piscina> | undefined;
  /** The error of a worker that could not start, since the last task that worked. */
  #startError: unknown;
  /** Set by `destroy()`: no worker is started after that. */
  #destroyed = false;

  constructor(settings: WorkerSettings) {
    this.#settings = settings;
  }

  /** Worker threads running now (0 before the first task and after `destroy()`). */
  get threads(): number {
    return this.#piscina?.threads.length ?? 0;
  }

  /** Stops every thread (also one still starting). Called once no task is under way. */
  async destroy(): Promise<void> {
    const p = this.#piscina ?? (this.#ready === undefined ? undefined : await this.#ready.catch(() => undefined));
    this.#destroyed = true;
    if (p !== undefined) await p.destroy();
  }

  /** The piscina pool, created at the first task (the worker file, and the WASM module, are loaded first). */
  #pool(): Piscina | Promise<Piscina> {
    if (this.#piscina !== undefined) return this.#piscina;
    this.#ready ??= this.#start().then((p) => (this.#piscina = p));
    return this.#ready;
  }

  async #start(): Promise<Piscina> {
    const s = this.#settings;
    const file = s.workerFile ?? (await defaultWorkerFile());
    const workerData: EncoderWorkerData = s.wasmModule === undefined ? { kernel: 'ts' } : { kernel: 'wasm', wasmModule: s.wasmModule };
    const { Piscina } = await import('piscina');
    const p = new Piscina({
      filename: file instanceof URL ? file.href : file,
      minThreads: 0,
      maxThreads: s.size,
      idleTimeout: s.idleTimeoutMs,
      workerData,
      ...(s.env === undefined ? {} : { env: s.env }),
    });
    // A worker died while it held no task (an unhandled 'error' event would kill the process).
    p.on('error', (err: unknown) => {
      // One that died while starting (its module could not be loaded) is not replaced by piscina:
      // with no worker left, the waiting tasks would wait forever. Fail them (they are run once
      // more, on a new worker, then reported with this error).
      if (p.threads.length === 0 && p.queueSize > 0) {
        this.#startError = err;
        void p.destroy();
      }
    });
    // Workers that became ready, and their count when `#unstrand` last started one.
    const watch = { ready: 0, kickedAt: -1 };
    p.on('workerCreate', () => {
      watch.ready++;
    });
    // Every way a worker goes (exit, error, termination) passes here. Checked once the dead
    // worker's tasks have been rejected and their retries submitted (microtasks before this).
    p.on('workerDestroy', () => {
      setImmediate(() => this.#unstrand(p, watch));
    });
    return p;
  }

  /**
   * Tasks queued with no worker left would wait forever: piscina starts a worker only when a task
   * is submitted (or a worker frees up), and the last ones died (on their tasks' last attempt, or
   * while starting, with no task). Starts one by submitting a no-op task; if the one started that
   * way died too before it was ready, fails the queued tasks instead (`destroy`: each is run once
   * more, or reported with `#startError`), as for a worker module that cannot be loaded.
   */
  #unstrand(p: Piscina, watch: { ready: number; kickedAt: number }): void {
    if (this.#destroyed || p.threads.length > 0 || p.queueSize === 0) return;
    if (watch.kickedAt === watch.ready) {
      this.#startError ??= new Error('a worker exited before it was ready');
      void p.destroy();
      return;
    }
    watch.kickedAt = watch.ready;
    // Its outcome does not matter (a test's worker file may have no 'ping'): only the worker it starts.
    p.run(null, { name: 'ping' }).catch(() => undefined);
  }

  /** Runs one task, once more if its worker dies. Never rejects: the outcome says what happened. */
  async run(task: EncodeTask, sources: readonly SegmentSource[], settings: EncodeSettings): Promise<TaskOutcome> {
    const first = task.segments[0]!;
    const last = task.segments[task.segments.length - 1]!;
    const fromRow = first.layout.rowBase + first.from;
    const toRow = last.layout.rowBase + last.to - 1;
    const rows = `rows ${fromRow}-${toRow}`;
    let pool: Piscina;
    try {
      const p = this.#pool();
      pool = p instanceof Promise ? await p : p;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, error: () => new EncoderWorkerError(`the encoder workers could not be started: ${message}`, fromRow, toRow, undefined, { cause: e }) };
    }
    let died: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      let result: EncodeTaskResult;
      try {
        result = (await pool.run(attempt === 0 ? task : { ...task, attempt })) as EncodeTaskResult;
      } catch (e) {
        died = e;
        continue;
      }
      this.#startError = undefined;
      if (result.ok) {
        const bodies = result.bodies.map((b) => ({ body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength), lines: b.lines }));
        return { ok: true, bodies, lines: result.lines, skipped: result.skipped };
      }
      if (result.kind === 'invalid-point') {
        const r = result;
        return { ok: false, error: () => exactError(sources[r.segment]!, r, settings) };
      }
      const failure = result;
      return {
        ok: false,
        error: () => new EncoderWorkerError(`encoder worker failed while encoding ${rows}: ${failure.name}: ${failure.message}`, fromRow, toRow, undefined, { cause: failure }),
      };
    }
    const message = died instanceof Error ? died.message : String(died);
    const code = /worker exited with code: (-?\d+)/.exec(message)?.[1];
    const exitCode = code === undefined ? undefined : Number(code);
    const start = this.#startError;
    const why = exitCode !== undefined ? `exited (code ${exitCode})`
      : start !== undefined ? `could not start (${start instanceof Error ? start.message : String(start)})`
      : `died (${message})`;
    return {
      ok: false,
      error: () => new EncoderWorkerError(`encoder worker ${why} while encoding ${rows}, twice (the task was run on a new worker after the first failure)`, fromRow, toRow, exitCode, { cause: died }),
    };
  }
}
