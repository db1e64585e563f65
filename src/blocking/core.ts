/**
 * The client's blocking core: the same methods as the async core (core/async-core.ts), each
 * returning its value, run on the blocking mode's worker thread (channel.ts) with the client's
 * settings of the moment. What can be checked is checked here first, with async mode's messages,
 * before anything crosses to the worker; what cannot cross (chunked answers, batch writers) is refused.
 */
import { checkOpen, type ClientCore, type ClientSettings, type PingResult, type WriteReport } from '../core/core.js';
import { encodeSync, type WriteData } from '../encode/input.js';
import { InvalidOptionError } from '../errors.js';
import { resolveQueryOptions, resolveWriteOptions, type QueryOptions, type ResolvedClientOptions, type WriteOptions } from '../options/index.js';
import { InfluxDBResult, type TagInfo } from '../query/output/index.js';
import { queryText } from '../query/request.js';
import type { QueryResponse } from '../query/response.js';
import type { BatchWriter } from '../writer/batch-writer.js';
import { BlockingChannel } from './channel.js';
import { decodeArrowResult, decodeWriteData, encodeWriteData, type BlockingRequest, type ClientState, type WireArrow } from './protocol.js';

const kChunkedRefused = "chunked queries are not available in blocking mode (a chunked answer is an async iterator that streams in while it is read): "
  + "query without chunked, or switch to async mode (client.mode = 'async')";
const kWriterRefused = "client.writer() is not available in blocking mode (a batch writer sends in the background, with promises and timers): "
  + "switch to async mode (client.mode = 'async') to use one";

export class BlockingCore implements ClientCore<'blocking'> {
  readonly #opts: ResolvedClientOptions;
  readonly #settings: ClientSettings;
  // The worker thread that runs the calls, started on the first one.
  readonly #channel: BlockingChannel;

  /** `workerOptions`: what the worker's own (async) core is built from, the client's constructor argument without `mode`. */
  constructor(opts: ResolvedClientOptions, settings: ClientSettings, workerOptions: unknown) {
    this.#opts = opts;
    this.#settings = settings;
    this.#channel = new BlockingChannel(workerOptions);
  }

  /** Runs `op` on the worker thread, waiting for its answer (see channel.ts). */
  #call(op: BlockingRequest['op'], args: readonly unknown[], transfer?: ArrayBuffer[]): unknown {
    return this.#channel.call(op, args, this.#state(), transfer);
  }

  /** The settings that can change between calls, sent with each call. */
  #state(): ClientState {
    const s = this.#settings;
    return { db: s.db, rp: s.rp, precision: s.precision, encoder: s.encoder };
  }

  ping(): PingResult {
    checkOpen(this.#settings);
    return this.#call('ping', []) as PingResult;
  }

  write(data: WriteData, options?: WriteOptions): true | WriteReport {
    checkOpen(this.#settings);
    // The same checks and messages as async mode, before anything crosses to the worker.
    const w = resolveWriteOptions(options, this.#settings);
    const transfer: ArrayBuffer[] = [];
    const wire = encodeWriteData(data, transfer);
    try {
      return this.#call('write', [wire, options], transfer) as true | WriteReport;
    } catch (e) {
      // A value structured clone refuses (a function…): if it makes a point invalid, the
      // encoder here throws the InvalidPointError async mode gives; else the clone error stands.
      if (e instanceof InvalidOptionError && (e.cause as Error | undefined)?.name === 'DataCloneError') encodeSync(decodeWriteData(wire), w, this.#opts.maxBodyBytes);
      throw e;
    }
  }

  /**
   * The worker runs the query in `raw` or `arrow` output. Arrow tables come back as IPC bytes;
   * the `iterable` output is made here from the raw answer, so that a `parser` (a function, which
   * cannot cross threads) runs in the calling thread.
   */
  query(q: string | string[], options?: QueryOptions): unknown {
    checkOpen(this.#settings);
    const o = resolveQueryOptions(options, this.#settings);
    const text = queryText(q);
    if (o.chunked) throw new InvalidOptionError(kChunkedRefused);
    const { parser: _parser, ...rest } = options ?? {};
    const output = o.output === 'arrow' ? 'arrow' : 'raw';
    const value = this.#call('query', [text, { ...rest, output }]);
    if (output === 'arrow') return decodeArrowResult(value as WireArrow);
    if (o.output === 'iterable') return new InfluxDBResult<unknown>(value as QueryResponse, { parser: o.parser, query: text });
    return value;
  }

  queryPattern(render: () => string, after: () => void): unknown {
    const result = this.query(render());
    after();
    return result;
  }

  getTagInfo(db: string | undefined): TagInfo {
    checkOpen(this.#settings);
    const info = this.#call('getTagInfo', [db]) as TagInfo;
    // As in async mode: objects without a prototype (measurement and tag names are data).
    const out = Object.create(null) as TagInfo;
    for (const [m, tags] of Object.entries(info)) out[m] = Object.assign(Object.create(null) as Record<string, string[]>, tags);
    return out;
  }

  writer(): BatchWriter {
    checkOpen(this.#settings);
    throw new InvalidOptionError(kWriterRefused);
  }

  /** The worker's core has its own schema cache: it forgets the same, in order with the calls. */
  invalidateSchema(db?: string, measurement?: string): void {
    if (this.#channel.started) this.#channel.post('invalidateSchema', [db, measurement], this.#state());
  }

  /** Ends the worker; resolves once it has exited. */
  close(): Promise<unknown> {
    return this.#channel.close();
  }
}
