/**
 * What influxd 1.6.7 makes of one line of line protocol: the one parser of the project, a port
 * of `parsePoint` (models/points.go: scanKey, scanTags, scanFields, scanNumber, scanBoolean,
 * walkFields, scanTime, SafeCalcTime). It owns
 * - `checkLine`: accept or refuse a line, with influxd's reason, allocating nothing for a line
 *   that parses (the pre-send check of raw line protocol runs it on every line);
 * - `readLine`/`readPoint`: the same walk, also giving the measurement, the fields with their
 *   types, the `time` tag and the timestamp (the writer's 400 analysis);
 * - `markChecked`/`checkedLines`: bytes already checked, not parsed a second time.
 * The walk is here; the value scanners it calls (numbers, booleans, integer and time texts) are
 * values.ts, and the text of its reasons (`goString`, `lineExcerpt`, re-exported) go-text.ts.
 * Encodings, as measured on influxd 1.6.7: NUL bytes anywhere and invalid UTF-8 in tag keys, tag
 * values and string fields are stored as they are, and accepted here. Invalid UTF-8 in a
 * measurement name or a field key parses, but a write that creates a shard then fails with a 500
 * (`proto: field "tsdb.MeasurementFields.Name" contains invalid UTF-8`) and stores nothing of
 * the request, good lines included: `checkLine` refuses such lines (`readLine`, which replays
 * what influxd parsed, does not).
 * Where lines end and which are skipped is scan.ts.
 */
import type { Precision } from '../../types.js';
import { ascii, goString, unescapeName } from './go-text.js';
import { BS, COMMA, DQ, EQ, NL, SP, skipWhitespace, type LineRange } from './scan.js';
import { utf8Tail } from './utf8.js';
import { INT64_MAX, INT64_MIN, bytesAre, digitBytes, digitsAtMost, isNumeric, parseIntText, scanBoolean, scanNumber } from './values.js';

export { goString, lineExcerpt } from './go-text.js';

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
const ERR_TIME_RANGE = `time outside range ${MIN_NANO} - ${MAX_NANO}`;

/** A write precision as the parser needs it: the multiplier, and the largest |timestamp| in range as digits. */
export interface PrecisionSpec {
  readonly mult: bigint;
  /** floor(MAX_NANO / mult) in decimal ASCII: a timestamp with no more significant digits, and not larger, is in range. */
  readonly bound: Uint8Array;
}

const SPECS: Record<string, PrecisionSpec> = {};
for (const [p, m] of Object.entries({ n: 1n, u: 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n })) {
  SPECS[p] = { mult: m, bound: digitBytes(String(MAX_NANO / m)) };
}

/** The parser's view of a `precision` (default, and anything unknown: `n`, as influxd). */
export function precisionSpec(p: Precision | string | undefined): PrecisionSpec {
  return (p !== undefined && SPECS[p]) || SPECS.n!;
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
