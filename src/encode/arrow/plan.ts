/**
 * The write's options against a table: `resolveArrowOptions` checks the options once per write
 * (the measurement, the constant tags, the option values), and `planColumns` decides once per
 * schema what each column becomes (time, tag, field, or left out), refusing options that do
 * not fit the table (`InvalidOptionError`) and column types with no line-protocol equivalent.
 * @module
 */
import { InvalidOptionError, InvalidPointError } from '../../errors.js';
import type { FieldType, Precision } from '../../types.js';
import { checkMeasurement, checkTagName, escapeMeasurement, reservedKeyReason } from '../escape.js';
import { NS_PER } from '../time.js';
import { kUtf8 } from './buffers.js';
import {
  Type, columnError, isStringType, kFieldTypeIds, kTagTypeIds, kTimeTypeIds, naturalFieldType, notATimeError, showType,
  unsupportedFieldError, unsupportedTagError, type ArrowSchema, type ArrowType,
} from './schema.js';

/** The Arrow-specific write options (as `client.write(table, options)` takes them). */
export interface ArrowWriteOptions {
  /** Measurement of every row (required). */
  measurement?: string;
  /** The time column; default: the only Timestamp column, else a column named `time`, else none (now). */
  timeColumn?: string;
  /** Columns written as tags besides the dictionary-encoded string columns. */
  tagColumns?: readonly string[];
  /** Constant tags added to every row (a row's own non-empty value of the same key wins). */
  tags?: Record<string, string>;
  /** Declared field types: `integer` for a float column, `float` for a <= 32-bit integer column, `string` for a dictionary column. */
  fieldTypes?: Record<string, FieldType>;
  /** A row with no non-null field: refuse the write (default), or leave it out and report it. */
  invalidRows?: 'error' | 'skip';
  /** NaN / ±Infinity in a float column: refuse the write (default), or leave that field out. */
  nonFinite?: 'error' | 'skipField';
}

/** Options of one Arrow encode: the write's options, resolved. */
export interface ArrowEncodeOptions extends ArrowWriteOptions {
  precision: Precision;
  allowNewlinesInStrings?: boolean;
}

/** The options of one write, checked, in the form the layouts are built from. */
export interface ResolvedArrowOptions {
  readonly timeColumn: string | undefined;
  readonly precision: Precision;
  /** The measurement, escaped, as UTF-8. */
  readonly measurement: Uint8Array;
  /** The constant tags with a value (key, value), checked. */
  readonly extraTags: readonly (readonly [string, string])[];
  readonly tagColumns: ReadonlySet<string>;
  /** `fieldTypes`, without a prototype (a column named `constructor` has no declared type). */
  readonly fieldTypes: Record<string, FieldType>;
}

/** Checks the options of one write (`InvalidOptionError`; `InvalidPointError` for the measurement and the constant tags). */
export function resolveArrowOptions(options: ArrowEncodeOptions): ResolvedArrowOptions {
  if (!Object.hasOwn(NS_PER, options.precision)) throw new InvalidOptionError(`precision must be one of n, u, ms, s, m, h (got ${String(options.precision)})`);
  if (options.invalidRows !== undefined && options.invalidRows !== 'error' && options.invalidRows !== 'skip') {
    throw new InvalidOptionError(`write options.invalidRows must be 'error' or 'skip' (got ${String(options.invalidRows)})`);
  }
  if (options.nonFinite !== undefined && options.nonFinite !== 'error' && options.nonFinite !== 'skipField') {
    throw new InvalidOptionError(`write options.nonFinite must be 'error' or 'skipField' (got ${String(options.nonFinite)})`);
  }
  if (options.timeColumn !== undefined && typeof options.timeColumn !== 'string') {
    throw new InvalidOptionError(`write options.timeColumn must be a string (got ${typeof options.timeColumn})`);
  }
  const tagColumns = options.tagColumns ?? [];
  if (!Array.isArray(tagColumns) || tagColumns.some((c) => typeof c !== 'string')) {
    throw new InvalidOptionError('write options.tagColumns must be an array of column names');
  }
  const fieldTypes = Object.assign(Object.create(null) as Record<string, FieldType>, options.fieldTypes ?? {});
  // The constant tags, checked up front like the point encoder's extra tags.
  const extra: [string, string][] = [];
  for (const [k, v] of Object.entries(options.tags ?? {})) {
    if (typeof v !== 'string') throw new InvalidOptionError(`write options.tags.${k} must be a string (got ${typeof v})`);
    const bad = reservedKeyReason(k) ?? checkTagName(k) ?? (v === '' ? undefined : checkTagName(v));
    if (bad !== undefined) throw new InvalidPointError(0, 'tags', k, `extra tag: ${bad}`);
    if (v !== '') extra.push([k, v]);
  }
  const m = options.measurement;
  if (m === undefined) throw new InvalidPointError(0, 'measurement', undefined, 'missing: give the point a measurement or pass { measurement } to write()');
  if (typeof m !== 'string') throw new InvalidPointError(0, 'measurement', undefined, `must be a string (got ${typeof m})`);
  const badMeasurement = checkMeasurement(m);
  if (badMeasurement !== undefined) throw new InvalidPointError(0, 'measurement', undefined, badMeasurement);
  return {
    timeColumn: options.timeColumn,
    precision: options.precision,
    measurement: kUtf8.encode(escapeMeasurement(m)),
    extraTags: extra,
    tagColumns: new Set(tagColumns),
    fieldTypes,
  };
}

