/**
 * Line-protocol escaping and validation, per element, as InfluxDB 1.x parses it
 * (`models/points.go`; measured against influxd 1.6.7).
 *
 * - measurement: escape `,` and space;
 * - tag key, tag value, field key: escape `,`, `=` and space;
 * - string field value: escape `"` and `\`, then wrap in double quotes.
 *
 * Backslashes in names and tag values are NOT escaped: 1.x keeps `a\b` and `a\\b` as written
 * (it only unescapes `\,` `\=` `\ ` and `\"`, and a comma after any backslash is not a separator).
 * So a backslash directly before `,` `=` space `"`, or at the very end, cannot be represented:
 * such names are rejected, not silently changed (measured against influxd 1.6.7).
 */

/** Why a name cannot be encoded, or undefined when it can. */
export function checkName(s: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) return 'must not contain a newline (\\n or \\r): line protocol has no escape for it';
    if (c === 92 /* \ */) {
      if (i === s.length - 1) return 'must not end with a backslash: InfluxDB 1.x cannot read it back';
      const n = s.charCodeAt(i + 1);
      // influxd unescapes \, \= \<space> and \" in names and splits at a comma after any backslash.
      if (n === 44 || n === 32 || n === 61 || n === 34) {
        return `a backslash before ${n === 32 ? 'a space' : `"${String.fromCharCode(n)}"`} cannot be represented in line protocol`;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      // Surrogates are fine in pairs; a lone one would silently become U+FFFD on the wire.
      if (c <= 0xdbff && i + 1 < s.length) {
        const n = s.charCodeAt(i + 1);
        if (n >= 0xdc00 && n <= 0xdfff) {
          i++;
          continue;
        }
      }
      return 'contains a lone UTF-16 surrogate (not valid Unicode)';
    }
  }
  return undefined;
}

const kMeasurementSpecial = /[, ]/g;
const kTagSpecial = /[,= ]/g;
const kStringSpecial = /["\\]/g;
const kHasMeasurementSpecial = /[, ]/;
const kHasTagSpecial = /[,= ]/;
const kHasStringSpecial = /["\\]/;

export function escapeMeasurement(s: string): string {
  return kHasMeasurementSpecial.test(s) ? s.replace(kMeasurementSpecial, '\\$&') : s;
}

/** Tag keys, tag values and field keys. */
export function escapeTag(s: string): string {
  return kHasTagSpecial.test(s) ? s.replace(kTagSpecial, '\\$&') : s;
}

/** The inside of a string field value (without the surrounding quotes). */
export function escapeStringField(s: string): string {
  return kHasStringSpecial.test(s) ? s.replace(kStringSpecial, '\\$&') : s;
}

/** Measurement names: as other names, and no leading `#`, tab or NUL (influxd skips or comments those out). */
export function checkMeasurement(s: string): string | undefined {
  const c = s.charCodeAt(0);
  if (c === 35 /* # */) return 'must not start with "#": InfluxDB reads the line as a comment and drops it';
  // influxd skips leading tabs and NULs before parsing a line, which would change the name.
  if (c === 9 || c === 0) return 'must not start with a tab or NUL character: InfluxDB strips it';
  return checkName(s);
}

/** Tag keys and tag values. */
export function checkTagName(s: string): string | undefined {
  return checkName(s);
}

/** Field keys: as tag keys, and no leading tab or NUL (influxd skips whitespace before the field set). */
export function checkFieldKey(s: string): string | undefined {
  const c = s.charCodeAt(0);
  if (c === 9 || c === 0) return 'must not start with a tab or NUL character: InfluxDB strips it';
  return checkName(s);
}

/** Keys that InfluxDB refuses or silently discards. */
export function reservedKeyReason(key: string): string | undefined {
  if (key === 'time') return '"time" is not allowed as a key: InfluxDB refuses it';
  if (key === '_field' || key === '_measurement') return `"${key}" is reserved: InfluxDB discards the point`;
  return undefined;
}

/**
 * A bounded cache of checked-and-escaped names. Measurements, keys and most tag values repeat
 * from point to point, so each distinct string is validated and escaped once. Cleared when full
 * rather than tracking recency: cheap, and a high-cardinality tag just bypasses the benefit.
 */
export class EscapeCache {
  readonly #map = new Map<string, string>();
  readonly #limit: number;
  readonly #escape: (s: string) => string;
  readonly #check: (s: string) => string | undefined;
  constructor(escapeName: (s: string) => string, check: (s: string) => string | undefined, limit = 20_000) {
    this.#escape = escapeName;
    this.#check = check;
    this.#limit = limit;
  }
  /** The escaped form, or throws the reason (a string) when the name cannot be encoded. */
  get(s: string): string {
    const hit = this.#map.get(s);
    if (hit !== undefined) return hit;
    const bad = this.#check(s);
    if (bad !== undefined) throw bad;
    const escaped = this.#escape(s);
    if (this.#map.size >= this.#limit) this.#map.clear();
    this.#map.set(s, escaped);
    return escaped;
  }
}
