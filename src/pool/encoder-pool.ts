/**
 * A pool of encoder workers (piscina): a large columnar layout is split into row ranges that
 * are encoded in parallel, each into its own request bodies; the bodies are returned in row
 * order, so the concatenated bytes are exactly those of the single-thread encoder (the cuts
 * between bodies may differ: each range ends its last body early; every body stays within
 * `maxBodyBytes`).
 *
 * Data path (see `wire.ts`): the rows to encode are copied once, column by column and range by
 * range (memcpy, no per-row JavaScript), into a `SharedArrayBuffer` that every range's task reads
 * in place; each range's task is sent as soon as its rows are copied. The user's Arrow buffers
 * are only read, never transferred or detached. Shared buffers are reused by later encodes
 * (fresh memory costs a page fault per 4 KB: most of the copying time). Each task's bodies come
 * back transferred (`Piscina.move`), no copy. Errors come back as values and are turned into the
 * same `InvalidPointError` the single-thread encoder throws for the first bad row (see
 * `exactError`).
 *
 * Tasks: about `rows / size` rows each, at most `maxRowsPerTask` (default 250,000: on the
 * standard workload, a quarter of a second of TypeScript encoding or a few tens of ms of WASM),
 * at least 8,192 (a thread hop costs more than encoding fewer rows), and a multiple of `size`
 * tasks, so that the workers finish together. Small layouts (batches of an Arrow stream) share
 * tasks; each task's bodies are packed across its layouts.
 *
 * Failures: a task whose worker dies (exit, uncaught exception) is run once more on a new worker;
 * if that one dies too, the encode rejects with `EncoderWorkerError`. piscina starts a worker
 * only when a task is submitted or a worker frees up, so when the last worker dies with tasks
 * still queued (dying on a last attempt, or while starting), the pool starts one itself, or fails
 * those tasks if that one cannot start either (see `#unstrand`): no encode, and so no `close()`,
 * waits forever. Any other exception inside the worker (not a refused row) is deterministic: it
 * rejects at once with `EncoderWorkerError`, not retried. `close()` waits for the encodes under
 * way, then stops every thread; later calls reject with `EncoderPoolClosedError` (code
 * `FI_ERR_CLOSED`).
 * @module
 */
import { availableParallelism } from 'node:os';
// Types only: piscina itself is imported when the first pool starts (#start), so that programs
// that never use the pool (the CLI's load, most writers) do not pay for loading it.
import type { Piscina } from 'piscina';
import { EncoderPoolClosedError, EncoderWorkerError, InvalidOptionError, InvalidPointError, type PointElement } from '../errors.js';
import type { EncodedBody } from '../encode/body-builder.js';
import type { ColumnarLayout } from '../encode/columnar/layout.js';
import { ColumnarBodyWriter, encodeLayout, type ColumnarEncodeOptions } from '../encode/columnar/ts-encoder.js';
import { isIterable } from '../guards.js';
import { ArrowLayoutBuilder, isArrowRecordBatch, isArrowTable, isAsyncOnly, type ArrowEncodeOptions, type ArrowInput, type ArrowRecordBatch } from '../encode/arrow/index.js';
import { LayoutPacker, type CrashForTest, type EncodeTask, type EncodeTaskResult, type Segment, type WireLayout } from './wire.js';
import { getEncoderModule } from '../encode/wasm/module.js';
import { defaultWorkerFile } from './worker-file.js';
import type { EncoderWorkerData } from './worker.js';

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

/** Where the rows of one task's segment come from (main thread side). */
interface SegmentSource {
  readonly layout: ColumnarLayout;
  /** Global index of the layout's row 0. */
  readonly rowBase: number;
  /** End of the encode of this layout (rows after an error are scanned up to it, as the single-thread encoder does). */
  readonly end: number;
}

type InvalidPointResult = Extract<EncodeTaskResult, { kind: 'invalid-point' }>;

