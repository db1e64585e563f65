/**
 * What influxd 1.6.7 makes of one line of line protocol: the one parser of the project, a port
 * of `parsePoint` (models/points.go: scanKey, scanTags, scanFields, scanNumber, scanBoolean,
 * walkFields, scanTime, SafeCalcTime). It owns
 * - `checkLine`: accept or refuse a line, with influxd's reason, allocating nothing for a line
 *   that parses (the pre-send check of raw line protocol runs it on every line);
 * - `readLine`/`readPoint`: the same walk, also giving the measurement, the fields with their
 *   types, the `time` tag and the timestamp (the writer's 400 analysis);
 * - `goString`: bytes shown as Go's JSON encoder shows them (invalid UTF-8 as U+FFFD per byte).
 * Encodings, as measured on influxd 1.6.7: NUL bytes anywhere and invalid UTF-8 in tag keys, tag
 * values and string fields are stored as they are, and accepted here. Invalid UTF-8 in a
 * measurement name or a field key parses, but a write that creates a shard then fails with a 500
 * (`proto: field "tsdb.MeasurementFields.Name" contains invalid UTF-8`) and stores nothing of
 * the request, good lines included: `checkLine` refuses such lines (`readLine`, which replays
 * what influxd parsed, does not).
 * Where lines end and which are skipped is scan.ts.
 */
import type { Precision } from '../../types.js';
import { BS, COMMA, DQ, EQ, NL, SP, skipWhitespace, type LineRange } from './scan.js';
import { utf8Tail } from './utf8.js';

export type LineFieldType = 'float' | 'integer' | 'unsigned' | 'string' | 'boolean';

/** One field of a parsed line: its key as the server names it, and its type. */
export interface LineField {
  key: string;
  type: LineFieldType;
}

/** A line as influxd reads it (names unescaped as in the server's messages). */
export interface ParsedLine {
  measurement: string;
  /** The fields in line order (a field with an empty value has no type and is left out). */
  fields: LineField[];
  /** The line has a tag whose key is `time` (the server drops the point). */
  timeTag: boolean;
  /** Timestamp in ns, `undefined` when the line has none (the server uses its clock). */
  timeNs: bigint | undefined;
}

export type LineReadResult = { ok: true; line: ParsedLine } | { ok: false; reason: string };

const MAX_KEY_LENGTH = 65535;
const MIN_NANO = -9223372036854775806n;
const MAX_NANO = 9223372036854775806n;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const ERR_NUMBER = 'invalid number';
const ERR_BOOLEAN = 'invalid boolean';
const ERR_TIME_RANGE = `time outside range ${MIN_NANO} - ${MAX_NANO}`;

/** A write precision as the parser needs it: the multiplier, and the largest |timestamp| in range as digits. */
export interface PrecisionSpec {
  readonly mult: bigint;
  /** floor(MAX_NANO / mult) in decimal ASCII: a timestamp with no more significant digits, and not larger, is in range. */
  readonly bound: Uint8Array;
}

const DIGITS = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const SPECS: Record<string, PrecisionSpec> = {};
for (const [p, m] of Object.entries({ n: 1n, u: 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n })) {
  SPECS[p] = { mult: m, bound: DIGITS(String(MAX_NANO / m)) };
}
const INT64_MAX_DIGITS = DIGITS('9223372036854775807');
const INT64_MIN_DIGITS = DIGITS('9223372036854775808');

/** The parser's view of a `precision` (default, and anything unknown: `n`, as influxd). */
export function precisionSpec(p: Precision | string | undefined): PrecisionSpec {
  return (p !== undefined && SPECS[p]) || SPECS.n!;
}

function isNumeric(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}

function ascii(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
}

/** Whether [s, e) is well-formed UTF-8 (what Go's proto marshalling demands of names). */
function validUtf8(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    if (buf[i]! < 0x80) {
      i++;
      continue;
    }
    const n = utf8Tail(buf, i, e);
    if (n < 0) return false;
    i += n + 1;
  }
  return true;
}

