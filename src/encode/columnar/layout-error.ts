/**
 * Where a columnar encoder stopped, in words: `layoutError` turns an `ErrorCode` at a row and
 * column of a layout into the `InvalidPointError` the point encoder throws for the same row, and
 * `rowHasField`/`rowsWithoutField` hold the rule behind `NO_FIELD` (a row needs a field that is
 * written). Shared by the TypeScript walk (`ts-encoder.ts`) and the WASM glue, so that both word
 * every refusal alike.
 * @module
 */
import { InvalidPointError } from '../../errors.js';
import { LineTooLargeError } from '../body-builder.js';
import { checkFieldKey, checkTagName, reservedKeyReason } from '../escape.js';
import { ErrorCode, FieldKind, type ColumnarLayout, type FieldColumn } from './layout.js';

const kFatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The reason a raw name (UTF-8 bytes) cannot be written, as `check` words it. */
function nameReason(bytes: Uint8Array, check: (s: string) => string | undefined): string {
  let s: string;
  try {
    s = kFatalUtf8.decode(bytes);
  } catch {
    return 'is not valid UTF-8';
  }
  return check(s) ?? 'cannot be written';
}

/** influxd's MaxKeyLength: measurement + tags + field key + 4 bytes. */
export const kMaxKeyBytes = 65_535;

/** Longest list of row indices named in a message. */
const kMaxNamedRows = 10;

/** Whether row `i` has at least one field that would be written. */
export function rowHasField(fields: readonly FieldColumn[], i: number, skipNonFinite: boolean): boolean {
  for (const f of fields) {
    const v = f.validity;
    if (v !== null && (v[i >> 3]! & (1 << (i & 7))) === 0) continue;
    if (skipNonFinite && (f.kind === FieldKind.FLOAT || f.kind === FieldKind.FLOAT_AS_INT) && !Number.isFinite(f.values[i]!)) continue;
    return true;
  }
  return false;
}

/**
 * The rows NO_FIELD names, as global indices: local row `row` (which has no field), then the
 * next rows before `to` that have none either, up to one more than a message shows (so that it
 * knows to end with `…`).
 */
export function rowsWithoutField(fields: readonly FieldColumn[], row: number, to: number, rowBase: number, skipNonFinite: boolean): number[] {
  const rows = [rowBase + row];
  for (let k = row + 1; k < to && rows.length <= kMaxNamedRows; k++) {
    if (!rowHasField(fields, k, skipNonFinite)) rows.push(rowBase + k);
  }
  return rows;
}

/**
 * The `InvalidPointError` for an encoder stop: `code` at local row `row` of `layout`, in tag or
 * field column `column`, dictionary entry `entry` (TAG_VALUE), `detail` (byte count for
 * STRING_TOO_LONG and LINE_TOO_LARGE; the rows found, as global indices, for NO_FIELD).
 */
export function layoutError(layout: ColumnarLayout, rowBase: number, code: ErrorCode, row: number, column = -1, entry = -1, detail?: number | readonly number[], limit = 0): InvalidPointError {
  const index = rowBase + row;
  switch (code) {
    case ErrorCode.TAG_KEY: {
      const name = layout.tags[column]!.name;
      return new InvalidPointError(index, 'tags', name, reservedKeyReason(name) ?? `key ${checkTagName(name) ?? 'cannot be written'}`);
    }
    case ErrorCode.TAG_VALUE: {
      const t = layout.tags[column]!;
      const bytes = t.dictData.subarray(t.dictOffsets[entry]!, t.dictOffsets[entry + 1]!);
      return new InvalidPointError(index, 'tags', t.name, `value ${nameReason(bytes, checkTagName)}`);
    }
    case ErrorCode.FIELD_KEY: {
      const name = layout.fields[column]!.name;
      return new InvalidPointError(index, 'fields', name, reservedKeyReason(name) ?? `key ${checkFieldKey(name) ?? 'cannot be written'}`);
    }
    case ErrorCode.FIELD_NON_FINITE: {
      const f = layout.fields[column]!;
      return new InvalidPointError(index, 'fields', f.name, `${String(f.values[row])} cannot be written: InfluxDB floats must be finite`);
    }
    case ErrorCode.FIELD_NOT_SAFE_INTEGER: {
      const f = layout.fields[column]!;
      return new InvalidPointError(index, 'fields', f.name, `declared integer, but ${String(f.values[row])} is not a safe integer: pass a bigint for values beyond 2^53`);
    }
    case ErrorCode.FIELD_INT64_RANGE: {
      const f = layout.fields[column]!;
      const v = BigInt.asUintN(64, f.values[row] as bigint);
      return new InvalidPointError(index, 'fields', f.name, `${v} is outside the int64 range`);
    }
    case ErrorCode.STRING_TOO_LONG:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, `string value of ${detail as number} bytes is over InfluxDB's 64 KB limit`);
    case ErrorCode.STRING_INVALID_UTF8:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, 'string value is not valid UTF-8');
    case ErrorCode.STRING_NEWLINE:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, 'string value contains a newline; pass allowNewlinesInStrings: true to write it anyway');
    case ErrorCode.NO_FIELD: {
      const rows = (detail as readonly number[] | undefined) ?? [index];
      const named = rows.slice(0, kMaxNamedRows).join(', ') + (rows.length > kMaxNamedRows ? ', …' : '');
      const which = rows.length === 1 ? `row ${named} has` : `rows ${named} have`;
      return new InvalidPointError(index, 'fields', undefined,
        `no field with a value: a point needs at least one field (${which} no non-null field; pass invalidRows: 'skip' to leave such rows out)`);
    }
    case ErrorCode.TIME_RANGE:
      return new InvalidPointError(index, 'time', undefined, layout.meta.timeReasons.get(row) ?? 'cannot be written');
    case ErrorCode.LINE_TOO_LARGE:
      return new InvalidPointError(index, 'point', undefined, new LineTooLargeError(detail as number, limit).message);
    case ErrorCode.SERIES_KEY_TOO_LONG:
      return new InvalidPointError(index, 'point', undefined, `series key of ${detail as number} bytes (measurement, tags and field key) is over InfluxDB's limit of ${kMaxKeyBytes}`);
    default:
      return new InvalidPointError(index, 'point', undefined, `columnar encoder error ${String(code)}`);
  }
}
