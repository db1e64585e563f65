// The WASM line-protocol encoder: entry of asconfig.json (build/encoder.wasm, build/encoder.debug.wasm).
//
// Exports (all the glue in src/encode/wasm/wasm-encoder.ts calls):
//   memory             the module's own memory; the glue grows it and lays out regions in it
//   protocolVersion()  protocol.ts's PROTOCOL_VERSION: the glue refuses a stale build
//   headerAddress()    where the header starts (everything above belongs to the glue)
//   prepare()          once per encodeLayout call, after the static region is copied in
//   encode(from, to)   rows [from, to) of the current window; returns a STATUS_*
//   noop()             does nothing: measures the cost of a call across the boundary
//
// No allocation happens here (runtime stub, and no `new` anywhere), so nothing but the glue
// ever writes above the header.

import { PROTOCOL_VERSION } from "./protocol";
import { header } from "./access";

export { prepare } from "./prepare";
export { encode } from "./encoder";

export function protocolVersion(): i32 {
  return PROTOCOL_VERSION;
}

export function headerAddress(): usize {
  return header();
}

export function noop(): i32 {
  return 0;
}
