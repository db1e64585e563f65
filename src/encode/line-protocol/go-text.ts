/**
 * Bytes of line protocol as text in influxd's messages: `goString` shows bytes as Go's JSON
 * encoder does (invalid UTF-8 as U+FFFD per byte), `unescapeName` undoes the escapes influxd
 * undoes in names, `lineExcerpt` cuts a line for a message, `ascii` reads bytes known to be
 * ASCII. The parser (`parse.ts`) words its reasons with them, and so does the writer's 400
 * analysis.
 * @module
 */
import { BS, COMMA, DQ, EQ, SP } from './scan.js';
import { utf8Tail } from './utf8.js';

/** Bytes [s, e) as text, one char per byte: ASCII as is (digits, keywords), other bytes as Latin-1 (a key for comparisons). */
export function ascii(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
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
export function unescapeName(buf: Uint8Array, s: number, e: number): string {
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

/** The start of the line at `start` for messages: at most `max` bytes, as Go shows bytes, `…` when cut. */
export function lineExcerpt(buf: Uint8Array, start: number, end: number, max = 120): string {
  return end - start <= max ? goString(buf, start, end) : `${goString(buf, start, start + max)}…`;
}
