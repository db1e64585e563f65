/**
 * The shared memory of small series: their output arrays are views of 512 KiB buffers, copied
 * there from the sinks (`kSmallRows` rows at most).
 */

/** Rows up to which a series' columns are copied into a shared slab (and its sinks reused). */
export const kSmallRows = 4096;
const kSlabBytes = 512 * 1024;

/**
 * Small output arrays as views of one big buffer: an ArrayBuffer of its own costs about a
 * microsecond, which dominates for answers of many small series (GROUP BY *). The views of one
 * answer (or chunked stream) share buffers of 512 KiB; fresh memory is zeroed.
 */
export class Slab {
  #buffer = new ArrayBuffer(0);
  #pos = 0;

  #take(bytes: number): number {
    const size = (bytes + 7) & ~7;
    if (this.#pos + size > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(Math.max(kSlabBytes, size));
      this.#pos = 0;
    }
    const offset = this.#pos;
    this.#pos += size;
    return offset;
  }

  u8(n: number): Uint8Array {
    const offset = this.#take(n);
    return new Uint8Array(this.#buffer, offset, n);
  }

  i32(n: number): Int32Array {
    const offset = this.#take(4 * n);
    return new Int32Array(this.#buffer, offset, n);
  }

  f64(n: number): Float64Array {
    const offset = this.#take(8 * n);
    return new Float64Array(this.#buffer, offset, n);
  }

  i64(n: number): BigInt64Array {
    const offset = this.#take(8 * n);
    return new BigInt64Array(this.#buffer, offset, n);
  }
}

/**
 * An undeclared column read speculatively: numbers (exactly the values `parseExactJson` gives,
 * no bigint) or strings (UTF-8), with nulls, at least one non-null. The converter types it as
 * `SeriesConverter` would the generic values, building the common cases straight from these
 * arrays (see `ColumnConverter.#speculativeColumn`).
 */

export function copyU8(a: Uint8Array, n: number, slab: Slab, small: boolean): Uint8Array {
  if (!small) return a.slice(0, n);
  const out = slab.u8(n);
  out.set(a.subarray(0, n));
  return out;
}

export function copyI32(a: Int32Array, n: number, slab: Slab, small: boolean): Int32Array {
  if (!small) return a.slice(0, n);
  const out = slab.i32(n);
  out.set(a.subarray(0, n));
  return out;
}
