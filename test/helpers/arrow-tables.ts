/**
 * Random Arrow tables for the columnar encoders' differential tests (columnar against points,
 * WASM against TypeScript, the pool against one thread, `encode()`'s encoder choice): the spec
 * they share, the table built from a spec's columns (`buildTable`, with a nanosecond time column
 * from `nsTimes` or the test's own), its rows cut into record batches, the write options it asks
 * for, and a table's layouts with their row bases.
 */
import * as A from 'apache-arrow';
import { ArrowLayoutBuilder, type ArrowEncodeOptions } from '../../src/encode/arrow/index.js';
import type { ColumnarLayout } from '../../src/encode/columnar/layout.js';
import type { FieldType, Precision } from '../../src/types.js';

/** One column of a random table: its name, its kind (a key of the test's table of kinds), its values. */
export interface ColumnSpec {
  name: string;
  kind: string;
  values: unknown[];
}

/** What a column kind asks of the write options. */
export interface ColumnRoles {
  /** A tag by `tagColumns` (not by its type). */
  tagColumn?: boolean;
  /** Its `fieldTypes` entry. */
  declared?: FieldType;
}

/** What a column kind gives the table: the Arrow type its values are built as. */
export interface ColumnType {
  type: () => A.DataType;
}

/** A random table and the write it goes through (each test adds how its time column is made). */
export interface RandomTableSpec {
  rows: number;
  precision: Precision;
  times: bigint[];
  columns: ColumnSpec[];
  measurement: string;
  extraTags: Record<string, string>;
  nonFinite: 'error' | 'skipField';
  invalidRows: 'error' | 'skip';
  allowNewlines: boolean;
  /** [start, end) of the rows written, and where the batches are split (inside the slice). */
  slice: [number, number];
  splits: number[];
  maxBodyBytes: number;
}

/**
 * Rows [a, b) of `full` as a table of record batches cut at `splits` (offsets into the slice;
 * those outside it and repeats are ignored). A slice has Arrow offsets that are not multiples of
 * 8: validity bitmaps must be re-based by the layout builder.
 */
export function sliceIntoBatches(full: A.Table, [a, b]: readonly [number, number], splits: readonly number[]): A.Table {
  const sliced = full.slice(a, b);
  const cuts = [...new Set(splits.filter((s) => s > 0 && s < b - a))].sort((x, y) => x - y);
  if (cuts.length === 0) return sliced;
  const batches: A.RecordBatch[] = [];
  let prev = 0;
  for (const cut of [...cuts, b - a]) {
    batches.push(...sliced.slice(prev, cut).batches);
    prev = cut;
  }
  return new A.Table(batches);
}

/** What `buildTable` reads of a spec: its columns, the rows written and where batches are cut. */
export interface TableSource {
  columns: readonly { name: string; kind: string; values: unknown[] }[];
  slice: readonly [number, number];
  splits: readonly number[];
}

/** A Timestamp<NANOSECOND> column of the raw int64 values (no null). */
export function nsTimes(times: readonly bigint[]): A.Vector {
  return A.makeVector({ type: new A.TimestampNanosecond(), data: BigInt64Array.from(times), length: times.length } as never);
}

/**
 * The table of `spec`: `full` has the `leading` columns first (the time column, which the test
 * makes), then each of the spec's columns from its values with the Arrow type of its kind in
 * `kinds` (a spec column named like a leading one takes its place); `table` is rows `spec.slice`
 * of it cut into record batches at `spec.splits` (`sliceIntoBatches`).
 */
export function buildTable(spec: TableSource, kinds: Readonly<Record<string, ColumnType>>, leading: Readonly<Record<string, A.Vector>>): { table: A.Table; full: A.Table } {
  const vectors: Record<string, A.Vector> = { ...leading };
  for (const c of spec.columns) vectors[c.name] = A.vectorFromArray(c.values, kinds[c.kind]!.type());
  const full = new A.Table(vectors);
  return { table: sliceIntoBatches(full, spec.slice, spec.splits), full };
}

/** The write options of `spec`, its time in column `timeColumn`, each column's roles from `kinds`. */
export function writeOptionsOf(spec: RandomTableSpec, kinds: Readonly<Record<string, ColumnRoles>>, timeColumn: string): ArrowEncodeOptions {
  const tagColumns = spec.columns.filter((c) => kinds[c.kind]!.tagColumn).map((c) => c.name);
  const fieldTypes: Record<string, FieldType> = {};
  for (const c of spec.columns) if (kinds[c.kind]!.declared) fieldTypes[c.name] = kinds[c.kind]!.declared!;
  return {
    measurement: spec.measurement, precision: spec.precision, timeColumn, tagColumns, fieldTypes,
    tags: spec.extraTags, nonFinite: spec.nonFinite, invalidRows: spec.invalidRows, allowNewlinesInStrings: spec.allowNewlines,
  };
}

/** Every batch's layout, with its rowBase (as `encodeArrow` numbers rows); throws what the builder throws. */
export function batchLayouts(table: A.Table, options: ArrowEncodeOptions): { layout: ColumnarLayout; rowBase: number }[] {
  const builder = new ArrowLayoutBuilder(options);
  const out: { layout: ColumnarLayout; rowBase: number }[] = [];
  let rowBase = 0;
  for (const b of table.batches) {
    const layout = builder.layout(b, rowBase);
    out.push({ layout, rowBase });
    rowBase += layout.rows;
  }
  return out;
}
