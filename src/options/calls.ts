/**
 * The options of the calls: `write()` and `encode()` (the encoding options they share),
 * `query()`; their defaults (what the client does not supply) and their resolvers.
 */
import type { ColumnType, Epoch, FieldType, OutputFormat, OutputOption, PointParser, Precision } from '../types.js';
import { ENCODERS, type EncoderChoice } from './client.js';
import {
  checkKeys, fail, isPlainObject, optBool, optEnum, optInt, optString, ownOptions, resolveOutput, resolvePrecision, safeShow, typeName,
} from './validate.js';

export interface WriteOptions {
  /** Measurement for points that have none. */
  measurement?: string;
  db?: string;
  rp?: string;
  precision?: Precision;
  /** Extra tags added to every point (a point's own tag of the same key wins). */
  tags?: Record<string, string>;
  /** Declared field types: `{ requests: 'integer' }` writes that number field as `123i`. */
  fieldTypes?: Record<string, FieldType>;
  /** Accept `\n`/`\r` inside string field values (InfluxDB 1.x stores them; the docs forbid them). */
  allowNewlinesInStrings?: boolean;
  /** NaN / ±Infinity in a float field: refuse the write (default), or leave that field out. */
  nonFinite?: 'error' | 'skipField';
  /** A point or row with no field left: refuse the write (default), or leave it out and report it. */
  invalidRows?: 'error' | 'skip';
  /** Arrow input: the time column (default: the only Timestamp column, else a column named `time`). */
  timeColumn?: string;
  /** Arrow input: columns written as tags besides the dictionary-encoded string columns. */
  tagColumns?: readonly string[];
  /** The encoder of this write (default: the client's `encoder`). */
  encoder?: EncoderChoice;
}

export interface QueryOptions {
  db?: string;
  rp?: string;
  /** Return times as integers in this unit (`n` for nanoseconds) instead of RFC 3339 strings. */
  epoch?: Epoch;
  /** InfluxQL bind parameters for `$name` placeholders. */
  params?: Record<string, string | number | bigint | boolean>;
  /** Stream the answer: the call returns an async iterator of parsed chunks. */
  chunked?: boolean;
  /** Points per chunk (server default 10 000). */
  chunkSize?: number;
  /** This query's bound on its answer (whole, or per chunk when chunked), instead of the client's `maxResponseBytes`. */
  maxResponseBytes?: number;
  /** Output format of this call (default: the client's `output`). */
  output?: OutputOption;
  /** `iterable` output: applied to every point, `(values, meta) => …` (aioinflux's iterpoints parser). */
  parser?: PointParser;
  /** `arrow` output: force column types by name, e.g. `{ max: 'integer' }`. */
  columnTypes?: Record<string, ColumnType>;
}

/** NaN / ±Infinity in a float field, and a point or row left with no field: what write() does. */
export const NON_FINITE_POLICIES = ['error', 'skipField'] as const;
export const INVALID_ROWS_POLICIES = ['error', 'skip'] as const;

/** The encoding options' defaults (write()'s db, rp, precision and encoder default to the client's). */
export const WRITE_DEFAULTS = {
  allowNewlinesInStrings: false,
  nonFinite: 'error' as NonNullable<WriteOptions['nonFinite']>,
  invalidRows: 'error' as NonNullable<WriteOptions['invalidRows']>,
};

/** encode() has no client: its own precision and encoder. */
export const ENCODE_DEFAULTS = {
  ...WRITE_DEFAULTS,
  precision: 'n' as Precision,
  encoder: 'auto' as EncoderChoice,
};

/** query()'s own defaults (db, rp and output default to the client's). */
export const QUERY_DEFAULTS = {
  chunked: false,
};

const kEncodeKeys = new Set<string>(['measurement', 'precision', 'tags', 'fieldTypes', 'allowNewlinesInStrings', 'nonFinite', 'invalidRows', 'timeColumn', 'tagColumns']);
export const kWriteKeys = new Set<string>([...kEncodeKeys, 'db', 'rp', 'encoder']);
const kEncodeCallKeys = new Set<string>([...kEncodeKeys, 'encoder']);
const kQueryKeys = new Set<string>(['db', 'rp', 'epoch', 'params', 'chunked', 'chunkSize', 'maxResponseBytes', 'output', 'parser', 'columnTypes']);
const kFieldTypes = new Set<string>(['float', 'integer', 'string', 'boolean']);
const kColumnTypes = new Set<string>([...kFieldTypes, 'tag', 'time']);

