/**
 * fastinflux: a fast, exact InfluxDB 1.x client for Node.js.
 *
 * The public contract on one screen: the client, its options, what its calls give back, the batch
 * writer, the encoder and the InfluxQL quoting helpers, the errors. Types come from the files that
 * define the contract (types.ts, options/, errors.ts, the results' and the writer's modules);
 * nothing else is public.
 * @packageDocumentation
 */

// The client, and what its calls give back (a promise in async mode, the value in blocking mode).
export { InfluxDBClient } from './client.js';
export type { PingResult, WriteReport } from './core/core.js';
export type { QueryResult, ChunkedQueryResult, ModeResult } from './query/results.js';
export type { PatternMethod } from './query/pattern-methods.js';

// The API's shared words.
export type { Precision, Epoch, FieldType, OutputFormat, OutputOption, ColumnType, QueryValue, PointMeta, PointParser } from './types.js';

// The options of the client, of its calls and of its batch writer (defaults and checks: options/).
export type {
  ClientOptions, TlsOptions, ClientMode, WriteOptions, QueryOptions, WriterOptions, WhenFull, SpoolOptions, SpoolRecovery,
} from './options/index.js';

// What a write takes: line protocol, points, Arrow data, or iterables of them.
export type { WriteData, WriteItem } from './encode/input.js';
export type { Point, FieldValue, TagValue, TimeValue } from './encode/point-encoder.js';

// Query answers: the raw JSON, the iterable and the Arrow outputs; tag info and the schema cache.
export type { QueryResponse, StatementResult, Series } from './query/response.js';
export { iterpoints, InfluxDBResult, InfluxDBChunkedResult, SchemaCache, getTagInfo, exactInt64Values } from './query/output/index.js';
export type { TagInfo, ArrowResult, ArrowStatementResult, ArrowOptions, MeasurementSchema } from './query/output/index.js';

// The batch writer (client.writer()): its handle, what write() reports, its stats, its stream.
export type { BatchWriter, WriterStats, AcceptReport, WriterInput } from './writer/batch-writer.js';
export type { SpoolStats } from './writer/spool.js';
export type { WriterStreamOptions } from './writer/stream.js';

// Line protocol without a client; InfluxQL quoting, and the query patterns' arguments.
export { encode } from './encode/encode.js';
export type { EncodeOptions } from './encode/encode.js';
export { quoteIdentifier, quoteLiteral, escapeIdentifier, escapeString } from './query/influxql.js';
export type { PatternArgs, PatternValue } from './query/patterns.js';

// The errors: every one is an InfluxDBError with a stable `code` (the hierarchy: errors.ts).
export {
  InfluxDBError, InvalidOptionError, InvalidPointError, InvalidQueryError, InfluxDBConnectionError,
  InfluxDBHttpError, InfluxDBWriteError, InfluxDBQueryError, InfluxDBRedirectError, InfluxDBResponseError,
  ClientClosedError, WriterClosedError, BufferFullError, DeliveryTimeoutError, PointsDroppedError, WriteDeliveryError,
  SpoolLockedError, SpoolFullError, SpoolBrokenError, EncoderWorkerError, BlockingWorkerError,
} from './errors.js';
export type { DeliveryCounts, ResponseErrorReason } from './errors.js';
