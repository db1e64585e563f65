/**
 * Embedded local VictoriaMetrics (single node) for tests and demos.
 *
 * Starts a throw-away `victoria-metrics` (Debian package `victoria-metrics`,
 * v1.79.x in bookworm) bound to 127.0.0.1 on a free port, with its storage in
 * a fresh temp directory that `stop()` removes again. VictoriaMetrics accepts
 * InfluxDB line protocol on `POST /write` (1.x) and `POST /api/v2/write`, so it
 * serves as a second write target; read the data back with `exportSeries()`
 * (`/api/v1/export`) after `forceFlush()`.
 *
 * Only loopback traffic: no self-scraping, no `-promscrape.config`, no other
 * listeners (graphite/opentsdb/influx TCP+UDP stay disabled). Only node
 * built-ins are used.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  ensureBinary,
  findBinary,
  freePorts,
  inspectSymbol,
  isExecutableFile,
  LaunchedServer,
  launchServer,
  makeTempDir,
  retryOnAddressInUse,
  runCapture,
  simpleRequest,
  stopAndCleanUp,
  type SimpleResponse,
} from './process-util.js';

export interface LocalVictoriaMetricsOptions {
  /** Explicit path of the binary (default: `findVictoriaMetrics()`). */
  binaryPath?: string;
  /**
   * More command-line flags, appended after the defaults (the last occurrence of a
   * flag wins, so e.g. `-retentionPeriod=1` or `-influx.maxLineSize=4MiB` override
   * them). `-httpListenAddr` and `-storageDataPath` are rejected: they are owned here.
   */
  extraArgs?: string[];
  /** How long to wait for `GET /health` to answer `200 OK`, per start attempt. Default 30000. */
  startTimeoutMs?: number;
  /** Optional diagnostics sink (nothing is printed otherwise). */
  log?: (msg: string) => void;
}

/** One series of `/api/v1/export` (JSON lines format). */
export interface VmExportedSeries {
  /** Labels, including `__name__` (`{measurement}_{field}`) and `db` when the write had `?db=`. */
  metric: Record<string, string>;
  /** Sample values; `NaN`/`+Inf`/`-Inf` are mapped to the JS numbers. */
  values: number[];
  /** The sample values exactly as VictoriaMetrics printed them (e.g. `9223372036854776000`, `+Inf`). */
  rawValues: string[];
  /** Unix milliseconds (VictoriaMetrics stores millisecond precision only). */
  timestamps: number[];
}

export interface VmExportOptions {
  /** Range start (`start` query arg: unix seconds, may be fractional, or RFC3339). Default `0`. */
  start?: string | number;
  /**
   * Range end. Default `4102444800` (2100-01-01). Do not leave it to the server:
   * its default `end` hides samples written within the last second or so.
   */
  end?: string | number;
}

