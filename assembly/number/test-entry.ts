// Test/benchmark entry for the number formatters (compiled by test/helpers/wasm-build.ts).
// Not part of the encoder. Results are written into a fixed 64-byte scratch region; JS reads
// `len` bytes at `scratch()` from `memory.buffer`.

import { writeF64, writeI64, writeU64 } from "./index";

const SCRATCH: usize = memory.data(64, 16);

/** Address of the scratch region the format* functions write to. */
export function scratch(): usize {
  return SCRATCH;
}

/** Bump-allocates `size` bytes (16-byte aligned; memory grows as needed, never freed). */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function formatF64(x: f64): i32 {
  return writeF64(SCRATCH, x);
}

export function formatI64(x: i64): i32 {
  return writeI64(SCRATCH, x);
}

export function formatU64(x: u64): i32 {
  return writeU64(SCRATCH, x);
}

/**
 * Formats the `n` f64 values at `ptrIn` into `ptrOut`, each followed by '\n'
 * (needs n * 26 bytes). Returns the number of bytes written.
 */
export function formatMany(ptrIn: usize, n: i32, ptrOut: usize): i32 {
  let p = ptrOut;
  for (let i = 0; i < n; i++) {
    p += <usize>writeF64(p, load<f64>(ptrIn + (<usize>i << 3)));
    store<u8>(p, 0x0A);
    p++;
  }
  return <i32>(p - ptrOut);
}

/** Like formatMany for i64 values (needs n * 21 bytes). */
export function formatManyI64(ptrIn: usize, n: i32, ptrOut: usize): i32 {
  let p = ptrOut;
  for (let i = 0; i < n; i++) {
    p += <usize>writeI64(p, load<i64>(ptrIn + (<usize>i << 3)));
    store<u8>(p, 0x0A);
    p++;
  }
  return <i32>(p - ptrOut);
}
