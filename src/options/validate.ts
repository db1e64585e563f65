/**
 * The option checkers every resolver and setter shares: how a bad value is refused and named
 * (`InvalidOptionError`, `what must be … (got …)`), unknown keys, strings, booleans, integer
 * ranges and enums, and the shared words' own checks (precision, output format).
 */
import { InvalidOptionError } from '../errors.js';
import type { OutputFormat, OutputOption, Precision } from '../types.js';

export const PRECISIONS: readonly Precision[] = ['n', 'u', 'ms', 's', 'm', 'h'];
export const OUTPUT_FORMATS: readonly OutputOption[] = ['raw', 'iterable', 'arrow', 'dataframe'];

/** Aliases accepted wherever a precision is: `ns` and `us`/`µ` are common spellings. */
const kPrecisionAliases: Record<string, Precision> = { ns: 'n', us: 'u', µ: 'u' };

export function fail(message: string): never {
  throw new InvalidOptionError(message);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A short echo of a scalar for messages ('' for objects: they are named by their type). */
export function safeShow(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}

export function checkKeys(obj: object, allowed: Set<string>, what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      fail(`unknown ${what} option "${key}" (known: ${[...allowed].join(', ')})`);
    }
  }
}

/**
 * The options' own properties (a copy without prototype): a key that other code put on
 * `Object.prototype` (`db`, `tags`, `measurement` …) is not an option of every call.
 */
export function ownOptions(opts: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, opts);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or undefined (an option, or a setter such as `client.db = …`). */
export function checkString(v: unknown, what: string): string | undefined {
  if (v !== undefined && typeof v !== 'string') fail(`${what} must be a string (got ${typeName(v)})`);
  return v;
}

/** One of `allowed` (an option, or a setter such as `client.mode = …`). */
export function checkEnum<T extends string>(v: unknown, what: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${safeShow(v) || typeName(v)})`);
  return v as T;
}

export function optString(obj: Record<string, unknown>, key: string, what: string): string | undefined {
  return checkString(obj[key], `${what}.${key}`);
}

export function optBool(obj: Record<string, unknown>, key: string, what: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(`${what}.${key} must be a boolean (got ${typeName(v)})`);
  return v;
}

export function optInt(obj: Record<string, unknown>, key: string, what: string, min: number, max: number, orElse = ''): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${what}.${key} must be an integer from ${min} to ${max}${orElse ? ` ${orElse}` : ''} (got ${typeName(v)} ${safeShow(v)})`);
  }
  return v;
}

export function optEnum<T extends string>(opts: Record<string, unknown>, key: string, what: string, allowed: readonly T[]): T | undefined {
  const v = opts[key];
  return v === undefined ? undefined : checkEnum(v, `${what}.${key}`, allowed);
}

/** Validates a precision given anywhere; returns the canonical form. */
export function resolvePrecision(v: unknown, what: string): Precision {
  if (typeof v === 'string') {
    if ((PRECISIONS as readonly string[]).includes(v)) return v as Precision;
    // Own keys only: 'toString' or 'constructor' must not find Object.prototype's members.
    if (Object.hasOwn(kPrecisionAliases, v)) return kPrecisionAliases[v]!;
  }
  return fail(`${what} must be one of ${PRECISIONS.join(', ')} (got ${typeName(v)} ${safeShow(v)})`);
}

/** Checks an `output` option; `dataframe` becomes `arrow`. */
export function resolveOutput(value: unknown, what = 'output'): OutputFormat {
  if (value === 'dataframe') return 'arrow';
  if (value === 'raw' || value === 'iterable' || value === 'arrow') return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
  throw new InvalidOptionError(`${what} must be one of ${OUTPUT_FORMATS.map((f) => `'${f}'`).join(', ')} (got ${shown})`);
}
