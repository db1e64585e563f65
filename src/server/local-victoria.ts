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
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, rmSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

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
const STOP_KILL_AFTER_MS = 5_000;
const MAX_START_ATTEMPTS = 3;
const DEFAULT_EXPORT_END = 4_102_444_800;
/** Flags owned by startLocalVictoriaMetrics; extraArgs may not set them. */
const RESERVED_FLAGS = new Set(['httpListenAddr', 'storageDataPath']);

// ---------------------------------------------------------------------------
// Locating / installing the binary
// ---------------------------------------------------------------------------

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `$VICTORIA_METRICS_PATH`, then a PATH lookup, then `/usr/bin/victoria-metrics`. */
export function findVictoriaMetrics(): string | undefined {
  const fromEnv = process.env.VICTORIA_METRICS_PATH;
  if (fromEnv && isExecutableFile(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, BINARY_NAME);
    if (isExecutableFile(candidate)) return candidate;
  }
  for (const candidate of [`/usr/bin/${BINARY_NAME}`, `/usr/local/bin/${BINARY_NAME}`]) {
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command, capturing stdout+stderr (bounded), never inheriting stdio. */
function runCapture(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

function tailLines(text: string, lines = 30, maxChars = 4000): string {
  const trimmed = text.replace(/\s+$/, '');
  let tail = trimmed.split('\n').slice(-lines).join('\n');
  if (tail.length > maxChars) tail = '…' + tail.slice(-maxChars);
  return tail;
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
  const found = findVictoriaMetrics();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${BINARY_NAME} (VictoriaMetrics) was not found (looked at $VICTORIA_METRICS_PATH, PATH, /usr/bin, /usr/local/bin). ` +
        `Install it with \`sudo apt-get install ${DEBIAN_PACKAGE}\` or point VICTORIA_METRICS_PATH at the binary.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', DEBIAN_PACKAGE]]) {
    log(`apt-get ${args.join(' ')}`);
    let result: RunResult;
    try {
      result = await runCapture('apt-get', args, env);
    } catch (err) {
      throw new Error(`could not run apt-get ${args.join(' ')}: ${(err as Error).message}`, { cause: err });
    }
    if (result.code !== 0) {
      throw new Error(
        `apt-get ${args.join(' ')} failed (${result.signal ?? `exit code ${result.code}`}):\n${tailLines(result.output)}`,
      );
    }
  }
  await stopPackageService(log);
  const installed = findVictoriaMetrics();
  if (!installed) {
    throw new Error(`apt-get install ${DEBIAN_PACKAGE} succeeded but ${BINARY_NAME} is still not found`);
  }
  return installed;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (listen on :0, read, close). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface SimpleResponse {
  status: number;
  body: string;
}

function simpleGet(port: number, reqPath: string, timeoutMs: number): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'GET', path: reqPath, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function readTail(file: string): Promise<string> {
  try {
    return tailLines(await fs.readFile(file, 'utf8')) || '(log is empty)';
  } catch {
    return '(log is unreadable)';
  }
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
// Exit hook: SIGKILL children still running when the parent exits
// ---------------------------------------------------------------------------

const liveChildren = new Map<ChildProcess, string>();

function killAllOnExit(): void {
  for (const [child, dir] of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
}

function trackChild(child: ChildProcess, dir: string): void {
  if (liveChildren.size === 0) process.on('exit', killAllOnExit);
  liveChildren.set(child, dir);
}

function untrackChild(child: ChildProcess): void {
  if (!liveChildren.delete(child)) return;
  if (liveChildren.size === 0) process.removeListener('exit', killAllOnExit);
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitForExit(child);
  try {
    child.kill('SIGTERM');
  } catch {
    // ignore
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_KILL_AFTER_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    try {
      child.kill('SIGKILL');
    } catch {
      // ignore
    }
    await exited;
  }
}

// ---------------------------------------------------------------------------
// Starting
// ---------------------------------------------------------------------------

class StartAttemptError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'StartAttemptError';
  }
}

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

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

class LocalVictoriaMetricsInstance implements LocalVictoriaMetrics {
  readonly host = '127.0.0.1' as const;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  readonly args: readonly string[];
  readonly #child: ChildProcess;
  #stopping: Promise<void> | undefined;

  constructor(init: { port: number; child: ChildProcess; dir: string; logPath: string; args: string[] }) {
    this.port = init.port;
    this.url = `http://127.0.0.1:${init.port}`;
    this.#child = init.child;
    this.pid = init.child.pid!;
    this.dir = init.dir;
    this.logPath = init.logPath;
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

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      try {
        await terminate(this.#child);
      } finally {
        untrackChild(this.#child);
        await fs.rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
      }
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  toString(): string {
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
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fastinflux-vm-'));
  const logPath = path.join(dir, 'victoria-metrics.log');
  let child: ChildProcess | undefined;

  try {
    const port = await freePort();
    const args = victoriaMetricsArgs(port, path.join(dir, 'data'), options.extraArgs);
    log(`starting ${binary} ${args.join(' ')}`);
    let spawnError: Error | undefined;
    const logHandle = await fs.open(logPath, 'a');
    try {
      // -envflag.enable is off by default, so the environment cannot change any flag.
      child = spawn(binary, args, { detached: false, stdio: ['ignore', logHandle.fd, logHandle.fd], cwd: dir });
      child.on('error', (err) => {
        spawnError = err;
      });
    } finally {
      await logHandle.close();
    }
    const spawned = child;
    if (spawned.pid === undefined) {
      if (!spawnError) await new Promise((resolve) => setImmediate(resolve));
      throw new Error(`could not spawn ${binary}: ${spawnError?.message ?? 'unknown error'}`);
    }
    trackChild(spawned, dir);

    const deadline = Date.now() + timeoutMs;
    let lastError = 'no answer yet';
    for (;;) {
      if (spawnError) throw new Error(`could not spawn ${binary}: ${spawnError.message}`);
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        const tail = await readTail(logPath);
        const how = spawned.signalCode ?? `exit code ${spawned.exitCode}`;
        throw new StartAttemptError(
          `victoria-metrics exited during startup (${how}); log ${logPath}:\n${tail}`,
          /address already in use/i.test(tail),
        );
      }
      if (Date.now() > deadline) {
        const tail = await readTail(logPath);
        throw new StartAttemptError(
          `victoria-metrics did not answer GET /health with 200 OK within ${timeoutMs} ms (last: ${lastError}); log ${logPath}:\n${tail}`,
          false,
        );
      }
      try {
        const res = await simpleGet(port, '/health', 1_000);
        if (res.status === 200 && res.body.trim() === 'OK') break;
        lastError = `HTTP ${res.status} ${res.body.slice(0, 100)}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(HEALTH_INTERVAL_MS);
    }
    log(`victoria-metrics pid ${spawned.pid} is up at http://127.0.0.1:${port}`);
    return new LocalVictoriaMetricsInstance({ port, child: spawned, dir, logPath, args });
  } catch (err) {
    if (child) {
      await terminate(child).catch(() => {});
      untrackChild(child);
    }
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
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
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (err) {
      if (err instanceof StartAttemptError && err.addressInUse && attempt < MAX_START_ATTEMPTS) {
        options.log?.(`victoria-metrics start attempt ${attempt} hit "address already in use", retrying on a fresh port`);
        continue;
      }
      if (err instanceof StartAttemptError) {
        throw new Error(err.message + (attempt > 1 ? `\n(after ${attempt} attempts)` : ''));
      }
      throw err;
    }
  }
}
