/**
 * One series as an Arrow `RecordBatch`, and a statement's batches as its result: what both
 * `arrow` converters share once their columns are built — `SeriesConverter` (arrow.ts, from
 * parsed rows) and the JSON-bytes parser (json-columns/). Owns the fields (with their
 * `influx_kind`), the schema metadata of every batch, the constant dictionary columns of a
 * series' GROUP BY tags, and the Table / Map shape of a statement.
 */
import {
  type Data, type Dictionary, Field, type Int32, RecordBatch, Schema, Struct, Table, type Utf8, type Vector, makeData, type DataType,
} from 'apache-arrow';
import type { Series } from '../response.js';
import type { ColumnTyper, Kind } from './arrow-typing.js';
import { seriesLabel } from './iterable.js';

/** Metadata keys set on every table's / batch's schema. */
export const kMetaMeasurement = 'measurement';
export const kMetaTags = 'tags';
export const kMetaStatementId = 'statement_id';
export const kMetaKey = 'key';
export const kMetaPartial = 'partial';
/** Field metadata `influx_kind`: `time`, `field`, `tag` (a column of the rows) or `group_tag` (a GROUP BY constant). */
export const kFieldKind = 'influx_kind';

export function field(name: string, type: DataType, kind: string, nullable = true): Field {
  return new Field(name, type, nullable, new Map([[kFieldKind, kind]]));
}

/** The field of a column of the rows built as `kind`. */
export function columnField(name: string, data: Data, kind: Kind): Field {
  return field(name, data.type, kind === 'time' ? 'time' : kind === 'tag' ? 'tag' : 'field', kind !== 'time' || data.nullCount > 0);
}

/** What a batch is made of: the series' name, tags, `partial` and column names. */
export type SeriesHead = Pick<Series, 'name' | 'tags'> & { partial?: unknown; columns: readonly string[] };

/** A series' record batch from its fields and columns, with the schema metadata of every batch. */
export function seriesBatch(
  series: Pick<Series, 'name' | 'tags'> & { partial?: unknown }, statementId: unknown, fields: Field[], children: Data[], n: number,
): RecordBatch {
  const metadata = new Map<string, string>([[kMetaStatementId, String(statementId)], [kMetaKey, seriesKey(series)]]);
  if (series.name !== undefined) metadata.set(kMetaMeasurement, series.name);
  if (series.tags !== undefined) metadata.set(kMetaTags, JSON.stringify(series.tags));
  if (series.partial) metadata.set(kMetaPartial, 'true');
  const arrowSchema = new Schema(fields, metadata);
  return new RecordBatch(arrowSchema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/** aioinflux's name of a series: `measurement,tag=value,...`, tags sorted (`''` for neither). */
export function seriesKey(series: Pick<Series, 'name' | 'tags'>): string {
  return seriesLabel(series);
}

/** Where the constant column of a GROUP BY tag gets its one-value dictionary and its `n` zero indices. */
export interface ConstantSource {
  constantVector(value: string): Vector<Utf8>;
  zeroIndices(n: number): Int32Array;
}

/** A column of `n` rows all holding `value`, as a dictionary of that one value. */
export function constantDictionary(value: string, n: number, type: Dictionary<Utf8, Int32>, source: ConstantSource): Data {
  return makeData({ type, length: n, nullCount: 0, data: source.zeroIndices(n), dictionary: source.constantVector(value) });
}

/** One built column of a series and the type it was built as. */
export interface BuiltColumn {
  data: Data;
  kind: Kind;
}

/**
 * The record batch of a series of `n` rows: its columns in order, each as `column` builds it,
 * then (unless `groupTagColumns` is false) its GROUP BY tags not already among them, sorted, as
 * constant dictionary columns (aioinflux's `df[k] = v`) of the typer's shared Dictionary types.
 */
export function toRecordBatch(
  typer: ColumnTyper, series: SeriesHead, statementId: unknown, n: number,
  column: (name: string, index: number) => BuiltColumn, constants: ConstantSource,
): RecordBatch {
  const fields: Field[] = [];
  const children: Data[] = [];
  const names = new Set<string>();
  series.columns.forEach((name, c) => {
    const { data, kind } = column(name, c);
    fields.push(columnField(name, data, kind));
    children.push(data);
    names.add(name);
  });
  if (typer.options.groupTagColumns !== false && series.tags !== undefined) {
    for (const k of Object.keys(series.tags).sort()) {
      if (names.has(k)) continue;
      const data = constantDictionary(series.tags[k]!, n, typer.dictType(k), constants);
      fields.push(field(k, data.type, 'group_tag', false));
      children.push(data);
    }
  }
  return seriesBatch(series, statementId, fields, children, n);
}

/**
 * A statement's batches as its result: a `Table` for one series, else a `Map` keyed by each
 * batch's `key` metadata. The server merges a series' rows; should a key come twice, both are
 * kept: concatenated when the types agree (the Table constructor checks), else under `key#index`.
 */
export function statementResult(batches: readonly RecordBatch[]): Table | Map<string, Table> {
  if (batches.length === 1) return new Table(batches[0]!.schema, [batches[0]!]);
  const tables = new Map<string, Table>();
  batches.forEach((b, i) => {
    const key = b.schema.metadata.get(kMetaKey)!;
    const prev = tables.get(key);
    if (prev === undefined) {
      tables.set(key, new Table(b.schema, [b]));
      return;
    }
    try {
      tables.set(key, new Table(prev.schema, [...prev.batches, b]));
    } catch {
      tables.set(`${key}#${i}`, new Table(b.schema, [b]));
    }
  });
  return tables;
}
