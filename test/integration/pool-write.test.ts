/**
 * Bodies from the encoder pool (src/pool/) into the real influxd (started by globalSetup): the
 * standard workload, cut into many row ranges encoded by 2 workers, POSTed body by body; every
 * row is stored, with its values, in order. (The client's write() does not use the pool yet.)
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderPool } from '../../src/pool/encoder-pool.js';
import { parseExactJson } from '../../src/query/exact-json.js';
import { rawQuery, sharedInfluxUrl, uniqueDb, type RawQueryResult } from '../helpers/server.js';
import { makeWorkload, toArrowTable, START_NS } from '../helpers/generators.js';

const url = sharedInfluxUrl();
const db = uniqueDb('pool');
const kWasmBuilt = existsSync(new URL('../../build/encoder.wasm', import.meta.url));
const pools: EncoderPool[] = [];

beforeAll(async () => {
  const r = await rawQuery(url, `CREATE DATABASE "${db}"`);
  expect(r.results?.[0]?.error).toBeUndefined();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await rawQuery(url, `DROP DATABASE "${db}"`);
});

async function select(q: string): Promise<unknown[][]> {
  const form = new URLSearchParams({ q, db, epoch: 'ns' });
  const res = await fetch(`${url}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const json = parseExactJson(await res.text()) as RawQueryResult;
  expect(json.results?.[0]?.error).toBeUndefined();
  return (json.results?.[0]?.series?.[0]?.values ?? []) as unknown[][];
}

describe('pool bodies into influxd', () => {
  for (const kernel of ['ts', 'wasm'] as const) {
    it.skipIf(kernel === 'wasm' && !kWasmBuilt)(`kernel ${kernel}: 30,000 rows in many ranges and bodies, all stored`, async () => {
      const rows = 30_000;
      const w = makeWorkload(rows);
      const measurement = `cpu_${kernel}`;
      const pool = new EncoderPool({ size: 2, kernel, maxRowsPerTask: 3_001 });
      pools.push(pool);
      const r = await pool.encodeArrow(toArrowTable(w), { measurement, precision: 'n' }, 200_000);
      expect(r.lines).toBe(rows);
      expect(r.bodies.length).toBeGreaterThan(10);
      for (const b of r.bodies) {
        expect(b.body.length).toBeLessThanOrEqual(200_000);
        const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=n`, { method: 'POST', body: new Uint8Array(b.body.buffer, b.body.byteOffset, b.body.length) as Uint8Array<ArrayBuffer> });
        expect(res.status, await res.text()).toBe(204);
      }
      const count = await select(`SELECT count(usage_user) FROM "${measurement}"`);
      expect(count[0]![1]).toBe(rows);
      // Rows at range boundaries, read back with their values.
      for (const i of [0, 3_000, 3_001, 3_002, 17_999, rows - 1]) {
        const t = (START_NS as bigint) + BigInt(i) * 1_000_000n;
        const got = await select(`SELECT usage_user, requests FROM "${measurement}" WHERE time = ${t}`);
        expect(got[0]?.slice(1)).toEqual([w.usageUser[i], w.requests[i]]);
      }
    });
  }
});