// ---- the plan: what each column of a schema becomes ------------------------------------------

export type ColumnRole =
  | { role: 'tag'; index: number; name: string; type: ArrowType }
  | { role: 'field'; index: number; name: string; type: ArrowType; declared: FieldType | undefined }
  | { role: 'drop' };

export interface Plan {
  readonly timeIndex: number;
  readonly timeName: string | undefined;
  readonly columns: readonly ColumnRole[];
}

/** What each column of `schema` becomes (`rowBase`: the first row of the batch that brought it, for errors). */
export function planColumns(schema: ArrowSchema, rowBase: number, opts: ResolvedArrowOptions): Plan {
  const fields = schema.fields;
  const names = fields.map((f) => f.name);
  const list = () => names.map((n) => JSON.stringify(n)).join(', ');
  let timeIndex = -1;
  if (opts.timeColumn !== undefined) {
    timeIndex = names.indexOf(opts.timeColumn);
    if (timeIndex < 0) throw new InvalidOptionError(`write options.timeColumn ${JSON.stringify(opts.timeColumn)} is not a column of the table (columns: ${list()})`);
  } else {
    const stamps = fields.flatMap((f, i) => (f.type.typeId === Type.Timestamp ? [i] : []));
    if (stamps.length === 1) timeIndex = stamps[0]!;
    else if (names.includes('time')) timeIndex = names.indexOf('time');
    else if (stamps.length > 1) {
      throw new InvalidOptionError(`the table has ${stamps.length} Timestamp columns (${stamps.map((i) => JSON.stringify(names[i])).join(', ')}): pass write options.timeColumn to choose one`);
    }
  }
  if (timeIndex >= 0 && names.indexOf(names[timeIndex]!) !== names.lastIndexOf(names[timeIndex]!)) {
    throw new InvalidOptionError(`several columns are named ${JSON.stringify(names[timeIndex])}: the time column must be unique`);
  }
  for (const c of opts.tagColumns) {
    if (!names.includes(c)) throw new InvalidOptionError(`write options.tagColumns names ${JSON.stringify(c)}, which is not a column of the table (columns: ${list()})`);
    if (c === names[timeIndex]) throw new InvalidOptionError(`column ${JSON.stringify(c)} is the time column and cannot also be a tag`);
    if (opts.fieldTypes[c] !== undefined) throw new InvalidOptionError(`column ${JSON.stringify(c)} is in both tagColumns and fieldTypes`);
  }
  const columns: ColumnRole[] = fields.map((f, index): ColumnRole => {
    const { name, type } = f;
    if (index === timeIndex || type.typeId === Type.Null) return { role: 'drop' };
    const declared = opts.fieldTypes[name];
    if (opts.tagColumns.has(name)) return { role: 'tag', index, name, type };
    if (type.typeId === Type.Dictionary) {
      if (declared === undefined) return { role: 'tag', index, name, type };
      if (declared !== 'string' || !isStringType(type.dictionary)) {
        throw new InvalidOptionError(`write options.fieldTypes.${name} is ${declared}, but column ${JSON.stringify(name)} is ${showType(type)}: a dictionary column can only be declared string`);
      }
      return { role: 'field', index, name, type, declared };
    }
    if (declared !== undefined) {
      const natural = naturalFieldType(type);
      const ok = declared === natural
        || (declared === 'integer' && natural === 'float')
        || (declared === 'float' && natural === 'integer' && (type.bitWidth ?? 64) <= 32);
      if (!ok && natural !== undefined) {
        throw new InvalidOptionError(`write options.fieldTypes.${name} is ${declared}, but column ${JSON.stringify(name)} is ${showType(type)}`
          + (declared === 'float' && natural === 'integer' ? ': only integer columns of at most 32 bits are written as floats' : ''));
      }
    }
    return { role: 'field', index, name, type, declared };
  });
  // Types without a line-protocol equivalent: refused whether or not the batch has rows.
  if (timeIndex >= 0 && !kTimeTypeIds.has(fields[timeIndex]!.type.typeId)) throw notATimeError(rowBase, names[timeIndex], fields[timeIndex]!.type);
  for (const c of columns) {
    if (c.role === 'tag') {
      const t = c.type;
      if (t.typeId === Type.Dictionary ? !isStringType(t.dictionary) : !kTagTypeIds.has(t.typeId)) throw unsupportedTagError(rowBase, c.name, t);
    } else if (c.role === 'field' && !kFieldTypeIds.has(c.type.typeId)) {
      throw unsupportedFieldError(rowBase, c.name, c.type);
    }
  }
  // Duplicate names within a role: a line cannot hold the same tag or field key twice.
  const seen = new Set<string>();
  for (const c of columns) {
    if (c.role === 'drop') continue;
    const k = `${c.role}:${c.name}`;
    if (seen.has(k)) throw columnError(rowBase, c.role === 'tag' ? 'tags' : 'fields', c.name, `several columns are named ${JSON.stringify(c.name)}: a line cannot hold the same key twice`);
    seen.add(k);
  }
  return { timeIndex, timeName: timeIndex >= 0 ? names[timeIndex] : undefined, columns };
}
