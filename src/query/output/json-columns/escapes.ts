/**
 * Strings with escapes, decoded into UTF-8 bytes (typed string and tag columns: no JS string per
 * cell), and the hash of a tag's bytes for the dictionaries of the sinks.
 */
import { C, hex4 } from '../../json/bytes.js';
import { bail, cursor } from './scanner.js';

export let scratch: Uint8Array = new Uint8Array(256);

/**
 * Decodes the string starting after its opening quote at `start` (the first escape at `q`)
 * into `scratch` as UTF-8; returns its length and sets `cursor.end` past the closing quote, or -1
 * for a lone surrogate (Utf8 turns it into U+FFFD while a dictionary keeps it apart: such a
 * series is done generically).
 */
export function unescapeToScratch(b: Uint8Array, start: number, q: number): number {
  let n = 0;
  const ensure = (extra: number): void => {
    if (n + extra > scratch.length) {
      const grown = new Uint8Array(Math.max(scratch.length * 2, n + extra));
      grown.set(scratch.subarray(0, n));
      scratch = grown;
    }
  };
  ensure(q - start);
  scratch.set(b.subarray(start, q), 0);
  n = q - start;
  for (;;) {
    const c = b[q];
    if (c === C.QUOTE) {
      cursor.end = q + 1;
      return n;
    }
    if (c === undefined || c < 0x20) bail();
    ensure(4);
    if (c !== C.BACKSLASH) {
      scratch[n++] = c;
      q++;
      continue;
    }
    const e = b[q + 1];
    let byte = -1;
    switch (e) {
      case C.QUOTE: byte = 0x22; break;
      case C.BACKSLASH: byte = 0x5c; break;
      case C.SLASH: byte = 0x2f; break;
      case 0x62: byte = 0x08; break;
      case 0x66: byte = 0x0c; break;
      case 0x6e: byte = 0x0a; break;
      case 0x72: byte = 0x0d; break;
      case 0x74: byte = 0x09; break;
      case 0x75: break;
      default: bail();
    }
    if (byte >= 0) {
      scratch[n++] = byte;
      q += 2;
      continue;
    }
    let cp = hex4(b, q + 2);
    if (cp < 0) bail();
    q += 6;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      if (cp >= 0xdc00 || b[q] !== C.BACKSLASH || b[q + 1] !== 0x75) return -1;
      const lo = hex4(b, q + 2);
      if (lo < 0) bail();
      if (lo < 0xdc00 || lo > 0xdfff) return -1;
      q += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp < 0x80) {
      scratch[n++] = cp;
    } else if (cp < 0x800) {
      scratch[n++] = 0xc0 | (cp >> 6);
      scratch[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      scratch[n++] = 0xe0 | (cp >> 12);
      scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
      scratch[n++] = 0x80 | (cp & 0x3f);
    } else {
      scratch[n++] = 0xf0 | (cp >> 18);
      scratch[n++] = 0x80 | ((cp >> 12) & 0x3f);
      scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
      scratch[n++] = 0x80 | (cp & 0x3f);
    }
  }
}

export function hashBytes(src: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return h;
}

export function mixHash(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
}
