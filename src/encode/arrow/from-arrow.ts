/**
 * Arrow record batches to the columnar layout (`../columnar/layout.ts`), reading Arrow's own
 * buffers: `values`, `nullBitmap`, `valueOffsets`, dictionary indices and `dictionary`. Most
 * columns are taken as they are (zero copy); narrower types are widened once per batch; each
 * dictionary entry is checked and escaped once (and once per dictionary, across batches).
 *
 * Arrow is read structurally (type ids and buffers), never through `instanceof`, so that a
 * table made by another copy of `apache-arrow` works too.
 *
 * This file is the walk over a write's batches (`ArrowLayoutBuilder`, with its caches); the
 * options and the plan per schema are `plan.ts`, the column readers `tag-columns.ts`,
 * `field-columns.ts` and `time-column.ts`, Arrow's shapes and types `schema.ts`, its buffers
 * `buffers.ts`.
 *
 * Which column is what:
 * - time: `timeColumn`, else the table's only `Timestamp` column, else a column named `time`;
 *   none: every row gets the time of the write (`nowNs()`, strictly increasing, as for points
 *   without a time). Timestamp (s, ms, us, ns; a time zone changes nothing: Arrow timestamps are
 *   UTC instants), Date (day, millisecond), integers (already in the write's precision, as a
 *   point's number/bigint time) and Utf8 (ISO 8601, as a point's string time). Converted to the
 *   precision exactly, in BigInt (floor division toward the past, as `floorDiv`). A null time
 *   is "now", as for a point without a time.
 * - tags: dictionary-encoded string columns (aioinflux's Categorical rule), the columns named in
 *   `tagColumns` (strings, integers, floats, booleans: written as `String(value)`, as the point
 *   encoder does for non-string tag values), and the constant `tags` of the write (a row's own
 *   non-empty value of the same key wins). A null or empty value leaves the tag out.
 * - fields: every other column, in column order. Float16/32/64: float. Int8..Int64,
 *   Uint8..Uint32: integer (`i`). Uint64: integer when <= 2^63 - 1, else the row is refused.
 *   Bool: boolean. Utf8, LargeUtf8: string. Null-typed columns (all null) are left out.
 *   `fieldTypes` may declare a Float column `integer` (each value must be a safe integer, as
 *   for points), an Int8..Int32/Uint8..Uint32 column `float`, or a dictionary column `string`
 *   (a string field instead of a tag).
 *
 * Errors, consistently:
 * - `InvalidOptionError`: the options do not fit the table (a `timeColumn` or `tagColumns`
 *   name that is not a column, a `fieldTypes` declaration the column's type cannot take, two
 *   roles for one column, several Timestamp columns and no `timeColumn`).
 * - `InvalidPointError`: the data cannot be written. Per row (row index counted across the
 *   batches of the write; element; key = column name): bad values, rows without a field,
 *   out-of-range times, unwritable names. Per column (a type that has no line-protocol
 *   equivalent, e.g. List or Struct; two columns with the same name): the index of the first
 *   row of the batch, the column as key, and the type in the reason.
 * @module
 */
import type { ColumnarLayout, FieldColumn, TagColumn } from '../columnar/layout.js';
import { fieldColumn } from './field-columns.js';
import { planColumns, resolveArrowOptions, type ArrowEncodeOptions, type Plan, type ResolvedArrowOptions } from './plan.js';
import type { ArrowRecordBatch, ArrowSchema } from './schema.js';
import { constTagColumn, tagColumn, withFallback, type TagDict } from './tag-columns.js';
import { timeColumn } from './time-column.js';

export type { ArrowEncodeOptions, ArrowWriteOptions } from './plan.js';
export type { ArrowData, ArrowField, ArrowRecordBatch, ArrowSchema, ArrowTable, ArrowType } from './schema.js';

/**
 * Turns the record batches of one write into layouts. One instance per write: it caches the
 * plan per schema and the escaped dictionaries, and holds the constant tags.
 */
export class ArrowLayoutBuilder {
  readonly #options: ResolvedArrowOptions;
  readonly #plans = new WeakMap<object, Plan>();
  readonly #dicts = new WeakMap<object, TagDict>();
  readonly #constTags = new Map<string, TagColumn>();

  /** Checks the options (see `resolveArrowOptions`): a builder is made only for options that can be written. */
  constructor(options: ArrowEncodeOptions) {
    this.#options = resolveArrowOptions(options);
  }

  #plan(schema: ArrowSchema, rowBase: number): Plan {
    let plan = this.#plans.get(schema);
    if (plan === undefined) {
      plan = planColumns(schema, rowBase, this.#options);
      this.#plans.set(schema, plan);
    }
    return plan;
  }

  /** The layout of one record batch; `rowBase` is the index of its first row in the write. */
  layout(batch: ArrowRecordBatch, rowBase: number): ColumnarLayout {
    const plan = this.#plan(batch.schema, rowBase);
    const children = batch.data.children;
    const rows = batch.numRows;
    if (rows === 0) {
      return { rows, measurement: this.#options.measurement, time: new BigInt64Array(0), timeInvalid: null, tags: [], fields: [], meta: { precision: this.#options.precision, timeReasons: new Map() } };
    }
    const tags: TagColumn[] = [];
    const fields: FieldColumn[] = [];
    for (const c of plan.columns) {
      if (c.role === 'tag') tags.push(tagColumn(c.name, children[c.index]!, rowBase, this.#dicts));
      else if (c.role === 'field') fields.push(fieldColumn(c.name, children[c.index]!, c.declared, rowBase));
    }
    // Constant tags: merged into the column of the same key (as its fallback), else a column of their own.
    for (const [k, v] of this.#options.extraTags) {
      const at = tags.findIndex((t) => t.name === k);
      if (at >= 0) tags[at] = withFallback(tags[at]!, v);
      else tags.push(this.#constTag(k, v));
    }
    tags.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const timeData = plan.timeIndex >= 0 ? children[plan.timeIndex]! : undefined;
    const { time, timeInvalid, timeReasons } = timeColumn(plan.timeName, timeData, rows, rowBase, this.#options.precision);
    return { rows, measurement: this.#options.measurement, time, timeInvalid, tags, fields, meta: { precision: this.#options.precision, timeReasons } };
  }

  #constTag(k: string, v: string): TagColumn {
    let t = this.#constTags.get(k);
    if (t === undefined) {
      t = constTagColumn(k, v);
      this.#constTags.set(k, t);
    }
    return t;
  }
}
