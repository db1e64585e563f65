/**
 * Field columns from Arrow, by type: Float16/32/64, Int8..Int64 and Uint8..Uint64, Bool, Utf8 and
 * LargeUtf8 as the columnar layout takes them (zero copy where the layout's form is Arrow's),
 * and a Dictionary<Utf8> declared `string`, gathered row by row.
 * @module
 */
import type { FieldType } from '../../types.js';
import { FieldKind, type Bitmap, type FieldColumn } from '../columnar/layout.js';
import { checkFieldKey, escapeTag, reservedKeyReason } from '../escape.js';
import { bytesOf, forEachUtf8, halfToDouble, indices32, isValid, kUtf8, offsets32, rebaseBits, validityOf, type TypedArray } from './buffers.js';
import { Type, kFloatHalf, kFloatSingle, unsupportedFieldError, type ArrowData } from './schema.js';

/**
 * The field column `name` of a batch (`rowBase`: the batch's first row in the write), as the
 * layout takes it: most types as they are (zero copy), narrower ones widened once; `declared`
 * is its `fieldTypes` entry, already checked against its type by the plan.
 */
export function fieldColumn(name: string, d: ArrowData, declared: FieldType | undefined, rowBase: number): FieldColumn {
  const keyBad = reservedKeyReason(name) ?? checkFieldKey(name);
  const base = { name, key: keyBad === undefined ? kUtf8.encode(escapeTag(name)) : new Uint8Array(0), keyInvalid: keyBad === undefined ? 0 : 1 };
  const type = d.type;
  const what = () => `column ${JSON.stringify(name)}`;
  const validity = validityOf(d);
  const n = d.length;
  switch (type.typeId) {
    case Type.Float: {
      let values: Float64Array;
      if (type.precision === kFloatHalf) {
        const h = d.values as unknown as Uint16Array;
        values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = halfToDouble(h[i]!);
      } else if (type.precision === kFloatSingle) values = new Float64Array(d.values as unknown as Float32Array);
      else values = d.values as unknown as Float64Array;
      return { ...base, validity, kind: declared === 'integer' ? FieldKind.FLOAT_AS_INT : FieldKind.FLOAT, values };
    }
    case Type.Int: {
      const v = d.values as TypedArray;
      if (declared === 'float') return { ...base, validity, kind: FieldKind.FLOAT, values: new Float64Array(v as unknown as ArrayLike<number>) };
      if (v instanceof Int32Array) return { ...base, validity, kind: FieldKind.INT32, values: v };
      if (v instanceof BigInt64Array) return { ...base, validity, kind: FieldKind.INT64, values: v };
      if (v instanceof BigUint64Array) return { ...base, validity, kind: FieldKind.UINT64, values: new BigInt64Array(v.buffer, v.byteOffset, v.length) };
      if (v instanceof Uint32Array) {
        const values = new BigInt64Array(n);
        const w = new Uint32Array(values.buffer);
        for (let i = 0; i < n; i++) w[2 * i] = v[i]!;
        return { ...base, validity, kind: FieldKind.INT64, values };
      }
      return { ...base, validity, kind: FieldKind.INT32, values: new Int32Array(v as unknown as ArrayLike<number>) };
    }
    case Type.Bool:
      return { ...base, validity, kind: FieldKind.BOOL, values: rebaseBits(bytesOf(d), d.offset, n) };
    case Type.Utf8:
    case Type.LargeUtf8:
      return { ...base, validity, kind: FieldKind.STRING, offsets: offsets32(d, what), values: bytesOf(d) };
    case Type.Dictionary: {
      // Declared string: the dictionary's raw values, gathered row by row.
      return { ...base, ...gatherDictionaryStrings(d, what) };
    }
    default:
      throw unsupportedFieldError(rowBase, name, type);
  }
}

/** A Dictionary<Utf8> column declared `string`: its values gathered into offsets + bytes. */
function gatherDictionaryStrings(d: ArrowData, what: () => string): { kind: typeof FieldKind.STRING; validity: Bitmap; offsets: Int32Array; values: Uint8Array } {
  const entries: (Uint8Array | null)[] = [];
  for (const chunk of d.dictionary?.data ?? []) forEachUtf8(chunk, what, (bytes) => entries.push(bytes));
  const indices = indices32(d, what);
  const rowValid = validityOf(d);
  const n = d.length;
  let size = 0;
  let validity: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const e = isValid(rowValid, i) ? entries[indices[i]!] : null;
    if (e === null || e === undefined) {
      validity ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
    } else size += e.length;
  }
  const values = new Uint8Array(size);
  const offsets = new Int32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(validity, i)) {
      const e = entries[indices[i]!]!;
      values.set(e, o);
      o += e.length;
    }
    offsets[i + 1] = o;
  }
  return { kind: FieldKind.STRING, validity, offsets, values };
}
