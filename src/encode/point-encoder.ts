/**
 * The point encoder: point objects to line protocol, following every rule of
 * `reliability.md` ("Line protocol"). Bad input throws `InvalidPointError` naming the point's
 * index and the element; nothing is written for it.
 */
import { InvalidPointError, type PointElement } from '../errors.js';
import type { FieldType, Precision } from '../types.js';
import { EscapeCache, checkFieldKey, checkMeasurement, checkTagName, escapeMeasurement, escapeStringField, escapeTag, reservedKeyReason } from './escape.js';
import { MAX_TIME_NS, MIN_TIME_NS, NS_PER, floorDiv, nowNs, parseIsoToNs } from './time.js';

export type FieldValue = number | bigint | string | boolean | null | undefined;
export type TagValue = string | number | bigint | boolean | null | undefined;
export type TimeValue = Date | string | number | bigint;

/** A point, as in aioinflux: only `fields` is required. */
export interface Point {
  measurement?: string;
  /** Date, ISO 8601 string (no zone = UTC), or number/bigint in the write's precision. */
  time?: TimeValue | null;
  tags?: Record<string, TagValue>;
  fields: Record<string, FieldValue>;
}

export interface PointEncoderOptions {
  precision: Precision;
  measurement?: string | undefined;
  tags?: Record<string, string> | undefined;
  fieldTypes?: Record<string, FieldType> | undefined;
  allowNewlinesInStrings?: boolean;
  /** NaN / ±Infinity: refuse (default) or leave the field out. */
  nonFinite?: 'error' | 'skipField';
  /** A point with no field left: refuse (default) or leave it out (`encode` returns undefined). */
  invalidRows?: 'error' | 'skip';
}

/** InfluxDB documents a 64 KB limit for string field values. */
export const MAX_STRING_FIELD_BYTES = 64 * 1024;
/** influxd's MaxKeyLength: measurement + tags + field key + 4 bytes. */
const kMaxKeyBytes = 65_535;
const kMaxInt64 = 9223372036854775807n;
const kMinInt64 = -9223372036854775808n;

/** Largest |time| per precision as a number, for a cheap range check of number timestamps. */
const kMaxTimeNumber: Record<Precision, number> = {
  n: Number(MAX_TIME_NS), u: Number(MAX_TIME_NS / NS_PER.u), ms: Number(MAX_TIME_NS / NS_PER.ms),
  s: Number(MAX_TIME_NS / NS_PER.s), m: Number(MAX_TIME_NS / NS_PER.m), h: Number(MAX_TIME_NS / NS_PER.h),
};
/** Largest |Date.getTime()| whose nanoseconds fit InfluxDB's range. */
const kMaxDateMs = Number(MAX_TIME_NS / 1_000_000n);
const kMsPerUnit: Partial<Record<Precision, number>> = { s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A point's `measurement`, `tags`, `fields` or `time`: its own property, or one its class
 * defines (a getter), never one found on `Object.prototype` (pollution from elsewhere in the
 * application would otherwise reach every point). One `Object.hasOwn` for a present property;
 * the prototype chain is walked only when the point does not own it.
 */
export function pointProp(point: object, name: 'measurement' | 'tags' | 'fields' | 'time'): unknown {
  const v = (point as Record<string, unknown>)[name];
  if (v === undefined || Object.hasOwn(point, name)) return v;
  for (let o = Object.getPrototypeOf(point) as object | null; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, name)) return o === Object.prototype ? undefined : v;
  }
  return v;
}

class Reject {
  constructor(readonly element: PointElement, readonly key: string | undefined, readonly reason: string) {}
}

/** Floor division of two safe integers, exact (a double quotient can round up across an integer). */
function floorDivNumber(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  return q;
}

export function formatFloat(v: number): string {
  // String(-0) is "0": keep the sign so the value round-trips (influxd stores -0).
  return v === 0 && 1 / v < 0 ? '-0' : String(v);
}

/**
 * Encodes points one line at a time. One instance per write: it caches escaped names and
 * reuses its scratch arrays, so a point costs one string and no other allocation.
 */
