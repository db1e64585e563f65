/**
 * Line-protocol escaping per element (src/encode/escape.ts), checked example by example and by
 * property against a small reference parser that mimics InfluxDB 1.x (`models/points.go`):
 * the scanner treats a backslash as "skip the next byte" when looking for separators, then
 * names are unescaped with `bytes.Replace` of each escape code, and string fields with
 * `unescapeStringField` (`\\` → `\`, `\"` → `"`, any other backslash kept).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMeasurement, checkName, escapeMeasurement, escapeStringField, escapeTag, EscapeCache, reservedKeyReason } from '../../../src/encode/escape.js';
import { PointEncoder } from '../../../src/encode/point-encoder.js';

// ---- reference unescapers (InfluxDB 1.x) -------------------------------------------------------

/** Go's `bytes.Replace(in, esc, k, -1)` for each escape code in turn. */
function unescapeCodes(s: string, codes: readonly string[]): string {
  let out = s;
  for (const k of codes) out = out.split(`\\${k}`).join(k);
  return out;
}
/** Tag keys, tag values, field keys: `\,` `\=` `\ ` (influxd 1.6 also unescapes `\"`). */
const unescapeTag = (s: string) => unescapeCodes(s, [',', '"', ' ', '=']);
/** Measurements: `\,` and `\ ` (and whatever else influxd unescapes in names). */
const unescapeMeasurement = (s: string) => unescapeCodes(s, [',', '"', ' ', '=']);
/** `unescapeStringField`: left to right, `\\` → `\`, `\"` → `"`, any other backslash kept. */
function unescapeStringField(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && (s[i + 1] === '\\' || s[i + 1] === '"')) {
      out += s[i + 1];
      i++;
    } else out += s[i];
  }
  return out;
}

/**
 * Splits `s` at the first unescaped character of `stops`, the way influxd's scanner does:
 * a backslash skips the byte after it. Returns [token, rest-after-separator, separator].
 */
function scanUntil(s: string, stops: string): [string, string, string] {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (stops.includes(s[i]!)) return [s.slice(0, i), s.slice(i + 1), s[i]!];
  }
  return [s, '', ''];
}

/** Parses one line `measurement[,k=v...] key="string"[,...] time` (string fields only) like influxd. */
function parseLine(line: string): { measurement: string; tags: Record<string, string>; fields: Record<string, string>; time: string } {
  let [m, rest, sep] = scanUntil(line, ', ');
  // Entries, not assignments: a key may well be "__proto__".
  const tags: Array<[string, string]> = [];
  while (sep === ',') {
    let k: string;
    let v: string;
    [k, rest] = scanUntil(rest, '=');
    [v, rest, sep] = scanUntil(rest, ', ');
    tags.push([unescapeTag(k), unescapeTag(v)]);
  }
  const fields: Array<[string, string]> = [];
  for (;;) {
    let k: string;
    [k, rest] = scanUntil(rest, '=');
    expect(rest[0]).toBe('"');
    // Inside quotes a backslash also skips the next byte; the value ends at the next bare quote.
    let i = 1;
    while (rest[i] !== '"') {
      if (rest[i] === '\\') i++;
      i++;
      expect(i).toBeLessThanOrEqual(rest.length);
    }
    fields.push([unescapeTag(k), unescapeStringField(rest.slice(1, i))]);
    const after = rest[i + 1];
    rest = rest.slice(i + 2);
    if (after === ' ') break;
    expect(after).toBe(',');
  }
  return { measurement: unescapeMeasurement(m), tags: Object.fromEntries(tags), fields: Object.fromEntries(fields), time: rest };
}

// ---- arbitraries ---------------------------------------------------------------------------------

/** Characters that matter to line protocol, a few plain and multi-byte ones, lone surrogates and anything else. */
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(',', '=', ' ', '"', '\\', '\\', '\t', '#') },
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'é', '€', '😀', '中') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\uD800', '\uDC00', '\0') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const hostileString = fc.string({ unit: hostileChar, minLength: 0, maxLength: 12 });

// ---- examples ------------------------------------------------------------------------------------