export interface ResolvedWriteOptions extends ResolvedEncodeOptions {
  db: string;
  rp: string | undefined;
  encoder: EncoderChoice | undefined;
}

/** The options that shape encoding, shared by `write()` and `encode()`. */
export interface ResolvedEncodeOptions {
  measurement: string | undefined;
  precision: Precision;
  tags: Record<string, string> | undefined;
  fieldTypes: Record<string, FieldType> | undefined;
  allowNewlinesInStrings: boolean;
  nonFinite: 'error' | 'skipField';
  invalidRows: 'error' | 'skip';
  timeColumn: string | undefined;
  tagColumns: readonly string[] | undefined;
}

function resolveEncodeParts(opts: Record<string, unknown>, what: string, precisionDefault: Precision): ResolvedEncodeOptions {
  const measurement = optString(opts, 'measurement', what);
  const precision = opts.precision === undefined ? precisionDefault : resolvePrecision(opts.precision, `${what}.precision`);
  let tags: Record<string, string> | undefined;
  if (opts.tags !== undefined) {
    if (!isPlainObject(opts.tags)) fail(`${what}.tags must be an object (got ${typeName(opts.tags)})`);
    for (const [k, v] of Object.entries(opts.tags)) {
      if (typeof v !== 'string') fail(`${what}.tags.${k} must be a string (got ${typeName(v)})`);
    }
    tags = opts.tags as Record<string, string>;
    if (Object.keys(tags).length === 0) tags = undefined;
  }
  let fieldTypes: Record<string, FieldType> | undefined;
  if (opts.fieldTypes !== undefined) {
    if (!isPlainObject(opts.fieldTypes)) fail(`${what}.fieldTypes must be an object (got ${typeName(opts.fieldTypes)})`);
    for (const [k, v] of Object.entries(opts.fieldTypes)) {
      if (typeof v !== 'string' || !kFieldTypes.has(v)) fail(`${what}.fieldTypes.${k} must be one of float, integer, string, boolean (got ${safeShow(v) || typeName(v)})`);
    }
    fieldTypes = opts.fieldTypes as Record<string, FieldType>;
  }
  const allowNewlinesInStrings = optBool(opts, 'allowNewlinesInStrings', what) ?? WRITE_DEFAULTS.allowNewlinesInStrings;
  const nonFinite = optEnum(opts, 'nonFinite', what, NON_FINITE_POLICIES) ?? WRITE_DEFAULTS.nonFinite;
  const invalidRows = optEnum(opts, 'invalidRows', what, INVALID_ROWS_POLICIES) ?? WRITE_DEFAULTS.invalidRows;
  const timeColumn = optString(opts, 'timeColumn', what);
  let tagColumns: readonly string[] | undefined;
  if (opts.tagColumns !== undefined) {
    if (!Array.isArray(opts.tagColumns) || opts.tagColumns.some((c) => typeof c !== 'string')) fail(`${what}.tagColumns must be an array of column names (got ${typeName(opts.tagColumns)})`);
    tagColumns = opts.tagColumns as string[];
  }
  return { measurement, precision, tags, fieldTypes, allowNewlinesInStrings, nonFinite, invalidRows, timeColumn, tagColumns };
}

/** Options of `encode()`: the write options that shape the bytes (no db/rp). Precision defaults to `n`. */
export function resolveEncodeOptions(input: unknown): ResolvedEncodeOptions {
  return resolveEncodeCall(input).options;
}

/**
 * `encode()`'s options and its encoder (default `auto`). encode() runs in the calling thread, so
 * `wasm` there means the WebAssembly encoder without the pool; the values are those of write().
 */
export function resolveEncodeCall(input: unknown): { options: ResolvedEncodeOptions; encoder: EncoderChoice } {
  const given = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(given)) fail(`encode options must be an object (got ${typeName(input)})`);
  const opts = ownOptions(given);
  checkKeys(opts, kEncodeCallKeys, 'encode');
  const encoder = optEnum(opts, 'encoder', 'encode options', ENCODERS) ?? ENCODE_DEFAULTS.encoder;
  return { options: resolveEncodeParts(opts, 'encode options', ENCODE_DEFAULTS.precision), encoder };
}

