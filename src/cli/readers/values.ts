/**
 * Text values of CSV (and NDJSON times): what type a column's values say it is, and their
 * conversion, exact (int64 as bigint, times in BigInt nanoseconds).
 */
import type { FieldType, Precision } from '../../types.js';
import { MAX_TIME_NS, MIN_TIME_NS, NS_PER, parseIsoToNs } from '../../encode/time.js';

const kInt = /^[+-]?(?:0|[1-9]\d*)$/;
const kFloat = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const kMaxInt64 = 9223372036854775807n;
const kMinInt64 = -9223372036854775808n;

export function isIntText(v: string): boolean {
  if (!kInt.test(v)) return false;
  if (v.length < 19) return true;
  const b = BigInt(v);
  return b >= kMinInt64 && b <= kMaxInt64;
}

export function isFloatText(v: string): boolean {
  return kFloat.test(v) && Number.isFinite(Number(v));
}

export function boolOf(v: string): boolean | undefined {
  if (v.length > 5) return undefined;
  const l = v.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

/**
 * The field type of a column from its (non-empty) values: integer when every one is an int64
 * literal, float when every one is a decimal number, boolean for true/false, else string.
 * Undefined when there is no value to go by.
 */
export function inferType(values: Iterable<string>): FieldType | undefined {
  let int = true;
  let float = true;
  let bool = true;
  let any = false;
  for (const v of values) {
    if (v === '') continue;
    any = true;
    if (int && !isIntText(v)) int = false;
    if (float && !isFloatText(v)) float = false;
    if (bool && boolOf(v) === undefined) bool = false;
    if (!int && !float && !bool) return 'string';
  }
  if (!any) return undefined;
  return int ? 'integer' : float ? 'float' : bool ? 'boolean' : 'string';
}

/** A time value in text: an integer epoch in `precision`, or an ISO 8601 date. Nanoseconds, or the reason. */
export function timeTextToNs(v: string, precision: Precision): bigint | string {
  const t = v.trim();
  if (t === '') return 'empty time';
  return kInt.test(t) ? epochToNs(BigInt(t), precision) : isoToNs(t);
}

const kOutOfRange = "is outside InfluxDB's range (1677-09-21 to 2262-04-11)";

/** An integer epoch in `precision` as exact nanoseconds, or the reason. */
export function epochToNs(t: bigint, precision: Precision): bigint | string {
  const ns = t * NS_PER[precision];
  if (ns < MIN_TIME_NS || ns > MAX_TIME_NS) return `time ${t}${precision === 'n' ? '' : ` (${precision})`} ${kOutOfRange}`;
  return ns;
}

/** An ISO 8601 / RFC 3339 date (no zone = UTC) as exact nanoseconds, or the reason. */
export function isoToNs(t: string): bigint | string {
  const ns = parseIsoToNs(t);
  if (typeof ns === 'string') return ns;
  if (ns < MIN_TIME_NS || ns > MAX_TIME_NS) return `time ${JSON.stringify(t)} ${kOutOfRange}`;
  return ns;
}

/** A value for a message: quoted, cut when long. */
export function show(v: string): string {
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
}
