/**
 * Where lines of line protocol end and which ones influxd 1.6.7 reads: the one line scanner of
 * the project. It owns
 * - `lineEndAt`, a port of influxd's `scanLine` (models/points.go): a `\n` ends a line unless
 *   escaped or inside a string field;
 * - `LineEnds`, the same rule at the speed of native searches (for long inputs);
 * - the skip rules: blank, whitespace-only (spaces, tabs, NULs: `skipWhitespace`) and `#` lines
 *   are not points;
 * - the client's one liberty: a `\r` just before a line end is dropped (CRLF files), where
 *   influxd would refuse the line (`bad timestamp`, `invalid number`, …);
 * - `cutLines`/`splitLines`: the lines of a body as influxd cuts them.
 * What a line means (and whether influxd can parse it) is parse.ts.
 */

export const BS = 92; // \
export const SP = 32;
export const TAB = 9;
export const CR = 13;
export const NL = 10;
export const COMMA = 44;
export const EQ = 61;
export const DQ = 34;
export const HASH = 35;

/** A line of a body: byte offsets, `end` excludes the `\n`. */
export interface LineRange {
  start: number;
  end: number;
}

/**
 * Index of the byte that ends the line starting at `i` (a `\n`, or `buf.length`): a port of
 * `scanLine` in influxdb 1.6.7 models/points.go. A backslash skips the next byte; after the
 * first space, a `"` toggles a quoted string when more `=` than `,` were seen outside quotes, and
 * a `\n` inside quotes does not end the line.
 */
export function lineEndAt(buf: Uint8Array, i: number): number {
  const n = buf.length;
  while (i < n) {
    const c = buf[i]!;
    if (c === BS) {
      i += 2;
      continue;
    }
    if (c === SP) return fieldsEndAt(buf, i);
    if (c === NL) break;
    i++;
  }
  return Math.min(i, n);
}

/**
 * `lineEndAt` from `i`, where the line's fields start: its first space that is not the second
 * byte of a backslash pair (from there `=`, `,` and `"` are counted; see `lineEndAt`). A caller
 * that has walked the key itself (the lane splitter, series.ts) goes on from there.
 */
export function fieldsEndAt(buf: Uint8Array, i: number): number {
  // Byte values as literals and a table of the bytes that matter: exported constants are loaded
  // from their module cell at every use, which doubles the time of this loop.
  const n = buf.length;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  while (i < n) {
    const c = buf[i]!;
    if (kFieldsSpecial[c] === 0) {
      i++;
      continue;
    }
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (!quoted && c === 61 /* = */) equals++;
    else if (!quoted && c === 44 /* , */) commas++;
    else if (c === 34 /* " */ && equals > commas) quoted = !quoted;
    else if (c === 10 /* \n */ && !quoted) break;
    i++;
  }
  return Math.min(i, n);
}

/** 1 for the bytes `fieldsEndAt` looks at: `\n` `"` `,` `=` `\`. */
const kFieldsSpecial = new Uint8Array(256);
for (const c of [NL, DQ, COMMA, EQ, BS]) kFieldsSpecial[c] = 1;

/** Index of the next `byte` at or after `from`, or `buf.length`. */
function next(buf: Uint8Array, byte: number, from: number): number {
  const i = buf.indexOf(byte, from);
  return i < 0 ? buf.length : i;
}

/**
 * Where the lines of `buf` end, as `lineEndAt` says, at the speed of native searches: a line
 * without a quote or a backslash ends at its first `\n`; one with quoted strings (and no
 * backslash) jumps from quote to quote; a line with a backslash is left to `lineEndAt` itself.
 * Call `at()` with increasing starts (it keeps where the next `"`, `\` and `\n` are, so that a
 * buffer is searched once, not once per line).
 */
export class LineEnds {
  readonly #buf: Uint8Array;
  #quote = -1;
  #slash = -1;
  #nl = -1;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** The first `\n` at or after the start given to the last `at()` (or `buf.length`): where that line ends unless a string holds newlines. */
  get firstNewline(): number {
    return this.#nl;
  }

