/**
 * Query output formats (aioinflux's `output`): `raw` (the parsed JSON answer), `iterable`
 * (`InfluxDBResult` / `InfluxDBChunkedResult`) and `arrow` (alias `dataframe`: Arrow tables,
 * or a stream of record batches when chunked).
 *
 * The one place that turns an answer into the chosen format: `formatResponse` (a whole answer)
 * and `formatChunks` (a chunked one). The client hands them the body as the connection read it
 * — its bytes, or its lines — and they decide per format how to read it: `arrow` straight from
 * the JSON bytes into columns (json-columns/), `raw` and `iterable` through the exact parse
 * (response.ts, chunks.ts). Answers already parsed are formatted too (`raw` as they are, `arrow`
 * through arrow.ts's converters). Also the one place that picks the query's `epoch` per format.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Epoch, OutputFormat } from '../../types.js';
import { completeChunkLines, parseChunks } from '../chunks.js';
import { invalidJson, parseAnswer, type QueryResponse } from '../response.js';
import { responseChunksToRecordBatches, responseToArrow, type ArrowOptions, type ArrowResult, type AsyncSchemaLookup } from './arrow.js';
import { InfluxDBChunkedResult, InfluxDBResult, type PointParser } from './iterable.js';
import { jsonChunksToRecordBatches, jsonToArrowAsync } from './json-columns/index.js';
import type { SchemaCache } from './schema.js';

export * from './iterable.js';
export * from './schema.js';
export * from './arrow.js';

// The output formats and their validation are the options module's (the bottom layer); kept here
// for the importers of this module.
export type { OutputFormat, OutputOption } from '../../types.js';
export { OUTPUT_FORMATS, resolveOutput } from '../../options/index.js';

export interface OutputContext {
  output: OutputFormat;
  /** The query text (shown by the iterable results' `toString`). */
  query?: string;
  /** `iterable`: applied to every point. */
  parser?: PointParser;
  /** The answer's HTTP status (200: the client refuses others), carried by the errors it reports. */
  status?: number;
  /** `arrow`: the database the query ran on (for the schema lookups). */
  db?: string;
  /** `arrow`: the epoch the query ran with (default `n`: see `queryEpoch`). */
  epoch?: Epoch;
  /** `arrow`: field types and tag keys; without it every column type is inferred from the values. */
  schemas?: SchemaCache;
  /** `arrow`: other conversion options (`columnTypes`, `groupTagColumns`). */
  arrow?: Omit<ArrowOptions, 'epoch'>;
}

/** A whole answer: the body's bytes as read (UTF-8 JSON), or an answer already parsed and checked. */
export type WholeAnswer = Uint8Array | QueryResponse;

/** A chunked answer as the connection reads it. */
export interface AnswerLines {
  /** The body's lines, one JSON document each (blank ones skipped). */
  readonly lines: AsyncIterable<Uint8Array>;
  /** Where the answer comes from, for messages (`chunked query from <server>`). */
  readonly where: string;
  /** What a failure while the stream is read becomes (a socket error: InfluxDBConnectionError). */
  failure(err: unknown): unknown;
  /** Stops reading the body: called once the stream ends, fails, or its consumer stops early. */
  close(): void;
}

/** A chunked answer: its lines as read (`AnswerLines`), or chunks already parsed and checked. */
export type ChunkedAnswer = AnswerLines | AsyncIterable<QueryResponse>;

export type FormattedResponse = QueryResponse | InfluxDBResult<unknown> | ArrowResult;
export type FormattedChunks = AsyncIterable<QueryResponse> | InfluxDBChunkedResult<unknown> | AsyncGenerator<RecordBatch, void, undefined>;

/**
 * The epoch a query asks for: the caller's; else, for `arrow`, nanoseconds (columns are typed
 * from numbers: integer epochs, exact); else none (RFC 3339 strings, as the server's default).
 */