type TaskOutcome =
  | { ok: true; bodies: EncodedBody[]; lines: number; skipped: readonly number[] }
  | { ok: false; error: () => Error };

/** The encode options that travel with every task. */
interface EncodeSettings {
  readonly maxBodyBytes: number;
  readonly nonFinite: 'error' | 'skipField' | undefined;
  readonly invalidRows: 'error' | 'skip' | undefined;
  readonly allowNewlinesInStrings: boolean | undefined;
  readonly crashForTest: CrashForTest | undefined;
}

export class EncoderPool {
  readonly size: number;
  readonly kernel: 'ts' | 'wasm';
  readonly idleTimeoutMs: number;
  readonly maxRowsPerTask: number;
  readonly #internals: EncoderPoolInternals;
  /** kernel 'wasm': compiled once (per process, by `getEncoderModule`), sent to every worker in `workerData`. */
  readonly #wasmModule: WebAssembly.Module | undefined;
  /** Set once the worker file (and the WASM module) are known. */
  #piscina: Piscina | undefined;
  #ready: Promise<Piscina> | undefined;
  #closed = false;
  /** The error of a worker that could not start, since the last task that worked. */
  #startError: unknown;
  #closing: Promise<void> | undefined;
  /** Set by `close()` when it destroys the piscina pool: no worker is started after that. */
  #destroyed = false;
  readonly #inflight = new Set<Promise<unknown>>();
  /** Shared buffers of finished encodes, for the next ones (see `LayoutPacker`). */
  readonly #spare = new SpareBuffers();

  constructor(options: EncoderPoolOptions = {}, internals: EncoderPoolInternals = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('EncoderPool options must be an object');
    this.size = positiveInteger('size', options.size) ?? availableParallelism();
    const kernel = options.kernel ?? 'ts';
    if (kernel !== 'ts' && kernel !== 'wasm') throw new InvalidOptionError(`EncoderPool options.kernel must be 'ts' or 'wasm' (got ${String(kernel)})`);
    this.kernel = kernel;
    // Compiled here, now: a missing build fails at construction, with getEncoderModule's message.
    this.#wasmModule = kernel === 'wasm' ? getEncoderModule() : undefined;
    const idle = options.idleTimeoutMs ?? kDefaultIdleTimeoutMs;
    if (typeof idle !== 'number' || !(idle >= 0)) throw new InvalidOptionError(`EncoderPool options.idleTimeoutMs must be a non-negative number or Infinity (got ${String(idle)})`);
    this.idleTimeoutMs = idle;
    this.maxRowsPerTask = positiveInteger('maxRowsPerTask', options.maxRowsPerTask) ?? kDefaultMaxRowsPerTask;
    this.#internals = { ...internals };
  }

