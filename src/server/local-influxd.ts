/**
 * Embedded local InfluxDB 1.x server for demos and tests.
 *
 * Starts a throw-away `influxd` (Debian package `influxdb`, v1.6.x) bound to
 * 127.0.0.1 on free ports, with all of its state inside a fresh temp
 * directory that is removed again by `stop()`. Its configuration file: `influxd-config.ts`;
 * the process and its handle: `process-util.ts`.
 *
 * Only node built-ins are used.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildConfig, buildHttpSection, type HttpConfigValue } from './influxd-config.js';
import {
  describeExit,
  ensureBinary,
  findBinary,
  freePorts,
  inspectSymbol,
  LaunchedServer,
  launchServer,
  makeTempDir,
  retryOnAddressInUse,
  runCapture,
  simpleRequest,
  stopAndCleanUp,
  tailLines,
  type RequestTarget,
  type RunResult,
} from './process-util.js';

export type { HttpConfigValue } from './influxd-config.js';

export interface LocalInfluxdOptions {
  /** Enable `auth-enabled = true` and create this admin user (WITH ALL PRIVILEGES) right after start. */
  auth?: { username: string; password: string };
  /** Enable the unix socket listener; its path is returned as `unixSocketPath`. */
  unixSocket?: boolean;
  /** Serve HTTPS with a freshly generated self-signed certificate (needs `openssl`). */
  https?: boolean;
  /** `[http] max-body-size` in bytes (influxd default: 25000000; 0 = unlimited). */
  maxBodySize?: number;
  /**
   * Any other `[http]` keys, e.g. `{ 'max-concurrent-write-limit': 1 }`.
   * Keys controlled by the other options (bind-address, auth-enabled,
   * https-*, unix-socket-enabled, bind-socket) are rejected.
   */
  extraHttpConfig?: Record<string, HttpConfigValue>;
  /** How long to wait for `/ping` to answer 204, per start attempt. Default 30000. */
  startTimeoutMs?: number;
  /** Optional diagnostics sink (nothing is printed otherwise). */
  log?: (msg: string) => void;
  /** Explicit path of the influxd binary (default: `findInfluxd()`). */
  influxdPath?: string;
}

