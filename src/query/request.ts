/**
 * The client's `/query` request: the form body (q, db, rp, epoch, params, chunked), the refusal
 * of a non-200 answer, and the reading of the answer's body — whole (its bytes) or chunked (its
 * lines) — which it hands to output/index.ts, the one place that turns it into the call's output
 * format.
 */
import { InfluxDBQueryError, InvalidQueryError, truncateText } from '../errors.js';
import type { Precision, ResolvedQueryOptions } from '../options/index.js';
import { queryNote, readErrorMessage, toConnectionError, type HttpTransport, type TransportResponse } from '../transport/http-transport.js';
import { formatChunks, formatResponse, queryEpoch, type AnswerLines, type OutputContext, type SchemaCache } from './output/index.js';
import type { PatternValue } from './patterns.js';
import { parseAnswer, type QueryResponse } from './response.js';

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

/** Runs `text` with resolved options; the answer comes back in their output format. */
export async function runQuery(t: QueryTarget, text: string, o: ResolvedQueryOptions): Promise<unknown> {
  const epoch = queryEpoch(o.output, o.epoch);
  const res = await sendQuery(t.transport, text, { ...o, epoch });
  const ctx: OutputContext = {
    output: o.output, query: text, parser: o.parser, status: res.statusCode, db: o.db, epoch, schemas: t.schemas,
    ...(o.columnTypes === undefined ? undefined : { arrow: { columnTypes: o.columnTypes } }),
  };
  if (o.chunked) return formatChunks(answerLines(res, t.describe), ctx);
  return formatResponse(await readBody(res, t.describe), ctx);
}

/** A query whose answer is always the raw JSON: for the client's own lookups. */
export async function runRawQuery(t: QueryTarget, text: string, o: ResolvedQueryOptions): Promise<QueryResponse> {
  const res = await sendQuery(t.transport, text, o);
  return parseAnswer(await readBody(res, t.describe), res.statusCode);
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

/** The whole body's bytes (at most maxResponseBytes). */
async function readBody(res: TransportResponse, describe: string): Promise<Uint8Array> {
  try {
    return await res.body.bytes();
  } catch (err) {
    throw toConnectionError(err, `query to ${describe}`);
  }
}

/** A chunked body's lines, read on demand; a failure reading them is a connection error. */
function answerLines(res: TransportResponse, describe: string): AnswerLines {
  const where = `chunked query from ${describe}`;
  return {
    lines: res.body.lines(),
    where,
    failure: (err) => toConnectionError(err, where),
    close: () => {
      if (!res.body.destroyed) res.body.destroy();
    },
  };
}
