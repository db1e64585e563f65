/**
 * `fastinflux query Q` and `fastinflux ping`. Query results print as an aligned table, CSV,
 * JSON (the server's answer, exact: int64 and ns epochs as integer literals), NDJSON (one object
 * per row: the series' name and tags, and the row's columns under "values") or an Arrow IPC stream (to stdout or --out FILE). With --chunked the answer is
 * read and printed chunk by chunk, never whole in memory.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import * as A from 'apache-arrow';
import type { QueryResponse, QueryValue, Series } from '../query/response.js';
import type { Epoch } from '../types.js';
import { connect, connectionHelp, connectionOptions, errorLine, out, parse, parsePositiveInt, parsePrecision } from './common.js';
import { CliError, EXIT_OK, UsageError } from './errors.js';
import { stringifyJson } from './readers/json.js';
import { csvQuote } from './readers/csv-syntax.js';

const queryOptions = {
  ...connectionOptions,
  format: { type: 'string', short: 'f' },
  chunked: { type: 'boolean' },
  'chunk-size': { type: 'string' },
  epoch: { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

type QueryFormat = 'table' | 'csv' | 'json' | 'ndjson' | 'arrow';
const kQueryFormats: readonly QueryFormat[] = ['table', 'csv', 'json', 'ndjson', 'arrow'];

export const queryHelp = `Usage: fastinflux query [options] QUERY

Runs InfluxQL (several statements may be separated by ;) and prints the result.

  -f, --format FORMAT    table (default) | csv | json | ndjson | arrow
                         json: the server's answer; ndjson: one object per row,
                         {"name": …, "tags": {…} (GROUP BY), "values": {column: value, …}};
                         csv: name, the GROUP BY tags, then the columns (a header name
                         already taken gets _1, _2, …); arrow: an Arrow IPC stream
                         (time as Timestamp(ns, UTC), tags dictionary-encoded)
  --chunked              stream the answer chunk by chunk (large results)
  --chunk-size N         points per chunk (with --chunked; server default 10000)
  --epoch P              times as integers in n, u, ms, s, m or h (default: RFC 3339 text)
  -o, --out FILE         write to FILE instead of stdout

Integers beyond 2^53 and nanosecond epochs are printed exactly. Ctrl-C quits at once (exit 130).

${connectionHelp}
`;

export const pingHelp = `Usage: fastinflux ping [options]

Checks that the server answers, and prints its version and the round trip.

${connectionHelp}
`;

/** Where the result goes: stdout (with backpressure) or a file. */
class Sink {
  readonly #file: WriteStream | undefined;
  constructor(path: string | undefined) {
    if (path !== undefined) {
      this.#file = createWriteStream(path);
    }
  }
  async ready(): Promise<void> {
    if (!this.#file) return;
    try {
      await once(this.#file, 'open');
    } catch (e) {
      throw new CliError(`cannot write ${this.#file.path as string}: ${(e as Error).message}`);
    }
  }
  async write(data: string | Uint8Array): Promise<void> {
    if (!this.#file) return out(data);
    if (!this.#file.write(data)) await once(this.#file, 'drain');
  }
  async end(): Promise<void> {
    if (!this.#file) return;
    this.#file.end();
    await once(this.#file, 'finish');
  }
}

function cell(v: QueryValue | undefined): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

function csvCell(v: QueryValue | undefined): string {
  return csvQuote(cell(v));
}

/** Prints series in the chosen text format; keeps what it needs across chunks. */
class TextPrinter {
  #csvHeader: string | undefined;
  #tableKey: string | undefined;
  constructor(readonly format: Exclude<QueryFormat, 'arrow' | 'json'>, readonly sink: Sink) {}

  async series(s: Series, statement: number, multi: boolean): Promise<void> {
    const tagKeys = Object.keys(s.tags ?? {}).sort();
    const values = s.values ?? [];
    if (this.format === 'ndjson') {
      // The columns apart from the series' name and tags: a column may be named "name" or "tags".
      let text = '';
      for (const row of values) {
        const o: Record<string, unknown> = {};
        if (s.name !== undefined) o.name = s.name;
        if (tagKeys.length > 0) o.tags = s.tags;
        const cols: Record<string, unknown> = {};
        s.columns.forEach((c, i) => {
          Object.defineProperty(cols, c, { value: row[i], enumerable: true, writable: true, configurable: true });
        });
        o.values = cols;
        text += `${stringifyJson(o)}\n`;
      }
      await this.sink.write(text);
      return;
    }
    if (this.format === 'csv') {
      const header = uniqueNames(['name', ...tagKeys, ...s.columns]).map((c) => csvCell(c)).join(',');
      let text = '';
      if (header !== this.#csvHeader) {
        text += `${header}\n`;
        this.#csvHeader = header;
      }
      const prefix = [s.name ?? '', ...tagKeys.map((k) => s.tags![k]!)].map((c) => csvCell(c)).join(',');
      for (const row of values) text += `${prefix},${row.map(csvCell).join(',')}\n`;
      await this.sink.write(text);
      return;
    }
    // table: a title per series (name, tags), then aligned columns.
    const key = `${statement}\0${s.name ?? ''}\0${tagKeys.map((k) => `${k}=${s.tags![k]}`).join(',')}`;
    const rows = values.map((r) => r.map(cell));
    const widths = s.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
    const numeric = s.columns.map((_, i) => values.length > 0 && values.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'));
    const fmt = (r: string[]): string => r.map((x, i) => (numeric[i] ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
    let text = '';
    if (key !== this.#tableKey) {
      const title = [multi ? `statement ${statement}` : '', s.name ? `name: ${s.name}` : '', tagKeys.length > 0 ? `tags: ${tagKeys.map((k) => `${k}=${s.tags![k]}`).join(', ')}` : ''].filter(Boolean).join('  ');
      if (this.#tableKey !== undefined) text += '\n';
      if (title) text += `${title}\n`;
      text += `${fmt(s.columns)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n`;
      this.#tableKey = key;
    }
    for (const r of rows) text += `${fmt(r)}\n`;
    await this.sink.write(text);
  }

  async response(r: QueryResponse): Promise<number> {
    let n = 0;
    const multi = r.results.length > 1;
    for (const st of r.results) {
      const list = st.series ?? [];
      for (const s of list) n += s.values?.length ?? 0;
      // GROUP BY in a table: one table with the tags as leading columns, when the series agree.
      const merged = this.format === 'table' ? mergeSeries(list) : undefined;
      for (const s of merged ? [merged] : list) await this.series(s, st.statement_id, multi);
    }
    return n;
  }
}

/**
 * Header names made unique: a name already taken gets `_1` (`_2`, …), as influxd names
 * duplicate columns; the first keeps its name.
 */
function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((n) => {
    if (!seen.has(n)) {
      seen.add(n);
      return n;
    }
    let k = 1;
    while (taken.has(`${n}_${k}`) || seen.has(`${n}_${k}`)) k++;
    const u = `${n}_${k}`;
    seen.add(u);
    return u;
  });
}

/** Series of one statement with the same columns and tag keys as one series with tag columns. */
function mergeSeries(list: Series[]): Series | undefined {
  if (list.length < 2) return undefined;
  const first = list[0]!;
  const keys = Object.keys(first.tags ?? {}).sort();
  if (keys.length === 0) return undefined;
  const cols = first.columns.join('\0');
  for (const s of list) {
    if (s.name !== first.name || s.columns.join('\0') !== cols) return undefined;
    const k = Object.keys(s.tags ?? {}).sort();
    if (k.join('\0') !== keys.join('\0')) return undefined;
  }
  const values: QueryValue[][] = [];
  for (const s of list) {
    const tags = keys.map((k) => s.tags![k]!);
    for (const row of s.values ?? []) values.push([...tags, ...row]);
  }
  return { name: first.name, columns: uniqueNames([...keys, ...first.columns]), values };
}

/** Arrow IPC stream of the record batches; batches of other series are written against the first schema. */
class ArrowPrinter {
  #writer: A.RecordBatchStreamWriter | undefined;
  #schema: A.Schema | undefined;
  #pump: Promise<void> | undefined;
  constructor(readonly sink: Sink) {}

  async batch(b: A.RecordBatch): Promise<void> {
    if (!this.#writer) {
      this.#schema = new A.Schema(b.schema.fields);
      this.#writer = new A.RecordBatchStreamWriter();
      const w = this.#writer;
      this.#pump = (async () => {
        for await (const chunk of w) await this.sink.write(chunk);
      })();
    }
    const s = this.#schema!;
    const same = s.fields.length === b.schema.fields.length && s.fields.every((f, i) => f.name === b.schema.fields[i]!.name && f.type.typeId === b.schema.fields[i]!.type.typeId);
    if (!same) {
      throw new CliError(`the result's series have different columns (${s.fields.map((f) => f.name).join(', ')} / ${b.schema.fields.map((f) => f.name).join(', ')}): an Arrow stream has one schema; query them one at a time`);
    }
    // Series metadata (measurement, tags, key) differs per batch: one schema, without it.
    this.#writer.write(new A.RecordBatch(s, b.data));
  }

  async end(): Promise<void> {
    if (!this.#writer) {
      // No rows: an empty stream (schema-less) is still a valid, empty Arrow stream.
      this.#writer = new A.RecordBatchStreamWriter();
      const w = this.#writer;
      this.#pump = (async () => {
        for await (const chunk of w) await this.sink.write(chunk);
      })();
      w.write(new A.Table(new A.Schema([])));
    }
    this.#writer.finish();
    await this.#pump;
  }
}

function* tablesOf(r: unknown): Generator<A.Table> {
  if (r instanceof A.Table) yield r;
  else if (r instanceof Map) for (const t of r.values()) yield* tablesOf(t);
  else if (Array.isArray(r)) for (const t of r) yield* tablesOf(t);
}

export async function runQuery(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, queryOptions, 'query');
  if (v.help) {
    await out(queryHelp);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'query needs a QUERY (see fastinflux query --help)' : `query takes one QUERY (got ${positionals.length} arguments: quote the query)`);
  const q = positionals[0]!;
  const formatArg = (v.format as string | undefined) ?? 'table';
  if (!(kQueryFormats as readonly string[]).includes(formatArg)) throw new UsageError(`--format must be one of ${kQueryFormats.join(', ')} (got ${JSON.stringify(formatArg)})`);
  const format = formatArg as QueryFormat;
  const epoch = parsePrecision(v.epoch as string | undefined, '--epoch') as Epoch | undefined;
  const chunked = v.chunked === true;
  const chunkSize = parsePositiveInt(v['chunk-size'] as string | undefined, '--chunk-size');
  if (chunkSize !== undefined && !chunked) throw new UsageError('--chunk-size needs --chunked');
  if (format === 'arrow' && v.out === undefined && process.stdout.isTTY) throw new UsageError('--format arrow writes binary data: give --out FILE or redirect stdout');
  const conn = connect(v as never);
  const sink = new Sink(v.out as string | undefined);
  try {
    await sink.ready();
    const base = { db: conn.db, rp: conn.rp, epoch };
    if (format === 'arrow') {
      const p = new ArrowPrinter(sink);
      if (chunked) {
        for await (const b of await conn.client.query(q, { ...base, output: 'arrow', chunked: true, chunkSize })) await p.batch(b);
      } else {
        for (const t of tablesOf(await conn.client.query(q, { ...base, output: 'arrow' }))) for (const b of t.batches) await p.batch(b);
      }
      await p.end();
    } else if (format === 'json') {
      if (chunked) {
        // One JSON answer per chunk, one per line.
        for await (const c of await conn.client.query(q, { ...base, output: 'raw', chunked: true, chunkSize })) await sink.write(`${stringifyJson(c)}\n`);
      } else {
        await sink.write(`${stringifyJson(await conn.client.query(q, { ...base, output: 'raw' }))}\n`);
      }
    } else {
      const p = new TextPrinter(format, sink);
      let rows = 0;
      if (chunked) {
        for await (const c of await conn.client.query(q, { ...base, output: 'raw', chunked: true, chunkSize })) rows += await p.response(c);
      } else {
        rows = await p.response(await conn.client.query(q, { ...base, output: 'raw' }));
      }
      if (format === 'table' && rows === 0) await sink.write('(no rows)\n');
    }
    await sink.end();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(errorLine(e), undefined, { cause: e });
  } finally {
    await conn.client.close().catch(() => {});
  }
  return EXIT_OK;
}

export async function runPing(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, connectionOptions, 'ping');
  if (v.help) {
    await out(pingHelp);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`ping takes no arguments (got ${JSON.stringify(positionals[0])})`);
  const conn = connect(v as never);
  try {
    const r = await conn.client.ping();
    await out(`${conn.server}: InfluxDB ${r.version || '(unknown version)'}${r.build ? ` ${r.build}` : ''}, ${r.durationMs.toFixed(1)} ms\n`);
  } catch (e) {
    throw new CliError(`cannot reach ${conn.server}: ${errorLine(e)}`, undefined, { cause: e });
  } finally {
    await conn.client.close().catch(() => {});
  }
  return EXIT_OK;
}
