// Reading the layout the glue laid out in linear memory: where the header is, i32 fields and
// addresses of descriptors, bitmap bits, and the short 8-byte-at-a-time copy (which may read and
// write up to 7 bytes past its end: every input region is padded with SLACK bytes, every line
// reserves LINE_SLACK output bytes).

/** Where the header is: the first 16-byte boundary past the static data. */
// @ts-ignore: decorator
@inline export function header(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

// @ts-ignore: decorator
@inline export function i32At(base: usize, offset: usize): i32 {
  return load<i32>(base + offset);
}

// @ts-ignore: decorator
@inline export function ptrAt(base: usize, offset: usize): usize {
  return <usize>load<i32>(base + offset);
}

/** Bit `i` of the bitmap whose byte 0 (of row 0) is at `base`. */
// @ts-ignore: decorator
@inline export function bitAt(base: usize, i: i32): bool {
  return ((<u32>load<u8>(base + (<usize>i >> 3)) >> (<u32>i & 7)) & 1) != 0;
}

/** Copies `len` bytes, 8 at a time: reads and writes up to 7 bytes past the end (see the notes above). */
// @ts-ignore: decorator
@inline export function copyShort(dst: usize, src: usize, len: usize): void {
  if (len > 256) {
    memory.copy(dst, src, len);
    return;
  }
  let k: usize = 0;
  do {
    store<u64>(dst + k, load<u64>(src + k));
    k += 8;
  } while (k < len);
}
