/**
 * Arrow, structurally: the type ids and type parameters read here, the shapes of `Data`,
 * `Field`, `Schema`, `RecordBatch` and `Table` (never `instanceof`, so that a table made by
 * another copy of `apache-arrow` works too), which types can be a time, a tag or a field, and
 * the wording of a column refused for its type.
 * @module
 */
import { InvalidPointError, type PointElement } from '../../errors.js';
import type { FieldType } from '../../types.js';

/** Arrow type ids (`Type` of apache-arrow), and the enums of some type parameters. */
export const Type = {
  Null: 1, Int: 2, Float: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10,
  LargeUtf8: 20, Dictionary: -1,
} as const;
export const kTimeUnitNs = [1_000_000_000n, 1_000_000n, 1_000n, 1n] as const; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND
export const kDateUnitDay = 0;
export const kFloatHalf = 0;
export const kFloatSingle = 1;

/** The parts of an Arrow `DataType` read here. */
export interface ArrowType {
  readonly typeId: number;
  readonly bitWidth?: number;
  readonly isSigned?: boolean;
  readonly precision?: number;
  readonly unit?: number;
  readonly timezone?: string | null;
  readonly dictionary?: ArrowType;
  readonly indices?: ArrowType;
  toString(): string;
}
/** The parts of an Arrow `Data` read here. */
export interface ArrowData {
  readonly type: ArrowType;
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
  /** A typed array for the types read here (`unknown`: a Struct's `values` are row proxies). */
  readonly values: unknown;
  readonly valueOffsets?: Int32Array | BigInt64Array;
  readonly nullBitmap?: Uint8Array;
  readonly dictionary?: { readonly data: readonly ArrowData[] };
  readonly children: readonly ArrowData[];
}
export interface ArrowField {
  readonly name: string;
  readonly type: ArrowType;
}
export interface ArrowSchema {
  readonly fields: readonly ArrowField[];
}
/** An Arrow `RecordBatch`, structurally. */
export interface ArrowRecordBatch {
  readonly schema: ArrowSchema;
  readonly data: { readonly children: readonly ArrowData[] };
  readonly numRows: number;
}
/** An Arrow `Table`, structurally. */
export interface ArrowTable {
  readonly schema: ArrowSchema;
  readonly batches: readonly ArrowRecordBatch[];
}

export function showType(t: ArrowType): string {
  try {
    return String(t);
  } catch {
    return `type id ${t.typeId}`;
  }
}

export function isStringType(t: ArrowType | undefined): boolean {
  return t !== undefined && (t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8);
}

// ---- what each type can be -------------------------------------------------------------------

export const kTimeTypeIds = new Set<number>([Type.Timestamp, Type.Date, Type.Int, Type.Utf8, Type.LargeUtf8]);
export const kTagTypeIds = new Set<number>([Type.Utf8, Type.LargeUtf8, Type.Int, Type.Float, Type.Bool]);
/** Field types; a Dictionary reaches the fields only when declared string (checked in the plan). */
export const kFieldTypeIds = new Set<number>([Type.Float, Type.Int, Type.Bool, Type.Utf8, Type.LargeUtf8, Type.Dictionary]);

/** The field type a column takes without a declaration. */
export function naturalFieldType(t: ArrowType): FieldType | undefined {
  switch (t.typeId) {
    case Type.Float: return 'float';
    case Type.Int: return 'integer';
    case Type.Bool: return 'boolean';
    case Type.Utf8:
    case Type.LargeUtf8: return 'string';
    default: return undefined;
  }
}

// ---- refusals by type ------------------------------------------------------------------------

/** Per-column data problem, at the batch's first row. */
export function columnError(rowBase: number, element: PointElement, name: string | undefined, reason: string): InvalidPointError {
  return new InvalidPointError(rowBase, element, name, reason);
}

/** The time column `name` has a type that is not a time. */
export function notATimeError(rowBase: number, name: string | undefined, type: ArrowType): InvalidPointError {
  return columnError(rowBase, 'time', undefined, `column ${JSON.stringify(name)} has Arrow type ${showType(type)}, which is not a time: use Timestamp, Date, an integer in the write's precision or ISO 8601 strings`);
}

/** The tag column `name` has a type that cannot be a tag (a dictionary: of other values than strings). */
export function unsupportedTagError(rowBase: number, name: string, type: ArrowType): InvalidPointError {
  return columnError(rowBase, 'tags', name, type.typeId === Type.Dictionary
    ? `unsupported Arrow type ${showType(type)}: a dictionary tag column must hold strings`
    : `unsupported Arrow type ${showType(type)} for a tag column (strings, dictionaries of strings, integers, floats and booleans can be tags)`);
}

const kSupportedFields = 'Float16/32/64, Int8..Int64, Uint8..Uint64, Bool, Utf8, LargeUtf8 (and Dictionary<Utf8> as a tag)';

/** The field column `name` has a type with no line-protocol equivalent. */
export function unsupportedFieldError(rowBase: number, name: string, type: ArrowType): InvalidPointError {
  return columnError(rowBase, 'fields', name, `unsupported Arrow type ${showType(type)} (supported: ${kSupportedFields})`);
}
