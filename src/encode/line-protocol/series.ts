/**
 * Series keys and per-series lanes: the pieces the batch writer uses to keep last-write-wins with
 * several requests in flight. Every line goes to one of L lanes chosen by a hash of its series key
 * (measurement + tag set), and a lane has one request in flight: two writes of one point (same
 * series, same timestamp) are then sent in the order they were given.
 *
 * Series hash, precisely (a columnar encoder may compute the same value per row from hashes
 * of its dictionary entries, so every component hash depends on the component's bytes alone):
 * - the series key of a line is its text (after leading spaces, tabs and NULs) up to its first
 *   unescaped space, or the line end. A byte is escaped when the byte before it is a backslash
 *   (influxd's scanKey/scanTags rule, as parse.ts reads it); the first byte of the text always
 *   belongs to the measurement;
 * - its components are cut at unescaped commas: the measurement, then each tag pair `key=value`,
 *   as ESCAPED bytes, exactly as written (`host=a\ b` is the 10 bytes `host=a\ b`);
 * - h(c) = MurmurHash3_x86_32 of the component's bytes with seed 0 (little-endian 4-byte blocks);
 * - seriesHash = fmix32((h(measurement) * 0x9E3779B1 + Σ h(tag pair)) mod 2^32), an unsigned
 *   32-bit integer; fmix32 is murmur3's finalizer. The sum makes the value independent of the
 *   order of the tags (influxd sorts them; a user's text may not).
 * The key is compared as written, as influxd 1.x keys the data of a parsed point (its raw key,
 * tags sorted): two spellings of one name (`a\=b` and `a=b` as a measurement) may land in
 * different lanes. Encoders escape one way, so their lines never differ so.
 *
 * Lines are cut by the one scanner (scan.ts): a line ends where influxd's scanLine ends it,
 * blank, whitespace-only and `#` lines carry no point and are dropped (BodyBuilder never counts
 * them as lines).
 */
import { fieldsEndAt, lineEndAt, lineTextStart, skipWhitespace } from './scan.js';

// scan.ts's byte names, as local constants (an imported binding is loaded at every use).
const SP = 32;
const NL = 10;
const HASH = 35;
const TAB = 9;

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const GOLDEN = 0x9e3779b1 | 0;

/** murmur3's finalizer (fmix32). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** murmur3_x86_32 with seed 0 of [s, e): one component of a series key. */
export function componentHash(buf: Uint8Array, s: number, e: number): number {
  let h = 0;
  let i = s;
  for (; i + 4 <= e; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let sh = 0; i < e; i++, sh += 8) k |= buf[i]! << sh;
  return murmurEnd(h, k, (e - s) & 3, e - s);
}

/** The component hash of a tag pair `key=value` given as its escaped key and value bytes. */
export function pairHash(key: Uint8Array, value: Uint8Array): number {
  const n = key.length + 1 + value.length;
  if (pairScratch.length < n) pairScratch = new Uint8Array(Math.max(n, 2 * pairScratch.length));
  pairScratch.set(key, 0);
  pairScratch[key.length] = 61; // '='
  pairScratch.set(value, key.length + 1);
  return componentHash(pairScratch, 0, n);
}
let pairScratch = new Uint8Array(256);

