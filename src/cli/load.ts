/**
 * `fastinflux load FILE...`: Arrow IPC, Parquet, CSV, NDJSON and line-protocol files, streamed
 * through the batch writer. Inputs are read incrementally, chunk by chunk, and every chunk waits
 * for room in the writer's bounded buffer (`await writer.write()`): the whole file is never in
 * memory. Every row ends up written, or in the summary's counts and the dead letter with the
 * reason: rejected by the server, expired, or invalid (could not become a point; never sent).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type * as A from 'apache-arrow';
import { encode } from '../encode/encode.js';
import type { Point } from '../encode/point-encoder.js';
import {
  BufferFullError, DeliveryTimeoutError, InfluxDBHttpError, InvalidOptionError,
  InvalidPointError, PointsDroppedError, WriteDeliveryError, WriterClosedError,
} from '../errors.js';
import type { FieldType, Precision } from '../options.js';
import type { BatchWriter, WriterInput } from '../writer/batch-writer.js';
// Errors the writer reports that no waiting can fix stop the load: the error's own verdict
// (err.decision, from transport/classify.ts), the one the writer acts on.
import { stopsSending } from '../writer/retry.js';
import { CLIENT_DEFAULTS } from '../options.js';
import {
  connect, connectionHelp, connectionOptions, errorLine, out, parse, parsePositiveInt, parsePrecision, parseSeconds, parseSize, redact, splitList,
  type Connection,
} from './common.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_WRITTEN, EXIT_OK, UsageError } from './errors.js';
import { Progress, formatBytes, formatCount, formatDuration } from './progress.js';
import { integerTimeAsTimestamp } from './readers/arrow-time.js';
import { detectInput, openReader, parseFormat, type InputFormat, type ReaderChunk } from './readers/index.js';
import { stringifyJson } from './readers/json.js';

const loadOptions = {
  ...connectionOptions,
  format: { type: 'string', short: 'f' },
  measurement: { type: 'string', short: 'm' },
  'tag-columns': { type: 'string', short: 't' },
  'time-column': { type: 'string' },
  'field-types': { type: 'string' },
  precision: { type: 'string' },
  'batch-size': { type: 'string' },
  'buffer-size': { type: 'string' },
  'delivery-timeout': { type: 'string' },
  'in-flight': { type: 'string' },
  spread: { type: 'string', multiple: true },
  failover: { type: 'string', multiple: true },
  workers: { type: 'string' },
  gzip: { type: 'boolean' },
  'dead-letter': { type: 'string' },
  'create-db': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'progress-interval': { type: 'string' },
} as const;

export const loadHelp = `Usage: fastinflux load [options] FILE...

Loads files into InfluxDB through the batch writer, streaming (never a whole file in memory).
FILE may be - for standard input (with --format). Formats, from the extension (after .gz):
  .arrow .arrows .ipc .feather   Arrow IPC, file or stream format
  .parquet .pq                   Parquet (through parquet-wasm)
  .csv .tsv                      CSV with a header row
  .ndjson .jsonl                 one JSON object per line: a point {measurement, time, tags,
                                 fields}, or a flat record (--tag-columns, --time-column)
  .lp .line .txt                 line protocol, sent as it is (# comments are skipped); a
                                 line influxd cannot parse is invalid, never sent

Data:
  -f, --format FORMAT    arrow | parquet | csv | ndjson | lp (overrides the extension)
  -m, --measurement NAME the measurement (default: the file's name without extensions;
                         NDJSON points may name their own; not used for line protocol)
  -t, --tag-columns A,B  columns written as tags (Arrow/Parquet: besides the
                         dictionary-encoded string columns, which are tags already)
  --time-column NAME     the time column (default: Arrow's Timestamp column, or a column
                         named time, _time or timestamp)
  --field-types A=T,...  field types (integer, float, boolean, string) instead of the ones
                         inferred from the first values (CSV, NDJSON)
  --precision P          n, u, ms, s, m or h (default n): the unit of integer times (CSV and
                         NDJSON epochs, Arrow/Parquet integer time columns, line protocol
                         timestamps). Other times (ISO dates, Timestamp columns) are written
                         to the nanosecond: --precision never truncates them
Writing:
  --create-db            create the database first
  --batch-size N         points per request (default 5000)
  --buffer-size SIZE     the writer's memory bound, e.g. 64M (default) or 256k
  --delivery-timeout SEC how long a point may wait to be written, retries included, before
                         it counts as expired (default 120)
  --in-flight auto|N     requests in flight: auto (default) finds the concurrency that gives
                         the most throughput and backs off when the server slows down (up to
                         8 per server); N fixes it. Points go in per-series lanes either way,
                         so a series' writes are stored in order
  --spread URL           one more server written to at once (a cluster's front doors:
                         InfluxDB Enterprise data nodes, VictoriaMetrics vminsert); batches go
                         to each in proportion to its speed, a failing one is left out until it
                         is back. Repeatable. Same credentials, db and options as --url
  --failover URL         a server tried when the current one fails (connection errors, 5xx),
                         kept while it works. Repeatable. Same credentials as --url
  --workers N            encode on N worker threads (default 0: the calling thread)
  --gzip                 compress requests
  --dead-letter FILE     write the points that were not written to FILE, each group after a
                         "# reason" comment line (line protocol: fix it and load it again);
                         an invalid row is a comment with its location and reason, and its
                         source text as comment lines (CSV: the row, NDJSON: the line;
                         Arrow/Parquet rows: the row number and the reason only)
Output:
  --json                 print the summary as JSON on stdout
  -q, --quiet            no progress on stderr
  --progress-interval S  seconds between progress lines when stderr is not a terminal (5)

${connectionHelp}

CSV types are inferred per column (int64 exact, float, boolean, string). Times are RFC 3339 /
ISO 8601 (no zone = UTC, up to 9 fractional digits) or integer epochs in --precision.
Line protocol lines end where influxd ends them (a newline inside a quoted string field does
not end a line), and each is parsed as influxd parses it first. A record or line still unfinished at the longest line a request can carry
(--buffer-size / 4, at most 5 MB: an unclosed quote, a missing newline) stops the load with an
error naming where it starts.
Ctrl-C stops reading and gives what was read 5 s to be sent; the rest is counted as expired
(and kept in the dead letter), the summary printed, exit 130. A second Ctrl-C quits at once.
Exit status: 0 all written, 1 error, 2 usage error, 3 some points not written, 130 interrupted.
`;

/** What happened to one input. */
export interface FileReport {
  file: string;
  format: string;
  /** Size of the input (bytes read, for a stream). */
  bytes: number | undefined;
  /** Input bytes read (less than `bytes` when stopped early). */
  bytesRead: number;
  written: number;
  rejected: number;
  expired: number;
  dropped: number;
  invalid: number;
  seconds: number;
  pointsPerSecond: number;
  /** The input was read to its end (false when stopped by an error or Ctrl-C). */
  complete: boolean;
}

