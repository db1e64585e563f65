/**
 * Query output formats (aioinflux's `output`): `raw` (the parsed JSON answer), `iterable`
 * (`InfluxDBResult` / `InfluxDBChunkedResult`) and `arrow` (alias `dataframe`: Arrow tables,
 * or a stream of record batches when chunked). `formatResponse` / `formatChunks` apply one to
 * an answer; the client only has to pick the format and pass its schema cache.
 */
import type { Epoch } from '../../types.js';
import type { QueryResponse } from '../response.js';
import type { RecordBatch } from 'apache-arrow';
import { responseChunksToRecordBatches, responseToArrow, type ArrowOptions, type ArrowResult } from './arrow.js';
import { InfluxDBChunkedResult, InfluxDBResult, type PointParser } from './iterable.js';
import type { SchemaCache } from './schema.js';

export * from './iterable.js';
export * from './schema.js';
export * from './arrow.js';

// The output formats and their validation are the options module's (the bottom layer); kept here
// for the importers of this module.
export type { OutputFormat, OutputOption } from '../../types.js';
export { OUTPUT_FORMATS, resolveOutput } from '../../options/index.js';
import type { OutputFormat } from '../../types.js';

export interface OutputContext {
  output: OutputFormat;
  /** The query text (shown by the iterable results' `toString`). */
  query?: string;
  /** `iterable`: applied to every point. */
  parser?: PointParser;
  /** `arrow`: the database the query ran on (for the schema lookups). */
  db?: string;
  /** `arrow`: the epoch the query ran with (default `n`: the client should ask for `epoch=ns`). */
  epoch?: Epoch;
  /** `arrow`: field types and tag keys; without it every column type is inferred from the values. */
  schemas?: SchemaCache;
  /** `arrow`: other conversion options (`columnTypes`, `groupTagColumns`). */
  arrow?: Omit<ArrowOptions, 'epoch'>;
}

export type FormattedResponse = QueryResponse | InfluxDBResult<unknown> | ArrowResult;
export type FormattedChunks = AsyncIterable<QueryResponse> | InfluxDBChunkedResult<unknown> | AsyncGenerator<RecordBatch, void, undefined>;

function arrowOptions(ctx: OutputContext): ArrowOptions {
  return ctx.epoch === undefined ? { ...ctx.arrow } : { ...ctx.arrow, epoch: ctx.epoch };
}

/** Applies an output format to a whole answer (`arrow` first loads the schemas it needs). */
export async function formatResponse(resp: QueryResponse, ctx: OutputContext): Promise<FormattedResponse> {
  switch (ctx.output) {
    case 'raw':
      return resp;
    case 'iterable':
      return new InfluxDBResult<unknown>(resp, { parser: ctx.parser, query: ctx.query });
    case 'arrow': {
      const lookup = ctx.schemas === undefined ? undefined : await ctx.schemas.lookupFor(resp, ctx.db);
      return responseToArrow(resp, lookup, arrowOptions(ctx));
    }
  }
}

/** Applies an output format to a chunked answer (nothing is read until the result is iterated). */
export function formatChunks(chunks: AsyncIterable<QueryResponse>, ctx: OutputContext): FormattedChunks {
  switch (ctx.output) {
    case 'raw':
      return chunks;
    case 'iterable':
      return new InfluxDBChunkedResult<unknown>(chunks, { parser: ctx.parser, query: ctx.query });
    case 'arrow': {
      const schemas = ctx.schemas;
      const lookup = schemas === undefined ? undefined : (m: string) => schemas.get(m, ctx.db);
      return responseChunksToRecordBatches(chunks, lookup, arrowOptions(ctx));
    }
  }
}
