/**
 * Tag columns from Arrow: every tag value checked and escaped once per distinct value (a
 * dictionary's entries once per dictionary), rows as indices into the escaped entries, as the
 * columnar layout takes them. Dictionary columns, interned Utf8/Int/Float/Bool columns, the
 * write's constant tags (alone, or as a column's fallback value).
 * @module
 */
import { InvalidPointError } from '../../errors.js';
import type { TagColumn } from '../columnar/layout.js';
import { checkTagName, escapeTag, reservedKeyReason } from '../escape.js';
import { bytesOf, forEachUtf8, halfToDouble, indices32, isValid, kFatalUtf8, kUtf8, offsets32, validityOf, type TypedArray } from './buffers.js';
import { Type, isStringType, kFloatHalf, unsupportedTagError, type ArrowData, type ArrowType } from './schema.js';

/** Escaped tag-value dictionary (layout form). */
export interface TagDict {
  data: Uint8Array;
  offsets: Int32Array;
  invalid: Uint8Array | null;
}

/** Builds a tag dictionary from entry strings (null = no value); invalid entries keep their raw bytes. */
class TagDictBuilder {
  readonly #parts: Uint8Array[] = [];
  readonly #offsets: number[] = [0];
  #invalid: number[] | null = null;
  #size = 0;

  /** Adds an entry from its JS string (null: no value). */
  addString(s: string | null): number {
    if (s === null || s === '') return this.#push(new Uint8Array(0), false);
    const bad = checkTagName(s);
    return this.#push(kUtf8.encode(bad === undefined ? escapeTag(s) : s), bad !== undefined);
  }

  /** Adds an entry from raw UTF-8 bytes. */
  addBytes(bytes: Uint8Array): number {
    if (bytes.length === 0) return this.#push(bytes, false);
    let s: string;
    try {
      s = kFatalUtf8.decode(bytes);
    } catch {
      return this.#push(bytes, true);
    }
    return this.addString(s);
  }

  #push(bytes: Uint8Array, invalid: boolean): number {
    const e = this.#offsets.length - 1;
    this.#parts.push(bytes);
    this.#size += bytes.length;
    this.#offsets.push(this.#size);
    if (invalid) (this.#invalid ??= []).push(e);
    return e;
  }

  get entries(): number {
    return this.#offsets.length - 1;
  }

