/**
 * The demo (`npm run demo`): the main job of the package, end to end, in well under a minute.
 *
 * 1. starts a throwaway local influxd (or uses INFLUX_URL);
 * 2. generates a realistic telemetry dataset, 1,000,000 rows by default (DEMO_ROWS), as an
 *    Arrow IPC file in a temp directory (deterministic: the same data every run);
 * 3. loads it with the command-line tool, `fastinflux load`, run as a child process (its
 *    progress bar shows on this terminal);
 * 4. queries aggregates per region back with `fastinflux query`, and checks them against the
 *    values computed while generating (counts, maxima and the int64 counter exactly);
 * 5. reads one point back through the client, exact to the nanosecond and the int64;
 * 6. drops the demo database (on its own server), stops the server by pid and removes the temp
 *    directory, also on error and on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDBClient, type QueryResponse } from '../index.js';
import { ensureInfluxd, startLocalInfluxd, type LocalInfluxd } from '../server/index.js';
import { REGIONS, writeTelemetryFile, type DatasetSummary } from './dataset.js';

const kCli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const kMeasurement = 'telemetry';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

let child: ChildProcess | undefined;
let interrupted = false;

/** Runs the CLI; resolves to its exit code and its stdout (stderr, the progress, goes to ours). */
function runCli(args: string[], env: NodeJS.ProcessEnv, stdout: 'pipe' | 'inherit', cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [kCli, ...args], { stdio: ['ignore', stdout, 'inherit'], env, cwd });
    child = p;
    let out = '';
    p.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    p.once('error', reject);
    p.once('close', (code, signal) => {
      child = undefined;
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const rows = Number(process.env.DEMO_ROWS ?? 1_000_000);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`DEMO_ROWS must be a positive integer (got ${process.env.DEMO_ROWS})`);
  let server: LocalInfluxd | undefined;
  let url = process.env.INFLUX_URL;
  const dir = mkdtempSync(join(tmpdir(), 'fastinflux-demo-'));
  const db = process.env.INFLUX_DB ?? 'fastinflux_demo';
  let client: InfluxDBClient | undefined;
  const stopAll = async (): Promise<void> => {
    child?.kill('SIGTERM');
    await client?.close().catch(() => {});
    if (server) {
      await server.stop();
      console.log(`stopped influxd (pid ${server.pid})`);
      server = undefined;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    console.error('\ninterrupted: stopping');
    stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // 1. The server.
    let t = performance.now();
    if (!url) {
      const influxdPath = await ensureInfluxd({ log: (msg) => console.log(`   influxd is missing: installing Debian's influxdb package (${msg})`) });
      server = await startLocalInfluxd({ influxdPath });
      url = server.url;
      console.log(`1. started a throwaway influxd (pid ${server.pid}) at ${url} in ${secs(performance.now() - t)}`);
    } else {
      console.log(`1. using the server of INFLUX_URL`);
    }
    client = new InfluxDBClient({ url, db });
    const ping = await client.ping();
    console.log(`   InfluxDB ${ping.version} (${ping.build}), ping ${ping.durationMs.toFixed(1)} ms`);
    if (server) await client.dropDatabase().catch(() => {});

    // 2. The dataset.
    t = performance.now();
    const file = join(dir, `${kMeasurement}.arrow`);
    const summary = await writeTelemetryFile(file, { rows });
    const bytes = statSync(file).size;
    console.log(`2. generated ${fmt.format(rows)} rows of telemetry (${summary.hosts} hosts in ${REGIONS.length} regions, every 10 s; 3 tags, 5 fields)`);
    console.log(`   as an Arrow IPC file of ${(bytes / 1e6).toFixed(1)} MB in ${secs(performance.now() - t)}: ${file}`);

    // 3. The load, by the command-line tool.
    const env = { ...process.env, INFLUX_URL: url, INFLUX_DB: db };
    console.log(`3. fastinflux load ${kMeasurement}.arrow --create-db --batch-size 10000 (db ${db})`);
    t = performance.now();
    const load = await runCli(['load', `${kMeasurement}.arrow`, '--create-db', '--batch-size', '10000', '--json'], env, 'pipe', dir);
    if (interrupted) return;
    let report: { written: number; rejected: number; expired: number; invalid: number; seconds: number; pointsPerSecond: number; error?: string };
    try {
      report = JSON.parse(load.out) as typeof report;
    } catch {
      throw new Error(`fastinflux load exited with ${load.code} without a summary`);
    }
    if (load.code !== 0) throw new Error(`fastinflux load exited with ${load.code}: ${report.error ?? `${report.rejected} rejected, ${report.expired} expired, ${report.invalid} invalid`}`);
    console.log(`   ${fmt.format(report.written)} points written in ${report.seconds.toFixed(2)} s: ${fmt.format(report.pointsPerSecond)} points/s (${(bytes / 1e6 / report.seconds).toFixed(1)} MB/s of Arrow), nothing rejected`);

    // 4. Aggregates back, by the command-line tool, checked against the generated data.
    const q = `SELECT count(usage_user) AS points, mean(usage_user) AS mean_usage, max(temperature) AS max_temp, max(requests) AS max_requests FROM ${kMeasurement} GROUP BY region`;
    console.log(`4. fastinflux query "${q}"\n`);
    const shown = await runCli(['query', q, '--format', 'table'], env, 'inherit');
    if (interrupted) return;
    if (shown.code !== 0) throw new Error(`fastinflux query exited with ${shown.code}`);
    console.log('');
    check(await client.query(q), summary);

    // 5. One point back, exact: nanosecond time and an int64 beyond 2^53, as bigints.
    const r = await client.query(`SELECT time, requests, usage_user, status FROM ${kMeasurement} WHERE host = $host ORDER BY time DESC LIMIT 1`, { params: { host: 'host-0042' }, epoch: 'n' });
    const row = r.results[0]?.series?.[0]?.values?.[0];
    if (row) console.log(`5. the last point of host-0042, read back exact: time ${String(row[0])} ns, requests ${String(row[1])} (${typeof row[1]}, > 2^53), usage_user ${String(row[2])}, status ${String(row[3])}`);

    if (server) await client.dropDatabase();
    console.log(`\ndone in ${secs(performance.now() - t0)}: loaded ${fmt.format(report.written)} points at ${fmt.format(report.pointsPerSecond)} points/s`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await stopAll();
  }
}

/** The server's aggregates per region against the ones computed while generating. */
function check(resp: QueryResponse, summary: DatasetSummary): void {
  const series = resp.results[0]?.series ?? [];
  const problems: string[] = [];
  for (const [region, want] of Object.entries(summary.regions)) {
    const s = series.find((x) => x.tags?.region === region);
    const v = s?.values?.[0];
    if (!s || !v) {
      problems.push(`${region}: missing`);
      continue;
    }
    const col = (name: string): unknown => v[s.columns.indexOf(name)];
    const mean = want.sumUsageUser / want.count;
    if (Number(col('points')) !== want.count) problems.push(`${region}: ${String(col('points'))} points, expected ${want.count}`);
    if (Math.abs(Number(col('mean_usage')) - mean) > 1e-9 * Math.max(1, Math.abs(mean))) problems.push(`${region}: mean ${String(col('mean_usage'))}, expected ${mean}`);
    if (Number(col('max_temp')) !== want.maxTemperature) problems.push(`${region}: max temperature ${String(col('max_temp'))}, expected ${want.maxTemperature}`);
    if (BigInt(col('max_requests') as bigint) !== want.maxRequests) problems.push(`${region}: max requests ${String(col('max_requests'))}, expected ${want.maxRequests}`);
  }
  if (problems.length > 0) throw new Error(`the server's aggregates differ from the generated data: ${problems.join('; ')}`);
  console.log(`   checked against the generated data: counts, means, max temperature and max requests (int64, exact) agree in all ${Object.keys(summary.regions).length} regions`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
