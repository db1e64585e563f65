/**
 * The shared buffers of finished encodes, kept for the next ones (`SpareBuffers`): fresh memory
 * costs a page fault per 4 KB, most of the time of copying rows into the pool (see `wire.ts`).
 * The pool owns one; its jobs take buffers from it and give them back once every task has ended.
 * @module
 */

/** Most shared buffers kept for reuse, and their most bytes in all. */
const kSpareBuffers = 8;
const kSpareBytes = 256 * 1024 * 1024;
/** Buffers are allocated in steps of this many bytes, so that the next encodes of about the same size fit. */
const kBufferStep = 1024 * 1024;

/**
 * Shared buffers of finished encodes: a new encode reuses one whose pages are already mapped
 * instead of faulting in fresh ones. Bounded (`kSpareBuffers`, `kSpareBytes`), and emptied when
 * the pool has been idle for its `idleTimeoutMs`, or closed.
 */
export class SpareBuffers {
  #list: SharedArrayBuffer[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  /** The smallest spare that fits, else a new buffer. */
  take(bytes: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#list.length; i++) {
      const n = this.#list[i]!.byteLength;
      if (n >= bytes && (best < 0 || n < this.#list[best]!.byteLength)) best = i;
    }
    if (best < 0) return new SharedArrayBuffer(bytes < kBufferStep ? bytes : Math.ceil(bytes / kBufferStep) * kBufferStep);
    const b = this.#list.splice(best, 1)[0]!;
    this.#bytes -= b.byteLength;
    return b;
  }

  give(buffers: readonly SharedArrayBuffer[], idleMs: number): void {
    for (const b of buffers) {
      if (b.byteLength < 64 * 1024) continue;
      this.#list.push(b);
      this.#bytes += b.byteLength;
    }
    // Keep the largest ones, within the byte budget.
    this.#list.sort((a, b) => b.byteLength - a.byteLength);
    while (this.#list.length > kSpareBuffers) this.#bytes -= this.#list.pop()!.byteLength;
    while (this.#bytes > kSpareBytes) this.#bytes -= this.#list.shift()!.byteLength;
    clearTimeout(this.#timer);
    if (this.#list.length > 0 && Number.isFinite(idleMs)) this.#timer = setTimeout(() => this.clear(), idleMs).unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#list = [];
    this.#bytes = 0;
  }
}
