/**
 * One encode in the pool (`Job`): its rows packed into shared buffers and cut into tasks, each
 * task sent as soon as its rows are packed, then the tasks' outcomes put back together in row
 * order. Also what travels with every task (`EncodeSettings`, `settingsOf`) and how a row a
 * worker refused becomes the exact error of the single-thread encoder (`exactError`).
 *
 * How many rows a task gets is the pool's decision (`EncoderPool`'s `#rowsPerTask`); where the
 * buffers come from and how a task runs are the host's (`JobHost`).
 * @module
 */
import { InvalidOptionError, InvalidPointError, type PointElement } from '../errors.js';
import type { EncodedBody } from '../encode/body-builder.js';
import type { ColumnarLayout } from '../encode/columnar/layout.js';
import { ColumnarBodyWriter, encodeLayout } from '../encode/columnar/ts-encoder.js';
import type { PoolEncodeOptions, PoolEncodeResult } from './encoder-pool.js';
import { LayoutPacker, type CrashForTest, type EncodeTask, type EncodeTaskResult, type Segment, type WireLayout } from './wire.js';

/** Where the rows of one task's segment come from (main thread side). */
export interface SegmentSource {
  readonly layout: ColumnarLayout;
  /** Global index of the layout's row 0. */
  readonly rowBase: number;
  /** End of the encode of this layout (rows after an error are scanned up to it, as the single-thread encoder does). */
  readonly end: number;
}

export type InvalidPointResult = Extract<EncodeTaskResult, { kind: 'invalid-point' }>;

export type TaskOutcome =
  | { ok: true; bodies: EncodedBody[]; lines: number; skipped: readonly number[] }
  | { ok: false; error: () => Error };

/** The encode options that travel with every task. */
export interface EncodeSettings {
  readonly maxBodyBytes: number;
  readonly nonFinite: 'error' | 'skipField' | undefined;
  readonly invalidRows: 'error' | 'skip' | undefined;
  readonly allowNewlinesInStrings: boolean | undefined;
  readonly crashForTest: CrashForTest | undefined;
}

export function settingsOf(o: Omit<PoolEncodeOptions, 'maxBodyBytes'> & { maxBodyBytes: unknown }): EncodeSettings {
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
export function exactError(src: SegmentSource, r: InvalidPointResult, s: EncodeSettings): InvalidPointError {
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

/** What a job needs from its pool. */
export interface JobHost {
  /** A shared buffer of at least `bytes` bytes for a layout's packed rows. */
  takeBuffer(bytes: number): SharedArrayBuffer;
  /** The buffers of a job whose tasks have all ended: no worker reads them any more. */
  giveBuffers(buffers: readonly SharedArrayBuffer[]): void;
  /** Runs one task (once more if its worker dies). Never rejects: the outcome says what happened. */
  runTask(task: EncodeTask, sources: readonly SegmentSource[], settings: EncodeSettings): Promise<TaskOutcome>;
}

/** One encode: its tasks in row order, the segments of the task being filled. */
export class Job {
  readonly #host: JobHost;
  readonly #settings: EncodeSettings;
  readonly #target: number;
  readonly #tasks: Promise<TaskOutcome>[] = [];
  readonly #buffers: SharedArrayBuffer[] = [];
  #segments: Segment[] = [];
  #sources: SegmentSource[] = [];
  #rows = 0;

  constructor(host: JobHost, settings: EncodeSettings, rowsPerTask: number) {
    this.#host = host;
    this.#settings = settings;
    this.#target = Math.max(1, rowsPerTask);
  }

  /** Packs rows `from .. to` of a layout and cuts them into tasks (the last one may stay open for the next layout). */
  addLayout(src: SegmentSource, from: number, to: number): void {
    if (from >= to) return;
    const packer = new LayoutPacker(src.layout, src.rowBase, from, to, (n) => this.#host.takeBuffer(n));
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
    this.#tasks.push(this.#host.runTask(task, this.#sources, s));
    this.#segments = [];
    this.#sources = [];
    this.#rows = 0;
  }

  /** Waits for every task; the first failure in row order wins, then `failure` (an error reading the input, after them). */
  async finish(failure: { error: unknown } | undefined): Promise<PoolEncodeResult> {
    const outcomes = await Promise.all(this.#tasks);
    // Every task has ended (retries included) and error messages are worded from the user's layout.
    this.#host.giveBuffers(this.#buffers);
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
