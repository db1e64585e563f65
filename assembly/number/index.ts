// Number formatting straight into linear memory (module-internal API for the WASM encoder).
//
// Every writer takes a destination pointer, writes ASCII bytes there, returns the number of bytes
// written, and never allocates. Callers must guarantee the space:
//   writeF64 <= 25 bytes (F64_MAX_CHARS), writeI64 / writeU64 <= 20 bytes, writeI32 <= 11, writeU32 <= 10.
//
//   writeF64(ptr, x)  exactly JS String(x) for finite x (shortest round-trip digits, ES layout),
//                     except -0 -> "-0". NaN / +-Infinity -> "NaN" / "Infinity" / "-Infinity".
//   writeI64(ptr, v)  signed decimal, including i64.MIN_VALUE ("-9223372036854775808").
//   writeU64(ptr, v)  unsigned decimal (0 .. "18446744073709551615").
//   writeI32 / writeU32  32-bit variants.

export { writeF64, F64_MAX_CHARS } from "./ryu";
export {
  writeI64,
  writeU64,
  writeI32,
  writeU32,
  decimalLength32,
  decimalLength64,
  writeDigits32,
  writeDigits64,
} from "./digits";
