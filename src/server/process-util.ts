/**
 * Process plumbing shared by the local server launchers (`local-influxd.ts`,
 * `local-victoria.ts`): spawning a server into a log file, waiting until it answers, the
 * handle of a running one (`LaunchedServer`: `stop()` and the rest both launchers give),
 * stopping it and cleaning up. Finding and installing binaries is `binaries.ts`, re-exported
 * here so that the launchers (and the test helpers) import from one place.
 *
 * Internal module: not re-exported from `src/server/index.ts`. Only node
 * built-ins are used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTail } from './binaries.js';

export {
  describeExit,
  ensureBinary,
  findBinary,
  isExecutableFile,
  readTail,
  runCapture,
  tailLines,
  type EnsureBinaryOptions,
  type RunResult,
} from './binaries.js';

/** Grace period between SIGTERM and SIGKILL in `terminate()`. */
export const STOP_KILL_AFTER_MS = 5_000;
/** Start attempts of `retryOnAddressInUse()` before giving up. */
export const MAX_START_ATTEMPTS = 3;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Ports, temp dirs, HTTP
// ---------------------------------------------------------------------------

/** Reserves `count` distinct free TCP ports on 127.0.0.1 (listen on :0, read, close). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A fresh directory `$TMPDIR/<prefix>XXXXXX`. */
export function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** `rm -rf` each of `dirs`, one after the other (retrying briefly on EBUSY & co). */
export async function removeDirs(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true, maxRetries: 3 });
}

export interface SimpleResponse {
  status: number;
  body: string;
}

/** Where `simpleRequest()` goes: always 127.0.0.1; with https, `caPem` is trusted and SNI is `localhost`. */
export interface RequestTarget {
  protocol: 'http' | 'https';
  port: number;
  caPem?: string;
}

/** One request to 127.0.0.1 without keep-alive; the whole body is read as UTF-8. */
export function simpleRequest(
  target: RequestTarget,
  method: 'GET' | 'POST',
  reqPath: string,
  body?: string,
  headers: Record<string, string> = {},
  timeoutMs = 2_000,
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const opts: https.RequestOptions = {
      host: '127.0.0.1',
      port: target.port,
      method,
      path: reqPath,
      headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      agent: false,
      timeout: timeoutMs,
    };
    if (target.protocol === 'https') {
      opts.ca = target.caPem;
      opts.servername = 'localhost';
    }
    const req = (target.protocol === 'https' ? https : http).request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------
// Exit hook: SIGKILL children still running when the parent exits
// ---------------------------------------------------------------------------

/** Running children and the temp dirs that belong to them. */
const liveChildren = new Map<ChildProcess, readonly string[]>();

function killAllOnExit(): void {
  for (const [child, dirs] of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    for (const d of dirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        // best effort: the process may still be releasing files
      }
    }
  }
}

/** Registers a child to be SIGKILLed (and its `dirs` removed) if the parent exits first. */
export function trackChild(child: ChildProcess, dirs: readonly string[]): void {
  if (liveChildren.size === 0) process.on('exit', killAllOnExit);
  liveChildren.set(child, dirs);
}

/** Undoes `trackChild()`; the exit listener goes away with the last child. */
export function untrackChild(child: ChildProcess): void {
  if (!liveChildren.delete(child)) return;
  if (liveChildren.size === 0) process.removeListener('exit', killAllOnExit);
}

// ---------------------------------------------------------------------------
// Spawning, waiting, stopping
// ---------------------------------------------------------------------------

