/**
 * A pool of encoder workers (piscina): a large columnar layout is split into row ranges that
 * are encoded in parallel, each into its own request bodies; the bodies are returned in row
 * order, so the concatenated bytes are exactly those of the single-thread encoder (the cuts
 * between bodies may differ: each range ends its last body early; every body stays within
 * `maxBodyBytes`).
 *
 * This file: the pool's options, its three ways in (`encodeLayout`, `encodeLayouts`,
 * `encodeArrow`), how many rows a task gets, and `close()`. One encode's tasks: `job.ts`; the
 * threads, their start and retries: `workers.ts`; buffers kept between encodes: `spare-buffers.ts`.
 *
 * Data path (see `wire.ts`): the rows to encode are copied once, column by column and range by
 * range (memcpy, no per-row JavaScript), into a `SharedArrayBuffer` that every range's task reads
 * in place; each range's task is sent as soon as its rows are copied. The user's Arrow buffers
 * are only read, never transferred or detached. Shared buffers are reused by later encodes
 * (fresh memory costs a page fault per 4 KB: most of the copying time). Each task's bodies come
 * back transferred (`Piscina.move`), no copy. Errors come back as values and are turned into the
 * same `InvalidPointError` the single-thread encoder throws for the first bad row (see
 * `exactError` in `job.ts`).
 *
 * Tasks: about `rows / size` rows each, at most `maxRowsPerTask` (default 250,000: on the
 * standard workload, a quarter of a second of TypeScript encoding or a few tens of ms of WASM),
 * at least 8,192 (a thread hop costs more than encoding fewer rows), and a multiple of `size`
 * tasks, so that the workers finish together. Small layouts (batches of an Arrow stream) share
 * tasks; each task's bodies are packed across its layouts.
 *
 * Failures (see `workers.ts`): a task whose worker dies is run once more on a new worker, then
 * the encode rejects with `EncoderWorkerError`; no encode, and so no `close()`, waits forever.
 * `close()` waits for the encodes under way, then stops every thread; later calls reject with
 * `EncoderPoolClosedError` (code `FI_ERR_CLOSED`).
 * @module
 */
import { availableParallelism } from 'node:os';
import { EncoderPoolClosedError, InvalidOptionError, InvalidPointError } from '../errors.js';
import type { ColumnarLayout } from '../encode/columnar/layout.js';
import type { ColumnarEncodeOptions } from '../encode/columnar/ts-encoder.js';
import { isIterable } from '../guards.js';
import { ArrowLayoutBuilder, isArrowRecordBatch, isArrowTable, isAsyncOnly, type ArrowEncodeOptions, type ArrowInput, type ArrowRecordBatch } from '../encode/arrow/index.js';
import type { EncodedBody } from '../encode/body-builder.js';
import type { CrashForTest } from './wire.js';
import { getEncoderModule } from '../encode/wasm/module.js';
import { Job, settingsOf, type JobHost } from './job.js';
import { SpareBuffers } from './spare-buffers.js';
import { EncoderWorkers } from './workers.js';

export interface EncoderPoolOptions {
  /** Worker threads. Default: `os.availableParallelism()`. */
  size?: number;
  /** The encoder run by the workers: TypeScript (default) or WebAssembly. */
  kernel?: 'ts' | 'wasm';
  /** How long an idle worker is kept before it exits (ms; `Infinity`: never). Default 30,000. */
  idleTimeoutMs?: number;
  /** Most rows in one task. Default 250,000. */
  maxRowsPerTask?: number;
}

/** @internal For tests: where the worker is, and its environment. */
export interface EncoderPoolInternals {
  workerFile?: string | URL;
  env?: Record<string, string>;
}

