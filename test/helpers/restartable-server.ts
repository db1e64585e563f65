/**
 * Servers a test can kill and start again on the same port and data directory: a private influxd
 * or VictoriaMetrics whose process this helper owns (unlike startLocalInfluxd / startLocalVictoriaMetrics,
 * which own theirs and remove their directory when it stops). `kill(signal)` waits for the exit;
 * `restart()` waits until the server answers again; `stop()` ends it and removes its directory.
 *
 * Also: the writer's concurrency stats as the tests read them, and readers of what each server
 * stored (asked of the server directly, never through the client under test).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { BatchWriter, WriterStats } from '../../src/index.js';
import { findInfluxd } from '../../src/server/local-influxd.js';
import { findVictoriaMetrics, parseVmExportLine, victoriaMetricsArgs } from '../../src/server/local-victoria.js';
import {
  freePorts, launchServer, makeTempDir, simpleRequest, stopAndCleanUp, untrackChild,
} from '../../src/server/process-util.js';

// ---- the writer's concurrency stats ------------------------------------------------------------

/** One server of `stats().targets`. */
export interface TargetStats {
  url: string;
  /** Its current in-flight limit. */
  limit: number;
  inFlight: number;
  /** Points it acknowledged. */
  written: number;
  /** Left out while it fails. */
  down: boolean;
}

/** `stats()` with the fields of the lane pipeline (typed here so that the tests compile before and after they land). */
export type ConcurrencyStats = WriterStats & {
  /** The current in-flight limit, summed over the servers in use. */
  limit: number;
  lanes: number;
  targets: TargetStats[];
};

export const concurrencyStats = (w: BatchWriter): ConcurrencyStats => w.stats() as ConcurrencyStats;

// ---- restartable servers -----------------------------------------------------------------------

export interface RestartableServer {
  readonly kind: 'influxd' | 'victoria-metrics';
  readonly url: string;
  readonly port: number;
  /** Temp directory with config, data and log; removed by stop(). */
  readonly dir: string;
  /** The running process, undefined while down. */
  readonly pid: number | undefined;
  /** Sends `signal` and waits for the exit. */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers. */
  restart(): Promise<void>;
  /** Ends the process (if running) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface Kind {
  name: 'influxd' | 'victoria-metrics';
  binary: string;
  ports: number;
  /** Writes what the server needs in `dir` and returns its arguments. */
  prepare(dir: string, ports: number[]): Promise<string[]>;
  /** undefined when ready. */
  probe(port: number): Promise<string | undefined>;
  readyCondition: string;
}

function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    'reporting-disabled = true',
    `bind-address = ${q(`127.0.0.1:${rpcPort}`)}`,
    '[meta]', `  dir = ${q(path.join(dir, 'meta'))}`, '  logging-enabled = false',
    '[data]', `  dir = ${q(path.join(dir, 'data'))}`, `  wal-dir = ${q(path.join(dir, 'wal'))}`,
    '  query-log-enabled = false', '  trace-logging-enabled = false',
    '[monitor]', '  store-enabled = false',
    '[subscriber]', '  enabled = false',
    '[continuous_queries]', '  enabled = false',
    '[http]', '  enabled = true', `  bind-address = ${q(`127.0.0.1:${httpPort}`)}`, '  log-enabled = false',
    '  suppress-write-log = true', '  pprof-enabled = false',
    '[logging]', '  level = "warn"', '  suppress-logo = true',
    '',
  ].join('\n');
}

const influxdKind = (): Kind => ({
  name: 'influxd',
  binary: findInfluxd() ?? 'influxd',
  ports: 2,
  async prepare(dir, [httpPort, rpcPort]) {
    const config = path.join(dir, 'influxd.conf');
    await fs.writeFile(config, influxdConfig(dir, httpPort!, rpcPort!));
    return ['run', '-config', config];
  },
  async probe(port) {
    const res = await simpleRequest({ protocol: 'http', port }, 'GET', '/ping', undefined, {}, 1_000);
    return res.status === 204 ? undefined : `HTTP ${res.status}`;
  },
  readyCondition: 'GET /ping with 204',
});

const victoriaKind = (): Kind => ({
  name: 'victoria-metrics',
  binary: findVictoriaMetrics() ?? 'victoria-metrics',
  ports: 1,
  async prepare(dir, [port]) {
    return victoriaMetricsArgs(port!, path.join(dir, 'data'), ['-loggerLevel=WARN']);
  },
  async probe(port) {
    const res = await simpleRequest({ protocol: 'http', port }, 'GET', '/health', undefined, {}, 1_000);
    return res.status === 200 ? undefined : `HTTP ${res.status}`;
  },
  readyCondition: 'GET /health with 200',
});