/** The dead letter: points not written, in groups after a "# reason" comment line. */
class DeadLetter {
  readonly #fd: number | undefined;
  readonly path: string | undefined;
  /** Reasons shown on stderr when there is no dead-letter file (a few). */
  readonly #shown = new Set<string>();
  #notify: (line: string) => void = (l) => process.stderr.write(`${l}\n`);

  constructor(path: string | undefined) {
    this.path = path;
    if (path !== undefined) {
      try {
        this.#fd = openSync(path, 'w');
      } catch (e) {
        throw new CliError(`cannot write the dead letter ${path}: ${(e as Error).message}`);
      }
    }
  }

  set notify(f: (line: string) => void) {
    this.#notify = f;
  }

  #write(text: string): void {
    if (this.#fd !== undefined) writeSync(this.#fd, text);
  }

  #show(what: string, reason: string): void {
    if (this.#fd !== undefined) return;
    const key = `${what}: ${reason.slice(0, 200)}`;
    if (this.#shown.has(key) || this.#shown.size >= 5) return;
    this.#shown.add(key);
    this.#notify(`fastinflux: ${what}: ${reason}${this.#shown.size === 5 ? ' (further reasons not shown; --dead-letter FILE keeps them all)' : ''}`);
  }

  /** A row that could not become a point (never sent). */
  invalid(where: string, reason: string, text: string | undefined): void {
    const r = oneLine(reason);
    this.#write(`# invalid, not sent: ${where}: ${r}\n${text === undefined ? '' : `${text.split('\n').map((l) => `# ${l}`).join('\n')}\n`}`);
    this.#show(`invalid row ${where}`, r);
  }

  /** Rows read but never taken in by the writer (Ctrl-C, or the load stopped): as line protocol. */
  unsent(count: number, text: string, reason: string): void {
    const r = oneLine(reason);
    this.#write(`# expired (${count} line${count === 1 ? '' : 's'}): ${r}\n${text}${text === '' || text.endsWith('\n') ? '' : '\n'}`);
    this.#show(`${count} point${count === 1 ? '' : 's'} expired`, r);
  }

  /** Lines the writer gave back (rejected by the server, expired or dropped). */
  lines(lines: string[], error: Error): void {
    const what = error instanceof DeliveryTimeoutError ? 'expired' : error instanceof PointsDroppedError ? 'dropped' : 'rejected by the server';
    const r = oneLine(redact(error.message)).replace("not written before close()'s timeout", 'not written when the load stopped');
    this.#write(`# ${what} (${lines.length} line${lines.length === 1 ? '' : 's'}): ${r}\n${lines.join('\n')}\n`);
    this.#show(`${lines.length} point${lines.length === 1 ? '' : 's'} ${what}`, r);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

/** The client's option names in a message, as the command's flags. */
function optionNames(msg: string): string {
  return msg
    .replace(/\b(?:write|encode) options\.tagColumns\b/g, '--tag-columns')
    .replace(/\b(?:write|encode) options\.timeColumn\b/g, '--time-column')
    .replace(/\b(?:write|encode) options\.fieldTypes\.?/g, '--field-types ')
    .replace(/\b(?:write|encode) options\.measurement\b/g, '--measurement')
    .replace(/\b(?:write|encode) options\./g, '');
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
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

const INTERRUPTED = Symbol('interrupted');

/** How long what was read gets to be sent after Ctrl-C. */
const kInterruptGraceMs = 5000;

interface LoadSettings {
  format: InputFormat | undefined;
  measurement: string | undefined;
  tagColumns: string[];
  timeColumn: string | undefined;
  fieldTypes: Record<string, FieldType>;
  precision: Precision;
  batchSize: number;
  bufferBytes: number;
  batchBytes: number;
  /** The writer's deliveryTimeoutMs, when given. */
  deliveryTimeoutMs: number | undefined;
  /** --in-flight: the writer's maxInFlight. */
  inFlight: number | 'auto';
  spread: string[];
  failover: string[];
  workers: number;
  gzip: boolean;
  json: boolean;
  quiet: boolean;
  plainIntervalMs: number;
}

export async function runLoad(args: string[]): Promise<number> {
  const { values: v, positionals: files } = parse(args, loadOptions, 'load');
  if (v.help) {
    await out(loadHelp);
    return EXIT_OK;
  }
  if (files.length === 0) throw new UsageError('load needs at least one FILE (or - for standard input) (see fastinflux load --help)');
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('standard input (-) can be given once');
  const str = (k: string): string | undefined => v[k] as string | undefined;
  // No prototype: a column named "constructor" or "toString" is a name like any other.
  const fieldTypes: Record<string, FieldType> = Object.create(null) as Record<string, FieldType>;
  for (const item of splitList(str('field-types'))) {
    const m = /^(.+?)=(integer|int|float|double|boolean|bool|string)$/i.exec(item);
    if (!m) throw new UsageError(`--field-types takes NAME=TYPE pairs, TYPE one of integer, float, boolean, string (got ${JSON.stringify(item)})`);
    const t = m[2]!.toLowerCase();
    fieldTypes[m[1]!] = t === 'int' ? 'integer' : t === 'double' ? 'float' : t === 'bool' ? 'boolean' : (t as FieldType);
  }
  const bufferBytes = parseSize(str('buffer-size'), '--buffer-size') ?? 64 * 1024 * 1024;
  if (bufferBytes < 4096) throw new UsageError('--buffer-size must be at least 4k');
  const s: LoadSettings = {
    format: str('format') === undefined ? undefined : parseFormat(str('format')!),
    measurement: str('measurement'),
    tagColumns: splitList(str('tag-columns')),
    timeColumn: str('time-column'),
    fieldTypes,
    precision: parsePrecision(str('precision'), '--precision') ?? 'n',
    batchSize: parsePositiveInt(str('batch-size'), '--batch-size', 1, 1_000_000) ?? 5000,
    bufferBytes,
    batchBytes: Math.max(1024, Math.min(CLIENT_DEFAULTS.maxBodyBytes, Math.floor(bufferBytes / 4))),
    deliveryTimeoutMs: parseSeconds(str('delivery-timeout'), '--delivery-timeout'),
    inFlight: str('in-flight') === undefined || str('in-flight') === 'auto' ? 'auto' : parsePositiveInt(str('in-flight'), '--in-flight (auto or a number)', 1, 64)!,
    spread: (v.spread as string[] | undefined) ?? [],
    failover: (v.failover as string[] | undefined) ?? [],
    workers: parsePositiveInt(str('workers'), '--workers', 0, 64) ?? 0,
    gzip: v.gzip === true,
    json: v.json === true,
    quiet: v.quiet === true,
    plainIntervalMs: (parsePositiveInt(str('progress-interval'), '--progress-interval', 1, 3600) ?? 5) * 1000,
  };
  if (s.measurement === '') throw new UsageError('--measurement must not be empty');
  // Every input's format is checked before anything is sent.
  for (const f of files) {
    const d = detectInput(f, s.format);
    if (d.format !== 'lp' && d.format !== 'ndjson' && s.measurement === undefined && !d.stem) {
      throw new UsageError(`${f === '-' ? 'standard input' : f}: give --measurement`);
    }
  }
  const conn = connect(v as never, s.workers > 0 ? { workers: s.workers } : {});
  if (conn.db === undefined) {
    await conn.client.close();
    throw new UsageError('no database: give --db (or set INFLUX_DB)');
  }
  const dead = new DeadLetter(str('dead-letter'));
  const reports: FileReport[] = [];
  let fatal: Error | undefined;
  let interrupted = false;
  let interrupt!: () => void;
  const interruption = new Promise<typeof INTERRUPTED>((resolve) => {
    interrupt = () => resolve(INTERRUPTED);
  });
  // What is awaited while the user may press Ctrl-C: the promise, or INTERRUPTED at the first Ctrl-C.
  const untilInterrupted = <T>(p: Promise<T>): Promise<T | typeof INTERRUPTED> => {
    p.catch(() => {}); // left behind when interrupted: its failure no longer matters
    return Promise.race([p, interruption]);
  };
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    process.stderr.write(`\nfastinflux: interrupted: stopped reading; what was read gets ${kInterruptGraceMs / 1000} s to be sent (Ctrl-C again quits at once)\n`);
    interrupt();
  };
  process.on('SIGINT', onSigint);
  const started = performance.now();
  const setup = async (): Promise<void> => {
    try {
      await conn.client.ping();
    } catch (e) {
      throw new CliError(`cannot reach ${conn.server}: ${errorLine(e)}`);
    }
    if (v['create-db']) {
      try {
        await conn.client.createDatabase(conn.db);
      } catch (e) {
        throw new CliError(`cannot create database ${JSON.stringify(conn.db)}: ${errorLine(e)}`);
      }
    } else {
      // A database that does not exist, or credentials refused: said now, not after retries.
      // (With credentials, SHOW DATABASES lists only what the user may read: a write-only user
      // would not see it, so only refused credentials count then.)
      let names: string[] | undefined;
      try {
        const r = await conn.client.query('SHOW DATABASES', { output: 'raw' });
        names = (r.results[0]?.series?.[0]?.values ?? []).map((x) => String(x[0]));
      } catch (e) {
        // isAuthError is the error's verdict (decision: pause, auth), as the writer reads it.
        if (e instanceof InfluxDBHttpError && e.isAuthError) throw new CliError(`${conn.server} refused the credentials: ${errorLine(e)}`);
      }
      if (names && !conn.authenticated && !names.includes(conn.db!)) throw new CliError(`database ${JSON.stringify(conn.db)} does not exist on ${conn.server} (--create-db creates it)`);
    }
  };
  try {
    await untilInterrupted(setup());
    for (const f of files) {
      if (interrupted) break;
      try {
        const r = await loadOne(f, s, conn, dead, { isInterrupted: () => interrupted, untilInterrupted });
        reports.push(r.report);
        if (r.fatal) {
          fatal = r.fatal;
          break;
        }
      } catch (e) {
        // The files before it keep their summary.
        fatal = e instanceof Error ? e : new Error(String(e));
        break;
      }
    }
  } finally {
    // A second Ctrl-C still quits at once until the summary is out.
    dead.close();
    const closing = conn.client.close().catch(() => {});
    // Interrupted: a request to a server that does not answer must not hold the summary back.
    await (interrupted ? Promise.race([closing, new Promise((r) => setTimeout(r, 1000).unref())]) : closing);
  }
  const total = sum(reports, Math.round(performance.now() - started) / 1000);
  const notWritten = total.rejected + total.expired + total.dropped + total.invalid;
  if (s.json) {
    await out(`${stringifyJson({ ok: notWritten === 0 && !fatal && !interrupted, ...total, file: undefined, format: undefined, files: reports, interrupted: interrupted || undefined, error: fatal ? errorLine(fatal) : undefined })}\n`);
  } else {
    let text = '';
    // A file stopped before anything was sent has nothing to report: the error line says why.
    for (const r of reports) if (r.complete || r.written + r.rejected + r.expired + r.dropped + r.invalid > 0) text += describe(r, conn, dead);
    if (reports.length > 1) text += `total: ${formatCount(total.written)} points written in ${formatDuration(total.seconds * 1000)} (${formatCount(total.pointsPerSecond)} points/s)${notWritten > 0 ? `, ${formatCount(notWritten)} not written` : ''}\n`;
    await out(text);
  }
  process.off('SIGINT', onSigint);
  if (fatal) throw fatal instanceof CliError ? fatal : new CliError(errorLine(fatal), EXIT_ERROR, { cause: fatal });
  if (interrupted) return EXIT_INTERRUPTED;
  if (notWritten > 0) {
    if (!dead.path && !s.json) process.stderr.write(`fastinflux: ${formatCount(notWritten)} points were not written (--dead-letter FILE keeps them, with the reasons)\n`);
    return EXIT_NOT_WRITTEN;
  }
  return EXIT_OK;
}

function sum(reports: FileReport[], seconds: number): FileReport {
  const t: FileReport = { file: '', format: '', bytes: 0, bytesRead: 0, written: 0, rejected: 0, expired: 0, dropped: 0, invalid: 0, seconds, pointsPerSecond: 0, complete: true };
  for (const r of reports) {
    t.bytes = t.bytes !== undefined && r.bytes !== undefined ? t.bytes + r.bytes : undefined;
    t.bytesRead += r.bytesRead;
    t.written += r.written;
    t.rejected += r.rejected;
    t.expired += r.expired;
    t.dropped += r.dropped;
    t.invalid += r.invalid;
    t.complete &&= r.complete;
  }
  t.pointsPerSecond = seconds > 0 ? Math.round(t.written / seconds) : 0;
  return t;
}

function describe(r: FileReport, conn: Connection, dead: DeadLetter): string {
  const notWritten = r.rejected + r.expired + r.dropped + r.invalid;
  const mbps = r.seconds > 0 ? `, ${formatBytes(r.bytesRead / r.seconds)}/s` : '';
  let text = `${r.file} (${r.format}${r.bytes !== undefined ? `, ${formatBytes(r.bytes)}` : ''}) → ${conn.server} db ${JSON.stringify(conn.db)}\n`;
  text += `  ${formatCount(r.written)} points written in ${formatDuration(r.seconds * 1000)}: ${formatCount(r.pointsPerSecond)} points/s${mbps}\n`;
  if (notWritten > 0) {
    const parts = (['rejected', 'expired', 'dropped', 'invalid'] as const).filter((k) => r[k] > 0).map((k) => `${formatCount(r[k])} ${k}`);
    text += `  ${formatCount(notWritten)} not written: ${parts.join(', ')}${dead.path ? ` (see ${dead.path})` : ''}\n`;
  } else {
    text += '  nothing rejected, expired or invalid\n';
  }
  if (!r.complete) text += '  stopped before the end of the input\n';
  return text;
}

interface Interruption {
  isInterrupted(): boolean;
  /** The promise, or INTERRUPTED as soon as Ctrl-C is pressed (the promise is then left behind). */
  untilInterrupted<T>(p: Promise<T>): Promise<T | typeof INTERRUPTED>;
}

async function loadOne(file: string, s: LoadSettings, conn: Connection, dead: DeadLetter, int: Interruption): Promise<{ report: FileReport; fatal: Error | undefined }> {
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
  const reader = await openReader(det.format, {
    path: file, label, gzip: det.gzip, tabs: det.tabs, chunkRows: s.batchSize, maxLineBytes: s.batchBytes, precision: s.precision,
    measurement, tagColumns: s.tagColumns, timeColumn: s.timeColumn, fieldTypes: s.fieldTypes,
    reject: (where, reason, text) => {
      invalid++;
      dead.invalid(where, reason, text);
    },
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
  let unsent = 0;
  const notTaken = (count: number, text: () => string, reason = 'before the writer took them in'): void => {
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
      return;
    }
    await put(pointSegment(c.points, c.where, c.text ?? noText));
  };

  const t0 = performance.now();
  if (!s.quiet) {
    progress = new Progress({
      label, totalBytes: reader.totalBytes, plainIntervalMs: s.plainIntervalMs,
      sample: () => {
        const st = writer.stats();
        return { points: st.written, accepted: st.accepted, bytes: reader.bytesRead(), note: retryNote && Date.now() - retryAt < 10_000 ? retryNote : undefined };
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
  progress?.stop();
  dead.notify = (l) => process.stderr.write(`${l}\n`);
  if (failure) fatal ??= failure instanceof Error ? failure : new Error(String(failure));
  const seconds = (performance.now() - t0) / 1000;
  const report: FileReport = {
    file: label, format: reader.format, bytes: reader.totalBytes ?? reader.bytesRead(), bytesRead: reader.bytesRead(),
    written: st.written, rejected: st.rejected, expired: st.expired + unsent, dropped: st.dropped, invalid,
    seconds: Math.round(seconds * 1000) / 1000, pointsPerSecond: seconds > 0 ? Math.round(st.written / seconds) : 0, complete,
  };
  return { report, fatal };
}