describe('escaping per element', () => {
  it('measurement: escapes comma and space only', () => {
    expect(escapeMeasurement('cpu load,total')).toBe('cpu\\ load\\,total');
    expect(escapeMeasurement('a=b')).toBe('a=b');
    expect(escapeMeasurement('say "hi"')).toBe('say\\ "hi"');
    expect(escapeMeasurement('plain')).toBe('plain');
  });

  it('tag keys, tag values and field keys: escape comma, equals and space', () => {
    expect(escapeTag('a,b=c d')).toBe('a\\,b\\=c\\ d');
    expect(escapeTag('"quoted"')).toBe('"quoted"');
    expect(escapeTag('back\\slash')).toBe('back\\slash');
    expect(escapeTag('ünïcödé 😀')).toBe('ünïcödé\\ 😀');
  });

  it('string field values: escape double quote and backslash only', () => {
    expect(escapeStringField('say "hi"')).toBe('say \\"hi\\"');
    expect(escapeStringField('C:\\temp\\')).toBe('C:\\\\temp\\\\');
    expect(escapeStringField('a,b=c d')).toBe('a,b=c d');
    expect(escapeStringField('\\"')).toBe('\\\\\\"');
  });

  it('escapes every occurrence, not only the first', () => {
    expect(escapeTag(',,,')).toBe('\\,\\,\\,');
    expect(escapeMeasurement('   ')).toBe('\\ \\ \\ ');
    expect(escapeStringField('""')).toBe('\\"\\"');
  });
});

describe('checkName', () => {
  it('accepts ordinary names, escapable characters and backslashes elsewhere', () => {
    for (const s of ['cpu', 'a,b', 'a=b', 'a b', 'a\\b', 'a\\\\b', '\\a', 'emoji 😀', '中文']) expect(checkName(s), s).toBeUndefined();
  });

  it('rejects empty names', () => {
    expect(checkName('')).toMatch(/must not be empty/);
  });

  it('rejects newline and carriage return', () => {
    expect(checkName('a\nb')).toMatch(/must not contain a newline/);
    expect(checkName('a\rb')).toMatch(/must not contain a newline/);
    expect(checkName('\n')).toMatch(/must not contain a newline/);
  });

  it('rejects a trailing backslash', () => {
    expect(checkName('a\\')).toMatch(/must not end with a backslash/);
    expect(checkName('\\')).toMatch(/must not end with a backslash/);
    expect(checkName('a\\\\')).toMatch(/must not end with a backslash/);
  });

  it('rejects a backslash right before an escapable character', () => {
    expect(checkName('a\\,b')).toMatch(/a backslash before "," cannot be represented/);
    expect(checkName('a\\ b')).toMatch(/a backslash before a space cannot be represented/);
    expect(checkName('a\\=b')).toMatch(/a backslash before "=" cannot be represented/);
  });

  it('rejects lone surrogates but accepts pairs', () => {
    expect(checkName('a\uD800b')).toMatch(/lone UTF-16 surrogate/);
    expect(checkName('a\uDC00b')).toMatch(/lone UTF-16 surrogate/);
    expect(checkName('\uD800')).toMatch(/lone UTF-16 surrogate/);
    expect(checkName('\uDC00\uD800')).toMatch(/lone UTF-16 surrogate/);
    expect(checkName('\uD83D\uDE00')).toBeUndefined();
  });

  it('measurement names must not start with "#" (influxd reads the line as a comment)', () => {
    expect(checkMeasurement('#cpu')).toMatch(/must not start with "#"/);
    expect(checkMeasurement('cpu#1')).toBeUndefined();
  });
});

describe('reservedKeyReason', () => {
  it('refuses time, _field and _measurement; allows everything else', () => {
    expect(reservedKeyReason('time')).toMatch(/"time" is not allowed/);
    expect(reservedKeyReason('_field')).toMatch(/reserved/);
    expect(reservedKeyReason('_measurement')).toMatch(/reserved/);
    expect(reservedKeyReason('Time')).toBeUndefined();
    expect(reservedKeyReason('times')).toBeUndefined();
  });
});

