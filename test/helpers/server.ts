/** Helpers for integration tests that talk to a real InfluxDB 1.x server. */
import { inject } from 'vitest';
import './context.js';
import { startLocalInfluxd, type LocalInfluxd, type LocalInfluxdOptions } from '../../src/server/index.js';

export type { LocalInfluxd, LocalInfluxdOptions };

/** Base URL of the shared server started (or taken from INFLUX_URL) by globalSetup. */
export function sharedInfluxUrl(): string {
  return inject('influxUrl');
}

let dbCounter = 0;

/**
 * A database name unique across test workers and calls; no server round trip.
 * Synchronous (returns a plain string), so both `uniqueDb()` and `await uniqueDb()` work.
 */
export function uniqueDb(prefix = 'test'): string {
  dbCounter += 1;
  const random = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${process.pid}_${dbCounter}_${random}`;
}

/**
 * Starts a private influxd with special settings (auth, unix socket, https,
 * small max-body-size, ...). Call it in beforeAll and `stop()` it in afterAll.
 */
export async function startVariant(opts: LocalInfluxdOptions): Promise<LocalInfluxd> {
  return startLocalInfluxd(opts);
}

export interface RawQueryOptions {
  db?: string;
  auth?: { username: string; password: string };
}

/** InfluxDB 1.x `/query` JSON response. */
export interface RawQueryResult {
  results?: Array<{
    statement_id?: number;
    error?: string;
    series?: Array<{ name?: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }>;
    messages?: Array<{ level: string; text: string }>;
  }>;
  error?: string;
}

/**
 * POSTs `q` to `/query` with plain fetch and returns the parsed JSON, so tests
 * can check server state independently of the client under test. Throws on a
 * non-JSON response; HTTP error statuses with a JSON body are returned as is.
 * (Global fetch cannot take a custom CA: use it against http:// servers.)
 */
export async function rawQuery(url: string, q: string, opts: RawQueryOptions = {}): Promise<RawQueryResult> {
  const params = new URLSearchParams({ q });
  if (opts.db !== undefined) params.set('db', opts.db);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.auth) {
    headers.authorization =
      'Basic ' + Buffer.from(`${opts.auth.username}:${opts.auth.password}`, 'utf8').toString('base64');
  }
  const res = await fetch(`${url.replace(/\/+$/, '')}/query`, { method: 'POST', headers, body: params.toString() });
  const text = await res.text();
  try {
    return JSON.parse(text) as RawQueryResult;
  } catch {
    throw new Error(`rawQuery: HTTP ${res.status} with non-JSON body: ${text.slice(0, 300)}`);
  }
}