export function queryEpoch(output: OutputFormat, epoch: Epoch | undefined): Epoch | undefined {
  return epoch ?? (output === 'arrow' ? 'n' : undefined);
}

/** Applies an output format to a whole answer (`arrow` first loads the schemas it needs). */
export async function formatResponse(answer: WholeAnswer, ctx: OutputContext): Promise<FormattedResponse> {
  switch (ctx.output) {
    case 'raw':
      return parsed(answer, ctx);
    case 'iterable':
      return new InfluxDBResult<unknown>(parsed(answer, ctx), { parser: ctx.parser, query: ctx.query });
    case 'arrow':
      return arrowTables(answer, ctx);
  }
}

/** Applies an output format to a chunked answer (nothing is read until the result is iterated). */
export function formatChunks(answer: ChunkedAnswer, ctx: OutputContext): FormattedChunks {
  switch (ctx.output) {
    case 'raw':
      return parsedChunks(answer, ctx);
    case 'iterable':
      return new InfluxDBChunkedResult<unknown>(parsedChunks(answer, ctx), { parser: ctx.parser, query: ctx.query });
    case 'arrow':
      return arrowBatches(answer, ctx);
  }
}

function parsed(answer: WholeAnswer, ctx: OutputContext): QueryResponse {
  return answer instanceof Uint8Array ? parseAnswer(answer, ctx.status ?? 200) : answer;
}

function isLines(answer: ChunkedAnswer): answer is AnswerLines {
  return !(Symbol.asyncIterator in answer);
}

function parsedChunks(answer: ChunkedAnswer, ctx: OutputContext): AsyncIterable<QueryResponse> {
  return isLines(answer) ? guarded(answer, parseChunks(answer.lines, ctx.status ?? 200, answer.where)) : answer;
}

function arrowOptions(ctx: OutputContext): ArrowOptions {
  return ctx.epoch === undefined ? { ...ctx.arrow } : { ...ctx.arrow, epoch: ctx.epoch };
}

/** A measurement's schema from the cache, asked for when a series of it starts. */
function schemaLookup(ctx: OutputContext): AsyncSchemaLookup | undefined {
  const schemas = ctx.schemas;
  return schemas === undefined ? undefined : (m: string) => schemas.get(m, ctx.db);
}

async function arrowTables(answer: WholeAnswer, ctx: OutputContext): Promise<ArrowResult> {
  if (!(answer instanceof Uint8Array)) {
    // Parsed: every schema the answer needs is loaded at once.
    const lookup = ctx.schemas === undefined ? undefined : await ctx.schemas.lookupFor(answer, ctx.db);
    return responseToArrow(answer, lookup, arrowOptions(ctx));
  }
  try {
    return await jsonToArrowAsync(answer, schemaLookup(ctx), arrowOptions(ctx), ctx.status ?? 200);
  } catch (err) {
    throw err instanceof SyntaxError ? invalidJson(err) : err;
  }
}

function arrowBatches(answer: ChunkedAnswer, ctx: OutputContext): AsyncGenerator<RecordBatch, void, undefined> {
  if (!isLines(answer)) return responseChunksToRecordBatches(answer, schemaLookup(ctx), arrowOptions(ctx));
  const batches = jsonChunksToRecordBatches(completeChunkLines(answer.lines, answer.where), schemaLookup(ctx), arrowOptions(ctx), ctx.status ?? 200);
  return guarded(answer, batches, (err) => (err instanceof SyntaxError ? invalidJson(err, 'a chunk of the query answer') : err));
}

/**
 * A stream read from an answer's lines: a failure is reported as `mapError`, then the answer's
 * `failure`, say; the body is closed however the stream ends (an early stop releases the socket
 * instead of reading the rest).
 */
async function* guarded<T>(answer: AnswerLines, stream: AsyncIterable<T>, mapError = (err: unknown): unknown => err): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } catch (err) {
    throw answer.failure(mapError(err));
  } finally {
    answer.close();
  }
}
