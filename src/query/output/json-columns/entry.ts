/**
 * The entry points: a whole answer (`jsonToArrow`, `jsonToArrowAsync`) or a chunked stream
 * (`JsonChunkConverter`, `jsonChunksToRecordBatches`) from its text or UTF-8 bytes, each falling
 * back to `parseExactJson` + `responseToArrow` whenever the parser bails, so that results and
 * errors are the generic path's own.
 */
import { isUtf8 } from 'node:buffer';
import type { RecordBatch } from 'apache-arrow';
import { parseExactJson } from '../../exact-json.js';
import { checkQueryResponse, type QueryResponse, type Series } from '../../response.js';
import { responseToArrow, type ArrowOptions, type ArrowResult, type AsyncSchemaLookup, type SchemaLookup } from '../arrow.js';
import { statementResult } from '../batch.js';
import type { MeasurementSchema } from '../schema.js';
import { ColumnConverter, isSelect, type PendingSeries } from './converter.js';
import { documentError, parseDocument, type DocumentOut, type Need } from './grammar.js';
import { BAIL, asBuffer, type Bail } from './scanner.js';

function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/**
 * The text for these bytes: malformed UTF-8 as U+FFFD and, for a whole body, a BOM dropped (what
 * `res.body.text()` gives; `splitLines` keeps a BOM inside a chunked stream).
 */
function toText(body: string | Uint8Array, dropBom: boolean): string {
  if (typeof body === 'string') return body;
  return asBuffer(dropBom ? stripBom(body) : body).toString('utf8');
}

/** The body as UTF-8 bytes for the parser, or `undefined` when only the text path is exact for it. */
function toBytes(body: string | Uint8Array, dropBom: boolean): Buffer | undefined {
  if (typeof body === 'string') {
    // A lone surrogate in the text itself would not survive UTF-8.
    if (!body.isWellFormed()) return undefined;
    return Buffer.from(body, 'utf8');
  }
  const bytes = asBuffer(dropBom ? stripBom(body) : body);
  return isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8');
}

/**
 * Resumes a parsing generator with the schema it asked for: the next measurement it needs, or
 * its outcome (done: `undefined`; a bail, or any parser failure: `BAIL`). A failing lookup is
 * not the parser's: it throws to the caller.
 */
function advance(gen: Need, schema: MeasurementSchema | undefined): string | Bail | undefined {
  try {
    const step = gen.next(schema);
    return step.done ? undefined : step.value;
  } catch {
    return BAIL;
  }
}

/** Runs a parsing generator with a synchronous lookup. */
function runSync(gen: Need, lookup: SchemaLookup): Bail | undefined {
  let need = advance(gen, undefined);
  while (typeof need === 'string') need = advance(gen, lookup(need));
  return need;
}

/** As `runSync`, with a lookup that may be asynchronous. */
async function runAsync(gen: Need, lookup: AsyncSchemaLookup): Promise<Bail | undefined> {
  let need = advance(gen, undefined);
  while (typeof need === 'string') need = advance(gen, await lookup(need));
  return need;
}

const noSchema = (): undefined => undefined;

/**
 * A whole `/query` answer (JSON text or its UTF-8 bytes) as Arrow tables: the same result as
 * `responseToArrow(checkQueryResponse(parseExactJson(text), status), schemaFor, options)`,
 * errors included (`SyntaxError` for invalid JSON, `InfluxDBQueryError` for an error inside the
 * answer, `InfluxDBResponseError` for an answer without `results`). `schemaFor` is called once
 * per SELECT series, when the series starts (see `jsonToArrowAsync` for an asynchronous lookup).
 */
export function jsonToArrow(body: string | Uint8Array, schemaFor: SchemaLookup | undefined, options: ArrowOptions = {}, status = 200): ArrowResult {
  const lookup = schemaFor ?? noSchema;
  const bytes = toBytes(body, true);
  if (bytes !== undefined) {
    const conv = new ColumnConverter(options);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    if (runSync(parseDocument(bytes, conv, doc), lookup) === undefined) {
      const result = finishDocument(doc, status);
      if (result !== undefined) return result;
    }
  }
  return responseToArrow(checkQueryResponse(parseExactJson(toText(body, true)), status), lookup, options);
}

function finishDocument(doc: DocumentOut, status: number): ArrowResult | undefined {
  const err = documentError(doc, status);
  if (err === 'generic') return undefined;
  if (err !== undefined) throw err;
  const statements = doc.statements.map((st) => statementResult(st.batches));
  return statements.length === 1 ? statements[0]! : statements;
}

/**
 * As `jsonToArrow`, with an asynchronous lookup (e.g. `(m) => schemaCache.get(m, db)`): the
 * parse pauses at each SELECT series until its measurement's schema is known.
 */
export async function jsonToArrowAsync(body: string | Uint8Array, schemaFor: AsyncSchemaLookup | undefined, options: ArrowOptions = {}, status = 200): Promise<ArrowResult> {
  const lookup = schemaFor ?? noSchema;
  const bytes = toBytes(body, true);
  if (bytes !== undefined) {
    const conv = new ColumnConverter(options);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    if ((await runAsync(parseDocument(bytes, conv, doc), lookup)) === undefined) {
      const result = finishDocument(doc, status);
      if (result !== undefined) return result;
    }
  }
  const resp = checkQueryResponse(parseExactJson(toText(body, true)), status);
  const schemas = new Map<string, MeasurementSchema | undefined>();
  for (const st of resp.results) {
    for (const s of st.series ?? []) {
      if (s.name !== undefined && s.columns[0] === 'time' && !schemas.has(s.name)) schemas.set(s.name, await lookup(s.name));
    }
  }
  return responseToArrow(resp, (m) => schemas.get(m), options);
}

