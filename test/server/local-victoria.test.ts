import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findVictoriaMetrics,
  parseVmExportLine,
  startLocalVictoriaMetrics,
  victoriaMetricsArgs,
  type LocalVictoriaMetrics,
  type VmExportedSeries,
} from '../../src/server/local-victoria.js';
import { isAlive } from '../helpers/process.js';

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Series sorted by a label, labels without __name__ for compact assertions. */
function byLabel(series: VmExportedSeries[], label: string): VmExportedSeries[] {
  return [...series].sort((a, b) => (a.metric[label] ?? '').localeCompare(b.metric[label] ?? ''));
}

// 2023-11-14T22:13:20.123456789Z: ns precision on the wire, ms in VictoriaMetrics.
const TS_NS = 1_700_000_000_123_456_789n;
const TS_MS = 1_700_000_000_123;

describe('findVictoriaMetrics', () => {
  it('finds the installed binary', () => {
    expect(findVictoriaMetrics()).toMatch(/victoria-metrics$/);
  });
});

describe('victoriaMetricsArgs', () => {
  it('binds loopback only, keeps its own storage, does not self-scrape', () => {
    const args = victoriaMetricsArgs(12345, '/tmp/x/data', ['-influx.maxLineSize=1MiB']);
    expect(args).toContain('-httpListenAddr=127.0.0.1:12345');
    expect(args).toContain('-storageDataPath=/tmp/x/data');
    expect(args).toContain('-selfScrapeInterval=0');
    expect(args).toContain('-retentionPeriod=100y');
    expect(args.at(-1)).toBe('-influx.maxLineSize=1MiB');
    expect(args.some((a) => a.startsWith('-promscrape.config'))).toBe(false);
  });

  it('rejects extraArgs that would move the listener or the storage', () => {
    expect(() => victoriaMetricsArgs(1, '/d', ['-httpListenAddr=:8428'])).toThrow(/httpListenAddr/);
    expect(() => victoriaMetricsArgs(1, '/d', ['--storageDataPath', '/var/lib/x'])).toThrow(/storageDataPath/);
  });
});

describe('parseVmExportLine', () => {
  it('maps the non-JSON +Inf/-Inf/NaN and keeps the raw value text', () => {
    const s = parseVmExportLine(
      '{"metric":{"__name__":"m_f","t":"a\\"values\\":[x"},"values":[+Inf,-Inf,NaN,9223372036854776000,0.5],"timestamps":[1,2,3,4,5]}',
    );
    expect(s.metric).toEqual({ __name__: 'm_f', t: 'a"values":[x' });
    expect(s.values).toEqual([Infinity, -Infinity, NaN, 9223372036854776000, 0.5]);
    expect(s.rawValues).toEqual(['+Inf', '-Inf', 'NaN', '9223372036854776000', '0.5']);
    expect(s.timestamps).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('startLocalVictoriaMetrics', () => {
  let vm: LocalVictoriaMetrics;

  beforeAll(async () => {
    vm = await startLocalVictoriaMetrics();
  });

  afterAll(async () => {
    await vm?.stop();
  });

  it('listens on a loopback port and answers /health and /ping', async () => {
    expect(vm.url).toBe(`http://127.0.0.1:${vm.port}`);
    expect(vm.host).toBe('127.0.0.1');
    expect(isAlive(vm.pid)).toBe(true);
    expect(existsSync(vm.dir)).toBe(true);
    const health = await request(`${vm.url}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.text()).toBe('OK');
    const ping = await request(`${vm.url}/ping`);
    expect(ping.statusCode).toBe(204);
    await ping.body.dump();
  });

  it('stores lines written through /write and /api/v2/write; export reads them back after force_flush', async () => {
    const v1 = await post(
      `${vm.url}/write?db=lv1&precision=ns`,
      [
        `cpu,host=a,region=eu usage=1.5,idle=2i,on=true,note="dropped to 0" ${TS_NS}`,
        `cpu,host=b,region=eu usage=-0.25 ${TS_NS + 1_000_000n}`,
        `cpu,host=big usage=9007199254740993i ${TS_NS}`,
      ].join('\n'),
    );
    expect(v1).toEqual({ status: 204, text: '' });
    const v2 = await post(`${vm.url}/api/v2/write?org=o&bucket=lv2&precision=ns`, `cpu,host=c usage=42 ${TS_NS}\n`);
    expect(v2).toEqual({ status: 204, text: '' });
    // Malformed lines are skipped (logged), the good ones of the same body are stored, and the answer is still 204.
    const mixed = await post(
      `${vm.url}/write?db=lv3&precision=ns`,
      `cpu,host=d usage=4 ${TS_NS}\ncpu,host=e usage= ${TS_NS}\ncpu,host=f usage=6 ${TS_NS}`,
    );
    expect(mixed.status).toBe(204);
    const gz = await post(`${vm.url}/write?db=lv4&precision=ns`, gzipSync(`cpu,host=g usage=7 ${TS_NS}\n`), {
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(204);
    const badGzip = await post(`${vm.url}/write?db=lv4&precision=ns`, 'not gzip', { 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    expect((await post(`${vm.url}/write?db=lv4`, '')).status).toBe(204);

    await vm.forceFlush();

    const usage = byLabel(await vm.exportSeries('{__name__="cpu_usage"}'), 'host');
    expect(usage.map((s) => s.metric)).toEqual([
      { __name__: 'cpu_usage', db: 'lv1', host: 'a', region: 'eu' },
      { __name__: 'cpu_usage', db: 'lv1', host: 'b', region: 'eu' },
      { __name__: 'cpu_usage', db: 'lv1', host: 'big' },
      // /api/v2/write: org and bucket are ignored, no db label.
      { __name__: 'cpu_usage', host: 'c' },
      { __name__: 'cpu_usage', db: 'lv3', host: 'd' },
      { __name__: 'cpu_usage', db: 'lv3', host: 'f' },
      { __name__: 'cpu_usage', db: 'lv4', host: 'g' },
    ]);
    expect(usage.map((s) => s.values)).toEqual([[1.5], [-0.25], [9007199254740992], [42], [4], [6], [7]]);
    // ns are truncated to ms.
    expect(usage.map((s) => s.timestamps)).toEqual([[TS_MS], [TS_MS + 1], [TS_MS], [TS_MS], [TS_MS], [TS_MS], [TS_MS]]);
    // Integers beyond 2^53 go through float64.
    expect(usage[2]!.rawValues).toEqual(['9007199254740992']);

    // Every field becomes its own metric {measurement}_{field}; bool → 1/0, string → 0 (not dropped).
    const hostA = byLabel(await vm.exportSeries('{__name__=~"cpu_.*",host="a"}'), '__name__');
    expect(hostA.map((s) => [s.metric.__name__, s.values, s.timestamps])).toEqual([
      ['cpu_idle', [2], [TS_MS]],
      ['cpu_note', [0], [TS_MS]],
      ['cpu_on', [1], [TS_MS]],
      ['cpu_usage', [1.5], [TS_MS]],
    ]);
  });

  it('stop() ends the process and removes the temp dir', async () => {
    const other = await startLocalVictoriaMetrics({ extraArgs: ['-loggerLevel=ERROR'] });
    expect(other.port).not.toBe(vm.port);
    expect(other.args).toContain('-loggerLevel=ERROR');
    expect(isAlive(other.pid)).toBe(true);
    const t0 = Date.now();
    await other.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(isAlive(other.pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await other.stop(); // idempotent
    await expect(request(`${other.url}/health`)).rejects.toThrow();
  });
});
