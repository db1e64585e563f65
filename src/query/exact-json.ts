/**
 * Exact JSON parsing for InfluxDB /query responses.
 *
 * `JSON.parse` silently rounds integers beyond 2^53 (nanosecond epochs, int64
 * field values). {@link parseExactJson} behaves exactly like `JSON.parse`
 * except that an integer literal (no fraction, no exponent) whose value lies
 * outside the safe-integer range is returned as a `bigint`.
 */

import { C, hexValue, skipWsText } from './json/bytes.js';

/**
 * Any integer literal of at most 15 digits is a safe integer, so a text
 * without a 16-digit run needs no special care. Semantically `/\d{16}/`, but
 * spelled out: V8's irregexp runs the unrolled form ~10x faster than the
 * counted quantifier (≈5 ms vs ≈50 ms on a 6 MB response).
 */
const LONG_DIGIT_RUN = new RegExp('\\d'.repeat(16));

/**
 * Parse JSON text exactly like `JSON.parse`, except that integer literals
 * outside `Number.MIN_SAFE_INTEGER..Number.MAX_SAFE_INTEGER` become `bigint`s.
 *
 * @throws SyntaxError (message includes the position) on invalid JSON.
 */
export function parseExactJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      // V8's messages do not always carry the position; re-parse to produce
      // a uniform error. (The exact parser must reject the text too; if it
      // somehow does not, surface the original error.)
      parseSlow(text);
      throw err;
    }
  }
  return parseSlow(text);
}

type JsonObject = Record<string, unknown>;

function fail(text: string, pos: number, what?: string): never {
  if (what === undefined) {
    if (pos >= text.length) throw new SyntaxError(`Unexpected end of JSON input at position ${pos}`);
    what = `Unexpected token ${JSON.stringify(text[pos])}`;
  }
  throw new SyntaxError(`${what} in JSON at position ${pos}`);
}

function failLiteral(text: string, pos: number, literal: string): never {
  // Point at the first mismatching character.
  let i = 0;
  while (i < literal.length && text.charCodeAt(pos + i) === literal.charCodeAt(i)) i++;
  fail(text, pos + i);
}

