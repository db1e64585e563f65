/**
 * `fastinflux load`: one file (`loadFile`), read chunk by chunk into the batch writer. Every
 * chunk waits for room in the writer's bounded buffer (`await writer.write()`); a bad row is
 * reported and the rows around it written (`put`); the checkpoint follows what the server
 * acknowledged (`FileMarks`); Ctrl-C stops reading at once and gives what was read
 * `kInterruptGraceMs` to be sent. Returns the file's report for the summary.
 *
 * The run around the files (checkpoint file, signals, the server's checks, the summary) is
 * load.ts; the dead letter, load-dead-letter.ts.
 */
import { statSync } from 'node:fs';
import type * as A from 'apache-arrow';
import { encode } from '../encode/encode.js';
import type { Point } from '../encode/point-encoder.js';
import { BufferFullError, InvalidOptionError, InvalidPointError, WriteDeliveryError, WriterClosedError } from '../errors.js';
import type { Precision } from '../types.js';
import type { BatchWriter, WriterInput } from '../writer/batch-writer.js';
// Errors the writer reports that no waiting can fix stop the load: the error's own verdict
// (err.decision, from transport/classify.ts), the one the writer acts on.
import { stopsSending } from '../writer/retry.js';
import { describeRecovery } from '../writer/spool.js';
import type { SpoolRecovery } from '../options/index.js';
import { FileMarks, type Checkpoint, type Position } from './checkpoint.js';
import { errorLine, redact, type Connection } from './common.js';
import { CliError, UsageError } from './errors.js';
import { oneLine, type DeadLetter } from './load-dead-letter.js';
import { kInterruptGraceMs, type FileReport, type LoadSettings } from './load-settings.js';
import { Progress } from './progress.js';
import { integerTimeAsTimestamp } from './readers/arrow-time.js';
import { detectInput, openReader, type ReaderChunk } from './readers/index.js';

/** What `untilInterrupted` gives instead of the awaited value once Ctrl-C was pressed. */
export const INTERRUPTED = Symbol('interrupted');

/** The checkpoint of a load, and how to bring the file being loaded up to date in it. */
export interface CheckpointRun {
  ck: Checkpoint;
  /** Moves the current file's position over what the server has acknowledged since. */
  sync: (() => void) | undefined;
}

export interface Interruption {
  isInterrupted(): boolean;
  /** The promise, or INTERRUPTED as soon as Ctrl-C is pressed (the promise is then left behind). */
  untilInterrupted<T>(p: Promise<T>): Promise<T | typeof INTERRUPTED>;
}

/** The format's name in the summary of a file that was not opened (loaded before). */
const kFormatNames = { arrow: 'Arrow IPC', parquet: 'Parquet', csv: 'CSV', ndjson: 'NDJSON', lp: 'line protocol' } as const;

/** The client's option names in a message, as the command's flags. */
function optionNames(msg: string): string {
  return msg
    .replace(/\b(?:write|encode) options\.tagColumns\b/g, '--tag-columns')
    .replace(/\b(?:write|encode) options\.timeColumn\b/g, '--time-column')
    .replace(/\b(?:write|encode) options\.fieldTypes\.?/g, '--field-types ')
    .replace(/\b(?:write|encode) options\.measurement\b/g, '--measurement')
    .replace(/\b(?:write|encode) options\./g, '');
}

type RowText = (i: number) => string | undefined;
const noText: RowText = () => undefined;

/** A part of a chunk that can be written, or split around a bad row. */
interface Segment {
  size: number;
  data: WriterInput;
  slice(begin: number, end: number): Segment;
  where(i: number): string;
  /** The row's source text (CSV row, NDJSON line), when there is one. */
  text: RowText;
}

function arrowSegment(batch: A.RecordBatch, where: (i: number) => string, text: RowText): Segment {
  return {
    size: batch.numRows,
    data: batch as unknown as WriterInput,
    slice: (b, e) => arrowSegment(batch.slice(b, e), (i) => where(i + b), (i) => text(i + b)),
    where,
    text,
  };
}

function pointSegment(points: Point[], where: (i: number) => string, text: RowText): Segment {
  return {
    size: points.length,
    data: points,
    slice: (b, e) => pointSegment(points.slice(b, e), (i) => where(i + b), (i) => text(i + b)),
    where,
    text,
  };
}