function hasHighByte(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return true;
  return false;
}

const ERR_UTF8 = 'is not valid UTF-8 (influxd 1.6.7 parses it, then fails the whole request with a 500 when the write creates a shard)';

/**
 * Whether the unsigned decimal digits [s, e) are at most `bound` (digits, no leading zero).
 * No allocation: leading zeros are skipped, then lengths and bytes compared.
 */
function digitsAtMost(buf: Uint8Array, s: number, e: number, bound: Uint8Array): boolean {
  while (s < e && buf[s] === 48) s++;
  const len = e - s;
  if (len !== bound.length) return len < bound.length;
  for (let k = 0; k < len; k++) {
    const d = buf[s + k]! - bound[k]!;
    if (d !== 0) return d < 0;
  }
  return true;
}

/**
 * Bytes to a string the way Go's JSON encoder shows them: valid UTF-8 as is, each byte of an
 * invalid sequence as U+FFFD (one per byte, unlike TextDecoder).
 */
export function goString(buf: Uint8Array, s = 0, e = buf.length): string {
  let ok = true;
  for (let i = s; i < e; i++) {
    if (buf[i]! >= 0x80) {
      ok = false;
      break;
    }
  }
  if (ok) return ascii(buf, s, e);
  const cps: number[] = [];
  let i = s;
  while (i < e) {
    const c = buf[i]!;
    if (c < 0x80) {
      cps.push(c);
      i++;
      continue;
    }
    const n = utf8Tail(buf, i, e);
    if (n > 0) {
      // The lead byte holds 6 - n bits of the code point (5, 4 or 3), each continuation byte 6.
      let cp = c & (0x7f >> (n + 1));
      for (let k = 1; k <= n; k++) cp = (cp << 6) | (buf[i + k]! & 0x3f);
      cps.push(cp);
      i += n + 1;
    } else {
      cps.push(0xfffd);
      i++;
    }
  }
  let out = '';
  for (let k = 0; k < cps.length; k += 4096) out += String.fromCodePoint(...cps.slice(k, k + 4096));
  return out;
}

/** influxdb pkg/escape `Unescape`: `\,` `\"` `\ ` `\=` lose their backslash; nothing else does. */
function unescapeName(buf: Uint8Array, s: number, e: number): string {
  let simple = true;
  for (let i = s; i < e; i++) {
    if (buf[i] === BS) {
      simple = false;
      break;
    }
  }
  if (simple) return goString(buf, s, e);
  const out = new Uint8Array(e - s);
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === BS && i + 1 < e) {
      const d = buf[i + 1]!;
      if (d === COMMA || d === DQ || d === SP || d === EQ) {
        out[n++] = d;
        i++;
        continue;
      }
    }
    out[n++] = c;
  }
  return goString(out, 0, n);
}

/**
 * Go `strconv.ParseFloat` (bitSize 64) succeeds on [s, e), for the bytes influxd's scanner lets
 * through (digits, one `.`, `e`/`E` with a sign, a leading `-`): the syntax
 * `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`, and a finite value (overflow is an error, underflow
 * gives 0). The magnitude is judged from the digits and the exponent; only a value within a
 * decade of the largest double is converted.
 */
function goFloatOk(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (i < e && (buf[i] === 43 || buf[i] === 45)) i++;
  let intDigits = 0; // significant digits before the point
  let leadZeros = 0; // zeros after the point before the first significant digit (when intDigits is 0)
  let mantissa = 0;
  let nonZero = false;
  for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++, mantissa++) {
    if (buf[i] !== 48 || nonZero) {
      nonZero = true;
      intDigits++;
    }
  }
  if (i < e && buf[i] === 46) {
    i++;
    for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++, mantissa++) {
      if (buf[i] !== 48) nonZero = true;
      else if (!nonZero) leadZeros++;
    }
  }
  if (mantissa === 0) return false;
  let exp = 0;
  if (i < e && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let neg = false;
    if (i < e && (buf[i] === 43 || buf[i] === 45)) neg = buf[i++] === 45;
    const ds = i;
    for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++) if (exp < 1e6) exp = exp * 10 + (buf[i]! - 48);
    if (i === ds) return false;
    if (neg) exp = -exp;
  }
  if (i !== e) return false;
  if (!nonZero) return true;
  // The value is in [10^(m-1), 10^m).
  const m = (intDigits > 0 ? intDigits : -leadZeros) + exp;
  if (m <= 308) return true;
  if (m >= 310) return false;
  return Number.isFinite(Number(ascii(buf, s, e)));
}

