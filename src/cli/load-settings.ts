/**
 * `fastinflux load`'s options, help, settings and summary (load.ts runs the load, load-file.ts
 * loads each file).
 */
import type { FieldType, Precision } from '../types.js';
import { CLIENT_DEFAULTS } from '../options/index.js';
import {
  connectionHelp, connectionOptions, errorLine, parse, parsePositiveInt, parsePrecision, parseSeconds, parseSize, splitList,
  type Connection,
} from './common.js';
import { UsageError } from './errors.js';
import { formatBytes, formatCount, formatDuration } from './progress.js';
import { detectInput, parseFormat, type InputFormat } from './readers/index.js';
import { stringifyJson } from './readers/json.js';

/** How long what was read gets to be sent after Ctrl-C or SIGTERM (the help says it too). */
export const kInterruptGraceMs = 5000;

export const loadOptions = {
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
  checkpoint: { type: 'string' },
  spool: { type: 'string' },
  'spool-size': { type: 'string' },
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
  --checkpoint PATH      record in PATH (JSON) how far each file is loaded: the points the
                         server acknowledged, as a row (line protocol: byte) position, saved
                         every second and at the end. The same command run again skips the
                         files already loaded and resumes the others where they stopped; a
                         file whose size or modification time changed is loaded from the start
  --spool DIR            the writer's durable spool: every point read is on disk (fsynced)
                         before more is read, and what a killed run left in DIR is sent first
                         by the next load that uses DIR (one process at a time)
  --spool-size SIZE      the spool's disk bound (default 1g); when full, reading waits
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
Ctrl-C (or SIGTERM) stops reading and gives what was read ${kInterruptGraceMs / 1000} s to be sent; the rest is counted
as expired (and kept in the dead letter), the checkpoint saved, the summary printed, exit 130.
A second Ctrl-C quits at once.
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
  /** Rows (line protocol: lines) skipped as loaded by an earlier run (--checkpoint). */
  alreadyLoaded: number;
}

export interface LoadSettings {
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
  /** --checkpoint: the checkpoint file. */
  checkpoint: string | undefined;
  /** --spool, --spool-size: the writer's durable spool. */
  spool: { dir: string; maxBytes: number | undefined } | undefined;
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

/** The command line: `help` (print the help), or the settings and the files. */
export function parseLoadArgs(args: string[]): { help: true } | { help: false; s: LoadSettings; files: string[]; v: Record<string, unknown> } {
  const { values: v, positionals: files } = parse(args, loadOptions, 'load');
  if (v.help) return { help: true };
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
    checkpoint: str('checkpoint'),
    spool: str('spool') === undefined ? undefined : { dir: str('spool')!, maxBytes: parseSize(str('spool-size'), '--spool-size') },
    json: v.json === true,
    quiet: v.quiet === true,
    plainIntervalMs: (parsePositiveInt(str('progress-interval'), '--progress-interval', 1, 3600) ?? 5) * 1000,
  };
  if (s.measurement === '') throw new UsageError('--measurement must not be empty');
  if (s.checkpoint === '') throw new UsageError('--checkpoint must name a file');
  if (s.spool?.dir === '') throw new UsageError('--spool must name a directory');
  if (str('spool-size') !== undefined && s.spool === undefined) throw new UsageError('--spool-size applies to --spool DIR');
  if (s.checkpoint !== undefined && files.includes('-')) throw new UsageError('--checkpoint cannot resume standard input (-): give files');
  // Every input's format is checked before anything is sent.
  for (const f of files) {
    const d = detectInput(f, s.format);
    if (d.format !== 'lp' && d.format !== 'ndjson' && s.measurement === undefined && !d.stem) {
      throw new UsageError(`${f === '-' ? 'standard input' : f}: give --measurement`);
    }
  }
  return { help: false, s, files, v };
}

