/**
 * The encoder module's memory as the glue (`wasm-encoder.ts`) uses it: typed views that follow
 * growth, growth by whole pages with headroom, and the cursor that lays regions out one after
 * the other, each 8-aligned with `SLACK` bytes after it for the module's 8-byte copies. What the
 * regions hold is the glue's and `protocol.ts`'s business; this file only places and fills them.
 * @module
 */
import { SLACK } from './protocol.js';

/** Memory grows by at least this share of its size, so that growing is rare. */
const kGrowthShare = 0.25;
const kPage = 65536;

/** What `copy`/`copyRows` take: any typed array (or a Buffer). */
export type Typed = { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number; readonly length: number };

/** Reads an AssemblyScript string (UTF-16, byte length at ptr - 4): the debug build's `abort` messages. */
export function readAsString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (memory === undefined || ptr === 0) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return Buffer.from(memory.buffer, ptr, len).toString('utf16le');
}

/** One instance's memory: its views, its growth, and the cursor that places regions. */
export class ModuleMemory {
  readonly memory: WebAssembly.Memory;
  /** Views of `memory.buffer`; rebuilt whenever growth replaced the buffer (see `views`). */
  u8!: Uint8Array;
  i32!: Int32Array;
  f64!: Float64Array;
  /** Next free address while regions are laid out. */
  cursor = 0;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.views();
  }

  /**
   * Growing a wasm memory detaches its old ArrayBuffer (every view of it reads as empty), so the
   * views are rebuilt after each growth, and checked at each call in case anything else grew it.
   */
  views(): void {
    const buffer = this.memory.buffer;
    if (this.u8 !== undefined && this.u8.buffer === buffer) return;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /** Makes memory at least `end` bytes long, growing by whole pages and by at least kGrowthShare. */
  ensure(end: number): void {
    const size = this.memory.buffer.byteLength;
    if (end <= size) return;
    const want = Math.max(end, Math.ceil(size * (1 + kGrowthShare)));
    const pages = Math.ceil((want - size) / kPage);
    try {
      this.memory.grow(pages);
    } catch {
      // Not the headroom: the bare minimum.
      this.memory.grow(Math.ceil((end - size) / kPage));
    }
    this.views();
  }

  /** Reserves `bytes` (+ SLACK for the module's 8-byte copies) at the cursor, 8-aligned; returns the address. */
  place(bytes: number): number {
    const at = (this.cursor + 7) & ~7;
    this.cursor = at + bytes + SLACK;
    this.ensure(this.cursor);
    return at;
  }

  /** Copies all of `a` in; returns its address. */
  copy(a: Typed): number {
    const at = this.place(a.byteLength);
    this.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    return at;
  }

  /**
   * Copies elements [from, to) of `a` (`size` bytes each) in and returns the base address of
   * element 0 (`address - from * size`, wrapped to int32 as the module reads it). Elements
   * missing from a short array (a layout that breaks its contract) get bytes `fill`, chosen so
   * that the module reads them as the TypeScript encoder reads `undefined`: 0 for bitmaps (bit
   * not set), 0xff for dictionary indices (-1: no value) and floats (NaN), 1 for dictInvalid.
   */
  copyRows(a: Typed, from: number, to: number, size: number, fill = 0): number {
    const at = this.place((to - from) * size);
    const have = Math.max(0, Math.min(to, a.length) - from);
    if (have > 0) this.u8.set(new Uint8Array(a.buffer, a.byteOffset + from * size, have * size), at);
    if (have < to - from) this.u8.fill(fill, at + have * size, at + (to - from) * size);
    return (at - from * size) | 0;
  }

  /** Copies the bytes of bitmap `bm` holding bits [from, to) in; returns the base of byte 0 (missing bytes: zeros). */
  copyBits(bm: Uint8Array, from: number, to: number): number {
    const b0 = from >> 3;
    const b1 = ((to - 1) >> 3) + 1;
    return this.copyRows(bm, b0, b1, 1);
  }

  /** Writes the i32 `value` at `address` (4-aligned). */
  set(address: number, value: number): void {
    this.i32[address >> 2] = value;
  }
}