export class PointEncoder {
  readonly #precision: Precision;
  readonly #defaultMeasurement: string | undefined;
  // The extra tags' own entries (a key inherited by the options object is not a tag).
  readonly #extraKeys: string[] = [];
  readonly #extraVals: string[] = [];
  readonly #fieldTypes: Record<string, FieldType> | undefined;
  readonly #allowNewlines: boolean;
  readonly #skipNonFinite: boolean;
  readonly #skipEmpty: boolean;
  readonly #measurements = new EscapeCache(escapeMeasurement, checkMeasurement, 1_000);
  readonly #keys = new EscapeCache(escapeTag, checkTagName, 10_000);
  readonly #fieldKeys = new EscapeCache(escapeTag, checkFieldKey, 10_000);
  readonly #tagValues = new EscapeCache(escapeTag, checkTagName, 50_000);
  // Scratch for sorting tags without allocating per point.
  #tagKeys: string[] = [];
  #tagVals: string[] = [];

  constructor(options: PointEncoderOptions) {
    this.#precision = options.precision;
    this.#defaultMeasurement = options.measurement;
    // Null prototype: a field named `constructor` or `toString` must not find Object.prototype's members.
    this.#fieldTypes = options.fieldTypes === undefined ? undefined : Object.assign(Object.create(null) as Record<string, FieldType>, options.fieldTypes);
    this.#allowNewlines = options.allowNewlinesInStrings ?? false;
    this.#skipNonFinite = options.nonFinite === 'skipField';
    this.#skipEmpty = options.invalidRows === 'skip';
    if (options.tags) {
      for (const [k, v] of Object.entries(options.tags)) {
        // Validate the extra tags once, up front, rather than blaming every point.
        const bad = this.#checkTagKey(k) ?? (v === '' ? undefined : this.#tryEscape(this.#tagValues, v));
        if (bad !== undefined) throw new InvalidPointError(0, 'tags', k, `extra tag: ${bad}`);
        if (v === '') continue;
        this.#extraKeys.push(k);
        this.#extraVals.push(v);
      }
    }
  }