export interface LocalVictoriaMetrics {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  /** Temp directory holding `data/` (storage) and the log. */
  readonly dir: string;
  readonly logPath: string;
  /** The command-line flags the process was started with. */
  readonly args: readonly string[];
  /**
   * `GET /internal/force_flush`: makes everything written so far searchable at once
   * (otherwise it takes ~1-3 s of background flushing).
   */
  forceFlush(): Promise<void>;
  /** `GET /api/v1/export?match[]=...` parsed into series (unsorted, as the server returns them). */
  exportSeries(match: string | string[], options?: VmExportOptions): Promise<VmExportedSeries[]>;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const BINARY_NAME = 'victoria-metrics';
const DEBIAN_PACKAGE = 'victoria-metrics';
const DEFAULT_START_TIMEOUT_MS = 30_000;
const HEALTH_INTERVAL_MS = 50;
const DEFAULT_EXPORT_END = 4_102_444_800;
/** Flags owned by startLocalVictoriaMetrics; extraArgs may not set them. */
const RESERVED_FLAGS = new Set(['httpListenAddr', 'storageDataPath']);

// ---------------------------------------------------------------------------
// Locating / installing the binary
// ---------------------------------------------------------------------------

/** `$VICTORIA_METRICS_PATH`, then a PATH lookup, then `/usr/bin/victoria-metrics`. */
export function findVictoriaMetrics(): string | undefined {
  return findBinary(BINARY_NAME, 'VICTORIA_METRICS_PATH', [`/usr/bin/${BINARY_NAME}`, `/usr/local/bin/${BINARY_NAME}`]);
}

/**
 * The Debian package enables a system service (`/etc/init.d/victoria-metrics`,
 * `victoria-metrics.service`, listening on :8428 with /var/lib/victoria-metrics).
 * In containers policy-rc.d usually denies starting it; when it did start anyway,
 * stop it: the service is a side effect of our install, not something we use.
 */
async function stopPackageService(log: (msg: string) => void): Promise<void> {
  if (existsSync('/run/systemd/system')) {
    const active = await runCapture('systemctl', ['is-active', '--quiet', DEBIAN_PACKAGE]).catch(() => undefined);
    if (active?.code === 0) {
      log(`stopping the ${DEBIAN_PACKAGE} systemd service started by the package install`);
      await runCapture('systemctl', ['stop', DEBIAN_PACKAGE]).catch(() => undefined);
    }
    return;
  }
  if (existsSync(`/run/${DEBIAN_PACKAGE}/${DEBIAN_PACKAGE}.pid`) && isExecutableFile(`/etc/init.d/${DEBIAN_PACKAGE}`)) {
    log(`stopping the ${DEBIAN_PACKAGE} init.d service started by the package install`);
    await runCapture(`/etc/init.d/${DEBIAN_PACKAGE}`, ['stop']).catch(() => undefined);
  }
}

/**
 * Finds victoria-metrics; when missing and running as root, installs the Debian
 * package `victoria-metrics` (apt-get update + install) and stops the system
 * service the package may have started. Otherwise throws an Error explaining
 * how to install it.
 */
export async function ensureVictoriaMetrics(options: { log?: (msg: string) => void } = {}): Promise<string> {
  const log = options.log ?? (() => {});
  return ensureBinary({
    find: findVictoriaMetrics,
    notFoundMessage:
      `${BINARY_NAME} (VictoriaMetrics) was not found (looked at $VICTORIA_METRICS_PATH, PATH, /usr/bin, /usr/local/bin). ` +
      `Install it with \`sudo apt-get install ${DEBIAN_PACKAGE}\` or point VICTORIA_METRICS_PATH at the binary.`,
    aptGetSteps: [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', DEBIAN_PACKAGE]],
    stillMissingMessage: `apt-get install ${DEBIAN_PACKAGE} succeeded but ${BINARY_NAME} is still not found`,
    afterInstall: () => stopPackageService(log),
    log,
  });
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function simpleGet(port: number, reqPath: string, timeoutMs: number): Promise<SimpleResponse> {
  return simpleRequest({ protocol: 'http', port }, 'GET', reqPath, undefined, {}, timeoutMs);
}

function parseSample(token: string): number {
  switch (token) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return Number(token);
  }
}

/**
 * Parses one `/api/v1/export` JSON line. VictoriaMetrics prints `+Inf`, `-Inf`
 * and `NaN` unquoted (not JSON), so the `values` array is cut out and parsed by
 * hand. It is located from the end: only the digits of `timestamps` follow it,
 * and inside label strings a `"` is always escaped.
 */
export function parseVmExportLine(line: string): VmExportedSeries {
  const key = ',"values":[';
  const at = line.lastIndexOf(key);
  if (at < 0) throw new Error(`unexpected export line: ${line.slice(0, 200)}`);
  const from = at + key.length;
  const to = line.indexOf(']', from);
  if (to < 0) throw new Error(`unexpected export line: ${line.slice(0, 200)}`);
  const inner = line.slice(from, to).trim();
  const rawValues = inner === '' ? [] : inner.split(',').map((t) => t.trim());
  const parsed = JSON.parse(line.slice(0, from) + line.slice(to)) as {
    metric: Record<string, string>;
    timestamps: number[];
  };
  return { metric: parsed.metric, values: rawValues.map(parseSample), rawValues, timestamps: parsed.timestamps };
}

// ---------------------------------------------------------------------------
// Starting
// ---------------------------------------------------------------------------

/** `-flag=value`, `--flag=value`, `-flag value` → `flag`. */
function flagName(arg: string): string | undefined {
  const m = /^--?([A-Za-z0-9_.-]+)(?:=|$)/.exec(arg);
  return m?.[1];
}

/**
 * Defaults: loopback listener, private storage, no self-scrape; retention 100y so
 * that fixed historic test timestamps (e.g. 2001..2023) are kept (the 1-month default
 * silently drops anything older); no rollup-result cache (it only confuses tests
 * that write into the past).
 */
export function victoriaMetricsArgs(port: number, dataDir: string, extraArgs: readonly string[] = []): string[] {
  for (const arg of extraArgs) {
    const name = flagName(arg);
    if (name !== undefined && RESERVED_FLAGS.has(name)) {
      throw new TypeError(`-${name} is controlled by startLocalVictoriaMetrics itself`);
    }
  }
  return [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dataDir}`,
    '-retentionPeriod=100y',
    '-selfScrapeInterval=0',
    '-search.disableCache',
    '-loggerOutput=stderr',
    '-loggerLevel=INFO',
    ...extraArgs,
  ];
}

class LocalVictoriaMetricsInstance extends LaunchedServer implements LocalVictoriaMetrics {
  readonly args: readonly string[];

  constructor(init: { port: number; child: ChildProcess; dir: string; logPath: string; args: string[] }) {
    super({ url: `http://127.0.0.1:${init.port}`, port: init.port, child: init.child, dir: init.dir, logPath: init.logPath });
    this.args = Object.freeze([...init.args]);
  }

  async forceFlush(): Promise<void> {
    const res = await simpleGet(this.port, '/internal/force_flush', 30_000);
    if (res.status !== 200) throw new Error(`force_flush answered HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  }

  async exportSeries(match: string | string[], options: VmExportOptions = {}): Promise<VmExportedSeries[]> {
    const params = new URLSearchParams();
    for (const m of Array.isArray(match) ? match : [match]) params.append('match[]', m);
    params.set('start', String(options.start ?? 0));
    params.set('end', String(options.end ?? DEFAULT_EXPORT_END));
    const res = await simpleGet(this.port, `/api/v1/export?${params.toString()}`, 60_000);
    if (res.status !== 200) throw new Error(`export answered HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    return res.body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(parseVmExportLine);
  }

  override toString(): string {
    return `LocalVictoriaMetrics(${this.url} pid=${this.pid})`;
  }

  toJSON(): Record<string, unknown> {
    return { url: this.url, pid: this.pid, dir: this.dir };
  }

  [inspectSymbol](): string {
    return `LocalVictoriaMetrics ${JSON.stringify(this.toJSON())}`;
  }
}

async function startOnce(binary: string, options: LocalVictoriaMetricsOptions): Promise<LocalVictoriaMetrics> {
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dir = await makeTempDir('fastinflux-vm-');
  const logPath = path.join(dir, 'victoria-metrics.log');
  let child: ChildProcess | undefined;

  try {
    const [port] = (await freePorts(1)) as [number];
    const args = victoriaMetricsArgs(port, path.join(dir, 'data'), options.extraArgs);
    log(`starting ${binary} ${args.join(' ')}`);
    // -envflag.enable is off by default, so the environment cannot change any flag.
    const spawned = await launchServer(binary, args, {
      name: 'victoria-metrics',
      cwd: dir,
      logPath,
      dirs: [dir],
      timeoutMs,
      intervalMs: HEALTH_INTERVAL_MS,
      readyCondition: 'GET /health with 200 OK',
      probe: async () => {
        const res = await simpleGet(port, '/health', 1_000);
        return res.status === 200 && res.body.trim() === 'OK' ? undefined : `HTTP ${res.status} ${res.body.slice(0, 100)}`;
      },
    });
    child = spawned;
    log(`victoria-metrics pid ${spawned.pid} is up at http://127.0.0.1:${port}`);
    return new LocalVictoriaMetricsInstance({ port, child: spawned, dir, logPath, args });
  } catch (err) {
    await stopAndCleanUp(child, [dir]).catch(() => {});
    throw err;
  }
}

/**
 * Starts a private VictoriaMetrics on a free loopback port with its storage in a
 * fresh temp directory. Call `stop()` (or `await using`) when done.
 */
export async function startLocalVictoriaMetrics(
  options: LocalVictoriaMetricsOptions = {},
): Promise<LocalVictoriaMetrics> {
  const binary = options.binaryPath ?? findVictoriaMetrics();
  if (!binary) {
    throw new Error(
      `${BINARY_NAME} (VictoriaMetrics) was not found. Install it with \`sudo apt-get install ${DEBIAN_PACKAGE}\` ` +
        '(or call ensureVictoriaMetrics()), or set VICTORIA_METRICS_PATH.',
    );
  }
  return retryOnAddressInUse(
    () => startOnce(binary, options),
    (attempt) =>
      options.log?.(`victoria-metrics start attempt ${attempt} hit "address already in use", retrying on a fresh port`),
  );
}
