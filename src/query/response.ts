/**
 * The shapes of InfluxDB 1.x `/query` answers, and the check that turns the errors they may
 * carry inside a 200 (`results[i].error`, a top-level `error`) into exceptions.
 */
import { InfluxDBQueryError, InfluxDBResponseError } from '../errors.js';

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
