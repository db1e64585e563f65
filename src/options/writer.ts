/**
 * The batch writer's options (`client.writer()`): their types, WRITER_DEFAULTS, and
 * `resolveWriterOptions`, where the defaults that follow other options are derived and the
 * combinations that cannot work are refused. The spool's option is spool.ts's.
 */
import type { Precision } from '../types.js';
import { kWriteKeys, resolveWriteOptions, type ResolvedWriteOptions, type WriteOptions } from './calls.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './client.js';
import { resolveSpoolOptions, type ResolvedSpoolOptions, type SpoolOptions } from './spool.js';
import { checkKeys, fail, isPlainObject, optBool, optEnum, optInt, optString, typeName } from './validate.js';

/** What a full buffer does to `write()`: wait (default), refuse at once, or drop points (counted). */
export type WhenFull = 'block' | 'error' | 'dropNewest' | 'dropOldest';
export const WHEN_FULL: readonly WhenFull[] = ['block', 'error', 'dropNewest', 'dropOldest'];

/** The write API: InfluxDB 1.x's `/write`, or 2.x's `/api/v2/write`. */
export type WriteApi = 'v1' | 'v2';
export const WRITE_APIS: readonly WriteApi[] = ['v1', 'v2'];

/** Options of `client.writer()`. Encoding options are those of `write()`. */
export interface WriterOptions extends WriteOptions {
  /** Most points in one request (default 5000, or batchBytes / 1000 when that is more). */
  batchSize?: number;
  /** Most bytes in one request (default: the client's maxBodyBytes, at most a quarter of maxBufferBytes). */
  batchBytes?: number;
  /** A batch that is not full is sent after this long (default 1000 ms, at most half a given deliveryTimeoutMs). */
  flushIntervalMs?: number;
  /** Random extra delay up to this, added to each interval, so that many writers do not flush in step (default 0). */
  flushJitterMs?: number;
  /**
   * Requests in flight at once. 'auto' (the default) finds the concurrency that gives the most
   * throughput and backs off when the server slows down, up to 8 per server; a number fixes it.
   * Either way points are sent in per-series lanes, one request out per lane, so that retries
   * never reorder last-write-wins updates of a series.
   */
  maxInFlight?: number | 'auto';
  /** Compress bodies (`Content-Encoding: gzip`) on libuv's thread pool; a number is the zlib level (default false). */
  gzip?: boolean | number;
  /** Memory bound, in bytes: points being batched, batches waiting, in flight and retried (default 64 MiB, or room for max(4, maxInFlight + 2) batches of a given batchBytes). */
  maxBufferBytes?: number;
  /** What `write()` does when the buffer is full (default 'block'). */
  whenFull?: WhenFull;
  /** How long a blocked `write()` waits for room before rejecting with BufferFullError (default 60 000 ms). */
  maxBlockMs?: number;
  /** `write()` calls that may wait to be taken in (for room, or behind earlier ones); one more is refused at once with BufferFullError (default 10 000). */
  maxWaitingWrites?: number;
  /** A point not acknowledged this long after it was accepted is given up, as expired (default 120 000 ms, or longer when the request timeout needs it). */
  deliveryTimeoutMs?: number;
  /** Timeout of one request (default: the client's `timeout` if set, else 30 000 ms; within a given deliveryTimeoutMs). */
  requestTimeoutMs?: number;
  /** First retry delay; it doubles per attempt, with full jitter (default 500 ms, at most retryMaxDelayMs). */
  retryInitialDelayMs?: number;
  /** Longest delay between retries, and between probes of a target paused by 401/403/404 (default 30 000 ms, at most a quarter of deliveryTimeoutMs). */
  retryMaxDelayMs?: number;
  /** Longest wait a `Retry-After` header can impose (default 600 000 ms, as Telegraf). */
  maxRetryAfterMs?: number;
  /** On 404 "database not found", create the database and resend (default false: surface the error). */
  createDatabase?: boolean;
  /** The write API: `v1` (`/write`, default) or `v2` (`/api/v2/write`: InfluxDB 2.x/3.x, VictoriaMetrics; the default when org or bucket is given). */
  api?: WriteApi;
  /** v2: the organization (`org=`). */
  org?: string;
  /** v2: the bucket (default: `db`, or `db/rp` with a retention policy). */
  bucket?: string;
  /** More servers, tried in turn when the current one fails with a connection error or 5xx: URLs or client options. */
  failover?: ReadonlyArray<string | ClientOptions>;
  /**
   * More servers written to at once with the client's own (a cluster's front doors: InfluxDB
   * Enterprise data nodes, VictoriaMetrics vminsert nodes): batches go to each in proportion to how
   * fast it acknowledges them; one that fails is left out while it is down, then probed and taken back.
   */
  spread?: ReadonlyArray<string | ClientOptions>;
  /** Points the server refused, or that expired or were dropped, with the reason: the dead letter. */
  onRejected?: (lines: string[], error: Error) => void;
  /** Errors worth knowing at once: auth and configuration errors, and each retry's cause. */
  onError?: (error: Error) => void;
  /**
   * A durable spool: every point accepted by `write()` is on disk (fsynced, group commit) before
   * `write()` resolves, and a writer opened later on the same `dir` sends what is left first.
   */
  spool?: SpoolOptions;
}