  /** The index of the `\n` that ends the line starting at `start`, or `buf.length` when the line does not end in `buf`. */
  at(start: number): number {
    const buf = this.#buf;
    const n = buf.length;
    if (this.#nl < start) this.#nl = next(buf, NL, start);
    if (this.#quote < start) this.#quote = next(buf, DQ, start);
    if (this.#slash < start) this.#slash = next(buf, BS, start);
    const slash = this.#slash;
    let nn = this.#nl;
    if (slash < nn) return lineEndAt(buf, start);
    if (this.#quote >= nn) return nn;
    // A quote before the newline, no backslash: the fields start at the first space; there a
    // quote opens a string when more `=` than `,` were seen outside strings, and the string
    // ends at the next quote (a newline inside it does not end the line).
    let i = buf.indexOf(SP, start);
    if (i < 0 || i >= nn) return nn;
    let equals = 0;
    let commas = 0;
    for (;;) {
      if (nn < i) nn = next(buf, NL, i);
      const nq = next(buf, DQ, i);
      if (nq >= nn) return slash < nn ? lineEndAt(buf, start) : nn;
      if (slash < nq) return lineEndAt(buf, start);
      for (; i < nq; i++) {
        const c = buf[i];
        if (c === EQ) equals++;
        else if (c === COMMA) commas++;
      }
      i = nq + 1;
      if (equals <= commas) continue; // not a string: the quote is a plain character
      const q = next(buf, DQ, i);
      if (slash < q) return lineEndAt(buf, start);
      if (q >= n) return n;
      i = q + 1;
    }
  }
}

/** Index of the first byte that is not a space, tab or NUL (influxd's `skipWhitespace`). */
export function skipWhitespace(buf: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c !== SP && c !== TAB && c !== 0) break;
    i++;
  }
  return i;
}

/**
 * Where the text influxd parses starts in the line [start, end), or -1 when influxd skips the
 * line: blank, whitespace-only (spaces, tabs, NULs) or a `#` comment.
 */
export function lineTextStart(buf: Uint8Array, start: number, end: number): number {
  const t = skipWhitespace(buf, start, end);
  return t < end && buf[t] !== HASH ? t : -1;
}

/**
 * The end of a line of user input once the client's CRLF rule is applied: a `\r` just before
 * the line end is not part of the line (influxd would refuse it; CRLF files are common).
 */
export function trimCR(buf: Uint8Array, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}

/** The lines of a body influxd parses, as parallel arrays (no object per line). */
export interface Lines {
  /** Raw line starts (leading whitespace included). */
  start: number[];
  /** Where the text influxd parses (and quotes) starts. */
  text: number[];
  end: number[];
}

export function cutLines(body: Uint8Array): Lines {
  const out: Lines = { start: [], text: [], end: [] };
  const n = body.length;
  const ends = new LineEnds(body);
  let pos = 0;
  while (pos < n) {
    const end = ends.at(pos);
    const text = lineTextStart(body, pos, end);
    if (text >= 0) {
      out.start.push(pos);
      out.text.push(text);
      // A line that runs to the end of the body (an open string, an escaped newline) loses a
      // last `\n`, as in influxd.
      out.end.push(end === n && body[end - 1] === NL ? end - 1 : end);
    }
    pos = end + 1;
  }
  return out;
}

/**
 * The lines influxd parses as points, where influxd itself ends them: blank, whitespace-only and
 * comment (`#`) lines are left out. `end` excludes the `\n`.
 */
export function splitLines(body: Uint8Array): LineRange[] {
  const l = cutLines(body);
  const out: LineRange[] = new Array(l.start.length);
  for (let i = 0; i < out.length; i++) out[i] = { start: l.start[i]!, end: l.end[i]! };
  return out;
}

/** The 1-based physical line (counting every `\n`, those inside strings too) at byte `at`. */
export function lineNumberAt(buf: Uint8Array, at: number, from = 0, firstLine = 1): number {
  let n = firstLine;
  for (let i = buf.indexOf(NL, from); i >= 0 && i < at; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}
