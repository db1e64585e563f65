// prepare(): once per encodeLayout call, before any encode(), derives from the static region
// what every row reuses (see the notes at the top of encoder.ts): `,key=value` per tag entry,
// `,key=` per field, the list of string fields, and H_FIXED.

import { header, i32At, ptrAt } from "./access";
import {
  H_MEAS_LEN, H_N_TAGS, H_TAGS_PTR, H_N_FIELDS, H_FIELDS_PTR, H_DERIVED_PTR, H_DERIVED_CAP, H_FIXED,
  H_N_STRINGS, H_STRINGS_PTR, T_KEY_PTR, T_KEY_LEN, T_KEY_INVALID, T_HAS_INDICES, T_HAS_VALIDITY,
  T_DICT_DATA, T_DICT_OFFSETS, T_ENTRIES, T_HAS_INVALID, T_FALLBACK, T_EXP_DATA, T_EXP_OFFSETS,
  T_SIMPLE, TAG_BYTES, F_KIND, F_KEY_PTR, F_KEY_LEN, F_PREFIX_PTR, F_PREFIX_LEN, FIELD_BYTES, SLACK,
  LINE_SLACK, KIND_STRING,
} from "./protocol";

/**
 * Per call, once the static region is in place: expands every tag entry into `,key=value`
 * (empty for an empty entry), every field key into `,key=`, lists the string fields, and
 * computes H_FIXED, the output bytes a line needs besides its string values.
 */
export function prepare(): void {
  const h = header();
  let q = (ptrAt(h, H_DERIVED_PTR) + 7) & ~<usize>7;
  const qEnd = ptrAt(h, H_DERIVED_PTR) + ptrAt(h, H_DERIVED_CAP);
  // measurement, space, time (at most 20 bytes), newline, and room for the 8-byte copies.
  let fixed: i64 = <i64>i32At(h, H_MEAS_LEN) + 1 + 21 + 1 + LINE_SLACK;

  const nTags = i32At(h, H_N_TAGS);
  const tags = ptrAt(h, H_TAGS_PTR);
  for (let t = 0; t < nTags; t++) {
    const d = tags + <usize>(t * TAG_BYTES);
    const entries = i32At(d, T_ENTRIES);
    const key = ptrAt(d, T_KEY_PTR);
    const keyLen = i32At(d, T_KEY_LEN);
    const dictData = ptrAt(d, T_DICT_DATA);
    const dictOffsets = ptrAt(d, T_DICT_OFFSETS);
    const expOffsets = q;
    const expData = q + (<usize>(entries + 1) << 2);
    let w = expData;
    let longest: i32 = 0;
    for (let e = 0; e < entries; e++) {
      store<i32>(expOffsets + (<usize>e << 2), <i32>(w - expData));
      const a = load<i32>(dictOffsets + (<usize>e << 2));
      const len = load<i32>(dictOffsets + (<usize>e << 2), 4) - a;
      if (len <= 0) continue;
      store<u8>(w, 0x2C);
      memory.copy(w + 1, key, <usize>keyLen);
      store<u8>(w + 1 + <usize>keyLen, 0x3D);
      memory.copy(w + 2 + <usize>keyLen, dictData + <usize>a, <usize>len);
      w += <usize>(keyLen + 2 + len);
      if (len > longest) longest = len;
    }
    store<i32>(expOffsets + (<usize>entries << 2), <i32>(w - expData));
    store<i32>(d + T_EXP_OFFSETS, <i32>expOffsets);
    store<i32>(d + T_SIMPLE, <i32>(i32At(d, T_HAS_INDICES) != 0 && i32At(d, T_HAS_VALIDITY) == 0 && i32At(d, T_KEY_INVALID) == 0
      && i32At(d, T_HAS_INVALID) == 0 && i32At(d, T_FALLBACK) < 0));
    store<i32>(d + T_EXP_DATA, <i32>expData);
    q = (w + <usize>SLACK + 7) & ~<usize>7;
    fixed += <i64>(keyLen + 2 + longest);
  }

  const nFields = i32At(h, H_N_FIELDS);
  const fields = ptrAt(h, H_FIELDS_PTR);
  const strings = q;
  let nStrings = 0;
  for (let c = 0; c < nFields; c++) {
    const d = fields + <usize>(c * FIELD_BYTES);
    if (i32At(d, F_KIND) == KIND_STRING) {
      store<i32>(strings + (<usize>nStrings << 2), <i32>d);
      nStrings++;
    }
  }
  store<i32>(h + H_N_STRINGS, nStrings);
  store<i32>(h + H_STRINGS_PTR, <i32>strings);
  q = (strings + (<usize>nStrings << 2) + 7) & ~<usize>7;
  for (let c = 0; c < nFields; c++) {
    const d = fields + <usize>(c * FIELD_BYTES);
    const keyLen = i32At(d, F_KEY_LEN);
    store<u8>(q, 0x2C);
    memory.copy(q + 1, ptrAt(d, F_KEY_PTR), <usize>keyLen);
    store<u8>(q + 1 + <usize>keyLen, 0x3D);
    store<i32>(d + F_PREFIX_PTR, <i32>q);
    store<i32>(d + F_PREFIX_LEN, keyLen + 2);
    q = (q + <usize>(keyLen + 2 + SLACK) + 7) & ~<usize>7;
    // The longest number (25 bytes) or a string's quotes, after `,key=`.
    fixed += <i64>(keyLen + 2 + 26);
  }
  assert(q <= qEnd, "derived region overflow");
  store<i32>(h + H_FIXED, fixed > 0x7FFFFFFF ? 0x7FFFFFFF : <i32>fixed);
}
