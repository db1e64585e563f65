/**
 * The point builder's tag column (`TagCol`): dictionary indices per row, and a dictionary per
 * layout whose values are checked and escaped once per column (not once per layout), with a small
 * cache of recent values that finds a repeated value without hashing it, and each entry's pair
 * hash for the lanes (`lanes.ts`).
 * @module
 */
import { checkTagName, escapeTag } from '../escape.js';
import { pairHash } from '../line-protocol/series.js';
import type { TagColumn } from './layout.js';
import { a8, bytesOf, capFor, copyBytes, kNoBytes, kNoInts, kUtf8 } from './point-columns.js';

/** Values a tag column remembers (their ids and escaped bytes) before it starts over, at a layout's end. */
const kMaxTagValues = 50_000;
/** Bytes of a dictionary kept from one layout to the next, at most. */
const kMaxKeptDictBytes = 1 << 20;
/** Slots of a tag column's cache of recent values, at least and at most (powers of two). */
const kMinCacheSlots = 64;
const kMaxCacheSlots = 16_384;

/**
 * Slot of a tag value in a column's cache of recent values: a few of its characters and its
 * length, no loop (values seen again are found by this slot and one string comparison, without
 * hashing the whole string as a `Map` does; a value whose slot holds another takes the `Map`).
 * The last characters weigh most: values often differ by a numeric suffix (`host-17`).
 */
function slotOf(v: string, mask: number): number {
  const n = v.length;
  if (n < 3) return (v.charCodeAt(0) + 11 * (v.charCodeAt(n - 1) + 11 * n)) & mask;
  return (v.charCodeAt(n - 1) + 11 * v.charCodeAt(n - 2) + 121 * v.charCodeAt(n - 3) + 1331 * (n + v.charCodeAt(n >> 1) + 3 * v.charCodeAt(n >> 2))) & mask;
}

/**
 * A tag column. Every value it is given gets an id, once for the column (checked and escaped
 * then; invalid values get none), kept across layouts up to `kMaxTagValues` values; a layout's
 * dictionary is the ids its rows use, in the order they came, entry 0 being the empty one (no
 * value) and entry 1 the extra tag's value when the write has one for this key (`fallback`).
 */
export class TagCol {
  readonly name: string;
  readonly key: Uint8Array;
  /** Bytes of `,key=`. */
  readonly prefix: number;
  /** Id of each value seen; the escaped bytes of each id, and the series hash of its `key=value`. */
  readonly #ids = new Map<string, number>();
  #valueBytes: Uint8Array[] = [];
  #valueHashes: number[] = [];
  /** The pair hash of each dictionary entry (entry 0: none), for the lanes (columnar/lanes.ts). */
  #entryHashes: Int32Array = new Int32Array(16);
  /** Recent values and their ids, by `slotOf`. */
  #cacheValues: (string | undefined)[] = [];
  #cacheIds: Int32Array = kNoInts;
  #mask = -1;
  /** Dictionary entry of each id in the open layout, 0 when not in it yet. */
  #entryOf: Int32Array = new Int32Array(16);
  /** Id of each dictionary entry (entry 0: none). */
  readonly #entryIds: number[] = [-1];
  /** Bytes of each dictionary entry. */
  readonly entryBytes: number[] = [0];
  /** The dictionary as the layout gets it: the entries' bytes one after the other, and where each ends. */
  #dictData: Uint8Array = new Uint8Array(64);
  #dictEnds: Int32Array = new Int32Array(16);
  dictBytes = 0;
  cap = 0;
  indices: Int32Array = kNoInts;
  ibytes: Uint8Array = kNoBytes;
  /** Rows with a value of their own (an index other than 0) in the open layout. */
  own = 0;
  used = -1;
  /** The extra tag's entry (1), or -1. */
  readonly fallback: number = -1;
  /** Bytes the fallback adds to a series key (`,key=value`), 0 without one. */
  readonly fallbackBytes: number = 0;
  readonly #fallbackValue: string | undefined;

  constructor(name: string, key: Uint8Array, fallback?: { value: string; bytes: Uint8Array }) {
    this.name = name;
    this.key = key;
    this.prefix = key.length + 2;
    this.#fallbackValue = fallback?.value;
    this.#resize(kMinCacheSlots);
    if (fallback !== undefined) {
      this.fallback = this.#addEntry(this.#newId(fallback.value, fallback.bytes));
      this.fallbackBytes = this.prefix + fallback.bytes.length;
    }
  }

  /** Entries in the open layout's dictionary (the empty one included). */
  get entries(): number {
    return this.#entryIds.length;
  }

