/**
 * InfluxQL quoting, per the spec and `influxql.QuoteIdent` / `QuoteString`:
 * identifiers are always double-quoted, string literals single-quoted, each with backslash
 * escaping done in one pass. Nothing a caller passes can close the quote and start a second
 * statement. Numbers are written without exponents (InfluxQL has none).
 */
import { InvalidQueryError } from '../errors.js';

function rejectControl(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0) throw new InvalidQueryError(`${what} must not contain a newline or NUL character`);
  }
  if (!s.isWellFormed()) throw new InvalidQueryError(`${what} contains a lone UTF-16 surrogate (not valid Unicode)`);
}

/** The inside of a double-quoted identifier (no surrounding quotes). */
export function escapeIdentifier(name: string): string {
  if (typeof name !== 'string') throw new InvalidQueryError(`an identifier must be a string (got ${typeof name})`);
  if (name.length === 0) throw new InvalidQueryError('an identifier must not be empty');
  rejectControl(name, 'an identifier');
  return name.replace(/["\\]/g, '\\$&');
}

/** `"name"`, escaped: safe for database, measurement, tag key, field key, user and policy names. */
export function quoteIdentifier(name: string): string {
  return `"${escapeIdentifier(name)}"`;
}

/** The inside of a single-quoted string literal. A newline is written as the escape `\n`. */
export function escapeString(value: string): string {
  if (!value.isWellFormed()) throw new InvalidQueryError('a string literal contains a lone UTF-16 surrogate (not valid Unicode)');
  if (value.includes('\0')) throw new InvalidQueryError('a string literal must not contain a NUL character');
  // The InfluxQL reader turns a raw CR into a newline (a "bad string"), and `\r` is not an escape it knows.
  if (value.includes('\r')) throw new InvalidQueryError('a string literal must not contain a carriage return (\\r): InfluxQL cannot represent it; use a bind parameter');
  return value.replace(/[\\'\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Formats a finite number without exponent notation. */
export function formatNumberLiteral(value: number | bigint): string {
  if (typeof value === 'bigint') {
    // The parser reads integer literals as int64, or uint64 above 2^63-1; anything else is a parse error.
    if (value < -(2n ** 63n) || value >= 2n ** 64n) throw new InvalidQueryError(`${value} is outside the range of an InfluxQL integer literal`);
    return value.toString();
  }
  if (!Number.isFinite(value)) throw new InvalidQueryError(`${value} cannot be written in InfluxQL (numbers must be finite)`);
  const s = formatPlain(value);
  // A float that prints without a `.` is read as an integer: beyond 2^63 that fails ("unable to parse integer").
  return Math.abs(value) >= 2 ** 63 && !s.includes('.') ? `${s}.0` : s;
}

function formatPlain(value: number): string {
  const s = String(value);
  const e = s.indexOf('e');
  if (e === -1) return s;
  // Shift the decimal point of the shortest round-trip digits: exact, unlike toFixed.
  const negative = s[0] === '-';
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot === -1 ? mantissa.length : dot) + exp;
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${out}` : out;
}

/** Quotes any literal: strings single-quoted, numbers plain, booleans, Dates as RFC 3339 strings. */
export function quoteLiteral(value: string | number | bigint | boolean | Date): string {
  switch (typeof value) {
    case 'string':
      return `'${escapeString(value)}'`;
    case 'number':
    case 'bigint':
      return formatNumberLiteral(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new InvalidQueryError('Invalid Date');
        return `'${value.toISOString()}'`;
      }
      throw new InvalidQueryError(`cannot quote a ${typeof value} as an InfluxQL literal`);
  }
}

// No `us`: influxql.ParseDuration reads it as `u` then a unit without a number ("invalid duration").
const kDuration = /^(\d+(ns|u|µ|ms|s|m|h|d|w))+$/;

/** Validates a duration literal such as `1h30m` or `7d`; returns it unchanged. */
export function checkDuration(value: string | number): string {
  const s = typeof value === 'number' ? `${value}s` : value;
  if (typeof s !== 'string' || !kDuration.test(s)) {
    throw new InvalidQueryError(`${JSON.stringify(String(value))} is not an InfluxQL duration (e.g. 30s, 1h30m, 7d)`);
  }
  return s;
}
