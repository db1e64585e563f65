/**
 * Timestamps, exactly. Everything is converted through BigInt nanoseconds: a JavaScript number
 * holds only 2^53, and a nanosecond epoch of today is about 2^60.
 *
 * A date string without a zone is UTC, never local time: parsing is done here, field by field,
 * not by `Date.parse` (which reads `2024-01-01T00:00:00` as local time).
 */
import type { Precision } from '../types.js';

/** Nanoseconds per unit of each precision. */
export const NS_PER: Record<Precision, bigint> = {
  n: 1n,
  u: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** The range InfluxDB accepts, in nanoseconds (docs, data types). */
export const MIN_TIME_NS = -9223372036854775806n;
export const MAX_TIME_NS = 9223372036854775806n;

/** Floor division for BigInt (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

// YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.fraction]], then optionally Z or ±HH[:MM].
const kIso = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO 8601 / RFC 3339 date or date-time into nanoseconds since the epoch.
 * Up to nine fractional digits are kept exactly; no zone means UTC.
 * Returns a string (the reason) when the text is not a valid date.
 */
export function parseIsoToNs(text: string): bigint | string {
  const m = kIso.exec(text);
  if (m === null) return `"${text.length > 60 ? `${text.slice(0, 60)}…` : text}" is not an ISO 8601 date (e.g. 2009-11-10T23:00:00.123456789Z)`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12) return `month ${m[2]} is out of range in "${text}"`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${m[3]} is out of range in "${text}"`;
  if (hour > 23) return `hour ${m[4]} is out of range in "${text}"`;
  if (minute > 59) return `minute ${m[5]} is out of range in "${text}"`;
  if (second > 59) return `second ${m[6]} is out of range in "${text}" (leap seconds are not representable)`;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return `zone offset ${zone} is out of range in "${text}"`;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const days = daysFromCivil(year, month, day);
  // Whole seconds fit a double exactly (|s| < 2^53 for any 6-digit year); the fraction is added in BigInt.
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  let ns = BigInt(seconds) * 1_000_000_000n;
  const frac = m[7];
  if (frac !== undefined) ns += BigInt(frac.padEnd(9, '0'));
  return ns;
}

/** Formats nanoseconds since the epoch as RFC 3339 UTC with as many fractional digits as needed. */
export function formatNsAsIso(ns: bigint): string {
  const secs = floorDiv(ns, 1_000_000_000n);
  const frac = ns - secs * 1_000_000_000n;
  const iso = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  if (frac === 0n) return `${iso}Z`;
  return `${iso}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/**
 * A wall clock in nanoseconds that never returns the same value twice in a process.
 * Points without a time get it at encode time, so that a retried body carries the same
 * timestamps (writes stay idempotent) and two points of one series written in the same
 * millisecond do not overwrite each other.
 */
const kOriginNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNowNs = 0n;
export function nowNs(): bigint {
  let t = kOriginNs + process.hrtime.bigint();
  if (t <= lastNowNs) t = lastNowNs + 1n;
  lastNowNs = t;
  return t;
}