function pendingFromSeries(series: Series): PendingSeries {
  const rows = series.values ?? [];
  const ncols = series.columns.length;
  const generic: unknown[][] = Array.from({ length: ncols }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let c = 0; c < ncols; c++) generic[c]![i] = row[c];
  }
  return {
    name: series.name, tags: series.tags, columns: series.columns, n: rows.length, partial: series.partial,
    typed: [], typedKinds: [], generic, schema: undefined, looked: false,
  };
}

/**
 * Chunked answers (`chunked=true`): one converter per stream, fed each NDJSON line, as
 * `responseChunksToRecordBatches` over `checkQueryResponse(parseExactJson(line))` per chunk.
 * Each line gives one `RecordBatch` per series, in order; batches of one stream share their
 * dictionary types and inferred column types. `schemaFor` is asked once per measurement.
 */
export class JsonChunkConverter {
  readonly #conv: ColumnConverter;
  readonly #schemaFor: AsyncSchemaLookup | undefined;
  readonly #known = new Map<string, MeasurementSchema | undefined>();
  readonly #status: number;

  constructor(schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {}, status = 200) {
    this.#conv = new ColumnConverter(options);
    this.#schemaFor = schemaFor;
    this.#status = status;
  }

  /** The batches of one line (a whole JSON document); throws as `checkQueryResponse` would. */
  async convert(line: string | Uint8Array): Promise<RecordBatch[]> {
    return this.#convert(line, false) as Promise<RecordBatch[]>;
  }

  /** As `convert`, synchronously: only when every measurement's schema is already known (or there is no lookup). */
  convertSync(line: string | Uint8Array): RecordBatch[] {
    return this.#convert(line, true) as RecordBatch[];
  }

  #lookupSync = (m: string): MeasurementSchema | undefined => {
    if (this.#schemaFor === undefined) return undefined;
    if (!this.#known.has(m)) throw new Error(`no schema known yet for measurement "${m}": use convert()`);
    return this.#known.get(m);
  };

  #lookupAsync = async (m: string): Promise<MeasurementSchema | undefined> => {
    if (this.#schemaFor === undefined) return undefined;
    if (!this.#known.has(m)) this.#known.set(m, await this.#schemaFor(m));
    return this.#known.get(m);
  };

  #convert(line: string | Uint8Array, sync: boolean): RecordBatch[] | Promise<RecordBatch[]> {
    const sticky = new Map(this.#conv.sticky);
    const bytes = toBytes(line, false);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    const done = (bailed: Bail | undefined): RecordBatch[] | Promise<RecordBatch[]> => {
      if (bailed === undefined) {
        const err = documentError(doc, this.#status);
        if (err === undefined) return doc.statements.flatMap((st) => st.batches);
        if (err !== 'generic') throw err;
      }
      // The generic path, from the state before this line.
      this.#conv.sticky = sticky;
      const resp = checkQueryResponse(parseExactJson(toText(line, false)), this.#status);
      return sync ? this.#fromResponse(resp, this.#lookupSync) : this.#fromResponseAsync(resp);
    };
    // A line that throws (an error in the answer, a failed lookup) leaves the stream's state as it was.
    const restore = (err: unknown): never => {
      this.#conv.sticky = sticky;
      throw err;
    };
    if (sync) {
      try {
        return done(bytes === undefined ? BAIL : runSync(parseDocument(bytes, this.#conv, doc), this.#lookupSync));
      } catch (err) {
        return restore(err);
      }
    }
    const parsed = bytes === undefined ? Promise.resolve(BAIL) : runAsync(parseDocument(bytes, this.#conv, doc), this.#lookupAsync);
    return parsed.then(done).catch(restore);
  }

  #fromResponse(resp: QueryResponse, lookup: SchemaLookup): RecordBatch[] {
    const out: RecordBatch[] = [];
    for (const st of resp.results) {
      const pending = (st.series ?? []).map(pendingFromSeries);
      for (const s of pending) if (isSelect(s)) s.schema = lookup(s.name!);
      out.push(...this.#conv.statementBatches(pending, st.statement_id));
    }
    return out;
  }

  async #fromResponseAsync(resp: QueryResponse): Promise<RecordBatch[]> {
    for (const st of resp.results) {
      for (const s of st.series ?? []) if (s.name !== undefined && s.columns[0] === 'time') await this.#lookupAsync(s.name);
    }
    return this.#fromResponse(resp, (m) => this.#known.get(m));
  }
}

function isBlank(line: string | Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = typeof line === 'string' ? line.charCodeAt(i) : line[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/**
 * Chunked + arrow from the NDJSON lines of the answer (e.g. `splitLines(res.body)`): what
 * `responseChunksToRecordBatches(parseNdjson(...) checked, schemaFor, options)` yields. Blank
 * lines are skipped.
 */
export async function* jsonChunksToRecordBatches(
  lines: AsyncIterable<string | Uint8Array>, schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {}, status = 200,
): AsyncGenerator<RecordBatch, void, undefined> {
  const conv = new JsonChunkConverter(schemaFor, options, status);
  for await (const line of lines) {
    if (isBlank(line)) continue;
    yield* await conv.convert(line);
  }
}