/** `scanNumber`: the end of the number starting at `i`, or the error text. */
function scanNumber(buf: Uint8Array, i: number, end: number): number | string {
  const start = i;
  let isInt = false;
  let isUnsigned = false;
  if (i < end && buf[i] === 45) {
    i++;
    if (i === end) return ERR_NUMBER;
  }
  let decimal = false;
  let scientific = false;
  for (;;) {
    if (i >= end) break;
    const c = buf[i]!;
    if (c === COMMA || c === SP) break;
    if (c === 105 /* i */ && i > start && !(isInt || isUnsigned)) {
      isInt = true;
      i++;
      continue;
    } else if (c === 117 /* u */ && i > start && !(isInt || isUnsigned)) {
      isUnsigned = true;
      i++;
      continue;
    }
    if (c === 46) {
      if (decimal) return ERR_NUMBER;
      decimal = true;
    }
    if (i > start && (c === 101 || c === 69)) {
      scientific = true;
      i++;
      continue;
    }
    if ((c === 43 || c === 45) && (buf[i - 1] === 101 || buf[i - 1] === 69)) {
      i++;
      continue;
    }
    if (i + 2 < end && (c === 78 || c === 110)) return ERR_NUMBER;
    if (!isNumeric(c)) return ERR_NUMBER;
    i++;
  }
  if ((isInt || isUnsigned) && (decimal || scientific)) return ERR_NUMBER;
  let digits = i - start;
  if (isInt) digits--;
  if (decimal) digits--;
  if (buf[start] === 45) digits--;
  if (digits === 0) return ERR_NUMBER;
  if (isInt) {
    if (buf[i - 1] !== 105) return ERR_NUMBER;
    // influxd parses integers of 19 characters or more (sign included) to check the range.
    if (i - 1 - start >= 19) {
      const neg = buf[start] === 45;
      const ds = neg ? start + 1 : start;
      let inRange = true;
      for (let k = ds; k < i - 1; k++) if (buf[k]! < 48 || buf[k]! > 57) inRange = false;
      if (!inRange || !digitsAtMost(buf, ds, i - 1, neg ? INT64_MIN_DIGITS : INT64_MAX_DIGITS)) {
        const s = ascii(buf, start, i - 1);
        const r = parseIntText(s);
        if (typeof r === 'string') return `unable to parse integer ${s}: ${r}`;
      }
    }
  } else if (isUnsigned) {
    // influxd 1.x OSS parses with uint64 support off: every `u` number is invalid.
    return ERR_NUMBER;
  } else if (scientific || i - start >= 25) {
    if (!goFloatOk(buf, start, i)) return 'invalid float';
  }
  return i;
}