  /** Worker threads running now (0 before the first encode and after `close()`). */
  get threads(): number {
    return this.#piscina?.threads.length ?? 0;
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
      const job = new Job(this, settings, this.#rowsPerTask(to - from));
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
      const job = new Job(this, settings, total === undefined ? Math.min(this.maxRowsPerTask, kStreamRowsPerTask) : this.#rowsPerTask(total));
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
    const job = new Job(this, settings, total === undefined ? Math.min(this.maxRowsPerTask, kStreamRowsPerTask) : this.#rowsPerTask(total));
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
      const p = this.#piscina ?? (this.#ready === undefined ? undefined : await this.#ready.catch(() => undefined));
      this.#destroyed = true;
      if (p !== undefined) await p.destroy();
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

  /** The piscina pool, created at the first task (the worker file, and the WASM module, are loaded first). */
  #pool(): Piscina | Promise<Piscina> {
    if (this.#piscina !== undefined) return this.#piscina;
    this.#ready ??= this.#start().then((p) => (this.#piscina = p));
    return this.#ready;
  }

  async #start(): Promise<Piscina> {
    const file = this.#internals.workerFile ?? (await defaultWorkerFile());
    const workerData: EncoderWorkerData = this.#wasmModule === undefined ? { kernel: 'ts' } : { kernel: 'wasm', wasmModule: this.#wasmModule };
    const { Piscina } = await import('piscina');
    const p = new Piscina({
      filename: file instanceof URL ? file.href : file,
      minThreads: 0,
      maxThreads: this.size,
      idleTimeout: this.idleTimeoutMs,
      workerData,
      ...(this.#internals.env === undefined ? {} : { env: this.#internals.env }),
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

  /** @internal A shared buffer of at least `bytes` bytes for an encode's layout. */
  takeBuffer(bytes: number): SharedArrayBuffer {
    return this.#spare.take(bytes);
  }

  /** @internal The buffers of an encode whose tasks have all ended: no worker reads them any more. */
  giveBuffers(buffers: readonly SharedArrayBuffer[]): void {
    if (!this.#closed) this.#spare.give(buffers, this.idleTimeoutMs);
  }

  /** @internal Runs one task, once more if its worker dies. Never rejects: the outcome says what happened. */
  async runTask(task: EncodeTask, sources: readonly SegmentSource[], settings: EncodeSettings): Promise<TaskOutcome> {
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

function settingsOf(o: Omit<PoolEncodeOptions, 'maxBodyBytes'> & { maxBodyBytes: unknown }): EncodeSettings {
  const m = o.maxBodyBytes;
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1) throw new InvalidOptionError(`maxBodyBytes must be a positive integer (got ${String(m)})`);
  return { maxBodyBytes: m, nonFinite: o.nonFinite, invalidRows: o.invalidRows, allowNewlinesInStrings: o.allowNewlinesInStrings, crashForTest: o.crashForTest };
}

/**
 * The error the single-thread encoder throws for the row the worker refused: that row encoded
 * again here, on the user's own layout, by the reference encoder (the scan for more rows
 * without a field goes on to the end of the encode, as on one thread; the message uses the
 * layout's time reasons and values). Costs one row, and only when the write is refused. Should
 * the kernels disagree, the worker's own words are kept.
 */
function exactError(src: SegmentSource, r: InvalidPointResult, s: EncodeSettings): InvalidPointError {
  const row = r.row - src.rowBase;
  try {
    encodeLayout(src.layout, new ColumnarBodyWriter(s.maxBodyBytes, 1024), {
      rowBase: src.rowBase, from: row, to: src.end,
      nonFinite: s.nonFinite, invalidRows: s.invalidRows, allowNewlinesInStrings: s.allowNewlinesInStrings, skippedRows: [],
    });
  } catch (e) {
    if (e instanceof InvalidPointError && e.pointIndex === r.row) return e;
  }
  return new InvalidPointError(r.row, r.element as PointElement, r.key, r.reason);
}

/** Most shared buffers kept for reuse, and their most bytes in all. */
const kSpareBuffers = 8;
const kSpareBytes = 256 * 1024 * 1024;
/** Buffers are allocated in steps of this many bytes, so that the next encodes of about the same size fit. */
const kBufferStep = 1024 * 1024;

/**
 * Shared buffers of finished encodes: a new encode reuses one whose pages are already mapped
 * instead of faulting in fresh ones. Bounded (`kSpareBuffers`, `kSpareBytes`), and emptied when
 * the pool has been idle for its `idleTimeoutMs`, or closed.
 */
class SpareBuffers {
  #list: SharedArrayBuffer[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  /** The smallest spare that fits, else a new buffer. */
  take(bytes: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#list.length; i++) {
      const n = this.#list[i]!.byteLength;
      if (n >= bytes && (best < 0 || n < this.#list[best]!.byteLength)) best = i;
    }
    if (best < 0) return new SharedArrayBuffer(bytes < kBufferStep ? bytes : Math.ceil(bytes / kBufferStep) * kBufferStep);
    const b = this.#list.splice(best, 1)[0]!;
    this.#bytes -= b.byteLength;
    return b;
  }

  give(buffers: readonly SharedArrayBuffer[], idleMs: number): void {
    for (const b of buffers) {
      if (b.byteLength < 64 * 1024) continue;
      this.#list.push(b);
      this.#bytes += b.byteLength;
    }
    // Keep the largest ones, within the byte budget.
    this.#list.sort((a, b) => b.byteLength - a.byteLength);
    while (this.#list.length > kSpareBuffers) this.#bytes -= this.#list.pop()!.byteLength;
    while (this.#bytes > kSpareBytes) this.#bytes -= this.#list.shift()!.byteLength;
    clearTimeout(this.#timer);
    if (this.#list.length > 0 && Number.isFinite(idleMs)) this.#timer = setTimeout(() => this.clear(), idleMs).unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#list = [];
    this.#bytes = 0;
  }
}

/** One encode: its tasks in row order, the segments of the task being filled. */
class Job {
  readonly #pool: EncoderPool;
  readonly #settings: EncodeSettings;
  readonly #target: number;
  readonly #tasks: Promise<TaskOutcome>[] = [];
  readonly #buffers: SharedArrayBuffer[] = [];
  #segments: Segment[] = [];
  #sources: SegmentSource[] = [];
  #rows = 0;

  constructor(pool: EncoderPool, settings: EncodeSettings, rowsPerTask: number) {
    this.#pool = pool;
    this.#settings = settings;
    this.#target = Math.max(1, rowsPerTask);
  }

  /** Packs rows `from .. to` of a layout and cuts them into tasks (the last one may stay open for the next layout). */
  addLayout(src: SegmentSource, from: number, to: number): void {
    if (from >= to) return;
    const packer = new LayoutPacker(src.layout, src.rowBase, from, to, (n) => this.#pool.takeBuffer(n));
    this.#buffers.push(packer.wire.buffer);
    for (let a = from; a < to;) {
      const b = Math.min(to, a + this.#target - this.#rows);
      packer.fill(a, b);
      this.#add(packer.wire, a - packer.first, b - packer.first, src);
      a = b;
    }
  }

  #add(layout: WireLayout, from: number, to: number, src: SegmentSource): void {
    this.#segments.push({ layout, from, to });
    this.#sources.push(src);
    this.#rows += to - from;
    if (this.#rows >= this.#target) this.flush();
  }

  /** Sends the open task. */
  flush(): void {
    if (this.#segments.length === 0) return;
    const s = this.#settings;
    const task: EncodeTask = {
      segments: this.#segments, maxBodyBytes: s.maxBodyBytes, nonFinite: s.nonFinite, invalidRows: s.invalidRows,
      allowNewlinesInStrings: s.allowNewlinesInStrings, attempt: 0,
      ...(s.crashForTest === undefined ? {} : { crashForTest: s.crashForTest }),
    };
    this.#tasks.push(this.#pool.runTask(task, this.#sources, s));
    this.#segments = [];
    this.#sources = [];
    this.#rows = 0;
  }

  /** Waits for every task; the first failure in row order wins, then `failure` (an error reading the input, after them). */
  async finish(failure: { error: unknown } | undefined): Promise<PoolEncodeResult> {
    const outcomes = await Promise.all(this.#tasks);
    // Every task has ended (retries included) and error messages are worded from the user's layout.
    this.#pool.giveBuffers(this.#buffers);
    const bodies: EncodedBody[] = [];
    const skippedRows: number[] = [];
    let lines = 0;
    for (const o of outcomes) {
      if (!o.ok) throw o.error();
      for (const b of o.bodies) bodies.push(b);
      for (const r of o.skipped) skippedRows.push(r);
      lines += o.lines;
    }
    if (failure !== undefined) throw failure.error;
    return { bodies, lines, skippedRows };
  }
}