export interface LocalInfluxd {
  /** Base URL, e.g. `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly protocol: 'http' | 'https';
  readonly pid: number;
  /** Temp directory holding config, data, wal, meta, log (and socket/cert when enabled). */
  readonly dir: string;
  readonly unixSocketPath?: string;
  /** PEM of the self-signed certificate (use it as `ca`) when `https` is enabled. */
  readonly caPem?: string;
  readonly username?: string;
  readonly password?: string;
  readonly logPath: string;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const PING_INTERVAL_MS = 50;
/** sun_path is 108 bytes on Linux including the NUL terminator. */
const MAX_UNIX_SOCKET_PATH = 107;

// ---------------------------------------------------------------------------
// Locating / installing influxd
// ---------------------------------------------------------------------------

/** `$INFLUXD_PATH`, then a PATH lookup, then `/usr/bin/influxd`, `/usr/sbin/influxd`. */
export function findInfluxd(): string | undefined {
  return findBinary('influxd', 'INFLUXD_PATH', ['/usr/bin/influxd', '/usr/sbin/influxd']);
}

/**
 * Finds influxd; when missing and running as root, installs the Debian
 * package `influxdb` (apt-get update + install; `log` hears each apt-get command line).
 * Otherwise throws an Error explaining how to install it or how to use an existing server.
 */
export async function ensureInfluxd(options: { log?: (msg: string) => void } = {}): Promise<string> {
  return ensureBinary({
    log: options.log,
    find: findInfluxd,
    notFoundMessage:
      'influxd (InfluxDB 1.x) was not found (looked at $INFLUXD_PATH, PATH, /usr/bin/influxd, /usr/sbin/influxd). ' +
      'Install it with `sudo apt-get install influxdb`, point INFLUXD_PATH at the binary, ' +
      'or set INFLUX_URL (e.g. INFLUX_URL=http://127.0.0.1:8086) to use an existing server.',
    aptGetSteps: [['update'], ['install', '-y', 'influxdb']],
    stillMissingMessage:
      'apt-get install influxdb succeeded but influxd is still not found on PATH or in /usr/bin, /usr/sbin',
  });
}

// ---------------------------------------------------------------------------
// InfluxQL quoting
// ---------------------------------------------------------------------------

/** InfluxQL identifier: double quotes with `\` and `"` escaped. */
export function quoteInfluxIdent(name: string): string {
  return '"' + name.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** InfluxQL string literal: single quotes with `\` and `'` escaped. */
export function quoteInfluxString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

// ---------------------------------------------------------------------------
// Starting
// ---------------------------------------------------------------------------

async function generateCertificate(dir: string): Promise<{ certPath: string; keyPath: string; caPem: string }> {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  let result: RunResult;
  try {
    result = await runCapture('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
  } catch (err) {
    throw new Error(`could not run openssl to generate a self-signed certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (result.code !== 0) {
    throw new Error(`openssl req failed (${describeExit(result)}):\n${tailLines(result.output)}`);
  }
  return { certPath, keyPath, caPem: await fs.readFile(certPath, 'utf8') };
}

/** influxd applies INFLUXDB_* environment variables as config overrides: keep them out. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INFLUXDB_')) env[k] = v;
  return env;
}

class LocalInfluxdInstance extends LaunchedServer implements LocalInfluxd {
  readonly protocol: 'http' | 'https';
  readonly unixSocketPath?: string;
  readonly caPem?: string;
  readonly username?: string;
  readonly #password: string | undefined;

  constructor(init: {
    port: number;
    protocol: 'http' | 'https';
    child: ChildProcess;
    dir: string;
    extraDirs: string[];
    logPath: string;
    unixSocketPath?: string;
    caPem?: string;
    username?: string;
    password?: string;
  }) {
    super({ url: `${init.protocol}://127.0.0.1:${init.port}`, port: init.port, child: init.child, dir: init.dir, logPath: init.logPath, extraDirs: init.extraDirs });
    this.protocol = init.protocol;
    if (init.unixSocketPath !== undefined) this.unixSocketPath = init.unixSocketPath;
    if (init.caPem !== undefined) this.caPem = init.caPem;
    if (init.username !== undefined) this.username = init.username;
    this.#password = init.password;
  }

  /** Prototype getter (not an own enumerable property), so spreads, JSON and inspect never show it. */
  get password(): string | undefined {
    return this.#password;
  }

  #describe(): Record<string, unknown> {
    const d: Record<string, unknown> = { url: this.url, pid: this.pid, dir: this.dir };
    if (this.unixSocketPath !== undefined) d.unixSocketPath = this.unixSocketPath;
    if (this.username !== undefined) {
      d.username = this.username;
      d.password = '***';
    }
    if (this.caPem !== undefined) d.https = 'self-signed';
    return d;
  }

  override toString(): string {
    const auth = this.username !== undefined ? ` user=${JSON.stringify(this.username)}` : '';
    const sock = this.unixSocketPath !== undefined ? ` socket=${this.unixSocketPath}` : '';
    return `LocalInfluxd(${this.url} pid=${this.pid}${auth}${sock})`;
  }

  toJSON(): Record<string, unknown> {
    return this.#describe();
  }

  [inspectSymbol](): string {
    return `LocalInfluxd ${JSON.stringify(this.#describe())}`;
  }
}

async function startOnce(influxd: string, options: LocalInfluxdOptions): Promise<LocalInfluxd> {
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dir = await makeTempDir('fastinflux-influxd-');
  const extraDirs: string[] = [];
  let child: ChildProcess | undefined;
  const logPath = path.join(dir, 'influxd.log');

  try {
    let unixSocketPath: string | undefined;
    if (options.unixSocket) {
      unixSocketPath = path.join(dir, 'influxd.sock');
      if (Buffer.byteLength(unixSocketPath) > MAX_UNIX_SOCKET_PATH) {
        // TMPDIR is too deep for a unix socket path: fall back to a short dir in /tmp.
        const shortDir = await fs.mkdtemp('/tmp/fi-');
        extraDirs.push(shortDir);
        unixSocketPath = path.join(shortDir, 's');
      }
    }
    const tls = options.https ? await generateCertificate(dir) : undefined;
    const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
    const protocol: 'http' | 'https' = tls ? 'https' : 'http';
    const httpSection = buildHttpSection(options, httpPort, tls, unixSocketPath);
    const configPath = path.join(dir, 'influxd.conf');
    await fs.writeFile(configPath, buildConfig(dir, rpcPort, httpSection), { mode: 0o600 });

    log(`starting ${influxd} (http ${protocol}://127.0.0.1:${httpPort}, rpc ${rpcPort}, dir ${dir})`);
    const target: RequestTarget = { protocol, port: httpPort, ...(tls ? { caPem: tls.caPem } : {}) };
    const spawned = await launchServer(influxd, ['run', '-config', configPath], {
      name: 'influxd',
      cwd: dir,
      env: childEnv(),
      logPath,
      dirs: [dir, ...extraDirs],
      timeoutMs,
      intervalMs: PING_INTERVAL_MS,
      readyCondition: 'GET /ping with 204',
      probe: async () => {
        const res = await simpleRequest(target, 'GET', '/ping', undefined, {}, 1_000);
        return res.status === 204 ? undefined : `HTTP ${res.status}`;
      },
    });
    child = spawned;
    log(`influxd pid ${spawned.pid} is up at ${protocol}://127.0.0.1:${httpPort}`);

    if (options.auth) {
      const { username, password } = options.auth;
      const q = `CREATE USER ${quoteInfluxIdent(username)} WITH PASSWORD ${quoteInfluxString(password)} WITH ALL PRIVILEGES`;
      const res = await simpleRequest(
        target,
        'POST',
        '/query',
        new URLSearchParams({ q }).toString(),
        { 'content-type': 'application/x-www-form-urlencoded' },
        10_000,
      );
      let error: string | undefined;
      if (res.status !== 200) error = `HTTP ${res.status}: ${res.body.trim()}`;
      else {
        try {
          const parsed = JSON.parse(res.body) as { error?: string; results?: { error?: string }[] };
          error = parsed.error ?? parsed.results?.find((r) => r.error)?.error;
        } catch {
          error = `unparsable response: ${res.body.slice(0, 200)}`;
        }
      }
      // Never include the query (it contains the password) in the message.
      if (error !== undefined) throw new Error(`could not create admin user ${JSON.stringify(username)}: ${error}`);
      log(`created admin user ${JSON.stringify(username)}`);
    }

    return new LocalInfluxdInstance({
      port: httpPort,
      protocol,
      child: spawned,
      dir,
      extraDirs,
      logPath,
      ...(unixSocketPath !== undefined ? { unixSocketPath } : {}),
      ...(tls ? { caPem: tls.caPem } : {}),
      ...(options.auth ? { username: options.auth.username, password: options.auth.password } : {}),
    });
  } catch (err) {
    await stopAndCleanUp(child, [dir, ...extraDirs]).catch(() => {});
    throw err;
  }
}

/**
 * Starts a private influxd on free loopback ports with all state in a fresh
 * temp directory. Call `stop()` (or `await using`) when done.
 */
export async function startLocalInfluxd(options: LocalInfluxdOptions = {}): Promise<LocalInfluxd> {
  const influxd = options.influxdPath ?? findInfluxd();
  if (!influxd) {
    throw new Error(
      'influxd (InfluxDB 1.x) was not found. Install it with `sudo apt-get install influxdb` (or call ensureInfluxd()), ' +
        'or set INFLUX_URL to use an existing server.',
    );
  }
  return retryOnAddressInUse(
    () => startOnce(influxd, options),
    (attempt) => options.log?.(`influxd start attempt ${attempt} hit "address already in use", retrying with fresh ports`),
  );
}
