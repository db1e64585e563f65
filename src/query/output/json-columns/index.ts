/**
 * The `arrow` output straight from the JSON text: a parser specialised for InfluxDB 1.x `/query`
 * answers that writes every cell into its column's typed storage as it reads it, instead of
 * building a JS array per row (`parseExactJson`) and walking them again (`responseToArrow`).
 *
 * The result is the one `responseToArrow(checkQueryResponse(parseExactJson(text), 200), schemaFor,
 * options)` gives — same tables, types, values, nulls, metadata, Map keys, statement arrays, and
 * the same errors — in about a fifth of the time (1M rows of the standard workload: ~0.4 s
 * instead of ~2 s, JSON parsing included).
 *
 * How:
 * - The answer is read as UTF-8 bytes (a `Uint8Array` as undici delivers it: no decoding of the
 *   whole body; a `string` is encoded once). Strings without escapes are copied as bytes; tags
 *   are dictionary-encoded with a hash table over their bytes (no JS string per cell).
 * - When a series starts (`name` and `columns` precede `values` in influxd's answers), the
 *   schema of its measurement gives each column a typed sink: time / integer -> int64 words
 *   (19-digit ns times without any BigInt), float -> Float64Array, string -> Utf8 offsets + bytes,
 *   tag -> dictionary indices, boolean -> bits; nulls go to a validity bitmap.
 * - Columns the series' own schema does not name (aggregates, no schema, other measurements)
 *   are read speculatively as numbers or strings (else as generic values) and typed when the
 *   statement ends — the other measurements of the statement may declare them; otherwise the
 *   type is inferred from the values — exactly as `SeriesConverter` does.
 * - A value that does not fit its column's declared type (a schema changed since it was read),
 *   an ISO time in a non-first row, a key order other than influxd's, ... make the series be
 *   read again generically (values as `parseExactJson` would give them, typed by the same rules).
 *   Anything stranger (invalid JSON, a shape `responseToArrow` would choke on) makes the whole
 *   answer go through the original path, so even the errors are the same.
 *
 * The column typing rules (declared / sticky / inferred) and the column builders are
 * `SeriesConverter`'s own, imported from `arrow-typing.ts` and `arrow-columns.ts` (`ColumnTyper` works on columns; its sticky
 * kinds are shared with the typed columns built here); the batches (fields, metadata, GROUP BY
 * tag columns) and a statement's Table / Map come from `batch.ts`, as for `SeriesConverter`.
 *
 * The parts, from the bytes up: `scanner.ts` (JSON values, the bail-out, the cursor),
 * `escapes.ts` (escaped strings into bytes), `slab.ts` and `sinks.ts` (a column's storage),
 * `cells.ts` (the rows of `values` into the sinks), `converter.ts` (column typing, batches),
 * `grammar.ts` (the document) and `entry.ts` (the public functions, with their fallback).
 */
export { JsonChunkConverter, jsonChunksToRecordBatches, jsonToArrow, jsonToArrowAsync } from './entry.js';