  build(): TagDict {
    const data = new Uint8Array(this.#size);
    let o = 0;
    for (const p of this.#parts) {
      data.set(p, o);
      o += p.length;
    }
    let invalid: Uint8Array | null = null;
    if (this.#invalid !== null) {
      invalid = new Uint8Array(this.entries);
      for (const e of this.#invalid) invalid[e] = 1;
    }
    return { data, offsets: Int32Array.from(this.#offsets), invalid };
  }
}

/**
 * The tag column `name` of a batch (`rowBase`: the batch's first row in the write): its key
 * checked and escaped, its values as dictionary indices into escaped entries. A dictionary
 * column keeps its indices and its dictionary (escaped once, cached in `dicts` across batches);
 * any other column is interned here (nulls become the empty entry).
 */
export function tagColumn(name: string, d: ArrowData, rowBase: number, dicts: WeakMap<object, TagDict>): TagColumn {
  const what = () => `column ${JSON.stringify(name)}`;
  const keyBad = reservedKeyReason(name) ?? checkTagName(name);
  const key = keyBad === undefined ? kUtf8.encode(escapeTag(name)) : new Uint8Array(0);
  const type = d.type;
  let dict: TagDict;
  let indices: Int32Array;
  let validity = validityOf(d);
  if (type.typeId === Type.Dictionary) {
    if (!isStringType(type.dictionary) || d.dictionary === undefined) throw unsupportedTagError(rowBase, name, type);
    dict = escapedDict(d.dictionary, what, dicts);
    indices = indices32(d, what);
    const entries = dict.offsets.length - 1;
    for (let i = 0; i < d.length; i++) {
      if (!isValid(validity, i)) continue;
      const e = indices[i]!;
      if (e < 0 || e >= entries) throw new InvalidPointError(rowBase + i, 'tags', name, `dictionary index ${e} is out of range (${entries} entries): the Arrow data is corrupt`);
    }
  } else {
    ({ dict, indices } = internTagValues(d, type, what, () => unsupportedTagError(rowBase, name, type)));
    validity = null; // nulls became empty entries
  }
  return {
    name, key, keyInvalid: keyBad === undefined ? 0 : 1, indices, validity,
    dictData: dict.data, dictOffsets: dict.offsets, dictInvalid: dict.invalid, fallback: -1,
  };
}

/** A dictionary's entries, checked and escaped once (cached per dictionary across batches). */
function escapedDict(dictionary: { readonly data: readonly ArrowData[] }, what: () => string, dicts: WeakMap<object, TagDict>): TagDict {
  const hit = dicts.get(dictionary);
  if (hit !== undefined) return hit;
  const b = new TagDictBuilder();
  for (const chunk of dictionary.data) {
    forEachUtf8(chunk, what, (bytes) => {
      if (bytes === null) b.addString(null);
      else b.addBytes(bytes);
    });
  }
  const dict = b.build();
  dicts.set(dictionary, dict);
  return dict;
}

/** A tag column of one constant value (a constant tag of the write that no column has). */
export function constTagColumn(k: string, v: string): TagColumn {
  const b = new TagDictBuilder();
  b.addString(v);
  const d = b.build();
  return {
    name: k, key: kUtf8.encode(escapeTag(k)), keyInvalid: 0, indices: null, validity: null,
    dictData: d.data, dictOffsets: d.offsets, dictInvalid: null, fallback: 0,
  };
}

/** A copy of a tag column with `value` appended to its dictionary as the fallback entry. */
export function withFallback(t: TagColumn, value: string): TagColumn {
  const bytes = kUtf8.encode(escapeTag(value));
  const entries = t.dictOffsets.length - 1;
  const dictData = new Uint8Array(t.dictData.length + bytes.length);
  dictData.set(t.dictData, 0);
  dictData.set(bytes, t.dictData.length);
  const dictOffsets = new Int32Array(entries + 2);
  dictOffsets.set(t.dictOffsets, 0);
  dictOffsets[entries + 1] = dictData.length;
  let dictInvalid = t.dictInvalid;
  if (dictInvalid !== null) {
    dictInvalid = new Uint8Array(entries + 1);
    dictInvalid.set(t.dictInvalid!, 0);
  }
  return { ...t, dictData, dictOffsets, dictInvalid, fallback: entries };
}

/** A non-dictionary tag column as dictionary indices + escaped entries (one entry per distinct value). */
function internTagValues(d: ArrowData, type: ArrowType, what: () => string, unsupported: () => Error): { dict: TagDict; indices: Int32Array } {
  const n = d.length;
  const b = new TagDictBuilder();
  const empty = b.addString(null);
  const indices = new Int32Array(n);
  const valid = validityOf(d);
  switch (type.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8: {
      // Keyed by the raw bytes (as latin1 text, one char per byte): each distinct value is decoded and escaped once.
      const seen = new Map<string, number>();
      const offs = offsets32(d, what);
      const values = bytesOf(d);
      const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) {
          indices[i] = empty;
          continue;
        }
        const k = buf.toString('latin1', offs[i]!, offs[i + 1]!);
        let e = seen.get(k);
        if (e === undefined) {
          e = b.addBytes(values.subarray(offs[i]!, offs[i + 1]!));
          seen.set(k, e);
        }
        indices[i] = e;
      }
      break;
    }
    case Type.Int:
    case Type.Float: {
      const seen = new Map<number | bigint, number>();
      const v = d.values as TypedArray;
      const half = type.typeId === Type.Float && type.precision === kFloatHalf;
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) {
          indices[i] = empty;
          continue;
        }
        const x = half ? halfToDouble(v[i] as number) : v[i]!;
        let e = seen.get(x);
        if (e === undefined) {
          e = b.addString(String(x));
          seen.set(x, e);
        }
        indices[i] = e;
      }
      break;
    }
    case Type.Bool: {
      const t = b.addString('true');
      const f = b.addString('false');
      const bits = bytesOf(d);
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) indices[i] = empty;
        else {
          const j = d.offset + i;
          indices[i] = (bits[j >> 3]! & (1 << (j & 7))) !== 0 ? t : f;
        }
      }
      break;
    }
    default:
      throw unsupported();
  }
  return { dict: b.build(), indices };
}