export interface ResolvedWriterOptions {
  write: ResolvedWriteOptions;
  batchSize: number;
  batchBytes: number;
  flushIntervalMs: number;
  flushJitterMs: number;
  /** The most requests in flight, and the number of per-series lanes (1: no splitting by series). */
  maxInFlight: number;
  /** 'auto': the limit adapts between 1 and maxInFlight per server. */
  adaptive: boolean;
  /** zlib level, or 0 for no compression. */
  gzipLevel: number;
  maxBufferBytes: number;
  whenFull: WhenFull;
  maxBlockMs: number;
  maxWaitingWrites: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  maxRetryAfterMs: number;
  createDatabase: boolean;
  api: WriteApi;
  org: string | undefined;
  bucket: string | undefined;
  failover: ResolvedClientOptions[];
  spread: ResolvedClientOptions[];
  onRejected: ((lines: string[], error: Error) => void) | undefined;
  onError: ((error: Error) => void) | undefined;
  /** `close()`'s timeout when the call gives none. */
  closeTimeoutMs: number;
  /** The durable spool, or undefined (the in-memory writer). */
  spool: ResolvedSpoolOptions | undefined;
}

export const WRITER_DEFAULTS = {
  batchSize: 5000,
  flushIntervalMs: 1000,
  flushJitterMs: 0,
  maxInFlight: 'auto' as number | 'auto',
  maxBufferBytes: 64 * 1024 * 1024,
  whenFull: 'block' as WhenFull,
  maxBlockMs: 60_000,
  // Unawaited writes hold their input and a promise each: 1,000,000 of them took 930 MB.
  maxWaitingWrites: 10_000,
  deliveryTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
  retryInitialDelayMs: 500,
  retryMaxDelayMs: 30_000,
  maxRetryAfterMs: 600_000,
  gzip: false as boolean | number,
  createDatabase: false,
  // 'v2' instead when org or bucket is given (only that API has them).
  api: 'v1' as WriteApi,
  // ---- what the derived values follow (see resolveWriterOptions) ----
  // The zlib level of gzip: true (the fastest).
  gzipLevelOfTrue: 1,
  // Lanes (and most requests in flight) per server under maxInFlight 'auto'.
  autoInFlightPerServer: 8,
  // The defaults' own ratio, 5 000 000 bytes per 5000 lines: a batchBytes above the default raises
  // the derived batchSize with it, so that the line count does not cap it.
  bytesPerLine: 1000,
  // The fewest batches a derived buffer holds (room for retries to pile up).
  minBatchesInBuffer: 4,
};

const kWriterOwnKeys = [
  'batchSize', 'batchBytes', 'flushIntervalMs', 'flushJitterMs', 'maxInFlight', 'gzip', 'maxBufferBytes', 'whenFull',
  'maxBlockMs', 'maxWaitingWrites', 'deliveryTimeoutMs', 'requestTimeoutMs', 'retryInitialDelayMs', 'retryMaxDelayMs', 'maxRetryAfterMs',
  'createDatabase', 'api', 'org', 'bucket', 'failover', 'spread', 'onRejected', 'onError', 'spool',
];
const kWriterKeys = new Set<string>([...kWriteKeys, ...kWriterOwnKeys]);
const kMaxMs = 2 ** 31 - 1;