export interface PoolEncodeOptions extends ColumnarEncodeOptions {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** @internal Test-only failure injected into every task (needs FASTINFLUX_POOL_TEST=1 in the workers' env). */
  crashForTest?: CrashForTest;
}

export interface PoolEncodeResult {
  /** Request bodies of at most `maxBodyBytes` each, in row order. */
  bodies: EncodedBody[];
  /** Lines written. */
  lines: number;
  /** Rows left out by `invalidRows: 'skip'` (global indices, ascending). */
  skippedRows: number[];
}

// The pool's errors live with every other error class (errors.ts); importers of this file keep them.
export { EncoderPoolClosedError, EncoderWorkerError } from '../errors.js';

const kDefaultIdleTimeoutMs = 30_000;
const kDefaultMaxRowsPerTask = 250_000;
/** Fewer rows than this per task are not worth a thread hop (unless `maxRowsPerTask` says so). */
const kMinRowsPerTask = 8192;
/** Rows per task for an iterable of batches, whose total is not known in advance. */
const kStreamRowsPerTask = 65_536;

function positiveInteger(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(`EncoderPool options.${name} must be a positive integer (got ${String(v)})`);
  return v;
}

export class EncoderPool {
  readonly size: number;
  readonly kernel: 'ts' | 'wasm';
  readonly idleTimeoutMs: number;
  readonly maxRowsPerTask: number;
  readonly #workers: EncoderWorkers;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<unknown>>();
  /** Shared buffers of finished encodes, for the next ones (see `LayoutPacker`). */
  readonly #spare = new SpareBuffers();
  /** What this pool's jobs take their buffers from and run their tasks on. */
  readonly #host: JobHost = {
    takeBuffer: (bytes) => this.#spare.take(bytes),
    giveBuffers: (buffers) => {
      if (!this.#closed) this.#spare.give(buffers, this.idleTimeoutMs);
    },
    runTask: (task, sources, settings) => this.#workers.run(task, sources, settings),
  };

  constructor(options: EncoderPoolOptions = {}, internals: EncoderPoolInternals = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('EncoderPool options must be an object');
    this.size = positiveInteger('size', options.size) ?? availableParallelism();
    const kernel = options.kernel ?? 'ts';
    if (kernel !== 'ts' && kernel !== 'wasm') throw new InvalidOptionError(`EncoderPool options.kernel must be 'ts' or 'wasm' (got ${String(kernel)})`);
    this.kernel = kernel;
    // kernel 'wasm': compiled here, now (once per process, by `getEncoderModule`), so that a missing
    // build fails at construction with its message; the Module is sent to every worker.
    const wasmModule = kernel === 'wasm' ? getEncoderModule() : undefined;
    const idle = options.idleTimeoutMs ?? kDefaultIdleTimeoutMs;
    if (typeof idle !== 'number' || !(idle >= 0)) throw new InvalidOptionError(`EncoderPool options.idleTimeoutMs must be a non-negative number or Infinity (got ${String(idle)})`);
    this.idleTimeoutMs = idle;
    this.maxRowsPerTask = positiveInteger('maxRowsPerTask', options.maxRowsPerTask) ?? kDefaultMaxRowsPerTask;
    this.#workers = new EncoderWorkers({ size: this.size, idleTimeoutMs: idle, wasmModule, workerFile: internals.workerFile, env: internals.env });
  }