  #tryEscape(cache: EscapeCache, s: string): string | undefined {
    try {
      cache.get(s);
      return undefined;
    } catch (reason) {
      return reason as string;
    }
  }

  #checkTagKey(k: string): string | undefined {
    return reservedKeyReason(k) ?? this.#tryEscape(this.#keys, k);
  }

  /**
   * One line of line protocol, without the trailing newline. `index` names the point in errors.
   * Undefined when the point has no field to write and `invalidRows: 'skip'` leaves it out.
   */
  encode(point: Point, index: number): string | undefined {
    try {
      return this.#encode(point);
    } catch (e) {
      if (e instanceof Reject) throw new InvalidPointError(index, e.element, e.key, e.reason);
      throw e;
    }
  }

  #name(cache: EscapeCache, s: string, element: PointElement, key: string | undefined, what = 'key'): string {
    try {
      return cache.get(s);
    } catch (reason) {
      if (typeof reason === 'string') throw new Reject(element, key, key === undefined ? reason : `${what} ${reason}`);
      throw reason;
    }
  }

  #encode(point: Point): string | undefined {
    if (typeof point !== 'object' || point === null) throw new Reject('point', undefined, `must be an object with fields (got ${point === null ? 'null' : typeof point})`);
    const m = (pointProp(point, 'measurement') as Point['measurement']) ?? this.#defaultMeasurement;
    if (m === undefined) throw new Reject('measurement', undefined, 'missing: give the point a measurement or pass { measurement } to write()');
    if (typeof m !== 'string') throw new Reject('measurement', undefined, `must be a string (got ${typeof m})`);
    let line = this.#name(this.#measurements, m, 'measurement', undefined);
    line += this.#encodeTags(pointProp(point, 'tags') as Point['tags']);

    const fields = pointProp(point, 'fields') as Point['fields'];
    if (typeof fields !== 'object' || fields === null) throw new Reject('fields', undefined, 'missing: a point needs at least one field');
    let first = true;
    const seriesKeyChars = line.length;
    let longestFieldKey = '';
    for (const key in fields) {
      // Own properties only: for…in also yields enumerable keys of the prototype chain.
      if (!Object.hasOwn(fields, key)) continue;
      const v = fields[key];
      if (v === undefined || v === null) continue;
      const enc = this.#encodeField(key, v);
      if (enc === undefined) continue;
      const bad = reservedKeyReason(key);
      if (bad !== undefined) throw new Reject('fields', key, bad);
      const escapedKey = this.#name(this.#fieldKeys, key, 'fields', key);
      if (escapedKey.length > longestFieldKey.length) longestFieldKey = escapedKey;
      line += (first ? ' ' : ',') + escapedKey + '=' + enc;
      first = false;
    }
    if (first) {
      if (this.#skipEmpty) return undefined;
      throw new Reject('fields', undefined, 'no field with a value: a point needs at least one field');
    }
    // influxd refuses a series key (measurement, tags, field key) over 65 535 bytes. Cheap bound
    // first: UTF-8 takes at most 3 bytes per UTF-16 unit.
    if ((seriesKeyChars + longestFieldKey.length + 4) * 3 > kMaxKeyBytes) {
      // influxd counts the longest field key in bytes: measure each written key exactly.
      let keyBytes = 0;
      for (const key in fields) {
        if (!Object.hasOwn(fields, key)) continue;
        const v = fields[key];
        if (v === undefined || v === null || (this.#skipNonFinite && typeof v === 'number' && !Number.isFinite(v))) continue;
        keyBytes = Math.max(keyBytes, Buffer.byteLength(this.#fieldKeys.get(key)));
      }
      const bytes = Buffer.byteLength(line.slice(0, seriesKeyChars)) + keyBytes + 4;
      if (bytes > kMaxKeyBytes) throw new Reject('point', undefined, `series key of ${bytes} bytes (measurement, tags and field key) is over InfluxDB's limit of ${kMaxKeyBytes}`);
    }
    return `${line} ${this.#encodeTime(pointProp(point, 'time') as Point['time'])}`;
  }

  #encodeTags(tags: Record<string, TagValue> | undefined): string {
    const keys = this.#tagKeys;
    const vals = this.#tagVals;
    let n = 0;
    const extraKeys = this.#extraKeys;
    if (tags !== undefined && tags !== null) {
      if (typeof tags !== 'object') throw new Reject('tags', undefined, `must be an object (got ${typeof tags})`);
      for (const k in tags) {
        if (!Object.hasOwn(tags, k)) continue;
        let v = tags[k];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string') {
          if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') v = String(v);
          else throw new Reject('tags', k, `value must be a string (got ${typeof v})`);
        }
        // An empty tag value is refused by InfluxDB ("missing tag value"): the tag is left out.
        if (v === '') continue;
        keys[n] = k;
        vals[n] = v;
        n++;
      }
    }
    for (let i = 0; i < extraKeys.length; i++) {
      const k = extraKeys[i]!;
      if (tags != null && Object.hasOwn(tags, k) && tags[k] != null && tags[k] !== '') continue;
      keys[n] = k;
      vals[n] = this.#extraVals[i]!;
      n++;
    }
    if (n === 0) return '';
    // Insertion sort: tag sets are small, and InfluxDB parses sorted tags fastest.
    for (let i = 1; i < n; i++) {
      const k = keys[i]!;
      const v = vals[i]!;
      let j = i - 1;
      while (j >= 0 && keys[j]! > k) {
        keys[j + 1] = keys[j]!;
        vals[j + 1] = vals[j]!;
        j--;
      }
      keys[j + 1] = k;
      vals[j + 1] = v;
    }
    let out = '';
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const bad = reservedKeyReason(k);
      if (bad !== undefined) throw new Reject('tags', k, bad);
      out += ',' + this.#name(this.#keys, k, 'tags', k) + '=' + this.#name(this.#tagValues, vals[i]!, 'tags', k, 'value');
    }
    return out;
  }

  /** The field's value as written, or undefined when `nonFinite: 'skipField'` leaves it out. */
  #encodeField(key: string, v: FieldValue): string | undefined {
    const declared = this.#fieldTypes?.[key];
    switch (typeof v) {
      case 'number':
        if (declared === 'integer') {
          if (!Number.isSafeInteger(v)) {
            throw new Reject('fields', key, `declared integer, but ${String(v)} is not a safe integer: pass a bigint for values beyond 2^53`);
          }
          return `${v}i`;
        }
        if (declared !== undefined && declared !== 'float') throw new Reject('fields', key, `declared ${declared}, got a number`);
        if (!Number.isFinite(v)) {
          if (this.#skipNonFinite) return undefined;
          throw new Reject('fields', key, `${String(v)} cannot be written: InfluxDB floats must be finite`);
        }
        return formatFloat(v);
      case 'bigint':
        if (declared !== undefined && declared !== 'integer') throw new Reject('fields', key, `declared ${declared}, got a bigint`);
        if (v > kMaxInt64 || v < kMinInt64) throw new Reject('fields', key, `${v} is outside the int64 range`);
        return `${v}i`;
      case 'string': {
        if (declared !== undefined && declared !== 'string') throw new Reject('fields', key, `declared ${declared}, got a string`);
        // Cheap upper bound first: UTF-8 takes at most 3 bytes per UTF-16 unit.
        if (v.length * 3 > MAX_STRING_FIELD_BYTES && Buffer.byteLength(v) > MAX_STRING_FIELD_BYTES) {
          throw new Reject('fields', key, `string value of ${Buffer.byteLength(v)} bytes is over InfluxDB's 64 KB limit`);
        }
        if (!v.isWellFormed()) throw new Reject('fields', key, 'string value contains a lone UTF-16 surrogate (not valid Unicode)');
        if (!this.#allowNewlines && (v.includes('\n') || v.includes('\r'))) {
          throw new Reject('fields', key, 'string value contains a newline; pass allowNewlinesInStrings: true to write it anyway');
        }
        return `"${escapeStringField(v)}"`;
      }
      case 'boolean':
        if (declared !== undefined && declared !== 'boolean') throw new Reject('fields', key, `declared ${declared}, got a boolean`);
        return v ? 'true' : 'false';
      default:
        throw new Reject('fields', key, `unsupported value type ${typeof v}: use number, bigint, string or boolean`);
    }
  }

  #encodeTime(t: TimeValue | null | undefined): string {
    const p = this.#precision;
    if (t === undefined || t === null) return floorDiv(nowNs(), NS_PER[p]).toString();
    if (typeof t === 'number') {
      if (!Number.isSafeInteger(t)) throw new Reject('time', undefined, `${String(t)} is not a safe integer: pass a bigint for ${p} timestamps beyond 2^53`);
      if (Math.abs(t) > kMaxTimeNumber[p]) throw new Reject('time', undefined, `${t} (${p}) is outside InfluxDB's time range`);
      return String(t);
    }
    if (typeof t === 'bigint') {
      const ns = t * NS_PER[p];
      if (ns > MAX_TIME_NS || ns < MIN_TIME_NS) throw new Reject('time', undefined, `${t} (${p}) is outside InfluxDB's time range`);
      return t.toString();
    }
    if (typeof t === 'string') {
      const ns = parseIsoToNs(t);
      if (typeof ns === 'string') throw new Reject('time', undefined, ns);
      if (ns > MAX_TIME_NS || ns < MIN_TIME_NS) throw new Reject('time', undefined, `${t} is outside InfluxDB's time range (1677-09-21 to 2262-04-11)`);
      return (p === 'n' ? ns : floorDiv(ns, NS_PER[p])).toString();
    }
    if (t instanceof Date) {
      const ms = t.getTime();
      if (Number.isNaN(ms)) throw new Reject('time', undefined, 'Invalid Date');
      if (Math.abs(ms) > kMaxDateMs) throw new Reject('time', undefined, `${t.toISOString()} is outside InfluxDB's time range (1677-09-21 to 2262-04-11)`);
      // Append zeros as text: ms * 1e6 exceeds 2^53 for today's dates.
      if (p === 'n') return ms === 0 ? '0' : `${ms}000000`;
      if (p === 'u') return ms === 0 ? '0' : `${ms}000`;
      if (p === 'ms') return String(ms);
      return String(floorDivNumber(ms, kMsPerUnit[p]!));
    }
    throw new Reject('time', undefined, `unsupported time type ${typeof t}: use Date, ISO string, number or bigint`);
  }
}
