/**
 * Binaries of the local server launchers (`local-influxd.ts`, `local-victoria.ts`): finding one
 * (`findBinary`), installing its Debian package with apt-get when missing and running as root
 * (`ensureBinary`), and running a command to its end with its output captured (`runCapture`).
 *
 * Internal module, part of `process-util.ts`, which re-exports it (the launchers import from
 * there). Only node built-ins are used.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** True when `p` is a regular file the current user may execute. */
export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `$envVar` (when it names an executable), then a PATH lookup of `name`, then the `fallbacks` in order. */
export function findBinary(name: string, envVar: string, fallbacks: readonly string[]): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv && isExecutableFile(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  for (const candidate of fallbacks) {
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command, capturing stdout+stderr (bounded), never inheriting stdio. */
export function runCapture(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
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

/** `SIGTERM` or `exit code N` of a finished `runCapture()`. */
export function describeExit(result: RunResult): string {
  return result.signal ?? `exit code ${result.code}`;
}

/** The last `lines` lines of `text` (trailing whitespace dropped), at most `maxChars` characters. */
export function tailLines(text: string, lines = 30, maxChars = 4000): string {
  const trimmed = text.replace(/\s+$/, '');
  let tail = trimmed.split('\n').slice(-lines).join('\n');
  if (tail.length > maxChars) tail = '…' + tail.slice(-maxChars);
  return tail;
}

/** Tail of a log file for error messages; never throws. */
export async function readTail(file: string): Promise<string> {
  try {
    return tailLines(await fs.readFile(file, 'utf8')) || '(log is empty)';
  } catch {
    return '(log is unreadable)';
  }
}

export interface EnsureBinaryOptions {
  /** Lookup, run before and after the install. */
  find: () => string | undefined;
  /** Error message when the binary is missing and we are not root. */
  notFoundMessage: string;
  /** `apt-get` invocations run in order (DEBIAN_FRONTEND=noninteractive), e.g. `[['update'], ['install', '-y', 'pkg']]`. */
  aptGetSteps: readonly string[][];
  /** Error message when `find()` still fails after a successful install. */
  stillMissingMessage: string;
  /** Runs after the install, before the second lookup. */
  afterInstall?: () => Promise<void>;
  /** When given, each apt-get command line is logged before it runs. */
  log?: (msg: string) => void;
}

/**
 * Returns `find()`; when that fails and we run as root, installs with apt-get
 * and looks again. Not root: throws `notFoundMessage`.
 */
export async function ensureBinary(options: EnsureBinaryOptions): Promise<string> {
  const found = options.find();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(options.notFoundMessage);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of options.aptGetSteps) {
    options.log?.(`apt-get ${args.join(' ')}`);
    let result: RunResult;
    try {
      result = await runCapture('apt-get', args, env);
    } catch (err) {
      throw new Error(`could not run apt-get ${args.join(' ')}: ${(err as Error).message}`, { cause: err });
    }
    if (result.code !== 0) {
      throw new Error(`apt-get ${args.join(' ')} failed (${describeExit(result)}):\n${tailLines(result.output)}`);
    }
  }
  await options.afterInstall?.();
  const installed = options.find();
  if (!installed) throw new Error(options.stillMissingMessage);
  return installed;
}