/** What the writer takes from its client: defaults, and which of the client's options the user set. */
export interface WriterClientContext {
  db: string | undefined;
  rp: string | undefined;
  precision: Precision;
  maxBodyBytes: number;
  /** The client's request timeout (0: none). */
  timeout?: number;
  given?: ResolvedClientOptions['given'];
}

/**
 * Every option of the writer, resolved. A default that depends on another option follows the
 * value the user gave for it; only a combination the user set explicitly that cannot work is
 * refused, naming both options. The dependencies (given / not given):
 *
 * - batchBytes: the client's maxBodyBytes, at most maxBufferBytes / max(4, maxInFlight + 2).
 *   maxBufferBytes: 64 MiB, raised to hold that many batches of a given batchBytes.
 *   Refused: batchBytes > maxBufferBytes; batchBytes > the client's maxBodyBytes (set on the client).
 * - batchSize: 5000, or batchBytes / 1000 when larger. Never refused (two caps: whichever comes first).
 * - flushIntervalMs: 1000; with a given deliveryTimeoutMs at most half of it (less the jitter), and what
 *   a given requestTimeoutMs leaves. requestTimeoutMs: the client's `timeout` if set, else 30 000; with a given
 *   deliveryTimeoutMs, at most what the flush wait leaves. deliveryTimeoutMs: 120 000, raised to
 *   requestTimeoutMs + flushIntervalMs + flushJitterMs (+ a given retryInitialDelayMs).
 *   Refused: deliveryTimeoutMs < requestTimeoutMs + flushIntervalMs + flushJitterMs; flushJitterMs with flushIntervalMs 0.
 * - retryMaxDelayMs: 30 000, at most deliveryTimeoutMs / 4, at least retryInitialDelayMs.
 *   retryInitialDelayMs: 500, at most retryMaxDelayMs and deliveryTimeoutMs / 4.
 *   Refused: retryMaxDelayMs < retryInitialDelayMs; retryInitialDelayMs > deliveryTimeoutMs.
 * - maxBlockMs: 60 000. Refused with a whenFull other than 'block' (it would not apply).
 * - api: 'v2' when org or bucket is given, else 'v1'. bucket: db, or db/rp. Refused: org/bucket with
 *   api 'v1'; createDatabase or precision m/h with api 'v2'.
 * - closeTimeoutMs (close()'s default): deliveryTimeoutMs.
 * - Independent: gzip, maxRetryAfterMs (the server's own Retry-After is obeyed, up to it), failover.
 */
