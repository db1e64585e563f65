/**
 * The `iterable` output format: aioinflux's `iterpoints`, `InfluxDBResult` and
 * `InfluxDBChunkedResult`. Points are the raw value lists of the JSON answer (no copying, no
 * parsing) unless a `parser(values, meta)` turns each into something else.
 */
import { inspect } from 'node:util';
import { InfluxDBError } from '../../errors.js';
import type { QueryResponse, QueryValue, Series, StatementResult } from '../response.js';

// The parser's words are the API's shared ones (types.ts).
export type { PointMeta, PointParser } from '../../types.js';
import type { PointMeta, PointParser } from '../../types.js';

/** A series with the statement it came from (`InfluxDBResult.series`). */
export interface SeriesWithStatement extends Series {
  statement_id: number;
}

function metaOf(series: Series, statementId: number): PointMeta {
  const meta: PointMeta = { columns: series.columns, statement_id: statementId };
  if (series.name !== undefined) meta.name = series.name;
  if (series.tags !== undefined) meta.tags = series.tags;
  return meta;
}

/**
 * Iterates a query answer (or one chunk of a chunked answer) point by point, across every
 * statement and series. Without a parser each point is the row's plain value list; with one,
 * `parser(values, meta)` is yielded instead, `meta` being shared by all rows of a series.
 */
export function iterpoints(resp: QueryResponse): Generator<QueryValue[], void, undefined>;
export function iterpoints<T>(resp: QueryResponse, parser: PointParser<T>): Generator<T, void, undefined>;
export function iterpoints<T>(resp: QueryResponse, parser?: PointParser<T>): Generator<QueryValue[] | T, void, undefined>;
export function* iterpoints<T>(resp: QueryResponse, parser?: PointParser<T>): Generator<QueryValue[] | T, void, undefined> {
  for (const statement of resp.results) {
    const seriesList = statement.series;
    if (seriesList === undefined) continue;
    for (const series of seriesList) {
      const rows = series.values;
      if (rows === undefined) continue;
      if (parser === undefined) {
        yield* rows;
      } else {
        const meta = metaOf(series, statement.statement_id);
        for (const row of rows) yield parser(row, meta);
      }
    }
  }
}

export interface ResultOptions<T = unknown> {
  /** Applied to every point (see `iterpoints`). */
  parser?: PointParser<T>;
  /** The query text, shown by `toString()` / `inspect`. */
  query?: string;
}

export interface ShowOptions {
  /** Rows printed per series (default 50); `Infinity` prints everything. */
  maxRows?: number;
}

function describeQuery(kind: string, query: string | undefined): string {
  if (query === undefined) return `<${kind}>`;
  const q = query.length > 80 ? `${query.slice(0, 80)}...` : query;
  return `<${kind} [q="${q}"]>`;
}

/** aioinflux's series name: `measurement,tag=value,...` (tags in key order, values unescaped). */
export function seriesLabel(series: Pick<Series, 'name' | 'tags'>): string {
  const parts: string[] = [];
  if (series.name !== undefined && series.name !== '') parts.push(series.name);
  if (series.tags !== undefined) {
    for (const k of Object.keys(series.tags).sort()) parts.push(`${k}=${series.tags[k]}`);
  }
  return parts.join(',');
}