/** Whether [s, s+len) holds the ASCII text `word`. */
function bytesAre(buf: Uint8Array, s: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (buf[s + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** `scanBoolean`: the end of the boolean starting at `i`, or the error text. */
function scanBoolean(buf: Uint8Array, i: number, end: number): number | string {
  const start = i;
  const c = buf[i];
  if (i < end && c !== 116 && c !== 102 && c !== 84 && c !== 70) return ERR_BOOLEAN;
  i++;
  while (i < end && buf[i] !== COMMA && buf[i] !== SP) i++;
  const len = i - start;
  if (len === 1) return i;
  if ((c === 116 || c === 84) && len !== 4) return ERR_BOOLEAN;
  if ((c === 102 || c === 70) && len !== 5) return ERR_BOOLEAN;
  const valid = len === 4
    ? bytesAre(buf, start, 'true') || bytesAre(buf, start, 'TRUE') || bytesAre(buf, start, 'True')
    : bytesAre(buf, start, 'false') || bytesAre(buf, start, 'FALSE') || bytesAre(buf, start, 'False');
  return valid ? i : ERR_BOOLEAN;
}

function parseIntText(s: string): bigint | string {
  if (!/^-?\d+$/.test(s)) return `strconv.ParseInt: parsing "${s}": invalid syntax`;
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) return `strconv.ParseInt: parsing "${s}": value out of range`;
  return v;
}

/** Tag key ranges of the line being parsed (reused: no allocation per line). */
let tagKeys = new Int32Array(64);

/** Whether two of the first `n` tag keys in `tagKeys` (start, end pairs) have the same bytes. */
function hasDuplicateTag(buf: Uint8Array, n: number): boolean {
  if (n > 64) {
    // Many tags: a set of strings beats comparing every pair.
    const seen = new Set<string>();
    for (let a = 0; a < n; a++) seen.add(ascii(buf, tagKeys[2 * a]!, tagKeys[2 * a + 1]!));
    return seen.size !== n;
  }
  for (let a = 0; a < n; a++) {
    const as = tagKeys[2 * a]!;
    const len = tagKeys[2 * a + 1]! - as;
    for (let b = a + 1; b < n; b++) {
      const bs = tagKeys[2 * b]!;
      if (tagKeys[2 * b + 1]! - bs !== len) continue;
      let k = 0;
      while (k < len && buf[as + k] === buf[bs + k]) k++;
      if (k === len) return true;
    }
  }
  return false;
}

/**
 * Accepts or refuses one line as influxd 1.6.7 parses it: `undefined` when it parses, else the
 * reason influxd gives (`unable to parse '…': <reason>`). `start`/`end` bound the line (leading
 * spaces, tabs and NULs are skipped, as influxd does); nothing is allocated for a line that parses.
 */
export function checkLine(buf: Uint8Array, start: number, end: number, precision: PrecisionSpec): string | undefined {
  return parse(buf, start, end, precision, undefined);
}

/**
 * Reads one line the way influxd 1.6.7 parses it: either the point's measurement, fields with
 * their types, `time` tag and timestamp, or the reason influxd gives when it refuses the line.
 * `range` is a line as `splitLines` returns it.
 */
export function readLine(body: Uint8Array, range: LineRange, precision?: Precision): LineReadResult {
  return readPoint(body, range.start, range.end, precisionSpec(precision));
}

/** `readLine` on [start, end). */
export function readPoint(buf: Uint8Array, start: number, end: number, precision: PrecisionSpec): LineReadResult {
  const line: ParsedLine = { measurement: '', fields: [], timeTag: false, timeNs: undefined };
  const reason = parse(buf, start, end, precision, line);
  return reason === undefined ? { ok: true, line } : { ok: false, reason };
}

/** The port of `parsePoint`: the reason the line is refused, or undefined; fills `out` when given. */
function parse(buf: Uint8Array, start: number, end: number, precision: PrecisionSpec, out: ParsedLine | undefined): string | undefined {
  // ---- scanKey: measurement
  let i = skipWhitespace(buf, start, end);
  const keyStart = i;
  if (i >= end || buf[i] === COMMA) return 'missing measurement';
  let hasTags = false;
  for (;;) {
    i++;
    if (i >= end) return 'missing fields';
    if (buf[i - 1] === BS) continue;
    if (buf[i] === COMMA) {
      hasTags = true;
      break;
    }
    if (buf[i] === SP) break;
  }
  const measEnd = i;
  if (hasTags) {
    i++;
    // ---- scanTags
    let nTags = 0;
    for (;;) {
      // scanTagsKey
      const tagStart = i;
      let c = buf[i];
      if (i >= end || c === SP || c === COMMA || c === EQ) return 'missing tag key';
      for (;;) {
        i++;
        if (i >= end || ((buf[i] === SP || buf[i] === COMMA) && buf[i - 1] !== BS)) return 'missing tag value';
        if (buf[i] === EQ && buf[i - 1] !== BS) break;
      }
      if (2 * nTags + 2 > tagKeys.length) {
        const grown = new Int32Array(tagKeys.length * 2);
        grown.set(tagKeys);
        tagKeys = grown;
      }
      tagKeys[2 * nTags] = tagStart;
      tagKeys[2 * nTags + 1] = i;
      nTags++;
      if (out && i - tagStart === 4 && bytesAre(buf, tagStart, 'time')) out.timeTag = true;
      i++;
      // scanTagsValue
      c = buf[i];
      if (i >= end || c === COMMA || c === SP) return 'missing tag value';
      let next = 0; // 1: another tag, 2: fields
      for (;;) {
        i++;
        if (i >= end) return 'missing fields';
        const d = buf[i]!;
        const escaped = buf[i - 1] === BS;
        if (d === EQ && !escaped) return 'invalid tag format';
        if (d === COMMA && !escaped) {
          next = 1;
          break;
        }
        if (d === SP && !escaped) {
          next = 2;
          break;
        }
      }
      if (next === 2) break;
      i++;
    }
    if (nTags > 1 && hasDuplicateTag(buf, nTags)) return 'duplicate tags';
  }
  const keyEnd = i;
  const keyLen = keyEnd - keyStart;
  if (keyLen === 0) return 'missing measurement';
  if (keyLen > MAX_KEY_LENGTH) return `max key length exceeded: ${keyLen} > ${MAX_KEY_LENGTH}`;

  // ---- scanFields
  const fStart = skipWhitespace(buf, i, end);
  i = fStart;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  let escapes = false;
  let high = false;
  for (;;) {
    if (i >= end) break;
    const c = buf[i]!;
    if (c >= 0x80) high = true;
    if (c === BS && i + 1 < end) {
      escapes = true; // (the walk below runs: it sees the escaped byte too)
      i += 2;
      continue;
    }
    if (c === DQ && equals > commas) {
      quoted = !quoted;
      i++;
      continue;
    }
    if (c === EQ && !quoted) {
      equals++;
      if (buf[i - 1] === SP && buf[i - 2] !== BS) return 'missing field key';
      if (buf[i - 1] === COMMA && buf[i - 2] !== BS) return 'missing field key';
      if (i + 1 >= end) return 'missing field value';
      const v = buf[i + 1]!;
      if (v === COMMA || v === SP) return 'missing field value';
      if (isNumeric(v) || v === 45 || v === 78 || v === 110) {
        const r = scanNumber(buf, i + 1, end);
        if (typeof r === 'string') return r;
        i = r;
        continue;
      }
      if (v !== DQ) {
        const r = scanBoolean(buf, i + 1, end);
        if (typeof r === 'string') return r;
        i = r;
        continue;
      }
    }
    if (c === COMMA && !quoted) commas++;
    if (c === SP && !quoted) break;
    i++;
  }
  if (quoted) return 'unbalanced quotes';
  if (equals === 0 || commas !== equals - 1) return 'invalid field format';
  const fEnd = i;
  if (fEnd === fStart) return 'missing fields';

  // ---- walkFields (max key length) and the field iterator (keys and types). When only
  // checking, a field set without backslashes that is short enough cannot fail here (scanFields
  // and the iterator then agree on every `=`, quote and comma): skipped.
  let p = out || escapes || high || keyLen + 4 + (fEnd - fStart) > MAX_KEY_LENGTH ? fStart : fEnd;
  let badKey = false;
  while (p < fEnd) {
    // scanTo(fields, p, '='): an '=' not preceded by a backslash (or at the very start)
    let k = p;
    while (k < fEnd && !(buf[k] === EQ && (k === p || buf[k - 1] !== BS))) k++;
    if (k > fEnd - 2) return `invalid value: field-key=${goString(buf, p, k)}`;
    const sz = keyLen + 4 + (k - p);
    if (sz > MAX_KEY_LENGTH) return `max key length exceeded: ${sz} > ${MAX_KEY_LENGTH}`;
    if (!out && hasHighByte(buf, p, k) && !validUtf8(buf, p, k)) badKey = true;
    // scanFieldValue
    let v = k + 1;
    let q = false;
    while (v < fEnd) {
      const c = buf[v]!;
      if (c === BS && v + 1 < fEnd && (buf[v + 1] === DQ || buf[v + 1] === BS)) {
        v += 2;
        continue;
      }
      if (c === DQ) {
        v++;
        q = !q;
        continue;
      }
      if (c === COMMA && !q) break;
      v++;
    }
    const vs = k + 1;
    if (out && v > vs) {
      const c = buf[vs]!;
      const last = buf[v - 1]!;
      let type: LineFieldType;
      if (c === DQ) type = 'string';
      else if (isNumeric(c) || c === 45 || c === 110 || c === 78 || c === 105 || c === 73 || c === 117) {
        type = last === 105 ? 'integer' : last === 117 ? 'unsigned' : 'float';
      } else type = 'boolean';
      out.fields.push({ key: unescapeName(buf, p, Math.min(k, fEnd)), type });
    }
    p = v + 1;
  }

  // ---- scanTime
  const tStart = skipWhitespace(buf, fEnd, end);
  i = tStart;
  for (;;) {
    if (i >= end) break;
    const c = buf[i]!;
    if (c === NL || c === SP) break;
    if (i === tStart && c === 45) {
      i++;
      continue;
    }
    if (c < 48 || c > 57) return 'bad timestamp';
    i++;
  }
  if (i > tStart) {
    // ParseInt then SafeCalcTime: in range when |ts| <= floor(MAX_NANO / mult) (the range is
    // symmetric); anything else (a lone `-`, beyond the bound) is worked out exactly.
    const ds = buf[tStart] === 45 ? tStart + 1 : tStart;
    if (ds === i || !digitsAtMost(buf, ds, i, precision.bound) || out) {
      const ts = parseIntText(ascii(buf, tStart, i));
      if (typeof ts === 'string') return ts;
      const t = ts * precision.mult;
      if (t < INT64_MIN || t > INT64_MAX || t < MIN_NANO || t > MAX_NANO) return ERR_TIME_RANGE;
      if (out) out.timeNs = t;
    }
    for (; i < end; i++) if (buf[i] !== SP) return 'point is invalid';
  }
  if (out) out.measurement = unescapeName(buf, keyStart, measEnd);
  else {
    // Not a parse error: what influxd fails to store (see the header).
    if (hasHighByte(buf, keyStart, measEnd) && !validUtf8(buf, keyStart, measEnd)) return `the measurement name ${ERR_UTF8}`;
    if (badKey) return `a field key ${ERR_UTF8}`;
  }
  return undefined;
}

/** The start of the line at `start` for messages: at most `max` bytes, as Go shows bytes, `…` when cut. */
export function lineExcerpt(buf: Uint8Array, start: number, end: number, max = 120): string {
  return end - start <= max ? goString(buf, start, end) : `${goString(buf, start, start + max)}…`;
}

/**
 * Bytes every line of which has passed `checkLine` with this precision (the loader checks lines
 * as it reads them): the write path does not parse them a second time. `lines` >= 0 also says
 * the bytes are `lines` lines, each ending in `\n`, none skipped by influxd nor ending in `\r`:
 * they can be taken whole.
 */
const checkedBytes = new WeakMap<Uint8Array, { precision: PrecisionSpec; lines: number }>();

export function markChecked(bytes: Uint8Array, precision: PrecisionSpec, lines = -1): void {
  checkedBytes.set(bytes, { precision, lines });
}

/** undefined: not checked with this precision; else the `lines` given to markChecked. */
export function checkedLines(bytes: Uint8Array, precision: PrecisionSpec): number | undefined {
  const c = checkedBytes.get(bytes);
  return c && c.precision === precision ? c.lines : undefined;
}