async function startRestartable(kind: Kind): Promise<RestartableServer> {
  const dir = await makeTempDir(`fastinflux-restartable-${kind.name}-`);
  const logPath = path.join(dir, `${kind.name}.log`);
  let child: ChildProcess | undefined;
  let args: string[] = [];
  let port = 0;
  const launch = (): Promise<ChildProcess> =>
    launchServer(kind.binary, args, {
      name: kind.name, cwd: dir, logPath, dirs: [dir], timeoutMs: 30_000, intervalMs: 50,
      readyCondition: kind.readyCondition, probe: () => kind.probe(port),
    });
  try {
    // A port taken between freePorts() and the listen: fresh ports, at most three times.
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(kind.ports);
      port = ports[0]!;
      args = await kind.prepare(dir, ports);
      try {
        child = await launch();
        break;
      } catch (err) {
        if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
      }
    }
  } catch (err) {
    await stopAndCleanUp(undefined, [dir]);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    kind: kind.name,
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    async kill(signal) {
      const c = child;
      if (!c) return;
      child = undefined;
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill(signal);
        await exited;
      }
      untrackChild(c);
    },
    async restart() {
      if (child) throw new Error(`${kind.name} on port ${port} is still running`);
      child = await launch();
    },
    stop() {
      stopping ??= stopAndCleanUp(child, [dir]);
      return stopping;
    },
  };
}

/** A private influxd (1.x) whose process can be killed and restarted on the same port and data. */
export const startRestartableInfluxd = (): Promise<RestartableServer> => startRestartable(influxdKind());

/** A private VictoriaMetrics whose process can be killed and restarted on the same port and data. */
export const startRestartableVictoria = (): Promise<RestartableServer> => startRestartable(victoriaKind());

// ---- what the servers stored -------------------------------------------------------------------

/**
 * Every stored point of `measurement` in `db` (field `v`, grouped by tag `k`), read with a chunked
 * query and handed to `each` one at a time (times in ms): a million points never sit in memory as JSON.
 */
export async function eachInfluxPoint(
  url: string, db: string, measurement: string, each: (k: string, timeMs: number, v: number) => void,
): Promise<void> {
  const body = new URLSearchParams({ q: `SELECT v FROM "${measurement}" GROUP BY k`, db, epoch: 'ms', chunked: 'true', chunk_size: '50000' });
  const res = await fetch(`${url}/query`, { method: 'POST', body });
  if (!res.ok || !res.body) throw new Error(`query answered HTTP ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let rest = '';
  const line = (text: string): void => {
    if (text.trim() === '') return;
    const r = JSON.parse(text) as { error?: string; results?: Array<{ error?: string; series?: Array<{ tags?: Record<string, string>; values?: Array<[number, number]> }> }> };
    const err = r.error ?? r.results?.[0]?.error;
    if (err) throw new Error(`query error: ${err}`);
    for (const s of r.results?.[0]?.series ?? []) {
      const k = s.tags?.k ?? '';
      for (const [t, v] of s.values ?? []) each(k, t, v);
    }
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      line(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  line(rest + decoder.decode());
}

/** `SELECT count(v)` of `measurement` in `db`. */
export async function influxCount(url: string, db: string, measurement: string): Promise<number> {
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `SELECT count(v) FROM "${measurement}"`, db }) });
  const r = (await res.json()) as { results?: Array<{ series?: Array<{ values?: unknown[][] }> }> };
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

/** Every sample of the series matching `match` on a VictoriaMetrics (after a forced flush), handed to `each`. */
export async function eachVictoriaSample(
  url: string, match: string, each: (labels: Record<string, string>, timeMs: number, value: number) => void,
): Promise<void> {
  const flushed = await fetch(`${url}/internal/force_flush`);
  await flushed.text();
  if (!flushed.ok) throw new Error(`force_flush answered HTTP ${flushed.status}`);
  // An explicit range: the server's default end hides the samples of the last second or so.
  const res = await fetch(`${url}/api/v1/export?${new URLSearchParams({ 'match[]': match, start: '0', end: '4102444800' })}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`export answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  for (const l of text.split('\n')) {
    if (l.trim() === '') continue;
    const s = parseVmExportLine(l);
    s.timestamps.forEach((t, i) => {
      each(s.metric, t, s.values[i]!);
    });
  }
}
