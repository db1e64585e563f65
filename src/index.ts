/**
 * fastinflux: a fast, exact InfluxDB 1.x client for Node.js.
 *
 * The curated public API: the client, its option and result types, the error hierarchy, the
 * line-protocol encoder and the InfluxQL quoting helpers. Everything else is internal.
 * @packageDocumentation
 */
export { InfluxDBClient } from './client.js';
export type { PingResult, WriteReport, PatternMethod, QueryResult, ChunkedQueryResult, ModeResult } from './client.js';
export { BlockingWorkerError } from './errors.js';
export { EncoderWorkerError } from './errors.js';
export {
  iterpoints, InfluxDBResult, InfluxDBChunkedResult, SchemaCache, getTagInfo, exactInt64Values,
} from './query/output/index.js';
export type {
  OutputFormat, OutputOption, PointParser, PointMeta, TagInfo, ArrowResult, ArrowStatementResult, ArrowOptions,
  ColumnType, MeasurementSchema,
} from './query/output/index.js';
export type { ClientOptions, ClientMode, WriteOptions, WriterOptions, SpoolOptions, SpoolRecovery, WhenFull, QueryOptions, TlsOptions, Precision, Epoch, FieldType } from './options/index.js';
export type { BatchWriter, AcceptReport, WriterStats, WriterInput } from './writer/batch-writer.js';
export type { WriterStreamOptions } from './writer/stream.js';
export type { SpoolStats } from './writer/spool.js';
export type { Point, FieldValue, TagValue, TimeValue } from './encode/point-encoder.js';
export type { WriteData, WriteItem } from './encode/input.js';
export type { QueryResponse, StatementResult, Series, QueryValue } from './query/response.js';
export type { PatternArgs, PatternValue } from './query/patterns.js';
export { encode } from './encode/encode.js';
export type { EncodeOptions } from './encode/encode.js';
export { quoteIdentifier, quoteLiteral, escapeIdentifier, escapeString } from './query/influxql.js';
export {
  InfluxDBError, InvalidOptionError, InvalidPointError, InvalidQueryError, InfluxDBConnectionError,
  InfluxDBHttpError, InfluxDBWriteError, InfluxDBQueryError, InfluxDBRedirectError, InfluxDBResponseError, ClientClosedError,
  WriterClosedError, BufferFullError, DeliveryTimeoutError, PointsDroppedError, WriteDeliveryError,
  SpoolLockedError, SpoolFullError, SpoolBrokenError,
} from './errors.js';
export type { DeliveryCounts, ResponseErrorReason } from './errors.js';
