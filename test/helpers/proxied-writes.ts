/**
 * The fixture of the writer tests that put our fault proxy in front of the real influxd: proxies
 * and clients made through it are closed after each test; databases, a count of what influxd
 * stored (asked directly, not through the proxy), numbered lines, and the writer's accounting.
 * Call `proxiedWrites()` once at the top of a test file (it registers an afterEach).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { InfluxDBClient, type ClientOptions, type WriterStats } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from './server.js';

export interface ProxiedWrites {
  /** The shared influxd. */
  url: string;
  /** A fault proxy in front of it (on `port` when given), closed after the test. */
  proxy(port?: number): Promise<FaultProxy>;
  /** A client of `base` for `db` (and `more` options), closed after the test. */
  clientFor(base: string, db: string, more?: ClientOptions): InfluxDBClient;
  /** A new database on `base` (default: the shared influxd). */
  newDb(prefix: string, base?: string): Promise<string>;
  /** Points of measurement `m` stored in `db` (field `v`), asked of the server directly. */
  count(db: string, base?: string): Promise<number>;
}

/**
 * Set by a test file before it imports a suite built on `proxiedWrites()`: every writer made
 * through `clientFor` then gets a durable spool in a fresh temp dir (the fault matrix with the
 * spool on, test/integration/writer-faults-spool.test.ts).
 */
export const writerMode = { spool: false };

export function proxiedWrites(): ProxiedWrites {
  const url = sharedInfluxUrl();
  const proxies: FaultProxy[] = [];
  const clients: InfluxDBClient[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    url,
    async proxy(port?: number): Promise<FaultProxy> {
      const p = await startFaultProxy({ target: url, ...(port ? { port } : {}) });
      proxies.push(p);
      return p;
    },
    clientFor(base: string, db: string, more: ClientOptions = {}): InfluxDBClient {
      const c = new InfluxDBClient({ ...more, url: base, db });
      clients.push(c);
      if (writerMode.spool) {
        const writer = c.writer.bind(c);
        c.writer = (o) => {
          const dir = mkdtempSync(join(tmpdir(), 'fastinflux-spool-matrix-'));
          dirs.push(dir);
          return writer({ spool: { dir }, ...o });
        };
      }
      return c;
    },
    async newDb(prefix: string, base = url): Promise<string> {
      const db = uniqueDb(prefix);
      await rawQuery(base, `CREATE DATABASE "${db}"`);
      return db;
    },
    async count(db: string, base = url): Promise<number> {
      const r = await rawQuery(base, 'SELECT count(v) FROM m', { db });
      return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
    },
  };
}

/** `n` lines of measurement `m`, series `k=a`, integer `v` from `from`, times from `from + 1`. */
export const lines = (n: number, from = 0): string => Array.from({ length: n }, (_, i) => `m,k=a v=${i + from}i ${i + from + 1}`).join('\n');

/** The writer's accounting: every accepted point is in exactly one outcome. */
export function addsUp(s: WriterStats): void {
  expect(s.accepted).toBe(s.written + s.rejected + s.expired + s.dropped + s.pending);
  // The spool variant of a suite really wrote through a spool.
  if (writerMode.spool && s.accepted > 0) expect(s.spool?.fsyncs).toBeGreaterThan(0);
}

/** A loopback port nothing listens on (listened on, then closed). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