function setProperty(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    // Like JSON.parse: an own data property, not a prototype change.
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * End position of the token most recently parsed by parseString/parseNumber/
 * parseKey (a second return value without allocating). Module-level state is
 * safe: the parser is synchronous and never calls user code, so it cannot be
 * re-entered mid-parse.
 */
let tokenEnd = 0;

/** Parse a string whose opening quote is at `start`; returns the value and sets `tokenEnd` past the closing quote. */
function parseString(text: string, start: number): string {
  const len = text.length;
  let i = start + 1;
  for (;;) {
    if (i >= len) fail(text, i, 'Unterminated string');
    const c = text.charCodeAt(i);
    if (c === C.QUOTE) {
      tokenEnd = i + 1;
      return text.slice(start + 1, i);
    }
    if (c === C.BACKSLASH) break;
    if (c < 0x20) fail(text, i, 'Bad control character in string literal');
    i++;
  }
  // Slow path: escapes present. Concatenate runs between escapes.
  let out = text.slice(start + 1, i);
  let runStart = i;
  for (;;) {
    if (i >= len) fail(text, i, 'Unterminated string');
    const c = text.charCodeAt(i);
    if (c === C.QUOTE) {
      tokenEnd = i + 1;
      return runStart < i ? out + text.slice(runStart, i) : out;
    }
    if (c === C.BACKSLASH) {
      if (runStart < i) out += text.slice(runStart, i);
      i++;
      if (i >= len) fail(text, i, 'Unterminated string');
      const e = text.charCodeAt(i);
      switch (e) {
        case C.QUOTE: out += '"'; break;
        case C.BACKSLASH: out += '\\'; break;
        case C.SLASH: out += '/'; break;
        case 0x62 /* b */: out += '\b'; break;
        case 0x66 /* f */: out += '\f'; break;
        case 0x6e /* n */: out += '\n'; break;
        case 0x72 /* r */: out += '\r'; break;
        case 0x74 /* t */: out += '\t'; break;
        case 0x75 /* u */: {
          if (i + 4 >= len) fail(text, Math.min(i + 1, len), 'Bad Unicode escape');
          const h0 = hexValue(text.charCodeAt(i + 1));
          const h1 = hexValue(text.charCodeAt(i + 2));
          const h2 = hexValue(text.charCodeAt(i + 3));
          const h3 = hexValue(text.charCodeAt(i + 4));
          if ((h0 | h1 | h2 | h3) < 0) fail(text, i - 1, 'Bad Unicode escape');
          // Code units are emitted individually; paired surrogates combine
          // naturally, lone ones stay lone — exactly as JSON.parse.
          out += String.fromCharCode((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
          i += 4;
          break;
        }
        default:
          fail(text, i - 1, 'Bad escaped character');
      }
      i++;
      runStart = i;
      continue;
    }
    if (c < 0x20) fail(text, i, 'Bad control character in string literal');
    i++;
  }
}

/**
 * The end of the run of digits at `i`, which must have one (else a SyntaxError saying `what`).
 * Small enough for V8 to inline into `parseNumber`: the loop over the digits stays in one place.
 */
function digitsEnd(text: string, i: number, what: string): number {
  let c = text.charCodeAt(i);
  if (!(c >= C.ZERO && c <= C.NINE)) fail(text, i, what);
  do c = text.charCodeAt(++i);
  while (c >= C.ZERO && c <= C.NINE);
  return i;
}

/** Parse a number starting at `start`; sets `tokenEnd` past it. */
function parseNumber(text: string, start: number): number | bigint {
  let i = start;
  if (text.charCodeAt(i) === C.MINUS) i++;
  const intStart = i;
  if (text.charCodeAt(i) === C.ZERO) {
    i++;
    const c = text.charCodeAt(i);
    if (c >= C.ZERO && c <= C.NINE) fail(text, i, 'Unexpected number');
  } else {
    i = digitsEnd(text, i, 'No number after minus sign');
  }
  const intDigits = i - intStart;
  let isInteger = true;
  let c = text.charCodeAt(i);
  if (c === C.DOT) {
    isInteger = false;
    i = digitsEnd(text, i + 1, 'Unterminated fractional number');
    c = text.charCodeAt(i);
  }
  if (c === C.LOWER_E || c === C.UPPER_E) {
    isInteger = false;
    i++;
    c = text.charCodeAt(i);
    if (c === C.PLUS || c === C.MINUS) i++;
    i = digitsEnd(text, i, 'Exponent part is missing a number');
  }
  tokenEnd = i;
  const slice = text.slice(start, i);
  if (isInteger && intDigits > 15) {
    // ≤ 15 digits is always safe; ≥ 17 digits (≥ 10^16 > 2^53) never is.
    if (intDigits > 16) return BigInt(slice);
    // 16 digits: Number() rounds to the nearest double; any true value
    // beyond MAX_SAFE_INTEGER rounds to ≥ 2^53, which is not a safe
    // integer, so this test is exact.
    const n = Number(slice);
    return Number.isSafeInteger(n) ? n : BigInt(slice);
  }
  return Number(slice);
}

/** Parse `"key" :` at `p` (whitespace already skipped); returns the key and sets `tokenEnd` past ':' and any whitespace. */
function parseKey(text: string, p: number): string {
  if (text.charCodeAt(p) !== C.QUOTE) fail(text, p, 'Expected double-quoted property name');
  const key = parseString(text, p);
  p = skipWsText(text, tokenEnd);
  if (text.charCodeAt(p) !== C.COLON) fail(text, p, "Expected ':' after property name");
  tokenEnd = skipWsText(text, p + 1);
  return key;
}

/**
 * Iterative parser (no recursion, so arbitrary nesting depth cannot overflow
 * the call stack — matching JSON.parse, which has no depth limit either).
 */
function parseSlow(text: string): unknown {
  const len = text.length;
  let pos = 0;

  // Elements of all open arrays live on one shared value stack and are
  // sliced out into an exactly-sized array when the array closes (arrays
  // grown by push() from [] over-allocate ~3x for typical short rows).
  const vals: unknown[] = [];
  // Saved state of enclosing containers: [obj, arrStart, key] per level.
  const frames: unknown[] = [];
  let depth = 0; // number of open containers
  let obj: JsonObject | undefined; // current object, or undefined when in an array
  let arrStart = 0; // index into `vals` where the current array's elements start
  let key = ''; // pending key in the current object
  let value: unknown;

  pos = skipWsText(text, 0);
  for (;;) {
    // ---- Parse a value at `pos` (whitespace already skipped). ----
    const c = text.charCodeAt(pos);
    if (c === C.QUOTE) {
      value = parseString(text, pos);
      pos = tokenEnd;
    } else if ((c >= C.ZERO && c <= C.NINE) || c === C.MINUS) {
      value = parseNumber(text, pos);
      pos = tokenEnd;
    } else if (c === C.LBRACKET) {
      pos = skipWsText(text, pos + 1);
      if (text.charCodeAt(pos) === C.RBRACKET) {
        pos++;
        value = [];
      } else {
        if (depth > 0) frames.push(obj, arrStart, key);
        depth++;
        obj = undefined;
        arrStart = vals.length;
        continue;
      }
    } else if (c === C.LBRACE) {
      pos = skipWsText(text, pos + 1);
      if (text.charCodeAt(pos) === C.RBRACE) {
        pos++;
        value = {};
      } else {
        const k = parseKey(text, pos);
        pos = tokenEnd;
        if (depth > 0) frames.push(obj, arrStart, key);
        depth++;
        obj = {};
        key = k;
        continue;
      }
    } else if (c === C.LOWER_T) {
      if (!text.startsWith('true', pos)) failLiteral(text, pos, 'true');
      value = true;
      pos += 4;
    } else if (c === C.LOWER_F) {
      if (!text.startsWith('false', pos)) failLiteral(text, pos, 'false');
      value = false;
      pos += 5;
    } else if (c === C.LOWER_N) {
      if (!text.startsWith('null', pos)) failLiteral(text, pos, 'null');
      value = null;
      pos += 4;
    } else {
      fail(text, pos);
    }

    // ---- Attach `value` to the enclosing container(s). ----
    for (;;) {
      if (depth === 0) {
        pos = skipWsText(text, pos);
        if (pos < len) fail(text, pos, 'Unexpected non-whitespace character after JSON');
        return value;
      }
      if (obj === undefined) vals.push(value);
      else setProperty(obj, key, value);
      pos = skipWsText(text, pos);
      const d = text.charCodeAt(pos);
      if (d === C.COMMA) {
        pos = skipWsText(text, pos + 1);
        if (obj !== undefined) {
          key = parseKey(text, pos);
          pos = tokenEnd;
        }
        break; // parse next value
      }
      if (obj === undefined ? d === C.RBRACKET : d === C.RBRACE) {
        pos++;
        if (obj === undefined) {
          value = vals.slice(arrStart);
          vals.length = arrStart;
        } else {
          value = obj;
        }
        if (--depth > 0) {
          key = frames.pop() as string;
          arrStart = frames.pop() as number;
          obj = frames.pop() as JsonObject | undefined;
        }
        continue;
      }
      fail(text, pos, obj === undefined ? "Expected ',' or ']' after array element" : "Expected ',' or '}' after property value");
    }
  }
}