export function resolveWriteOptions(input: WriteOptions | undefined, client: { db: string | undefined; rp: string | undefined; precision: Precision }): ResolvedWriteOptions {
  const given = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(given)) fail(`write options must be an object (got ${typeName(input)})`);
  const opts = ownOptions(given);
  checkKeys(opts, kWriteKeys, 'write');
  const db = optString(opts, 'db', 'write options') ?? client.db;
  if (db === undefined || db === '') fail('no database: set db on the client (client.db = "mydb") or pass { db } to write()');
  const rp = optString(opts, 'rp', 'write options') ?? client.rp;
  const encoder = optEnum(opts, 'encoder', 'write options', ENCODERS);
  return { ...resolveEncodeParts(opts, 'write options', client.precision), db, rp, encoder };
}

export interface ResolvedQueryOptions {
  db: string | undefined;
  rp: string | undefined;
  epoch: Epoch | undefined;
  params: Record<string, string | number | bigint | boolean> | undefined;
  chunked: boolean;
  chunkSize: number | undefined;
  /** undefined: the client's. */
  maxResponseBytes: number | undefined;
  output: OutputFormat;
  parser: PointParser | undefined;
  columnTypes: Record<string, ColumnType> | undefined;
}

export function resolveQueryOptions(input: QueryOptions | undefined, client: { db: string | undefined; rp: string | undefined; output: OutputFormat }): ResolvedQueryOptions {
  const opts = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(opts)) fail(`query options must be an object (got ${typeName(input)})`);
  checkKeys(opts, kQueryKeys, 'query');
  const db = optString(opts, 'db', 'query options') ?? client.db;
  const rp = optString(opts, 'rp', 'query options') ?? client.rp;
  const epoch = opts.epoch === undefined ? undefined : resolvePrecision(opts.epoch, 'query options.epoch');
  let params: ResolvedQueryOptions['params'];
  if (opts.params !== undefined) {
    if (!isPlainObject(opts.params)) fail(`query options.params must be an object (got ${typeName(opts.params)})`);
    for (const [k, v] of Object.entries(opts.params)) {
      const t = typeof v;
      if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') fail(`query options.params.${k} must be a string, number, bigint or boolean (got ${typeName(v)})`);
      if (t === 'number' && !Number.isFinite(v)) fail(`query options.params.${k} must be finite (got ${String(v)})`);
    }
    params = opts.params as ResolvedQueryOptions['params'];
  }
  const chunked = optBool(opts, 'chunked', 'query options') ?? QUERY_DEFAULTS.chunked;
  const chunkSize = optInt(opts, 'chunkSize', 'query options', 1, 2 ** 31 - 1);
  if (chunkSize !== undefined && !chunked) fail('query options.chunkSize needs chunked: true');
  const maxResponseBytes = optInt(opts, 'maxResponseBytes', 'query options', 1024, Number.MAX_SAFE_INTEGER);
  const output = opts.output === undefined ? client.output : resolveOutput(opts.output, 'query options.output');
  const parser = opts.parser as PointParser | undefined;
  if (parser !== undefined && typeof parser !== 'function') fail(`query options.parser must be a function (got ${typeName(parser)})`);
  if (parser !== undefined && output !== 'iterable') fail(`query options.parser applies to output 'iterable' (output is '${output}')`);
  let columnTypes: Record<string, ColumnType> | undefined;
  if (opts.columnTypes !== undefined) {
    if (!isPlainObject(opts.columnTypes)) fail(`query options.columnTypes must be an object (got ${typeName(opts.columnTypes)})`);
    for (const [k, v] of Object.entries(opts.columnTypes)) {
      if (typeof v !== 'string' || !kColumnTypes.has(v)) fail(`query options.columnTypes.${k} must be one of ${[...kColumnTypes].join(', ')} (got ${safeShow(v) || typeName(v)})`);
    }
    if (output !== 'arrow') fail(`query options.columnTypes applies to output 'arrow' (output is '${output}')`);
    columnTypes = opts.columnTypes as Record<string, ColumnType>;
  }
  return { db, rp, epoch, params, chunked, chunkSize, maxResponseBytes, output, parser, columnTypes };
}