/** A failed start attempt; `addressInUse` says whether retrying on fresh ports may help. */
class StartAttemptError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'StartAttemptError';
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, SIGKILL after `killAfterMs`, and wait for the exit. No-op when there is no (running) process. */
export async function terminate(child: ChildProcess, killAfterMs = STOP_KILL_AFTER_MS): Promise<void> {
  // pid undefined: spawn itself failed, there is no process (and no 'exit' event will come).
  if (child.pid === undefined || hasExited(child)) return;
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
      timer = setTimeout(() => resolve(true), killAfterMs);
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

/** `terminate()` + `untrackChild()` (even when terminating fails), then `removeDirs(dirs)`. */
export async function stopAndCleanUp(child: ChildProcess | undefined, dirs: readonly string[]): Promise<void> {
  try {
    if (child) await terminate(child);
  } finally {
    if (child) untrackChild(child);
    await removeDirs(dirs);
  }
}

interface SpawnedServer {
  child: ChildProcess;
  /** The asynchronous spawn 'error' (ENOENT, EACCES, ...), if one arrived. */
  spawnError(): Error | undefined;
}

/**
 * Spawns `binary` with stdout+stderr appended to `logPath` and stdin closed.
 * Throws `could not spawn <binary>: ...` when no process was created.
 */
async function spawnToLog(
  binary: string,
  args: readonly string[],
  options: { cwd: string; logPath: string; env?: NodeJS.ProcessEnv },
): Promise<SpawnedServer> {
  let spawnError: Error | undefined;
  let child: ChildProcess;
  const logHandle = await fs.open(options.logPath, 'a');
  try {
    child = spawn(binary, args, {
      detached: false,
      stdio: ['ignore', logHandle.fd, logHandle.fd],
      cwd: options.cwd,
      ...(options.env ? { env: options.env } : {}),
    });
    // Spawn failures (ENOENT, EACCES) arrive asynchronously as 'error': listen before any await.
    child.on('error', (err) => {
      spawnError = err;
    });
  } finally {
    await logHandle.close();
  }
  if (child.pid === undefined) {
    if (!spawnError) await new Promise((resolve) => setImmediate(resolve));
    throw new Error(`could not spawn ${binary}: ${spawnError?.message ?? 'unknown error'}`);
  }
  return { child, spawnError: () => spawnError };
}

interface WaitReadyOptions {
  /** Short name for messages, e.g. `influxd`. */
  name: string;
  binary: string;
  logPath: string;
  timeoutMs: number;
  intervalMs: number;
  /** What `probe` waits for, for the timeout message, e.g. `GET /ping with 204`. */
  readyCondition: string;
  /** Resolves `undefined` once ready, else a short note of what it saw; a rejection counts as not ready. */
  probe: () => Promise<string | undefined>;
}

/**
 * Polls `probe` every `intervalMs` until it reports ready. Throws a
 * `StartAttemptError` (with the log tail) when the process exits or the
 * deadline passes first.
 */
async function waitUntilReady(server: SpawnedServer, options: WaitReadyOptions): Promise<void> {
  const { child } = server;
  const { name, logPath, timeoutMs } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    const spawnError = server.spawnError();
    if (spawnError) throw new Error(`could not spawn ${options.binary}: ${spawnError.message}`);
    if (hasExited(child)) {
      const tail = await readTail(logPath);
      const how = child.signalCode ?? `exit code ${child.exitCode}`;
      throw new StartAttemptError(
        `${name} exited during startup (${how}); log ${logPath}:\n${tail}`,
        /address already in use/i.test(tail),
      );
    }
    if (Date.now() > deadline) {
      const tail = await readTail(logPath);
      throw new StartAttemptError(
        `${name} did not answer ${options.readyCondition} within ${timeoutMs} ms (last: ${lastError}); log ${logPath}:\n${tail}`,
        false,
      );
    }
    try {
      const notReady = await options.probe();
      if (notReady === undefined) return;
      lastError = notReady;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(options.intervalMs);
  }
}

export interface LaunchOptions extends WaitReadyOptions {
  cwd: string;
  /** Environment of the server (default: inherited). */
  env?: NodeJS.ProcessEnv;
  /** Temp dirs the exit hook removes if the parent exits while the server still runs. */
  dirs: readonly string[];
}

/**
 * `spawnToLog()` + `trackChild()` + `waitUntilReady()`. A server that does not
 * come up is terminated and untracked before the error is rethrown; removing
 * `dirs` is left to the caller.
 */
export async function launchServer(
  binary: string,
  args: readonly string[],
  options: Omit<LaunchOptions, 'binary'>,
): Promise<ChildProcess> {
  const server = await spawnToLog(binary, args, {
    cwd: options.cwd,
    logPath: options.logPath,
    ...(options.env ? { env: options.env } : {}),
  });
  trackChild(server.child, options.dirs);
  try {
    await waitUntilReady(server, { ...options, binary });
  } catch (err) {
    await stopAndCleanUp(server.child, []).catch(() => {});
    throw err;
  }
  return server.child;
}

/**
 * Runs `attempt` until it succeeds, retrying (after `onRetry(n)`) while it fails
 * with an "address already in use" `StartAttemptError`, at most `maxAttempts`
 * times. A final `StartAttemptError` is rethrown as a plain Error.
 */
export async function retryOnAddressInUse<T>(
  attempt: () => Promise<T>,
  onRetry: (attempt: number) => void,
  maxAttempts = MAX_START_ATTEMPTS,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof StartAttemptError && err.addressInUse && n < maxAttempts) {
        onRetry(n);
        continue;
      }
      if (err instanceof StartAttemptError) {
        throw new Error(err.message + (n > 1 ? `\n(after ${n} attempts)` : ''));
      }
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------
// The handle of a running server
// ---------------------------------------------------------------------------

/** The key of a handle's own `util.inspect` output (no import of node:util for it). */
export const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A server that `launchServer()` started, as its handle shows it: where it listens, its pid,
 * its temp directory and log, and `stop()` (SIGTERM, SIGKILL after 5 s, wait for the exit,
 * remove its directories; idempotent), also through `await using`.
 */
export abstract class LaunchedServer {
  readonly host = '127.0.0.1' as const;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  readonly #child: ChildProcess;
  /** What `stop()` removes: `dir`, then any other directory of the server. */
  readonly #dirs: readonly string[];
  #stopping: Promise<void> | undefined;

  constructor(init: { url: string; port: number; child: ChildProcess; dir: string; logPath: string; extraDirs?: readonly string[] }) {
    this.url = init.url;
    this.port = init.port;
    this.#child = init.child;
    this.pid = init.child.pid!;
    this.dir = init.dir;
    this.logPath = init.logPath;
    this.#dirs = [init.dir, ...(init.extraDirs ?? [])];
  }

  stop(): Promise<void> {
    this.#stopping ??= stopAndCleanUp(this.#child, this.#dirs);
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