function cell(v: QueryValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.replace(/[\t\n\r\\]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\'));
  return String(v);
}

/** Tab-separated dump of every series of a response, each under a header naming it. */
export function showResponse(resp: QueryResponse, options: ShowOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const out: string[] = [];
  for (const statement of resp.results) {
    const seriesList = statement.series ?? [];
    if (seriesList.length === 0) {
      out.push(`== statement ${statement.statement_id}: no series ==`);
      continue;
    }
    for (const series of seriesList) {
      const rows = series.values ?? [];
      const label = seriesLabel(series) || '(unnamed)';
      out.push(`== statement ${statement.statement_id}: ${label} (${rows.length} row${rows.length === 1 ? '' : 's'}${series.partial ? ', partial' : ''}) ==`);
      out.push(series.columns.map((c) => cell(c)).join('\t'));
      const shown = Math.min(rows.length, maxRows);
      for (let i = 0; i < shown; i++) out.push(rows[i]!.map(cell).join('\t'));
      if (rows.length > shown) out.push(`... ${rows.length - shown} more row${rows.length - shown === 1 ? '' : 's'}`);
    }
  }
  return out.join('\n');
}

/**
 * One query answer for point-by-point iteration (`output: 'iterable'`, not chunked).
 * `for (const point of result)` yields the points of every statement and series in order.
 */
export class InfluxDBResult<T = QueryValue[]> implements Iterable<T> {
  readonly #data: QueryResponse;
  readonly parser: PointParser<T> | undefined;
  readonly query: string | undefined;

  constructor(data: QueryResponse, options: ResultOptions<T> = {}) {
    this.#data = data;
    this.parser = options.parser;
    this.query = options.query;
  }

  /** The raw JSON answer. */
  get data(): QueryResponse {
    return this.#data;
  }

  get statements(): StatementResult[] {
    return this.#data.results;
  }

  /** Every series of every statement, flat, each with its `statement_id`. */
  get series(): SeriesWithStatement[] {
    const out: SeriesWithStatement[] = [];
    for (const st of this.#data.results) {
      for (const s of st.series ?? []) out.push({ ...s, statement_id: st.statement_id });
    }
    return out;
  }

  /** Number of series (aioinflux's `series_count`). */
  get seriesCount(): number {
    let n = 0;
    for (const st of this.#data.results) n += st.series?.length ?? 0;
    return n;
  }

  /** Number of points over all series (aioinflux's `len()`). */
  get length(): number {
    let n = 0;
    for (const st of this.#data.results) for (const s of st.series ?? []) n += s.values?.length ?? 0;
    return n;
  }

  [Symbol.iterator](): Iterator<T> {
    return (this.parser === undefined ? iterpoints(this.#data) : iterpoints(this.#data, this.parser)) as Iterator<T>;
  }

  /** Every point in an array (aioinflux's `show()` returned `list(self)`). */
  toArray(): T[] {
    return [...this];
  }

  /** A readable text dump: per series a header line, then a tab-separated table. */
  show(options?: ShowOptions): string {
    return showResponse(this.#data, options);
  }

  toJSON(): QueryResponse {
    return this.#data;
  }

  toString(): string {
    return describeQuery('InfluxDBResult', this.query);
  }

  [inspect.custom](): string {
    return `${this.toString().slice(0, -1)} ${this.seriesCount} series, ${this.length} points>`;
  }
}

/**
 * A chunked answer for point-by-point iteration (`output: 'iterable'`, `chunked: true`).
 * `for await (const point of result)` yields points across chunks as they arrive;
 * `iterchunks()` yields the raw chunks instead. The stream can be read once.
 */
export class InfluxDBChunkedResult<T = QueryValue[]> implements AsyncIterable<T> {
  readonly #chunks: AsyncIterable<QueryResponse>;
  #consumed = false;
  readonly parser: PointParser<T> | undefined;
  readonly query: string | undefined;

  constructor(chunks: AsyncIterable<QueryResponse>, options: ResultOptions<T> = {}) {
    this.#chunks = chunks;
    this.parser = options.parser;
    this.query = options.query;
  }

  /** True once iteration started: a chunked answer is a stream and cannot be replayed. */
  get consumed(): boolean {
    return this.#consumed;
  }

  #take(): AsyncIterable<QueryResponse> {
    if (this.#consumed) {
      throw new InfluxDBError('this chunked result was already iterated: a chunked answer is a stream and can be read only once (run the query again)');
    }
    this.#consumed = true;
    return this.#chunks;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterpoints();
  }

  /** Points across all chunks (what `for await ... of` uses). */
  iterpoints(): AsyncGenerator<T, void, undefined> {
    const chunks = this.#take();
    const parser = this.parser;
    return (async function* points() {
      for await (const chunk of chunks) {
        yield* (parser === undefined ? iterpoints(chunk) : iterpoints(chunk, parser)) as Generator<T>;
      }
    })();
  }

  /** The raw chunks (parsed JSON answers), or each wrapped as an `InfluxDBResult` with `{ wrap: true }`. */
  iterchunks(): AsyncGenerator<QueryResponse, void, undefined>;
  iterchunks(options: { wrap: true }): AsyncGenerator<InfluxDBResult<T>, void, undefined>;
  iterchunks(options?: { wrap?: boolean }): AsyncGenerator<QueryResponse | InfluxDBResult<T>, void, undefined>;
  iterchunks(options: { wrap?: boolean } = {}): AsyncGenerator<QueryResponse | InfluxDBResult<T>, void, undefined> {
    const chunks = this.#take();
    const wrap = options.wrap === true;
    const resultOptions: ResultOptions<T> = { parser: this.parser, query: this.query };
    return (async function* rawChunks() {
      for await (const chunk of chunks) yield wrap ? new InfluxDBResult<T>(chunk, resultOptions) : chunk;
    })();
  }

  toString(): string {
    return describeQuery('InfluxDBChunkedResult', this.query);
  }

  [inspect.custom](): string {
    return `${this.toString().slice(0, -1)}${this.#consumed ? ' consumed' : ''}>`;
  }
}
