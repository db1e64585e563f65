// Digits with SWAR arithmetic: 8 digits per u64, no table and no division loop.

/**
 * The 8 decimal digits of v < 10^8, zero-padded, as ASCII in a little-endian u64 (first digit
 * in the lowest byte): v splits into two 4-digit halves in the two 32-bit lanes, each lane into
 * 2-digit halves (x * 10486 >> 20 = x / 100 for x < 10^4), then into digits (x * 103 >> 10 =
 * x / 10 for x < 100) in 16-bit then 8-bit lanes. (Lanes never carry into each other: checked
 * exhaustively for every 4-digit lane value when this was written.)
 */
// @ts-ignore: decorator
@inline export function digits8(v: u32): u64 {
  const hi4 = v / 10000;
  const lo4 = v - hi4 * 10000;
  const merged = <u64>hi4 | (<u64>lo4 << 32);
  const top = ((merged * 10486) >> 20) & 0x0000007F0000007F;
  const bot = merged - 100 * top;
  const hundreds = (bot << 16) + top;
  let tens = ((hundreds * 103) >> 10) & 0x000F000F000F000F;
  tens += (hundreds - 10 * tens) << 8;
  return tens | 0x3030303030303030;
}
