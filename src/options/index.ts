/**
 * Every option of the client, its default and its validation: the module's entry. The
 * constructor and each call go through `resolveClientOptions` / `resolveWriteOptions` /
 * `resolveQueryOptions` / `resolveWriterOptions`; nothing else reads raw options. The parts:
 *
 * - validate.ts: the shared checkers (messages, keys, strings, integers, enums, precision, output)
 * - client.ts:   ClientOptions, CLIENT_DEFAULTS, resolveClientOptions, the mode and encoder checks
 * - calls.ts:    WriteOptions (and encode()'s), QueryOptions, their defaults and resolvers
 * - writer.ts:   WriterOptions, WRITER_DEFAULTS, resolveWriterOptions (derived defaults)
 * - spool.ts:    SpoolOptions, SpoolRecovery, SPOOL_DEFAULTS
 */
export type { Epoch, FieldType, OutputFormat, OutputOption, Precision } from '../types.js';
export {
  PRECISIONS, OUTPUT_FORMATS, typeName, checkString, resolvePrecision, resolveOutput,
} from './validate.js';
export {
  CLIENT_DEFAULTS, CLIENT_MODES, ENCODERS, kBlockingDispatcherMessage, resolveClientOptions, resolveMode, resolveEncoder,
  type ClientOptions, type TlsOptions, type ClientMode, type EncoderChoice, type ResolvedClientOptions,
} from './client.js';
export {
  WRITE_DEFAULTS, ENCODE_DEFAULTS, QUERY_DEFAULTS, NON_FINITE_POLICIES, INVALID_ROWS_POLICIES,
  resolveEncodeOptions, resolveEncodeCall, resolveWriteOptions, resolveQueryOptions,
  type WriteOptions, type QueryOptions, type ResolvedEncodeOptions, type ResolvedWriteOptions, type ResolvedQueryOptions,
} from './calls.js';
export {
  WRITER_DEFAULTS, WHEN_FULL, WRITE_APIS, resolveWriterOptions,
  type WriterOptions, type WhenFull, type WriteApi, type ResolvedWriterOptions, type WriterClientContext,
} from './writer.js';
export {
  SPOOL_DEFAULTS, resolveSpoolOptions,
  type SpoolOptions, type SpoolRecovery, type ResolvedSpoolOptions,
} from './spool.js';