export function sum(reports: FileReport[], seconds: number): FileReport {
  const t: FileReport = { file: '', format: '', bytes: 0, bytesRead: 0, written: 0, rejected: 0, expired: 0, dropped: 0, invalid: 0, seconds, pointsPerSecond: 0, complete: true, alreadyLoaded: 0 };
  for (const r of reports) {
    t.bytes = t.bytes !== undefined && r.bytes !== undefined ? t.bytes + r.bytes : undefined;
    t.bytesRead += r.bytesRead;
    t.written += r.written;
    t.rejected += r.rejected;
    t.expired += r.expired;
    t.dropped += r.dropped;
    t.invalid += r.invalid;
    t.alreadyLoaded += r.alreadyLoaded;
    t.complete &&= r.complete;
  }
  t.pointsPerSecond = seconds > 0 ? Math.round(t.written / seconds) : 0;
  return t;
}

/** Points of a report that were not written, whatever the reason. */
export function notWrittenOf(r: FileReport): number {
  return r.rejected + r.expired + r.dropped + r.invalid;
}

export function describe(r: FileReport, conn: Connection, deadLetterPath: string | undefined): string {
  const notWritten = notWrittenOf(r);
  const mbps = r.seconds > 0 ? `, ${formatBytes(r.bytesRead / r.seconds)}/s` : '';
  let text = `${r.file} (${r.format}${r.bytes !== undefined ? `, ${formatBytes(r.bytes)}` : ''}) → ${conn.server} db ${JSON.stringify(conn.db)}\n`;
  const unit = r.format === 'line protocol' ? 'lines' : 'rows';
  if (r.alreadyLoaded > 0 && r.complete && r.bytesRead === 0 && r.written === 0) {
    // Loaded by an earlier run (--checkpoint): not opened.
    return `${text}  0 points written: all ${formatCount(r.alreadyLoaded)} ${unit} already loaded (the checkpoint says so)\n`;
  }
  if (r.alreadyLoaded > 0) text += `  ${formatCount(r.alreadyLoaded)} ${unit} already loaded (the checkpoint's position): skipped\n`;
  text += `  ${formatCount(r.written)} points written in ${formatDuration(r.seconds * 1000)}: ${formatCount(r.pointsPerSecond)} points/s${mbps}\n`;
  if (notWritten > 0) {
    const parts = (['rejected', 'expired', 'dropped', 'invalid'] as const).filter((k) => r[k] > 0).map((k) => `${formatCount(r[k])} ${k}`);
    text += `  ${formatCount(notWritten)} not written: ${parts.join(', ')}${deadLetterPath ? ` (see ${deadLetterPath})` : ''}\n`;
  } else {
    text += '  nothing rejected, expired or invalid\n';
  }
  if (!r.complete) text += '  stopped before the end of the input\n';
  return text;
}

/** How the run ended, for the summary. */
export interface RunEnd {
  json: boolean;
  conn: Connection;
  deadLetterPath: string | undefined;
  fatal: Error | undefined;
  interrupted: boolean;
}

/** The summary on stdout: one JSON document (--json), or each file's lines and a total. */
export function summaryText(reports: FileReport[], total: FileReport, end: RunEnd): string {
  const notWritten = notWrittenOf(total);
  const { fatal, interrupted } = end;
  if (end.json) {
    return `${stringifyJson({ ok: notWritten === 0 && !fatal && !interrupted, ...total, file: undefined, format: undefined, files: reports, interrupted: interrupted || undefined, error: fatal ? errorLine(fatal) : undefined })}\n`;
  }
  let text = '';
  // A file stopped before anything was sent has nothing to report: the error line says why.
  for (const r of reports) if (r.complete || r.written + notWrittenOf(r) > 0) text += describe(r, end.conn, end.deadLetterPath);
  if (reports.length > 1) text += `total: ${formatCount(total.written)} points written in ${formatDuration(total.seconds * 1000)} (${formatCount(total.pointsPerSecond)} points/s)${notWritten > 0 ? `, ${formatCount(notWritten)} not written` : ''}${total.alreadyLoaded > 0 ? `, ${formatCount(total.alreadyLoaded)} already loaded` : ''}\n`;
  return text;
}