  /** Worker threads running now (0 before the first encode and after `close()`). */
  get threads(): number {
    return this.#workers.threads;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Encodes rows `from .. to` of `layout` (all by default) in the pool: same bytes, same
   * `InvalidPointError` and same `skippedRows` as `encodeLayout` on one thread. The layout is
   * read (copied) before this returns its promise; it is never modified.
   */
  encodeLayout(layout: ColumnarLayout, options: PoolEncodeOptions): Promise<PoolEncodeResult> {
    try {
      this.#checkOpen();
      const settings = settingsOf(options);
      const rowBase = options.rowBase ?? 0;
      const from = options.from ?? 0;
      const to = options.to ?? layout.rows;
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to > layout.rows || from > to) {
        throw new InvalidOptionError(`rows from ${String(from)} to ${String(to)} are not within the layout's ${layout.rows} rows`);
      }
      const job = new Job(this.#host, settings, this.#rowsPerTask(to - from));
      job.addLayout({ layout, rowBase, end: to }, from, to);
      job.flush();
      const sink = options.skippedRows;
      return this.#track(job.finish(undefined).then((r) => {
        // As the single-thread encoder: skipped rows are also pushed to the caller's array.
        if (sink !== undefined) for (const row of r.skippedRows) sink.push(row);
        return r;
      }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Encodes several layouts (all their rows), as `encodeLayout` on each in turn would, bodies and
   * skipped rows in the same order and the first error in that order; but small layouts share
   * tasks (and bodies), so that many small layouts (one per measurement and schema) keep the
   * workers busy. A lazy iterable is read while the first tasks run; an exception it throws
   * rejects the encode after the errors of the layouts before it.
   */
  encodeLayouts(items: Iterable<{ readonly layout: ColumnarLayout; readonly rowBase?: number }>, options: Omit<PoolEncodeOptions, 'rowBase' | 'from' | 'to' | 'skippedRows'>): Promise<PoolEncodeResult> {
    try {
      this.#checkOpen();
      const settings = settingsOf(options);
      let total: number | undefined;
      if (Array.isArray(items)) total = (items as readonly { layout: ColumnarLayout }[]).reduce((n, it) => n + it.layout.rows, 0);
      const job = new Job(this.#host, settings, total === undefined ? Math.min(this.maxRowsPerTask, kStreamRowsPerTask) : this.#rowsPerTask(total));
      let failure: { error: unknown } | undefined;
      try {
        for (const { layout, rowBase } of items) job.addLayout({ layout, rowBase: rowBase ?? 0, end: layout.rows }, 0, layout.rows);
        job.flush();
      } catch (error) {
        failure = { error };
      }
      return this.#track(job.finish(failure));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Encodes Arrow input in the pool (layouts built on this thread by `ArrowLayoutBuilder`, encoded
   * by the workers): the result of `encodeArrow` (`src/encode/arrow/index.ts`), same bytes and
   * errors. Batches of an iterable are sent to the workers as they are read.
   */
  encodeArrow(input: ArrowInput, options: ArrowEncodeOptions, maxBodyBytes: number): Promise<PoolEncodeResult> {
    try {
      this.#checkOpen();
      return this.#track(this.#encodeArrow(input, options, maxBodyBytes));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #encodeArrow(input: ArrowInput, options: ArrowEncodeOptions, maxBodyBytes: number): Promise<PoolEncodeResult> {
    const settings = settingsOf({ maxBodyBytes, nonFinite: options.nonFinite, invalidRows: options.invalidRows, allowNewlinesInStrings: options.allowNewlinesInStrings });
    const builder = new ArrowLayoutBuilder(options);
    let total: number | undefined;
    if (isArrowTable(input)) total = input.batches.reduce((n, b) => n + b.numRows, 0);
    else if (isArrowRecordBatch(input)) total = input.numRows;
    const job = new Job(this.#host, settings, total === undefined ? Math.min(this.maxRowsPerTask, kStreamRowsPerTask) : this.#rowsPerTask(total));
    let rows = 0;
    const batch = (b: ArrowRecordBatch) => {
      const layout = builder.layout(b, rows);
      job.addLayout({ layout, rowBase: rows, end: layout.rows }, 0, layout.rows);
      rows += layout.rows;
    };
    const add = (item: unknown) => {
      if (isArrowRecordBatch(item)) batch(item);
      else if (isArrowTable(item)) for (const b of item.batches) batch(b);
      else {
        const got = item === null ? 'null' : typeof item === 'object' ? ((item as object).constructor?.name ?? 'object') : typeof item;
        throw new InvalidPointError(rows, 'point', undefined, `expected an Arrow RecordBatch or Table in the iterable, got ${got}`);
      }
    };
    // An error while reading the input comes after the errors of the rows before it.
    let failure: { error: unknown } | undefined;
    try {
      if (isArrowTable(input) || isArrowRecordBatch(input)) add(input);
      else if (isAsyncOnly(input)) for await (const b of input as AsyncIterable<unknown>) add(b);
      else if (isIterable(input)) for (const b of input) add(b);
      else throw new InvalidPointError(0, 'point', undefined, 'expected an Arrow Table, a RecordBatch or an iterable of record batches');
      job.flush();
    } catch (error) {
      failure = { error };
    }
    return job.finish(failure);
  }

  /**
   * Waits for the encodes under way, then stops every worker. Later calls reject with
   * `EncoderPoolClosedError`. Idempotent.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      this.#spare.clear();
      await this.#workers.destroy();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new EncoderPoolClosedError();
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** About `rows / size` rows per task, capped, then evened out over a multiple of `size` tasks. */
  #rowsPerTask(rows: number): number {
    if (rows <= 0) return 1;
    const target = Math.min(this.maxRowsPerTask, Math.max(kMinRowsPerTask, Math.ceil(rows / this.size)));
    let tasks = Math.ceil(rows / target);
    if (tasks > 1) tasks = Math.ceil(tasks / this.size) * this.size;
    return Math.ceil(rows / tasks);
  }
}
