/**
 * The demo's telemetry generator: deterministic bytes, the row count and schema it promises,
 * and a summary that matches the rows it wrote (the demo checks the server against it).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { COLUMNS, REGIONS, writeTelemetryFile } from '../../../src/demo/dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'fastinflux-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const opts = { rows: 25_000, hosts: 100, batchRows: 10_000 };

describe('writeTelemetryFile', () => {
  it('writes the same bytes for the same options, other bytes for another seed', async () => {
    const a = join(dir, 'a.arrow');
    const b = join(dir, 'b.arrow');
    const c = join(dir, 'c.arrow');
    const sa = await writeTelemetryFile(a, opts);
    const sb = await writeTelemetryFile(b, opts);
    await writeTelemetryFile(c, { ...opts, seed: 7 });
    expect(sha(a)).toBe(sha(b));
    expect(sha(c)).not.toBe(sha(a));
    expect(sb).toEqual(sa);
  });

  it('has the promised rows, batches and schema', async () => {
    const p = join(dir, 'schema.arrow');
    const s = await writeTelemetryFile(p, opts);
    const t = A.tableFromIPC(readFileSync(p));
    expect(t.numRows).toBe(25_000);
    expect(t.batches.map((b) => b.numRows)).toEqual([10_000, 10_000, 5_000]);
    expect(s).toMatchObject({ rows: 25_000, hosts: 100, batches: 3 });
    expect(t.schema.fields.map((f) => f.name)).toEqual(COLUMNS);
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      host: 'Dictionary<Int32, Utf8>', region: 'Dictionary<Int32, Utf8>', rack: 'Dictionary<Int32, Utf8>',
      time: 'Timestamp<NANOSECOND>', usage_user: 'Float64', usage_system: 'Float64', temperature: 'Float64',
      requests: 'Int64', status: 'Utf8',
    });
    expect(t.getChild('host')!.get(0)).toBe('host-0000');
    expect(t.getChild('host')!.get(24_999)).toBe('host-0099');
    expect(new Set(t.getChild('status')!.toArray())).toEqual(new Set(['ok', 'degraded', 'error']));
  });

  it('returns a summary that matches the rows: time range, exact int64 and per-region aggregates', async () => {
    const p = join(dir, 'summary.arrow');
    const s = await writeTelemetryFile(p, opts);
    const t = A.tableFromIPC(readFileSync(p));
    const times: bigint[] = [];
    for (const b of t.batches) times.push(...(b.getChild('time')!.data[0]!.values as unknown as BigInt64Array));
    expect(times[0]).toBe(1_704_067_200_000_000_000n);
    expect(s.firstTimeNs).toBe(times[0]);
    // Bigints: Math.max does not take them.
    // biome-ignore lint/complexity/useMathMinMax: bigint values
    expect(s.lastTimeNs).toBe(times.reduce((m, x) => (x > m ? x : m)));
    // One point per host and tick: (host, time) is unique, so nothing overwrites anything.
    const keys = new Set<string>();
    const hosts = t.getChild('host')!.toArray() as string[];
    for (const [i, x] of times.entries()) keys.add(`${hosts[i]}@${x}`);
    expect(keys.size).toBe(25_000);
    // Recomputed from the file.
    const region = t.getChild('region')!.toArray() as string[];
    const usage = t.getChild('usage_user')!.toArray() as Float64Array;
    const temp = t.getChild('temperature')!.toArray() as Float64Array;
    const requests: bigint[] = [];
    for (const b of t.batches) requests.push(...(b.getChild('requests')!.data[0]!.values as BigInt64Array));
    expect(requests.some((r) => r > 2n ** 53n)).toBe(true);
    expect(Object.keys(s.regions).sort()).toEqual([...REGIONS].sort());
    for (const r of REGIONS) {
      const idx = region.flatMap((x, i) => (x === r ? [i] : []));
      const want = s.regions[r]!;
      expect(want.count).toBe(idx.length);
      expect(want.maxTemperature).toBe(Math.max(...idx.map((i) => temp[i]!)));
      // biome-ignore lint/complexity/useMathMinMax: bigint values
      expect(want.maxRequests).toBe(idx.map((i) => requests[i]!).reduce((m, x) => (x > m ? x : m)));
      expect(want.sumUsageUser).toBeCloseTo(idx.reduce((acc, i) => acc + usage[i]!, 0), 6);
    }
    expect(Object.values(s.regions).reduce((n, r) => n + r.count, 0)).toBe(25_000);
  });

  it('writes the IPC stream format on request, with the same rows', async () => {
    const f = join(dir, 'f.arrow');
    const st = join(dir, 's.arrows');
    await writeTelemetryFile(f, { ...opts, rows: 1234 });
    await writeTelemetryFile(st, { ...opts, rows: 1234, ipcFormat: 'stream' });
    const bytes = readFileSync(st);
    expect(bytes.subarray(0, 6).toString()).not.toBe('ARROW1');
    const a = A.tableFromIPC(readFileSync(f));
    const b = A.tableFromIPC(bytes);
    expect(b.numRows).toBe(1234);
    expect(b.getChild('requests')!.toArray()).toEqual(a.getChild('requests')!.toArray());
    expect(b.getChild('usage_user')!.toArray()).toEqual(a.getChild('usage_user')!.toArray());
  });
});
