/**
 * The types of what a query call gives: per output format (`QueryResult`, `ChunkedQueryResult`)
 * and per client mode (`ModeResult`: the value itself in blocking mode, a promise in async mode).
 */
import type { RecordBatch } from 'apache-arrow';
import type { ClientMode } from '../options/index.js';
import type { ArrowResult, InfluxDBChunkedResult, InfluxDBResult, OutputOption } from './output/index.js';
import type { QueryResponse } from './response.js';

/** What `query()` resolves to for each output format. */
export type QueryResult<O extends OutputOption> =
  O extends 'arrow' | 'dataframe' ? ArrowResult : O extends 'iterable' ? InfluxDBResult<unknown> : QueryResponse;
/** What a chunked `query()` resolves to for each output format. */
export type ChunkedQueryResult<O extends OutputOption> =
  O extends 'arrow' | 'dataframe' ? AsyncGenerator<RecordBatch, void, undefined>
    : O extends 'iterable' ? InfluxDBChunkedResult<unknown> : AsyncIterableIterator<QueryResponse>;

/** A method's result in mode `M`: the value itself in blocking mode, a promise of it in async mode. */
export type ModeResult<M extends ClientMode, T> = M extends 'blocking' ? T : Promise<T>;
