/**
 * The shapes of InfluxDB 1.x `/query` answers, the exact parse of a whole answer's body, and the
 * check that turns the errors they may carry inside a 200 (`results[i].error`, a top-level
 * `error`) into exceptions. (Chunked answers are parsed line by line in chunks.ts.)
 */
import { InfluxDBError, InfluxDBQueryError, InfluxDBResponseError } from '../errors.js';
import { parseExactJson } from './exact-json.js';

/** A value in a result row. Integers beyond 2^53 (and ns epochs) are `bigint`, exact. */
export type { QueryValue } from '../types.js';
import type { QueryValue } from '../types.js';

export interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: QueryValue[][];
  partial?: boolean;
}

export interface StatementResult {
  statement_id: number;
  series?: Series[];
  error?: string;
  partial?: boolean;
  messages?: Array<{ level: string; text: string }>;
}

/** The parsed JSON answer of `/query` (the `raw` output format). */
export interface QueryResponse {
  results: StatementResult[];
  error?: string;
}

/** Throws on an error reported inside a 200 answer; returns the response typed. */
export function checkQueryResponse(doc: unknown, status: number): QueryResponse {
  if (typeof doc !== 'object' || doc === null) throw new InfluxDBResponseError('the query answer is not a JSON object');
  const r = doc as QueryResponse;
  if (typeof r.error === 'string') {
    throw new InfluxDBQueryError(`query failed: ${r.error}`, { status, serverMessage: r.error, endpoint: 'query' });
  }
  if (!Array.isArray(r.results)) throw new InfluxDBResponseError('the query answer has no "results" array');
  for (const res of r.results) {
    if (res && typeof res.error === 'string') {
      throw new InfluxDBQueryError(`query failed in statement ${res.statement_id}: ${res.error}`, {
        status, serverMessage: res.error, endpoint: 'query', statementId: res.statement_id,
      });
    }
  }
  return r;
}

/** A whole answer's body (UTF-8 JSON) parsed exactly (integers beyond 2^53 as bigint) and checked. */
export function parseAnswer(body: Uint8Array, status: number): QueryResponse {
  let doc: unknown;
  try {
    // As `Response.text()`: a BOM dropped, malformed bytes as U+FFFD.
    doc = parseExactJson(new TextDecoder().decode(body));
  } catch (err) {
    throw err instanceof InfluxDBError ? err : invalidJson(err);
  }
  return checkQueryResponse(doc, status);
}

/** A query answer (or `what`) that is not valid JSON: InfluxDBResponseError, reason 'invalid'. */
export function invalidJson(err: unknown, what = 'the query answer'): InfluxDBResponseError {
  return new InfluxDBResponseError(`${what} is not valid JSON: ${(err as Error).message}`, { reason: 'invalid', cause: err });
}