describe('EscapeCache', () => {
  it('returns the escaped form, throws the reason for bad names, and stays correct once full', () => {
    const cache = new EscapeCache(escapeTag, checkName, 2);
    expect(cache.get('a b')).toBe('a\\ b');
    expect(cache.get('a b')).toBe('a\\ b');
    expect(() => cache.get('x\n')).toThrow(/newline/);
    // A bad name is never cached: it throws every time.
    expect(() => cache.get('x\n')).toThrow(/newline/);
    for (const s of ['c,d', 'e=f', 'g h', 'a b']) expect(cache.get(s)).toBe(escapeTag(s));
  });
});

// ---- properties ----------------------------------------------------------------------------------

describe('round trip through a reference InfluxDB 1.x unescaper (property)', () => {
  it('tag keys/values and field keys: unescape(escape(s)) === s whenever checkName accepts s', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        if (checkName(s) !== undefined) return;
        expect(s.isWellFormed()).toBe(true);
        expect(s).not.toMatch(/[\n\r]/);
        const escaped = escapeTag(s);
        // No separator survives unescaped.
        expect(scanUntil(escaped, ',= ')[2]).toBe('');
        expect(unescapeTag(escaped)).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('measurements: unescape(escape(s)) === s whenever checkMeasurement accepts s', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        if (checkMeasurement(s) !== undefined) return;
        const escaped = escapeMeasurement(s);
        expect(scanUntil(escaped, ', ')[2]).toBe('');
        expect(unescapeMeasurement(escaped)).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('string fields: unescapeStringField(escape(s)) === s for every string, and no bare quote remains', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const escaped = escapeStringField(s);
        expect(unescapeStringField(escaped)).toBe(s);
        // Scanning inside the quotes must reach the end without meeting an unescaped quote.
        for (let i = 0; i < escaped.length; i++) {
          if (escaped[i] === '\\') i++;
          else expect(escaped[i]).not.toBe('"');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('whole lines: a point encoded by PointEncoder parses back to the same measurement, tag, field and time', () => {
    // Names the checks accept (most of them), so that the round trip is exercised thousands of times.
    const name = hostileString.filter((s) => checkName(s) === undefined);
    let accepted = 0;
    const runs = 3000;
    fc.assert(
      fc.property(name, name, name, name, hostileString, (m, tk, tv, fk, sv) => {
        const enc = new PointEncoder({ precision: 'n' });
        let line: string;
        try {
          line = enc.encode({ measurement: m, tags: { [tk]: tv }, fields: { [fk]: sv }, time: 1n }, 0)!;
        } catch (e) {
          // Only inputs the checks refuse may fail, and they must fail as InvalidPointError.
          expect((e as { code?: string }).code).toBe('FI_ERR_INVALID_POINT');
          return;
        }
        accepted++;
        expect(line).not.toMatch(/[\n\r]/);
        expect(line.isWellFormed()).toBe(true);
        const parsed = parseLine(line);
        expect(parsed).toEqual({ measurement: m, tags: { [tk]: tv }, fields: { [fk]: sv }, time: '1' });
      }),
      { numRuns: runs },
    );
    expect(accepted).toBeGreaterThan(runs / 2);
  });

  it('whole lines: a point is refused exactly when one of its names fails the checks', () => {
    fc.assert(
      fc.property(hostileString, hostileString, hostileString, (m, tv, sv) => {
        const enc = new PointEncoder({ precision: 'n' });
        const call = () => enc.encode({ measurement: m, tags: { host: tv }, fields: { value: sv }, time: 1n }, 7);
        // An empty tag value is dropped, not refused; string values only refuse newlines and lone surrogates.
        const bad = checkMeasurement(m) !== undefined || (tv !== '' && checkName(tv) !== undefined) || !sv.isWellFormed() || /[\n\r]/.test(sv);
        if (bad) expect(call).toThrow(expect.objectContaining({ code: 'FI_ERR_INVALID_POINT', pointIndex: 7 }));
        else expect(call()).toMatch(/ 1$/);
      }),
      { numRuns: 3000 },
    );
  });
});