export function resolveWriterOptions(input: WriterOptions | undefined, client: WriterClientContext): ResolvedWriterOptions {
  const opts = (input ?? {}) as Record<string, unknown>;
  if (!isPlainObject(opts)) fail(`writer options must be an object (got ${typeName(input)})`);
  checkKeys(opts, kWriterKeys, 'writer');
  const writeOnly: Record<string, unknown> = {};
  for (const k of kWriteKeys) if (opts[k] !== undefined) writeOnly[k] = opts[k];
  const write = resolveWriteOptions(writeOnly as WriteOptions, client);
  const what = 'writer options';
  const D = WRITER_DEFAULTS;
  const clientGiven = client.given ?? { timeout: false, maxBodyBytes: false };
  const gzip = opts.gzip === undefined ? D.gzip : opts.gzip;
  const gzipLevel = gzip === true ? D.gzipLevelOfTrue : gzip === false ? 0 : optInt({ gzip }, 'gzip', what, 1, 9)!;

  // ---- more servers (their number sets the lanes under 'auto') --------------------------------
  const servers = (key: 'failover' | 'spread'): ResolvedClientOptions[] => {
    const list = opts[key];
    if (list === undefined) return [];
    if (!Array.isArray(list)) fail(`writer options.${key} must be an array of URLs or client options (got ${typeName(list)})`);
    return list.map((f: unknown, i: number) => {
      if (typeof f !== 'string' && !isPlainObject(f)) fail(`writer options.${key}[${i}] must be a URL or client options (got ${typeName(f)})`);
      return resolveClientOptions(f as string | ClientOptions);
    });
  };
  const failover = servers('failover');
  const spread = servers('spread');

  // ---- sizes ------------------------------------------------------------------------------
  const inFlightGiven = opts.maxInFlight ?? D.maxInFlight;
  const adaptive = inFlightGiven === 'auto';
  const maxInFlight = adaptive ? Math.min(64, D.autoInFlightPerServer * (1 + spread.length)) : optInt({ maxInFlight: inFlightGiven }, 'maxInFlight', what, 1, 64, "or 'auto'")!;
  // The buffer must hold the batch being filled, one per request in flight and one queued behind
  // them (so that sending never waits on intake), and at least minBatchesInBuffer (room for retries
  // to pile up): a derived batch takes at most that share of the buffer, and a derived buffer holds that many batches.
  const batchesInBuffer = Math.max(D.minBatchesInBuffer, maxInFlight + 2);
  const batchBytesGiven = optInt(opts, 'batchBytes', what, 1024, 2 ** 31 - 1);
  const maxBufferGiven = optInt(opts, 'maxBufferBytes', what, 1024, Number.MAX_SAFE_INTEGER);
  // Never below the default bound: a given batchBytes only raises it.
  const maxBufferBytes = maxBufferGiven ?? Math.max(D.maxBufferBytes, (batchBytesGiven ?? 0) * batchesInBuffer);
  // The client's maxBodyBytes (the largest body its writes send), cut to a share of the buffer so that
  // a small memory bound needs no second option; 1024 is both options' floor, so a batch still fits.
  const batchBytes = batchBytesGiven ?? Math.max(1024, Math.min(client.maxBodyBytes, Math.floor(maxBufferBytes / batchesInBuffer)));
  if (batchBytesGiven !== undefined && maxBufferGiven !== undefined && batchBytes > maxBufferBytes) {
    fail(`${what}.batchBytes (${batchBytes}) must be at most maxBufferBytes (${maxBufferBytes}): a full batch must fit the buffer. Lower batchBytes or raise maxBufferBytes, or leave batchBytes out (it then follows maxBufferBytes)`);
  }
  if (batchBytesGiven !== undefined && clientGiven.maxBodyBytes && batchBytes > client.maxBodyBytes) {
    fail(`${what}.batchBytes (${batchBytes}) must be at most the client's maxBodyBytes (${client.maxBodyBytes}), the largest body it sends. Lower batchBytes or raise the client's maxBodyBytes, or leave batchBytes out (it then follows maxBodyBytes)`);
  }
  const batchSize = optInt(opts, 'batchSize', what, 1, 10_000_000) ?? Math.min(10_000_000, Math.max(D.batchSize, Math.floor(batchBytes / D.bytesPerLine)));

  // ---- times ------------------------------------------------------------------------------
  const deliveryGiven = optInt(opts, 'deliveryTimeoutMs', what, 1, kMaxMs);
  const requestGiven = optInt(opts, 'requestTimeoutMs', what, 1, kMaxMs);
  const flushGiven = optInt(opts, 'flushIntervalMs', what, 0, kMaxMs);
  const flushJitterMs = optInt(opts, 'flushJitterMs', what, 0, kMaxMs) ?? D.flushJitterMs;
  const initialGiven = optInt(opts, 'retryInitialDelayMs', what, 1, kMaxMs);
  const maxDelayGiven = optInt(opts, 'retryMaxDelayMs', what, 1, kMaxMs);
  // A given delivery budget is shared: a part-filled batch waits at most half of what the jitter
  // leaves of it, and no more than a given request timeout leaves. At least 1 ms with jitter or a
  // given request timeout: at 0 the writer sends every write() as a batch of its own (and ignores
  // the jitter), so a request timeout that leaves no room to batch is refused below instead.
  const flushIntervalMs = flushGiven ?? (deliveryGiven === undefined
    ? D.flushIntervalMs
    : Math.max(flushJitterMs > 0 || requestGiven !== undefined ? 1 : 0,
      Math.min(D.flushIntervalMs, Math.floor((deliveryGiven - flushJitterMs) / 2), requestGiven === undefined ? Infinity : deliveryGiven - requestGiven - flushJitterMs)));
  if (flushJitterMs > 0 && flushIntervalMs === 0) {
    fail(`${what}.flushJitterMs (${flushJitterMs}) has no effect with flushIntervalMs 0 (each write is sent at once). Leave flushJitterMs out, or set flushIntervalMs above 0`);
  }
  // The client's timeout, when the user set it, bounds the writer's requests too (0, none: as long
  // as the default budget allows); else 30 s. Within a given delivery budget: what the flush wait
  // leaves, so that a point still gets one full attempt.
  const clientTimeout = clientGiven.timeout && client.timeout !== undefined ? client.timeout : undefined;
  const requestBase = clientTimeout === undefined ? D.requestTimeoutMs : clientTimeout === 0 ? D.deliveryTimeoutMs - D.flushIntervalMs : clientTimeout;
  const requestTimeoutMs = requestGiven ?? (deliveryGiven === undefined
    ? requestBase
    : Math.max(1, Math.min(clientTimeout === 0 ? Infinity : requestBase, deliveryGiven - flushIntervalMs - flushJitterMs)));
  // Kafka's rule (delivery.timeout.ms ≥ request.timeout.ms + linger.ms): a point must get one full
  // attempt after its batch's longest wait. A derived budget grows to that, plus a given first
  // retry delay, so that at least one retry fits too.
  const firstAttempt = requestTimeoutMs + flushIntervalMs + flushJitterMs;
  const deliveryTimeoutMs = deliveryGiven ?? Math.max(D.deliveryTimeoutMs, firstAttempt + (initialGiven ?? 0));
  if (deliveryTimeoutMs < firstAttempt) {
    // Reached only with a given deliveryTimeoutMs and at least one of the others given: derived ones fit.
    const terms = ([['requestTimeoutMs', requestTimeoutMs, requestGiven], ['flushIntervalMs', flushIntervalMs, flushGiven], ['flushJitterMs', flushJitterMs, opts.flushJitterMs]] as const)
      .filter(([k, v, given]) => given !== undefined || v > 0 || k !== 'flushJitterMs');
    const given = terms.filter(([, , g]) => g !== undefined).map(([k]) => k);
    const one = given.length === 1;
    fail(`${what}.deliveryTimeoutMs (${deliveryTimeoutMs}) must be at least ${terms.map(([k, v]) => `${k} (${v})`).join(' + ')} = ${firstAttempt}: a point waits for its batch, then must get one full attempt. `
      + `Raise deliveryTimeoutMs, or lower ${given.join(' or ')} (or leave ${one ? 'it' : 'them'} out: ${one ? 'it follows' : 'they follow'} deliveryTimeoutMs)`);
  }
  // Backoff grows to at most a quarter of the delivery budget (30 s of the default 120 s), so that
  // several retries fit it, and never below a given first delay.
  const retryMaxDelayMs = maxDelayGiven ?? Math.max(initialGiven ?? 1, Math.min(D.retryMaxDelayMs, Math.floor(deliveryTimeoutMs / 4)));
  // 500 ms, or less under a small cap or a small budget.
  const retryInitialDelayMs = initialGiven ?? Math.max(1, Math.min(D.retryInitialDelayMs, retryMaxDelayMs, Math.floor(deliveryTimeoutMs / 4)));
  if (retryMaxDelayMs < retryInitialDelayMs) {
    fail(`${what}.retryMaxDelayMs (${retryMaxDelayMs}) must be at least retryInitialDelayMs (${retryInitialDelayMs}). Raise retryMaxDelayMs or lower retryInitialDelayMs, or leave one of them out (it then follows the other)`);
  }
  if (retryInitialDelayMs > deliveryTimeoutMs) {
    fail(`${what}.retryInitialDelayMs (${retryInitialDelayMs}) must be at most deliveryTimeoutMs (${deliveryTimeoutMs}): the first retry would mostly come after its points expired. Lower retryInitialDelayMs or raise deliveryTimeoutMs, or leave one of them out`);
  }
  const maxRetryAfterMs = optInt(opts, 'maxRetryAfterMs', what, 0, kMaxMs) ?? D.maxRetryAfterMs;

  // ---- when the buffer is full ----------------------------------------------------------------
  const whenFull = optEnum(opts, 'whenFull', what, WHEN_FULL) ?? D.whenFull;
  const maxBlockMs = optInt(opts, 'maxBlockMs', what, 0, kMaxMs) ?? D.maxBlockMs;
  if (opts.maxBlockMs !== undefined && whenFull !== 'block') {
    fail(`${what}.maxBlockMs applies to whenFull: 'block' (whenFull is '${whenFull}', which never waits). Leave maxBlockMs out, or use whenFull: 'block'`);
  }
  const maxWaitingWrites = optInt(opts, 'maxWaitingWrites', what, 1, Number.MAX_SAFE_INTEGER) ?? D.maxWaitingWrites;

  // ---- where to ---------------------------------------------------------------------------
  const createDatabase = optBool(opts, 'createDatabase', what) ?? D.createDatabase;
  const org = optString(opts, 'org', what);
  const bucketGiven = optString(opts, 'bucket', what);
  // Only the v2 API has an org and a bucket: giving one of them picks it.
  const apiGiven = optEnum(opts, 'api', what, WRITE_APIS);
  const api = apiGiven ?? (org !== undefined || bucketGiven !== undefined ? 'v2' : D.api);
  const picked = apiGiven === undefined ? ' (picked by org/bucket)' : '';
  if (api === 'v1' && (org !== undefined || bucketGiven !== undefined)) fail(`${what}.org and .bucket apply to api: 'v2' (api is 'v1'). Leave api out, or set api: 'v2'`);
  if (api === 'v2' && (write.precision === 'm' || write.precision === 'h')) fail(`${what}.precision '${write.precision}' is not available with api: 'v2'${picked} (use n, u, ms or s)`);
  if (api === 'v2' && createDatabase) fail(`${what}.createDatabase applies to api: 'v1'; api is 'v2'${picked} (a v2 bucket is created with the server's own tools)`);
  // InfluxDB 2.x's v1-compatible name: "db/rp" resolves through a DBRP mapping.
  const bucket = bucketGiven ?? (api === 'v2' ? (write.rp ? `${write.db}/${write.rp}` : write.db) : undefined);
  const fn = (key: string): ((...a: never[]) => unknown) | undefined => {
    const v = opts[key];
    if (v !== undefined && typeof v !== 'function') fail(`writer options.${key} must be a function (got ${typeName(v)})`);
    return v as ((...a: never[]) => unknown) | undefined;
  };
  // ---- the spool ----------------------------------------------------------------------------
  const spool = opts.spool === undefined ? undefined : resolveSpoolOptions(opts.spool, what);
  // The oldest points are on disk, acknowledged to their write() calls: dropping them to make
  // room would break that promise. Block, refuse, or drop what comes in.
  if (spool !== undefined && whenFull === 'dropOldest') fail(`${what}.whenFull 'dropOldest' cannot be used with spool: the oldest points are on disk and their write() calls were told they are safe. Use 'block', 'error' or 'dropNewest'`);
  return {
    spool,
    write, batchSize, batchBytes, flushIntervalMs, flushJitterMs, maxInFlight, adaptive, gzipLevel, maxBufferBytes, whenFull, maxBlockMs, maxWaitingWrites,
    deliveryTimeoutMs, requestTimeoutMs, retryInitialDelayMs, retryMaxDelayMs, maxRetryAfterMs, createDatabase, api, org, bucket, failover, spread,
    onRejected: fn('onRejected') as ResolvedWriterOptions['onRejected'],
    onError: fn('onError') as ResolvedWriterOptions['onError'],
    // A point accepted just before close() still gets its whole delivery budget.
    closeTimeoutMs: deliveryTimeoutMs,
  };
}
