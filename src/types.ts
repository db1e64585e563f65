/**
 * The shared words of the API, in a leaf module (it imports nothing): what every layer may name
 * without importing the layer that implements it. src/options/ re-exports them.
 */

/** Timestamp precision of the line protocol (`/write?precision=`). */
export type Precision = 'n' | 'u' | 'ms' | 's' | 'm' | 'h';

/** Epoch unit of returned timestamps (`/query?epoch=`). */
export type Epoch = Precision;

/** Declared type of a field, for numbers that must be written as integers (`i`). */
export type FieldType = 'float' | 'integer' | 'string' | 'boolean';

/** Query output formats: the parsed JSON answer, iterable results, or Arrow tables. */
export type OutputFormat = 'raw' | 'iterable' | 'arrow';
/** What `output` accepts: `dataframe` is an alias of `arrow`. */
export type OutputOption = OutputFormat | 'dataframe';

/** A column type that can be forced with `columnTypes` (Arrow output). */
export type ColumnType = FieldType | 'tag' | 'time';

/** One value of a query answer, exactly (integers beyond 2^53 as bigint). */
export type QueryValue = string | number | bigint | boolean | null;

/** What an `iterable` output's parser learns about the series a point belongs to. */
export interface PointMeta {
  columns: string[];
  /** The measurement (absent for some SHOW statements' series). */
  name?: string;
  /** GROUP BY tags of the series, when there are any. */
  tags?: Record<string, string>;
  statement_id: number;
}

/** `(values, meta) => anything`: aioinflux's parser, e.g. `(x, meta) => Object.fromEntries(meta.columns.map((c, i) => [c, x[i]]))`. */
export type PointParser<T = unknown> = (values: QueryValue[], meta: PointMeta) => T;