export async function loadFile(file: string, s: LoadSettings, conn: Connection, dead: DeadLetter, int: Interruption, saving: CheckpointRun | undefined): Promise<{ report: FileReport; fatal: Error | undefined }> {
  const { isInterrupted, untilInterrupted } = int;
  const det = detectInput(file, s.format);
  const label = file === '-' ? 'stdin' : file;
  const measurement = s.measurement ?? (det.format === 'lp' ? undefined : det.stem || undefined);
  const arrowInput = det.format === 'arrow' || det.format === 'parquet';
  // Line protocol is sent as it is, its timestamps in --precision. Everything else is written in
  // nanoseconds: the readers make every time exact ns (CSV and NDJSON integer epochs are read
  // in --precision; Arrow integer time columns become Timestamps of that unit), so that no
  // fraction of a second is cut off.
  const precision: Precision = det.format === 'lp' ? s.precision : 'n';
  const encodeOptions = {
    measurement, precision,
    ...(arrowInput ? { tagColumns: s.tagColumns, timeColumn: s.timeColumn, fieldTypes: Object.keys(s.fieldTypes).length > 0 ? s.fieldTypes : undefined } : {}),
  };
  let invalid = 0;
  let progress: Progress | undefined;
  const notify = (line: string): void => (progress ? progress.note(line) : void process.stderr.write(`${line}\n`));
  dead.notify = notify;
  // --checkpoint: where an earlier run left this file.
  const unit = det.format === 'lp' ? 'byte' : 'row';
  const resume = saving?.ck.resume(file, label, det.format, unit, notify);
  const start: Position = resume?.start ?? { position: 0, rows: 0, done: false };
  if (start.done) {
    let size: number | undefined;
    try {
      size = statSync(file).size;
    } catch {
      size = undefined;
    }
    return {
      report: {
        file: label, format: kFormatNames[det.format], bytes: size, bytesRead: 0, written: 0, rejected: 0, expired: 0, dropped: 0, invalid: 0,
        seconds: 0, pointsPerSecond: 0, complete: true, alreadyLoaded: start.rows,
      },
      fatal: undefined,
    };
  }
  const reader = await openReader(det.format, {
    path: file, label, gzip: det.gzip, tabs: det.tabs, chunkRows: s.batchSize, maxLineBytes: s.batchBytes, precision: s.precision,
    measurement, tagColumns: s.tagColumns, timeColumn: s.timeColumn, fieldTypes: s.fieldTypes,
    reject: (where, reason, text) => {
      invalid++;
      dead.invalid(where, reason, text);
    },
    ...(start.position > 0 ? (unit === 'row' ? { startRow: start.position } : { startByte: start.position, startLine: start.line ?? 1 }) : {}),
  });
  let fatal: Error | undefined;
  let retryNote: string | undefined;
  let retryAt = 0;
  let writer: BatchWriter;
  try {
    writer = conn.client.writer({
      db: conn.db, rp: conn.rp, ...encodeOptions,
      batchSize: s.batchSize, batchBytes: s.batchBytes, maxBufferBytes: s.bufferBytes, gzip: s.gzip, invalidRows: 'skip',
      ...(s.deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs: s.deliveryTimeoutMs }),
      maxInFlight: s.inFlight,
      // What a killed run left in the spool is sent first, and said so on stderr.
      ...(s.spool === undefined ? {} : { spool: { dir: s.spool.dir, onRecover: (r: SpoolRecovery) => notify(describeRecovery(r)), ...(s.spool.maxBytes === undefined ? {} : { maxBytes: s.spool.maxBytes }) } }),
      // The other servers of the cluster take the connection's credentials and options, their own URL.
      ...(s.spread.length > 0 ? { spread: s.spread.map((url) => ({ ...conn.options, url })) } : {}),
      ...(s.failover.length > 0 ? { failover: s.failover.map((url) => ({ ...conn.options, url })) } : {}),
      ...(s.workers > 0 ? { encoder: 'wasm' as const } : {}),
      onRejected: (lines, error) => dead.lines(lines, error),
      onError: (e) => {
        if (stopsSending(e)) {
          if (!fatal) {
            fatal = e;
            // Stop now: pending writes are refused, what is buffered is given back as expired.
            writer.close({ timeoutMs: 0 }).catch(() => {});
          }
          return;
        }
        retryNote = `retrying: ${oneLine(redact(e.message)).slice(0, 120)}`;
        retryAt = Date.now();
        if (conn.debug) notify(`fastinflux: retrying after: ${redact(e.message)}`);
      },
    });
  } catch (e) {
    await reader.close();
    if (e instanceof InvalidOptionError) throw new UsageError(optionNames(e.message.replace(/^writer options\./, 'writer option ')));
    throw e;
  }
  // Rows read that the writer never took in (it was closed while they waited for room: Ctrl-C,
  // or a fatal error): counted as expired, and kept in the dead letter as line protocol.
  // The checkpoint's marks: after each write, where the input stands and how many points the
  // writer has accepted. Rows not taken in end them: the checkpoint stays before those.
  const marks = new FileMarks(start);
  let marking = resume !== undefined;
  let linesSent = 0;
  const key = resume?.key;
  const sync = (): void => {
    if (saving && key !== undefined && marks.advance(writer.progress().deliveredBelow)) saving.ck.update(key, marks.committed);
  };
  if (saving) saving.sync = sync;
  let unsent = 0;
  const notTaken = (count: number, text: () => string, reason = 'before the writer took them in'): void => {
    marking = false;
    unsent += count;
    let body: string;
    let why = `not sent: ${isInterrupted() ? 'interrupted' : 'the load stopped'} ${reason}`;
    try {
      body = text();
    } catch (e) {
      body = '';
      why += ` (and they cannot be shown as line protocol: ${errorLine(e)})`;
    }
    dead.unsent(count, body, why);
  };
  const checked = new WeakSet<object>();
  const put = async (seg: Segment): Promise<void> => {
    if (seg.size === 0) return;
    try {
      const r = await writer.write(seg.data);
      for (const i of r.skippedRows) {
        invalid++;
        dead.invalid(seg.where(i), 'no field has a value: the row was left out', seg.text(i));
      }
    } catch (e) {
      if (e instanceof WriterClosedError) {
        notTaken(seg.size, () => encode(seg.data as never, { ...encodeOptions, invalidRows: 'skip' }).toString('utf8'));
        return;
      }
      if (!(e instanceof InvalidPointError) || e.pointIndex < 0 || e.pointIndex >= seg.size) throw e;
      // One bad row: reported, and the rest written around it (halves, so that many bad rows
      // cost O(n log n) encodes, not O(n^2)).
      const i = e.pointIndex;
      invalid++;
      dead.invalid(seg.where(i), e.message.replace(/^invalid point #\d+: /, ''), seg.text(i));
      if (seg.size === 1) return;
      const mid = seg.size >> 1;
      const parts = i < mid ? [seg.slice(0, i), seg.slice(i + 1, mid), seg.slice(mid, seg.size)] : [seg.slice(0, mid), seg.slice(mid, i), seg.slice(i + 1, seg.size)];
      for (const p of parts) await put(p);
    }
  };
  const writeChunk = async (c: ReaderChunk): Promise<void> => {
    if (c.kind === 'lines') {
      try {
        await writer.write(c.data);
        linesSent += c.lines;
        mark(c);
      } catch (e) {
        if (!(e instanceof WriterClosedError)) throw e;
        notTaken(c.lines, () => c.data.toString('utf8'));
      }
      return;
    }
    if (c.kind === 'arrow') {
      const batch = arrowInput ? integerTimeAsTimestamp(c.batch, s.timeColumn, s.precision) : c.batch;
      // A schema the encoder cannot take (a column type, a --tag-columns name) stops the load
      // here, with the encoder's reason, instead of rejecting every row.
      if (!checked.has(batch.schema)) {
        try {
          encode(batch.slice(0, 0) as never, encodeOptions);
        } catch (e) {
          if (e instanceof InvalidOptionError) throw new UsageError(`${label}: ${optionNames(e.message)}`);
          if (e instanceof InvalidPointError) throw new CliError(`${label}: ${e.message.replace(/^invalid point #\d+: /, '')}`);
          throw e;
        }
        checked.add(batch.schema);
      }
      await put(arrowSegment(batch, c.where, c.text ?? noText));
      mark(c);
      return;
    }
    await put(pointSegment(c.points, c.where, c.text ?? noText));
    mark(c);
  };
  /** A chunk is in the writer (its invalid rows left out): the input stands at its end. */
  const mark = (c: ReaderChunk): void => {
    if (!marking || c.end === undefined) return;
    marks.add(writer.progress().accepted, unit === 'row'
      ? { position: c.end, rows: c.end, done: false }
      : { position: c.end, rows: start.rows + linesSent, line: c.endLine, done: false });
  };

  const t0 = performance.now();
  if (!s.quiet) {
    progress = new Progress({
      label, totalBytes: reader.totalBytes, plainIntervalMs: s.plainIntervalMs,
      sample: () => {
        const st = writer.stats();
        return { points: start.rows + st.written, accepted: start.rows + st.accepted, bytes: reader.bytesRead(), note: retryNote && Date.now() - retryAt < 10_000 ? retryNote : undefined };
      },
    });
    progress.start();
  }
  let failure: unknown;
  let complete = false;
  // A write still waiting for room when Ctrl-C was pressed: it ends when the writer is closed.
  let pending: { write: Promise<void>; chunk: ReaderChunk } | undefined;
  const chunks = reader.chunks();
  try {
    for (;;) {
      if (fatal || isInterrupted()) break;
      // Ctrl-C stops reading at once, also while the input (a pipe) has nothing to give.
      const next = await untilInterrupted(chunks.next());
      if (next === INTERRUPTED || next.done || fatal) break;
      const w = writeChunk(next.value);
      if ((await untilInterrupted(w)) === INTERRUPTED) {
        pending = { write: w, chunk: next.value };
        break;
      }
    }
    complete = !fatal && !isInterrupted();
  } catch (e) {
    if (e instanceof BufferFullError) {
      fatal = new CliError(`the server accepted nothing for a minute${retryNote ? ` (${retryNote})` : ''}: stopped`);
    } else if (!(fatal && e instanceof WriterClosedError)) {
      failure = e;
    }
  } finally {
    // Not awaited: a generator waiting for input finishes once the input is closed below.
    chunks.return(undefined).catch(() => {});
    const closing = reader.close().catch(() => {});
    await (isInterrupted() ? Promise.race([closing, new Promise((r) => setTimeout(r, 1000).unref())]) : closing);
  }
  // Everything accepted is sent (or given back as expired after the delivery timeout), also
  // when reading failed half-way: the summary then says what was stored before the error.
  // flush() first: unlike close(), it gives up at once when the server refuses the credentials
  // or the database (onError has then made it fatal, and close() below drops what is left).
  // Ctrl-C while waiting stops the wait.
  if (!fatal && !isInterrupted()) {
    try {
      await untilInterrupted(writer.flush());
    } catch (e) {
      if (!(e instanceof WriteDeliveryError) && !fatal) failure ??= e;
    }
  }
  try {
    // Interrupted: what was read gets a few seconds; what is left then is given back as expired
    // (a second Ctrl-C quits at once).
    await writer.close({ timeoutMs: fatal ? 0 : isInterrupted() ? kInterruptGraceMs : 10 * 60_000 });
  } catch (e) {
    if (!(e instanceof WriteDeliveryError)) failure ??= e;
  }
  // The writer is closed: a write still waiting has been taken in or refused (then counted above).
  if (pending) {
    try {
      await pending.write;
    } catch (e) {
      if (!(e instanceof BufferFullError)) failure ??= e;
    }
  }
  const st = writer.stats();
  // Points the closed writer holds, neither sent nor given back: the write that was waiting for
  // room can be taken in by the room its close's deadline frees when it aborts the requests in
  // flight. They are that write's rows: counted as expired, and kept in the dead letter.
  if (st.pending > 0) {
    const c = pending?.chunk;
    notTaken(st.pending, () => {
      if (!c) return '';
      if (c.kind === 'lines') return c.data.toString('utf8');
      return encode((c.kind === 'arrow' ? integerTimeAsTimestamp(c.batch, s.timeColumn, s.precision) : c.points) as never, { ...encodeOptions, invalidRows: 'skip' }).toString('utf8');
    }, 'as the writer closed: it took them in and never sent them');
  }
  // Read to its end with every row taken in: the file is loaded once all of it is delivered.
  if (complete && marking) {
    const end = reader.position();
    marks.add(writer.progress().accepted, { position: end, rows: unit === 'row' ? end : start.rows + linesSent, done: true });
  }
  sync();
  if (saving) saving.sync = undefined;
  progress?.stop();
  dead.notify = (l) => process.stderr.write(`${l}\n`);
  if (failure) fatal ??= failure instanceof Error ? failure : new Error(String(failure));
  const seconds = (performance.now() - t0) / 1000;
  const report: FileReport = {
    file: label, format: reader.format, bytes: reader.totalBytes ?? reader.bytesRead(), bytesRead: reader.bytesRead(),
    written: st.written, rejected: st.rejected, expired: st.expired + unsent, dropped: st.dropped, invalid,
    seconds: Math.round(seconds * 1000) / 1000, pointsPerSecond: seconds > 0 ? Math.round(st.written / seconds) : 0, complete,
    alreadyLoaded: start.rows,
  };
  return { report, fatal };
}
