/**
 * The `arrow` output format (alias `dataframe`): Apache Arrow tables, the DataFrame of this port.
 *
 * Shape, as aioinflux's DataFrames:
 * - one statement with one series: a `Table`;
 * - one statement with several series (GROUP BY, or `FROM a, b`): a `Map<key, Table>`, the key
 *   being `measurement,tag=value,...` (tags sorted by key, nothing escaped: aioinflux's name);
 * - one statement without series: an empty `Map` (aioinflux's empty dict);
 * - several statements: an array with one such entry (Table or Map) per statement.
 *
 * Column types come from the server's schema (`SchemaCache`), not from the JSON values:
 * time -> Timestamp(ns, 'UTC'), float -> Float64, integer -> Int64, string -> Utf8,
 * boolean -> Bool, tags -> Dictionary<Utf8, Int32>. A series' GROUP BY tags become constant
 * dictionary columns after the others (aioinflux's `df[k] = v`), and every table carries
 * schema metadata `measurement`, `tags` (JSON), `statement_id` and `key`.
 *
 * Columns the schema does not name (function results such as `mean`, `count`, aliases, SHOW
 * statements) get a type inferred from their values, see `inferKind`. Nanosecond times and
 * int64 values are exact: columns are built straight into `BigInt64Array`s, never through
 * Arrow's builders (which carry timestamps as milliseconds in a double).
 *
 * This file owns the shape and the converters from parsed answers (`responseToArrow`, and
 * `responseChunksToRecordBatches` for chunked ones); the column builders are arrow-columns.ts's,
 * the typing rules (`inferKind`, `ColumnTyper`) arrow-typing.ts's, a series' batch batch.ts's.
 * The client reads answers with the JSON-bytes parser (json-columns/), which gives the same
 * result and falls back to `responseToArrow`.
 */
import type { RecordBatch, Table } from 'apache-arrow';
import type { QueryResponse, Series } from '../response.js';
import { utf8Vector } from './arrow-columns.js';
import { ColumnTyper, type ArrowOptions } from './arrow-typing.js';
import { statementResult, toRecordBatch, type ConstantSource } from './batch.js';
import type { MeasurementSchema } from './schema.js';

// What the output module's importers take from here; the builders and the typing rules are
// imported from their own files (arrow-columns.ts, arrow-typing.ts).
export { exactInt64Values } from './arrow-columns.js';
export type { ArrowOptions, ColumnType } from './arrow-typing.js';
export {
  columnField, field, kFieldKind, kMetaKey, kMetaMeasurement, kMetaPartial, kMetaStatementId, kMetaTags, seriesBatch, seriesKey,
} from './batch.js';

/** Sync lookup of a measurement's schema; `undefined` when unknown (types are then inferred). */
export type SchemaLookup = (measurement: string) => MeasurementSchema | undefined;
/** As `SchemaLookup`, possibly asynchronous (for chunked streams). */
export type AsyncSchemaLookup = (measurement: string) => MeasurementSchema | undefined | Promise<MeasurementSchema | undefined>;

export type ArrowStatementResult = Table | Map<string, Table>;
export type ArrowResult = ArrowStatementResult | ArrowStatementResult[];

/** GROUP BY tag columns with a dictionary and indices of their own. */
const freshConstants: ConstantSource = {
  constantVector: (value) => utf8Vector([value]),
  zeroIndices: (n) => new Int32Array(n),
};

/**
 * Turns series into record batches. One converter per response or per chunked stream: the
 * Dictionary type of each tag column name (and so its dictionary id) and the type chosen for
 * each inferred column are shared by all its batches, so batches of one series (chunks) and
 * same-shaped tables can be concatenated (`new Table([...])`).
 */
export class SeriesConverter {
  readonly #typer: ColumnTyper;

  constructor(options: ArrowOptions = {}) {
    this.#typer = new ColumnTyper(options);
  }

  /**
   * One series as a record batch. `others` are the schemas of the other measurements of the
   * same statement (used for columns the series' own measurement does not have).
   */
  toRecordBatch(series: Series, statementId: number, schema: MeasurementSchema | undefined, others: readonly MeasurementSchema[] = []): RecordBatch {
    const typer = this.#typer;
    const rows = series.values ?? [];
    const n = rows.length;
    return toRecordBatch(typer, series, statementId, n, (name, c) => {
      const col = new Array<unknown>(n);
      for (let i = 0; i < n; i++) col[i] = rows[i]![c];
      return typer.column(col, n, name, typer.declared(name, c, schema, others));
    }, freshConstants);
  }
}

/** Series that are SELECT results (a `time` column first): the ones whose measurement has a schema. */
function isSelectSeries(s: Series): boolean {
  return s.name !== undefined && s.columns[0] === 'time';
}

function schemasOf(seriesList: readonly Series[], lookup: (m: string) => MeasurementSchema | undefined): { own: (MeasurementSchema | undefined)[]; all: MeasurementSchema[] } {
  const own = seriesList.map((s) => (isSelectSeries(s) ? lookup(s.name!) : undefined));
  const all = [...new Set(own.filter((s): s is MeasurementSchema => s !== undefined))];
  return { own, all };
}

/**
 * A query answer as Arrow tables (see the module comment for the shape). `schemaFor` gives the
 * field types and tag keys of a measurement (`SchemaCache.lookupFor(resp, db)`); without it, or
 * for measurements it does not know, types are inferred from the values.
 */
export function responseToArrow(resp: QueryResponse, schemaFor?: SchemaLookup, options: ArrowOptions = {}): ArrowResult {
  const converter = new SeriesConverter(options);
  const lookup = schemaFor ?? (() => undefined);
  const statements: ArrowStatementResult[] = resp.results.map((st) => {
    const seriesList = st.series ?? [];
    const { own, all } = schemasOf(seriesList, lookup);
    return statementResult(seriesList.map((s, i) => converter.toRecordBatch(s, st.statement_id, own[i], all)));
  });
  return statements.length === 1 ? statements[0]! : statements;
}

/**
 * Chunked + arrow: one `RecordBatch` per series of each chunk, as the chunks stream in. A batch's
 * `schema.metadata` says where it belongs: `statement_id`, `measurement`, `tags` (JSON), `key`
 * (aioinflux's `measurement,tag=value` name) and `partial: 'true'` when the series continues in
 * the next batch. Batches of one series share their types (dictionary ids included), so
 * `new Table(batchesOfOneSeries)` concatenates them.
 */
export async function* responseChunksToRecordBatches(
  chunks: AsyncIterable<QueryResponse>, schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {},
): AsyncGenerator<RecordBatch, void, undefined> {
  const converter = new SeriesConverter(options);
  const known = new Map<string, MeasurementSchema | undefined>();
  for await (const chunk of chunks) {
    for (const st of chunk.results) {
      const seriesList = st.series ?? [];
      if (schemaFor !== undefined) {
        for (const s of seriesList) {
          if (isSelectSeries(s) && !known.has(s.name!)) known.set(s.name!, await schemaFor(s.name!));
        }
      }
      const { own, all } = schemasOf(seriesList, (m) => known.get(m));
      for (let i = 0; i < seriesList.length; i++) yield converter.toRecordBatch(seriesList[i]!, st.statement_id, own[i], all);
    }
  }
}
