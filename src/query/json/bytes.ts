/**
 * The characters of JSON, shared by the two JSON readers: `parseExactJson` (over a string's
 * char codes, `../exact-json.ts`) and the `arrow` parser over UTF-8 bytes
 * (`../output/json-columns/`). Character codes are the same in both (JSON's syntax is ASCII).
 */

/**
 * Character codes. A `const enum`: the compiler writes the numbers themselves at every use, so the
 * readers' hot loops compare against literals (an imported `const` is a load V8 does not fold).
 */
export const enum C {
  TAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  SPACE = 0x20,
  QUOTE = 0x22,
  PLUS = 0x2b,
  COMMA = 0x2c,
  MINUS = 0x2d,
  DOT = 0x2e,
  SLASH = 0x2f,
  ZERO = 0x30,
  NINE = 0x39,
  COLON = 0x3a,
  UPPER_E = 0x45,
  LBRACKET = 0x5b,
  BACKSLASH = 0x5c,
  RBRACKET = 0x5d,
  LOWER_E = 0x65,
  LOWER_F = 0x66,
  LOWER_N = 0x6e,
  LOWER_T = 0x74,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
}

/** The value of a hex digit, -1 for anything else (`undefined` past the end of bytes, NaN of `charCodeAt`). */
export function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lc = c | 0x20;
  if (lc >= 0x61 && lc <= 0x66) return lc - 0x61 + 10;
  return -1;
}

/** The code unit of the 4 hex digits of a `\u` escape at `p` in UTF-8 bytes; -1 when one is not a hex digit. */
export function hex4(b: Uint8Array, p: number): number {
  const h0 = hexValue(b[p]);
  const h1 = hexValue(b[p + 1]);
  const h2 = hexValue(b[p + 2]);
  const h3 = hexValue(b[p + 3]);
  return (h0 | h1 | h2 | h3) < 0 ? -1 : (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
}

/** JSON whitespace: space, tab, LF, CR. */
export function isWs(c: number | undefined): boolean {
  return c === C.SPACE || c === C.LF || c === C.CR || c === C.TAB;
}

/**
 * The first position at or after `p` that is not whitespace, in UTF-8 bytes (`skipWsText`: in a
 * string). Two functions, each seeing one type: one for both is measurably slower in V8.
 */
export function skipWs(b: Uint8Array, p: number): number {
  while (isWs(b[p])) p++;
  return p;
}

export function skipWsText(s: string, p: number): number {
  while (isWs(s.charCodeAt(p))) p++;
  return p;
}
