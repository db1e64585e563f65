/**
 * The client's `/query` request: the form body (q, db, rp, epoch, params, chunked), the refusal
 * of a non-200 answer, and the reading of the answer, whole or streamed, in the call's output
 * format. The formats themselves are output/'s: `readAnswer` is the one place that picks one.
 */
import { InfluxDBError, InfluxDBQueryError, InvalidQueryError, truncateText } from '../errors.js';
import type { Precision, ResolvedQueryOptions } from '../options/index.js';
import { queryNote, readErrorMessage, toConnectionError, type HttpTransport, type TransportResponse } from '../transport/http-transport.js';
import { completeChunkLines, invalidJson, parseChunks } from './chunks.js';
import { parseExactJson } from './exact-json.js';
import { jsonChunksToRecordBatches, jsonToArrowAsync } from './output/json-columns/index.js';
import { formatChunks, formatResponse, type ArrowOptions, type AsyncSchemaLookup, type SchemaCache } from './output/index.js';
import type { PatternValue } from './patterns.js';
import { checkQueryResponse, type QueryResponse } from './response.js';
import type { RecordBatch } from 'apache-arrow';

/** What a query runs on: the connection, the arrow output's schema cache, the server's description for messages. */
export interface QueryTarget {
  readonly transport: HttpTransport;
  readonly schemas: SchemaCache;
  readonly describe: string;
}

/** The query text of a call: statements of an array are joined with `; `. */
export function queryText(q: string | string[]): string {
  const text = Array.isArray(q) ? q.join('; ') : q;
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidQueryError('the query must be a non-empty string');
  return text;
}

/** Runs `text` with resolved options and reads the answer in their output format. */
export async function runQuery(t: QueryTarget, text: string, o: ResolvedQueryOptions): Promise<unknown> {
  // Arrow columns are typed from numbers: ask for integer epochs (exact ns) unless told otherwise.
  const epoch = o.epoch ?? (o.output === 'arrow' ? 'n' : undefined);
  const res = await sendQuery(t.transport, text, { ...o, epoch });
  return readAnswer(res, { ...o, epoch: epoch ?? 'n' }, text, t);
}

/** A query whose answer is always the raw JSON: for the client's own lookups. */
export async function runRawQuery(t: QueryTarget, text: string, o: ResolvedQueryOptions): Promise<QueryResponse> {
  return readWhole(await sendQuery(t.transport, text, o), t.describe);
}

interface SendOptions {
  db?: string | undefined;
  rp?: string | undefined;
  epoch?: Precision | undefined;
  params?: Record<string, PatternValue> | undefined;
  chunked?: boolean;
  chunkSize?: number | undefined;
  maxResponseBytes?: number | undefined;
}

/** POSTs the query; an answer other than 200 throws InfluxDBQueryError with the server's message. */
async function sendQuery(transport: HttpTransport, text: string, o: SendOptions): Promise<TransportResponse> {
  const form = new URLSearchParams({ q: text });
  if (o.db !== undefined) form.set('db', o.db);
  if (o.rp !== undefined) form.set('rp', o.rp);
  // The server's epoch names nanoseconds "ns"; the rest match the write precisions.
  if (o.epoch !== undefined) form.set('epoch', o.epoch === 'n' ? 'ns' : o.epoch);
  if (o.params !== undefined) form.set('params', paramsToJson(o.params));
  if (o.chunked) {
    form.set('chunked', 'true');
    if (o.chunkSize !== undefined) form.set('chunk_size', String(o.chunkSize));
  }
  // POST with a form body: the query text stays out of URLs and access logs.
  const res = await transport.request({
    method: 'POST', endpoint: 'query', body: form.toString(), contentType: 'application/x-www-form-urlencoded',
    maxResponseBytes: o.maxResponseBytes, chunked: o.chunked, note: queryNote(text),
  });
  if (res.statusCode !== 200) {
    const msg = await readErrorMessage(res);
    throw new InfluxDBQueryError(`query failed with HTTP ${res.statusCode}: ${truncateText(msg)}`, { status: res.statusCode, serverMessage: msg, endpoint: 'query' });
  }
  return res;
}

/** Bind parameters as JSON, with bigints written as exact integer literals. */
function paramsToJson(params: Record<string, PatternValue>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(`${JSON.stringify(k)}:${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`);
  return `{${parts.join(',')}}`;
}

/**
 * The answer in the output format. `arrow` is read from the body's bytes (whole) or lines
 * (chunked) into typed columns, with no row arrays and no BigInt per value: output/index.ts's
 * `formatResponse` / `formatChunks` take parsed answers, so only `raw` and `iterable` go through them.
 */
function readAnswer(res: TransportResponse, o: ResolvedQueryOptions & { epoch: Precision }, text: string, t: QueryTarget): Promise<unknown> | unknown {
  if (o.output === 'arrow') {
    const lookup = (m: string) => t.schemas.get(m, o.db);
    const arrowOpts = { epoch: o.epoch, ...(o.columnTypes === undefined ? undefined : { columnTypes: o.columnTypes }) };
    return o.chunked ? arrowBatches(res, lookup, arrowOpts, t.describe) : arrowWhole(res, lookup, arrowOpts, t.describe);
  }
  const ctx = { output: o.output, query: text, parser: o.parser, db: o.db, epoch: o.epoch, schemas: t.schemas };
  if (o.chunked) return formatChunks(streamChunks(res, t.describe), ctx);
  return readWhole(res, t.describe).then((resp) => formatResponse(resp, ctx));
}

/** The whole answer, parsed exactly (integers beyond 2^53 as bigint) and checked. */
async function readWhole(res: TransportResponse, describe: string): Promise<QueryResponse> {
  let body: string;
  try {
    body = await res.body.text();
  } catch (err) {
    throw toConnectionError(err, `query to ${describe}`);
  }
  let doc: unknown;
  try {
    doc = parseExactJson(body);
  } catch (err) {
    throw err instanceof InfluxDBError ? err : invalidJson(err);
  }
  return checkQueryResponse(doc, res.statusCode);
}

async function arrowWhole(res: TransportResponse, lookup: AsyncSchemaLookup, options: ArrowOptions, describe: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await res.body.bytes();
  } catch (err) {
    throw toConnectionError(err, `query to ${describe}`);
  }
  try {
    return await jsonToArrowAsync(bytes, lookup, options, res.statusCode);
  } catch (err) {
    if (err instanceof SyntaxError) throw invalidJson(err);
    throw err;
  }
}

async function* streamChunks(res: TransportResponse, describe: string): AsyncIterableIterator<QueryResponse> {
  try {
    yield* parseChunks(res.body.lines(), res.statusCode, `chunked query from ${describe}`);
  } catch (err) {
    throw err instanceof InfluxDBError ? err : toConnectionError(err, `chunked query from ${describe}`);
  } finally {
    // The consumer may stop early: release the socket instead of reading the rest.
    if (!res.body.destroyed) res.body.destroy();
  }
}

/** Chunked arrow output: each NDJSON line converted straight into record batches. */
async function* arrowBatches(res: TransportResponse, lookup: AsyncSchemaLookup, options: ArrowOptions, describe: string): AsyncGenerator<RecordBatch, void, undefined> {
  try {
    yield* jsonChunksToRecordBatches(completeChunkLines(res.body.lines(), `chunked query from ${describe}`), lookup, options, res.statusCode);
  } catch (err) {
    if (err instanceof SyntaxError) throw invalidJson(err, 'a chunk of the query answer');
    throw err instanceof InfluxDBError ? err : toConnectionError(err, `chunked query from ${describe}`);
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}
