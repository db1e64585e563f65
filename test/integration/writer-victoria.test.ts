/**
 * The batch writer into a second real engine, VictoriaMetrics (Debian `victoria-metrics`),
 * through both of its InfluxDB write endpoints, read back through its export API.
 * VictoriaMetrics keeps milliseconds and float64 values, so the data stays within those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient } from '../../src/index.js';
import { startLocalVictoriaMetrics, type LocalVictoriaMetrics } from '../../src/server/local-victoria.js';

let vm: LocalVictoriaMetrics;
beforeAll(async () => {
  vm = await startLocalVictoriaMetrics();
});
afterAll(async () => {
  await vm?.stop();
});

const t0 = 1_704_067_200_000; // 2024-01-01, in ms
function points(n: number, measurement: string) {
  return Array.from({ length: n }, (_, i) => ({
    measurement, tags: { host: `h${i % 3}` }, fields: { v: i * 0.5, n: i }, time: BigInt(t0 + i) * 1_000_000n,
  }));
}

describe('BatchWriter into VictoriaMetrics', () => {
  it.each([
    ['v1 /write', { api: 'v1' as const }, 'vmv1', { db: 'telemetry' }],
    ['v2 /api/v2/write', { api: 'v2' as const, org: 'acme', bucket: 'telemetry' }, 'vmv2', {}],
    ['v2 gzip', { api: 'v2' as const, org: 'acme', bucket: 'telemetry', gzip: true }, 'vmgz', {}],
  ])('%s: every point arrives with its exact millisecond and value', async (_name, opts, measurement, labels) => {
    const c = new InfluxDBClient({ url: vm.url, db: 'telemetry' });
    const w = c.writer({ ...opts, batchSize: 400, maxInFlight: 1 });
    await w.write(points(1000, measurement));
    await w.close();
    expect(w.stats()).toMatchObject({ accepted: 1000, written: 1000, requests: 3 });
    await c.close();
    await vm.forceFlush();
    const series = await vm.exportSeries(`{__name__=~"${measurement}_.*"}`);
    expect(series.map((s) => s.metric.__name__).sort()).toEqual([`${measurement}_n`, `${measurement}_n`, `${measurement}_n`, `${measurement}_v`, `${measurement}_v`, `${measurement}_v`]);
    const got = new Map<string, number>();
    for (const s of series) {
      expect(s.metric).toMatchObject(labels);
      for (const [k, t] of s.timestamps.entries()) got.set(`${s.metric.__name__}|${s.metric.host}|${t}`, s.values[k]!);
    }
    expect(got.size).toBe(2000);
    for (let i = 0; i < 1000; i++) {
      expect(got.get(`${measurement}_v|h${i % 3}|${t0 + i}`)).toBe(i * 0.5);
      expect(got.get(`${measurement}_n|h${i % 3}|${t0 + i}`)).toBe(i);
    }
  });
});
