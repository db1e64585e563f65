/**
 * The request bodies the columnar encoders write into: `ColumnarBodyWriter`, a growing Buffer
 * cut at a line end whenever the next line would take it over `maxBodyBytes`. The TypeScript
 * walk (`ts-encoder.ts`) and the WASM glue (`../wasm/wasm-encoder.ts`) both end lines with its
 * `commit`, so both cut bodies at the same places.
 * @module
 */
import type { EncodedBody } from '../body-builder.js';

/** Room kept above `maxBodyBytes` in a body's buffer, so that the line that crosses the limit fits before it moves. */
const kSlackBytes = 64 * 1024;

/**
 * Request bodies being written: a growing Buffer that is cut at a line end whenever the next
 * line would take it over `maxBodyBytes` (as `BodyBuilder` does). Shared by every layout of one
 * write, so that bodies are packed across batches.
 */
export class ColumnarBodyWriter {
  readonly limit: number;
  /** The current body's bytes; valid up to `len`. Replaced when it grows or is cut. */
  buf: Buffer;
  len = 0;
  /** Lines in the current body. */
  #lines = 0;
  #done = 0;
  readonly #bodies: EncodedBody[] = [];

  readonly #alloc: (bytes: number) => Buffer;

  /**
   * `alloc` may hand back a recycled buffer of at least the size asked (the batch writer reuses
   * acknowledged bodies: fewer large allocations, far fewer full GCs).
   */
  constructor(maxBodyBytes: number, initialBytes = 64 * 1024, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe) {
    this.limit = maxBodyBytes;
    this.#alloc = alloc;
    this.buf = alloc(Math.min(initialBytes, maxBodyBytes + kSlackBytes));
  }

  /** Makes room for `n` more bytes after `len` and returns the buffer to write them to. */
  reserve(n: number): Buffer {
    const need = this.len + n;
    if (need <= this.buf.length) return this.buf;
    // Double, capped just above the body limit: small writes stay small, big ones copy O(log n) times.
    const size = Math.max(need, Math.min(this.buf.length * 2, this.limit + kSlackBytes));
    const next = this.#alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    return next;
  }

  /**
   * Ends the line written at `start .. len` (its `\n` included). Returns the line's size when it
   * cannot fit any body (the caller reports it), else 0; cuts the body first when needed.
   */
  commit(start: number): number {
    const bytes = this.len - start;
    if (this.len > this.limit) {
      if (bytes > this.limit) return bytes;
      if (this.#lines > 0) {
        this.#bodies.push({ body: this.buf.subarray(0, start), lines: this.#lines });
        const next = this.#alloc(this.buf.length);
        this.buf.copy(next, 0, start, this.len);
        this.buf = next;
        this.len = bytes;
        this.#done += this.#lines;
        this.#lines = 0;
      }
    }
    this.#lines++;
    return 0;
  }

  /** Lines written so far. */
  get lineCount(): number {
    return this.#done + this.#lines;
  }

  /** The bodies, in order. The writer must not be used afterwards. */
  finish(): EncodedBody[] {
    if (this.#lines > 0) this.#bodies.push({ body: this.buf.subarray(0, this.len), lines: this.#lines });
    this.#done += this.#lines;
    this.#lines = 0;
    return this.#bodies;
  }
}
