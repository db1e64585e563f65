/**
 * What every command shares: the connection options, the client made from them, credentials
 * kept out of every message, argument parsing with clear errors, and stdout with backpressure.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InfluxDBClient } from '../client.js';
import { resolveClientOptions, type ClientOptions, type Precision, PRECISIONS } from '../options/index.js';
import { CliError, UsageError } from './errors.js';

export const DEFAULT_URL = 'http://localhost:8086';

/** Options of every command that talks to a server. */
export const connectionOptions = {
  url: { type: 'string' },
  db: { type: 'string', short: 'd' },
  rp: { type: 'string' },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  timeout: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const connectionHelp = `Connection:
  --url URL              the server (default: $INFLUX_URL, else ${DEFAULT_URL});
                         a single path segment names the database (http://host:8086/mydb)
  -d, --db NAME          the database (default: $INFLUX_DB, or the URL's)
  --rp NAME              the retention policy (default: the database's default)
  -u, --username NAME    user name (default: $INFLUX_USERNAME)
  -p, --password PASS    password (default: $INFLUX_PASSWORD; prefer the variable: arguments
                         are visible to other users in the process list)
  --timeout SEC          how long one request may take, its whole answer included
                         (default: 60; 0: no limit)
  --debug                stack traces on errors, and every retry's reason
  -h, --help             this help`;

/** Secrets seen on the command line, the environment or the URL: never printed. */
const gSecrets = new Set<string>();

export function addSecret(s: string | undefined): void {
  if (s !== undefined && s.length >= 3) gSecrets.add(s);
}

/** `text` with every known secret replaced by ***. */
export function redact(text: string): string {
  let out = text;
  for (const s of gSecrets) out = out.split(s).join('***');
  return out;
}

export interface Connection {
  client: InfluxDBClient;
  /** The client options of the flags (the writer's other servers take them, with their own URL). */
  options: ClientOptions;
  /** The server without credentials, for messages. */
  server: string;
  db: string | undefined;
  rp: string | undefined;
  /** Credentials are given (the server may then show only part of itself). */
  authenticated: boolean;
  debug: boolean;
}

type ConnValues = { url?: string; db?: string; rp?: string; username?: string; password?: string; timeout?: string; debug?: boolean };

/** The client options of the connection flags and environment variables. */
export function connectionClientOptions(v: ConnValues, extra: ClientOptions = {}): { options: ClientOptions; server: string } {
  const url = v.url ?? process.env.INFLUX_URL ?? DEFAULT_URL;
  const username = v.username ?? (process.env.INFLUX_USERNAME || undefined);
  const password = v.password ?? (process.env.INFLUX_PASSWORD || undefined);
  addSecret(password);
  try {
    const u = new URL(url);
    addSecret(decodeURIComponent(u.password));
    addSecret(u.password);
  } catch {
    // resolveClientOptions says what is wrong, without echoing the URL
  }
  if (password !== undefined && username === undefined) throw new UsageError('--password (or INFLUX_PASSWORD) needs --username (or INFLUX_USERNAME)');
  if (username !== undefined && password !== undefined) addSecret(Buffer.from(`${username}:${password}`).toString('base64'));
  const options: ClientOptions = { url, ...extra };
  if (username !== undefined) {
    options.username = username;
    options.password = password ?? '';
  }
  const db = v.db ?? (process.env.INFLUX_DB || undefined);
  if (db !== undefined) options.db = db;
  if (v.rp !== undefined) options.rp = v.rp;
  const timeout = parseSeconds(v.timeout, '--timeout');
  if (timeout !== undefined) options.timeout = timeout;
  let server: string;
  try {
    server = resolveClientOptions(options).describe;
  } catch (e) {
    throw new UsageError(redact((e as Error).message.replace(/^options\.url/, '--url').replace(/^options\./, '--')));
  }
  return { options, server };
}

export function connect(v: ConnValues, extra: ClientOptions = {}): Connection {
  const { options, server } = connectionClientOptions(v, extra);
  const client = new InfluxDBClient(options);
  return { client, options, server, db: client.db, rp: client.rp, authenticated: options.username !== undefined || /^[a-z]+:\/\/[^/@]+@/i.test(options.url ?? ''), debug: v.debug === true };
}

/** node:util parseArgs, with its errors turned into one short usage line. */
export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, command: string): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let msg = err.message;
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const m = /Unknown option '([^']+)'/.exec(msg);
      msg = `unknown option ${m ? m[1] : ''}`.trim();
    } else if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = /Option '([^']+)'/.exec(msg);
      msg = m ? `${m[1]} needs a value` : msg;
    }
    throw new UsageError(`${redact(msg)} (see fastinflux ${command} --help)`);
  }
}

/**
 * Seconds on the command line (as curl's --max-time), milliseconds in the options: `0` stays 0
 * (no limit), anything else at least 1 ms. Undefined when the flag is absent.
 */
export function parseSeconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${flag} takes seconds, such as 10 or 0.5 (got ${JSON.stringify(v)})`);
  const ms = Number(v) * 1000;
  return ms === 0 ? 0 : Math.max(1, Math.round(ms));
}

export function parsePrecision(v: string | undefined, what: string): Precision | undefined {
  if (v === undefined) return undefined;
  const aliases: Record<string, Precision> = { ns: 'n', us: 'u', µs: 'u', sec: 's' };
  const p = (PRECISIONS as readonly string[]).includes(v) ? (v as Precision) : aliases[v];
  if (!p) throw new UsageError(`${what} must be one of ${PRECISIONS.join(', ')} (got ${JSON.stringify(v)})`);
  return p;
}

export function parsePositiveInt(v: string | undefined, what: string, min = 1, max = 2 ** 31 - 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${what} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** A size such as 256k, 64M, 1G or a plain number of bytes. */
export function parseSize(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${what} must be a size such as 262144, 256k or 64M (got ${JSON.stringify(v)})`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
}

export function splitList(v: string | undefined): string[] {
  if (v === undefined) return [];
  return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Writes to stdout, waiting for it to drain (so that a large result never piles up in memory). */
export async function out(text: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        process.stdout.off('drain', done);
        process.stdout.off('error', fail);
        resolve();
      };
      const fail = (e: Error): void => {
        process.stdout.off('drain', done);
        reject(e);
      };
      process.stdout.once('drain', done);
      process.stdout.once('error', fail);
    });
  }
}

/** Message of an error for the one line on stderr. */
export function errorLine(e: unknown): string {
  if (e instanceof CliError) return redact(e.message);
  if (e instanceof Error) return redact(e.message || e.name);
  return redact(String(e));
}