/** murmur3's tail (the last 1-3 bytes in `k`, when `sh` is not 0; a tail of zeros changes nothing) and finalizer, for `len` bytes. */
function murmurEnd(h: number, k: number, sh: number, len: number): number {
  if (sh !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return fmix32(h ^ len);
}

/** `seriesHash` from the hashes of the measurement and of the tag pairs (in any order). */
export function combineSeriesHash(measurement: number, tagPairs: Iterable<number>): number {
  let t = 0;
  for (const p of tagPairs) t = (t + p) | 0;
  return finishSeriesHash(measurement, t);
}

/** `seriesHash` from the measurement's hash and the 32-bit sum of the tag pairs' hashes. */
export function finishSeriesHash(measurement: number, tagSum: number): number {
  return fmix32((Math.imul(measurement, GOLDEN) + tagSum) | 0) >>> 0;
}

/** Where the last `walkKey` stopped (its first unescaped space, `\n` or the limit) and whether it saw a backslash. */
let keyEnd = 0;
let keyBackslash = false;

/**
 * The series hash of the key starting at `text` (see the header): walks to the first unescaped
 * space, or `limit`, or (with `stopAtNewline`) a `\n` not after a backslash; sets `keyEnd` and
 * `keyBackslash`. Components are hashed as murmur3 while walking (no allocation). Byte values and
 * murmur3's constants are literals here: module constants cost a load per use in this loop.
 */
function walkKey(buf: Uint8Array, text: number, limit: number, stopAtNewline: boolean): number {
  let m = 0; // measurement hash, once known
  let t = 0; // sum of tag pair hashes
  let inTags = false;
  let h = 0;
  let k = 0;
  let sh = 0;
  let cs = text; // component start
  let backslash = false;
  let i = text;
  for (; i < limit; i++) {
    const c = buf[i]!;
    if (c <= 44 && i > text && (c === 44 || c === 32 || (c === 10 && stopAtNewline)) && buf[i - 1] !== 92) {
      const ch = murmurEnd(h, k, sh, i - cs);
      if (inTags) t = (t + ch) | 0;
      else m = ch;
      inTags = true;
      h = 0;
      k = 0;
      sh = 0;
      cs = i + 1;
      if (c !== 44) break;
      continue;
    }
    if (c === 92) backslash = true;
    k |= c << sh;
    sh += 8;
    if (sh === 32) {
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      sh = 0;
    }
  }
  if (i >= limit) {
    // The key runs to the limit (a line without fields): its last component ends there.
    const ch = murmurEnd(h, k, sh, limit - cs);
    if (inTags) t = (t + ch) | 0;
    else m = ch;
    i = limit;
  }
  keyEnd = i;
  keyBackslash = backslash;
  return fmix32((Math.imul(m, 0x9e3779b1) + t) | 0) >>> 0;
}

/**
 * The 32-bit series hash (unsigned) of the line [start, end), as defined in the header: the
 * same for every line of one series, whatever the order of its tags. Allocates nothing.
 */
export function seriesHash(buf: Uint8Array, start: number, end: number): number {
  return walkKey(buf, skipWhitespace(buf, start, end), end, false);
}

/** Receives one lane's lines: [start, end) of `from` (valid during the call only), `lines` of them. */
export type LaneAdd = (lane: number, from: Buffer, start: number, end: number, lines: number) => void;

/** The lines of a body by lane. */
export interface LaneSplit {
  /** bodies[i]: the lines of lane i, each ending in `\n`, in body order (empty when none). */
  readonly bodies: Buffer[];
  /** lines[i]: the number of lines (points) in bodies[i]. */
  readonly lines: number[];
}

const kEmpty = Buffer.alloc(0);
/** Tables above this many entries (or a scratch above this many bytes) are not kept between calls. */
const kKeepEntries = 1 << 20;
const kKeepBytes = 32 << 20;

/**
 * Routes the lines of request bodies to `lanes` lanes by series hash: the lines of one series
 * always go to the same lane (`seriesHash(line) % lanes`).
 */
export class LaneSplitter {
  readonly lanes: number;
  /** Runs of adjacent lines of one lane: [start, end) byte pairs, and their lanes. */
  #runs = new Int32Array(2048);
  #runLane = new Int32Array(1024);
  #bytes: Int32Array;
  #count: Int32Array;
  #at: Int32Array;
  /** Pass 2 groups the lines here (the body copied at 0, the lanes after it): copyWithin is a cheap call. */
  #scratch: Buffer = kEmpty;

  constructor(lanes: number) {
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > 65536) throw new RangeError(`lanes must be an integer in 1..65536, got ${lanes}`);
    this.lanes = lanes;
    this.#bytes = new Int32Array(lanes);
    this.#count = new Int32Array(lanes);
    this.#at = new Int32Array(lanes);
  }

  /** The lane of the line [start, end). */
  laneOf(buf: Uint8Array, start: number, end: number): number {
    return seriesHash(buf, start, end) % this.lanes;
  }

  /**
   * The lines of `body` by lane. `lines`: the body's line count when the caller knows it (with
   * one lane the body is returned as it is, and then not scanned).
   */
  split(body: Buffer, lines?: number, trusted = false): LaneSplit {
    const L = this.lanes;
    if (L === 1) return { bodies: [body], lines: [lines ?? countLines(body)] };
    if (trusted) return this.#group(body, this.#scanTrusted(body));
    const n = body.length;
    const bytes = this.#bytes;
    const count = this.#count;
    bytes.fill(0);
    count.fill(0);
    let r = 0; // runs
    let lastLane = -1;
    let lastEnd = -1;
    let openEnd = false; // the last line ends the body without a `\n`
    // Pass 1: where each line ends (scan.ts rules) and its lane; adjacent lines of a lane form one run.
    for (let start = 0; start < n;) {
      let end: number;
      let h: number;
      const c = body[start]!;
      if (c !== SP && c !== NL && c !== HASH && c !== TAB && c !== 0) {
        // The common line: the key walk finds the fields; the scanner goes on from there.
        h = walkKey(body, start, n, true);
        if (!keyBackslash) end = keyEnd < n && body[keyEnd] === SP ? fieldsEndAt(body, keyEnd) : keyEnd;
        else {
          end = lineEndAt(body, start);
          h = walkKey(body, start, end, false);
        }
      } else {
        end = lineEndAt(body, start);
        const text = lineTextStart(body, start, end);
        if (text < 0) {
          start = end + 1;
          continue;
        }
        h = walkKey(body, text, end, false);
      }
      const lane = h % L;
      let stop = end + 1;
      if (stop > n) {
        stop = n;
        if (body[n - 1] !== NL) {
          openEnd = true;
          bytes[lane]!++;
        }
      }
      r = this.#line(r, lane, start, stop, lane === lastLane && start === lastEnd);
      lastLane = lane;
      lastEnd = stop;
      start = stop;
    }
    return this.#group(body, { r, openEnd });
  }

  /**
   * Pass 1 for a body our own encoders wrote (`trusted`): no `\n` but the line ends (strings with
   * newlines are refused unless allowNewlinesInStrings), no blank, comment or indented lines, so
   * the line end is `indexOf`'s (native memchr) and only the key is walked, not the fields:
   * about half the work of the general scan.
   */
  #scanTrusted(body: Buffer): { r: number; openEnd: boolean } {
    const L = this.lanes;
    const n = body.length;
    const bytes = this.#bytes;
    const count = this.#count;
    bytes.fill(0);
    count.fill(0);
    let r = 0;
    let lastLane = -1;
    let openEnd = false;
    for (let start = 0; start < n;) {
      const lane = walkKey(body, start, n, true) % L;
      let stop = body.indexOf(10, keyEnd) + 1;
      if (stop === 0) {
        stop = n;
        openEnd = true;
        bytes[lane]!++;
      }
      r = this.#line(r, lane, start, stop, lane === lastLane);
      lastLane = lane;
      start = stop;
    }
    return { r, openEnd };
  }

  /**
   * A body our own encoders wrote (see `split`'s `trusted`), by lane without a Buffer per lane:
   * `add(lane, from, start, end, lines)` is called once per lane that has lines, in lane order,
   * with its lines (in body order) at [start, end) of `from`, a scratch buffer valid during the
   * call only: the caller copies each lane's lines in one piece. The runs are gathered with
   * copyWithin inside the scratch (about 18 ns a call; a copy between two buffers, which
   * Buffer.copy makes a view for, costs 65 to 160). False, and nothing added, when the last
   * line has no newline.
   */
  route(body: Buffer, add: LaneAdd): boolean {
    if (body.length === 0) return true;
    // Not an encoder's body after all (its last line has no newline): `split` takes it.
    if (body[body.length - 1] !== NL) return false;
    this.#emit(body, this.#scanTrusted(body).r, add);
    return true;
  }

  /**
   * `route` for a body whose lines' lanes the encoder gave (columnar/lanes.ts, `lineLanes[i]`
   * for its line i): pass 1 only finds each line's end (indexOf: about 20 ns a line, where
   * hashing the key costs about 180). When the lanes do not match the body's lines (a count
   * that differs), the keys are read after all.
   */
  routeKnown(body: Buffer, lineLanes: Uint16Array, add: LaneAdd): boolean {
    if (body.length === 0) return true;
    if (body[body.length - 1] !== NL) return false;
    const r = this.#scanKnown(body, lineLanes);
    this.#emit(body, r >= 0 ? r : this.#scanTrusted(body).r, add);
    return true;
  }

  /** Pass 1 with the lanes given: the runs, or -1 when the body's lines are not `lineLanes.length`. */
  #scanKnown(body: Buffer, lineLanes: Uint16Array): number {
    this.#bytes.fill(0);
    this.#count.fill(0);
    const L = this.lanes;
    const n = body.length;
    let r = 0;
    let lastLane = -1;
    let start = 0;
    for (let i = 0; i < lineLanes.length; i++) {
      const stop = body.indexOf(NL, start) + 1;
      const lane = lineLanes[i]!;
      if (stop === 0 || lane >= L) return -1;
      r = this.#line(r, lane, start, stop, lane === lastLane);
      lastLane = lane;
      start = stop;
    }
    return start === n ? r : -1;
  }

  /** Pass 2 of `route`: each lane's lines, gathered, to `add`. */
  #emit(body: Buffer, r: number, add: LaneAdd): void {
    const L = this.lanes;
    const bytes = this.#bytes;
    const count = this.#count;
    if (r === 1) {
      const l = this.#runLane[0]!;
      add(l, body, this.#runs[0]!, this.#runs[1]!, count[l]!);
    } else {
      let total = 0;
      for (let l = 0; l < L; l++) total += bytes[l]!;
      const scratch = this.#arrange(body, r, false, total);
      for (let l = 0, p = body.length; l < L; l++) {
        const b = bytes[l]!;
        if (b > 0) add(l, scratch, p, p + b, count[l]!);
        p += b;
      }
    }
    this.#release();
  }

  /**
   * Pass 1's bookkeeping of one line [start, stop) of `lane`, for both scans: its bytes and count,
   * and its run (extending the last one when `joins`: the same lane, adjacent). Returns the runs.
   */
  #line(r: number, lane: number, start: number, stop: number, joins: boolean): number {
    this.#bytes[lane]! += stop - start;
    this.#count[lane]!++;
    if (joins) {
      this.#runs[2 * r - 1] = stop;
      return r;
    }
    if (r === this.#runLane.length) this.#growRuns();
    this.#runs[2 * r] = start;
    this.#runs[2 * r + 1] = stop;
    this.#runLane[r] = lane;
    return r + 1;
  }

  /** The run tables, twice as large (contents kept). */
  #growRuns(): [Int32Array<ArrayBuffer>, Int32Array<ArrayBuffer>] {
    const runs = new Int32Array(this.#runs.length * 2);
    runs.set(this.#runs);
    const lanes = new Int32Array(this.#runLane.length * 2);
    lanes.set(this.#runLane);
    this.#runs = runs;
    this.#runLane = lanes;
    return [runs, lanes];
  }

  /** Pass 2: the runs of pass 1 grouped by lane, one Buffer per non-empty lane. */
  /**
   * The runs grouped by lane in the scratch buffer: the body copied at 0, then each lane's lines
   * from `body.length` on, lane after lane (`copyWithin` within one buffer costs about 18 ns a
   * call; a copy across two, as Buffer.copy makes a view for it, about 65 to 160).
   */
  #arrange(body: Buffer, r: number, openEnd: boolean, total: number): Buffer {
    const L = this.lanes;
    const n = body.length;
    const bytes = this.#bytes;
    const runs = this.#runs;
    const runLane = this.#runLane;
    let scratch = this.#scratch;
    if (scratch.length < n + total) this.#scratch = scratch = Buffer.allocUnsafe(Math.max(n + total, Math.min(2 * scratch.length, kKeepBytes)));
    body.copy(scratch, 0, 0, n);
    const at = this.#at;
    for (let l = 0, p = n; l < L; l++) {
      at[l] = p;
      p += bytes[l]!;
    }
    for (let j = 0; j < r; j++) {
      const l = runLane[j]!;
      const s = runs[2 * j]!;
      const e = runs[2 * j + 1]!;
      scratch.copyWithin(at[l]!, s, e);
      at[l]! += e - s;
    }
    if (openEnd) scratch[at[runLane[r - 1]!]!] = NL; // the byte reserved for it
    return scratch;
  }

  #group(body: Buffer, { r, openEnd }: { r: number; openEnd: boolean }): LaneSplit {
    const L = this.lanes;
    const n = body.length;
    const bytes = this.#bytes;
    const count = this.#count;
    const runs = this.#runs;
    const runLane = this.#runLane;
    const outBodies: Buffer[] = new Array(L);
    const outLines: number[] = new Array(L);
    let total = 0;
    for (let l = 0; l < L; l++) total += bytes[l]!;
    if (r === 1 || total === 0) {
      // At most one lane: its lines are the body (or a part of it), copied once.
      for (let l = 0; l < L; l++) {
        outLines[l] = count[l]!;
        outBodies[l] = kEmpty;
      }
      if (r === 1) {
        const l = runLane[0]!;
        const out = Buffer.allocUnsafe(bytes[l]!);
        body.copy(out, 0, runs[0]!, runs[1]!);
        if (openEnd) out[out.length - 1] = NL;
        outBodies[l] = out;
      }
      this.#release();
      return { bodies: outBodies, lines: outLines };
    }
    const scratch = this.#arrange(body, r, openEnd, total);
    for (let l = 0, p = n; l < L; l++) {
      const b = bytes[l]!;
      outLines[l] = count[l]!;
      if (b === 0) outBodies[l] = kEmpty;
      else {
        const out = Buffer.allocUnsafe(b);
        scratch.copy(out, 0, p, p + b);
        outBodies[l] = out;
      }
      p += b;
    }
    this.#release();
    return { bodies: outBodies, lines: outLines };
  }

  /** Big tables and scratch (from a big body) are not kept. */
  #release(): void {
    if (this.#runLane.length > kKeepEntries) {
      this.#runs = new Int32Array(2048);
      this.#runLane = new Int32Array(1024);
    }
    if (this.#scratch.length > kKeepBytes) this.#scratch = kEmpty;
  }
}

/** The number of lines of `body` that carry a point (scan.ts rules). */
export function countLines(body: Uint8Array): number {
  const n = body.length;
  let lines = 0;
  for (let start = 0; start < n;) {
    const end = lineEndAt(body, start);
    if (lineTextStart(body, start, end) >= 0) lines++;
    start = end + 1;
  }
  return lines;
}
