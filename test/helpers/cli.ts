/**
 * Runs the built command-line tool (`dist/cli/main.js`) as a child process, the way a user runs
 * `fastinflux`: the only INFLUX_* variable it sees is INFLUX_URL (the server under test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to standard input (which is then closed, unless `keepStdinOpen`). */
  input?: Buffer | string;
  env?: Record<string, string>;
  /** Leave standard input open after `input` (a live feed that never ends). */
  keepStdinOpen?: boolean;
  /** Kill the child (SIGKILL) after this many ms: the run then reports code -1. A safety net only. */
  killAfterMs?: number;
}

/** Starts the CLI against `url`; `done` resolves when it has exited and its pipes are drained. */
export function spawnCli(url: string, args: string[], o: CliOptions = {}): { child: ChildProcess; done: Promise<Run> } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INFLUX_')) env[k] = v;
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, INFLUX_URL: url, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin!.on('error', () => {});
  if (o.keepStdinOpen) child.stdin!.write(o.input ?? '');
  else child.stdin!.end(o.input ?? '');
  let killed = false;
  const timer = o.killAfterMs === undefined ? undefined : setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, o.killAfterMs);
  const done = (async (): Promise<Run> => {
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { code: killed ? -1 : code ?? -1, stdout, stderr };
  })();
  return { child, done };
}

/** Runs the CLI against `url` to its end. */
export function runCli(url: string, args: string[], o: CliOptions = {}): Promise<Run> {
  return spawnCli(url, args, o).done;
}
