/**
 * The lane of every row of columnar layouts, without reading a line: the series hash of
 * `line-protocol/series.ts` (murmur3 of the measurement, plus the sum of the murmur3 of each
 * written `key=value` pair, finished) computed from hashes of the layout's dictionary entries.
 * The value is the one `seriesHash` gives for the line the encoders write for the row, so a
 * series written as points, as Arrow rows and as text lands in one lane.
 *
 * The batch writer gives one `RowLanes` to its columnar encodes; the lanes of the rows that
 * became lines (skipped rows removed) travel with the bodies, and the buffer routes each line
 * with them instead of scanning its key (about 0.15 CPU-s per 1M lines saved).
 */
import { componentHash, finishSeriesHash, pairHash } from '../line-protocol/series.js';
import type { ColumnarLayout, TagColumn } from './layout.js';

/** Hashes of a dictionary's `key=value` pairs, by entry. */
interface EntryHashes {
  readonly key: Uint8Array;
  readonly hashes: Int32Array;
}

export class RowLanes {
  readonly lanes: number;
  #out = new Uint16Array(8192);
  #n = 0;
  #sums = new Int32Array(8192);
  /**
   * By dictionary bytes: the Arrow layout builder keeps a dictionary's escaped entries across
   * slices, so their hashes are computed once per dictionary, not once per slice.
   */
  #cache = new WeakMap<Uint8Array, EntryHashes>();

  constructor(lanes: number) {
    if (!Number.isInteger(lanes) || lanes < 2 || lanes > 65536) throw new RangeError(`lanes must be an integer in 2..65536, got ${lanes}`);
    this.lanes = lanes;
  }

  /** Starts the lanes of a new slice. */
  reset(): void {
    this.#n = 0;
  }

  /** Lanes so far, one per row added (and not dropped), in order: valid until the next `reset`. */
  get lines(): Uint16Array {
    return this.#out.subarray(0, this.#n);
  }

  /** Appends the lane of each row of `layout`. */
  add(layout: ColumnarLayout): void {
    const rows = layout.rows;
    if (this.#out.length < this.#n + rows) {
      const next = new Uint16Array(Math.max(2 * this.#out.length, this.#n + rows));
      next.set(this.#out.subarray(0, this.#n));
      this.#out = next;
    }
    const out = this.#out;
    const L = this.lanes;
    const m = componentHash(layout.measurement, 0, layout.measurement.length);
    const tags = layout.tags;
    const at = this.#n;
    if (tags.length === 0) {
      out.fill(finishSeriesHash(m, 0) % L, at, at + rows);
    } else {
      // The sum of the tag pairs' hashes per row, from the constant part (columns without
      // indices: the write's extra tags) on; lanes are taken at the end.
      let base = 0;
      for (const t of tags) if (t.indices === null && t.fallback >= 0) base = (base + this.#hashes(t)[t.fallback]!) | 0;
      if (this.#sums.length < rows) this.#sums = new Int32Array(Math.max(rows, 2 * this.#sums.length));
      const sums = this.#sums;
      sums.fill(base, 0, rows);
      for (const t of tags) {
        const idx = t.indices;
        if (idx === null) continue;
        const hashes = this.#hashes(t);
        const offs = t.dictOffsets;
        const v = t.validity;
        // A null row or an empty entry takes the extra tag of that key, if any (as the encoders write it).
        const fb = t.fallback >= 0 ? hashes[t.fallback]! : 0;
        for (let r = 0; r < rows; r++) {
          const e = idx[r]!;
          const x = (v === null || (v[r >> 3]! & (1 << (r & 7))) !== 0) && offs[e + 1]! > offs[e]! ? hashes[e]! : fb;
          sums[r] = (sums[r]! + x) | 0;
        }
      }
      for (let r = 0; r < rows; r++) out[at + r] = finishSeriesHash(m, sums[r]!) % L;
    }
    this.#n = at + rows;
  }

  /**
   * Removes the rows the encoder left out (`invalidRows: 'skip'`) from the last layout added:
   * `skipped` holds absolute row indices (`rowBase` + row), from `from` on.
   */
  drop(layoutRows: number, rowBase: number, skipped: readonly number[], from: number): void {
    if (from >= skipped.length) return;
    const start = this.#n - layoutRows;
    const out = this.#out;
    let w = start;
    let k = from;
    for (let r = 0; r < layoutRows; r++) {
      if (k < skipped.length && skipped[k]! - rowBase === r) {
        k++;
        continue;
      }
      out[w++] = out[start + r]!;
    }
    this.#n = w;
  }

  /**
   * The hash of each entry's `key=value` (escaped bytes, as written): the builder's own when it
   * keeps them, else computed once per dictionary (dictionaries without them never change).
   */
  #hashes(t: TagColumn): Int32Array {
    if (t.pairHashes !== undefined) return t.pairHashes;
    const hit = this.#cache.get(t.dictData);
    if (hit !== undefined && hit.key === t.key && hit.hashes.length === t.dictOffsets.length - 1) return hit.hashes;
    const entries = t.dictOffsets.length - 1;
    const hashes = new Int32Array(entries);
    for (let e = 0; e < entries; e++) {
      const s = t.dictOffsets[e]!;
      const e1 = t.dictOffsets[e + 1]!;
      if (e1 > s) hashes[e] = pairHash(t.key, t.dictData.subarray(s, e1));
    }
    this.#cache.set(t.dictData, { key: t.key, hashes });
    return hashes;
  }
}