  /** The dictionary entry of value `v` (not empty) in the open layout, added if new; -1 when `v` cannot be a tag value. */
  entry(v: string): number {
    const slot = slotOf(v, this.#mask);
    let id: number;
    if (this.#cacheValues[slot] === v) id = this.#cacheIds[slot]!;
    else {
      id = this.#idOf(v);
      if (id < 0) return -1;
      this.#cacheValues[slot] = v;
      this.#cacheIds[slot] = id;
    }
    const e = this.#entryOf[id]!;
    return e !== 0 ? e : this.#addEntry(id);
  }

  #idOf(v: string): number {
    const id = this.#ids.get(v);
    if (id !== undefined) return id;
    if (checkTagName(v) !== undefined) return -1;
    return this.#newId(v, kUtf8.encode(escapeTag(v)));
  }

  #newId(v: string, bytes: Uint8Array): number {
    const id = this.#valueBytes.length;
    this.#valueBytes.push(bytes);
    this.#valueHashes.push(pairHash(this.key, bytes));
    this.#ids.set(v, id);
    if (id >= this.#entryOf.length) {
      const entryOf = new Int32Array(this.#entryOf.length * 2);
      entryOf.set(this.#entryOf);
      this.#entryOf = entryOf;
    }
    // A cache of at least four slots per value (a few collisions), up to its largest.
    if (id * 4 > this.#mask + 1 && this.#mask + 1 < kMaxCacheSlots) this.#resize((this.#mask + 1) * 4);
    return id;
  }

  #resize(slots: number): void {
    this.#cacheValues = new Array<string | undefined>(slots).fill(undefined);
    this.#cacheIds = new Int32Array(slots);
    this.#mask = slots - 1;
  }

  #addEntry(id: number): number {
    const e = this.#entryIds.length;
    const bytes = this.#valueBytes[id]!;
    const n = bytes.length;
    const at = this.dictBytes;
    if (at + n > this.#dictData.length) {
      const data = new Uint8Array(Math.max(at + n, this.#dictData.length * 2));
      data.set(this.#dictData.subarray(0, at));
      this.#dictData = data;
    }
    copyBytes(this.#dictData, at, bytes, n);
    if (e + 1 >= this.#dictEnds.length) {
      const ends = new Int32Array(this.#dictEnds.length * 2);
      ends.set(this.#dictEnds);
      this.#dictEnds = ends;
    }
    this.#dictEnds[e + 1] = at + n;
    if (e >= this.#entryHashes.length) {
      const hashes = new Int32Array(this.#entryHashes.length * 2);
      hashes.set(this.#entryHashes);
      this.#entryHashes = hashes;
    }
    this.#entryHashes[e] = this.#valueHashes[id]!;
    this.#entryIds.push(id);
    this.entryBytes.push(n);
    this.dictBytes = at + n;
    this.#entryOf[id] = e;
    return e;
  }

  grow(rows: number): number {
    const cap = capFor(rows);
    const old = this.cap;
    if (cap <= old) return 0;
    const indices = new Int32Array(cap);
    indices.set(this.indices);
    this.indices = indices;
    this.ibytes = bytesOf(indices);
    this.cap = cap;
    return cap - old;
  }

  size(rows: number): number {
    return (this.own > 0 ? a8(rows * 4) : 0) + a8(this.dictBytes) + a8((this.#entryIds.length + 1) * 4);
  }

  copy(buf: ArrayBuffer, u8: Uint8Array, at: number, rows: number): TagColumn {
    let indices: Int32Array | null = null;
    if (this.own > 0) {
      copyBytes(u8, at, this.ibytes, Math.min(rows, this.cap) * 4);
      indices = new Int32Array(buf, at, rows);
      at += a8(rows * 4);
    }
    const n = this.#entryIds.length;
    copyBytes(u8, at, this.#dictData, this.dictBytes);
    const dictData = new Uint8Array(buf, at, this.dictBytes);
    at += a8(this.dictBytes);
    copyBytes(u8, at, new Uint8Array(this.#dictEnds.buffer, 0, (n + 1) * 4), (n + 1) * 4);
    const dictOffsets = new Int32Array(buf, at, n + 1);
    return { name: this.name, key: this.key, keyInvalid: 0, indices, validity: null, dictData, dictOffsets, dictInvalid: null, fallback: this.fallback, pairHashes: this.#entryHashes.slice(0, n) };
  }

  /** Like `copy`, as views of this column's arrays (no copy): valid until the column is reset. */
  view(rows: number): { column: TagColumn; grown: number } {
    const grown = this.own > 0 && this.cap < rows ? this.grow(rows) : 0;
    const n = this.#entryIds.length;
    return {
      column: {
        name: this.name, key: this.key, keyInvalid: 0, indices: this.own > 0 ? this.indices.subarray(0, rows) : null, validity: null,
        dictData: this.#dictData.subarray(0, this.dictBytes), dictOffsets: this.#dictEnds.subarray(0, n + 1), dictInvalid: null,
        fallback: this.fallback, pairHashes: this.#entryHashes.subarray(0, n),
      },
      grown,
    };
  }

  reset(rows: number): void {
    if (this.own > 0) this.indices.fill(0, 0, Math.min(rows, this.cap));
    if (this.cap > 64 && this.own * 8 < this.cap) {
      this.cap = 0;
      this.indices = kNoInts;
      this.ibytes = kNoBytes;
    }
    this.own = 0;
    // A dictionary no larger than the layout it served serves the next one too (its values come
    // again, most of them): unused entries cost their bytes in the copy, not a lookup per row.
    const keep = this.fallback >= 0 ? 2 : 1;
    const ids = this.#entryIds;
    if (ids.length > keep && (ids.length > rows + keep || this.dictBytes > kMaxKeptDictBytes || this.#valueBytes.length > kMaxTagValues)) {
      for (let e = keep; e < ids.length; e++) this.#entryOf[ids[e]!] = 0;
      ids.length = keep;
      this.entryBytes.length = keep;
      this.dictBytes = keep === 2 ? this.entryBytes[1]! : 0;
    }
    if (this.#valueBytes.length > kMaxTagValues) this.#forget();
  }

  /** Forgets every value but the extra tag's (id 0, entry 1). */
  #forget(): void {
    const fallbackBytes = this.fallback >= 0 ? this.#valueBytes[this.#entryIds[1]!]! : undefined;
    this.#ids.clear();
    this.#valueBytes = [];
    this.#valueHashes = [];
    this.#entryOf = new Int32Array(16);
    this.#resize(kMinCacheSlots);
    if (fallbackBytes !== undefined) {
      this.#newId(this.#fallbackValue!, fallbackBytes);
      this.#entryIds[1] = 0;
      this.#entryOf[0] = 1;
    }
  }
}
