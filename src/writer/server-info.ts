/**
 * What the writer asks the server besides writing, through its /query endpoint: the retention
 * policy's durations, which the analysis of a 400 answer needs (SHOW RETENTION POLICIES, asked
 * once), and CREATE DATABASE for `createDatabase`.
 */
import { InfluxDBWriteError } from '../errors.js';
import type { ResolvedWriterOptions } from '../options/index.js';
import { quoteIdentifier } from '../query/influxql.js';
import { readErrorMessage, type HttpTransport } from '../transport/http-transport.js';
import type { RejectionContext } from './rejections.js';
import type { WriteTarget } from './targets.js';

/** Shard group duration assumed by the 400 analysis when the retention policy cannot be read. */
const kUnknownShardGroupMs = 3_600_000;

/** A Go duration as influxd prints it (`168h0m0s`, `0s`, `1h30m0s`) in ms; undefined if unreadable. */
function goDurationMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(v)) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * unit[m[2]!]!;
  return Math.round(ms);
}

interface RetentionInfo {
  retentionMs: number;
  shardGroupMs: number;
}

export class ServerInfo {
  readonly #o: ResolvedWriterOptions;
  /** The server asked: the target being written to. */
  readonly #target: () => WriteTarget;
  readonly #signal: AbortSignal;
  /** The retention policy's durations for the 400 analysis: unknown yet, null when unavailable. */
  #rpInfo: RetentionInfo | null | undefined;

  constructor(options: ResolvedWriterOptions, target: () => WriteTarget, signal: AbortSignal) {
    this.#o = options;
    this.#target = target;
    this.#signal = signal;
  }

  /**
   * What analyzeRejection needs to place lines in shard groups and to see retention drops: the
   * write's precision, and the duration and shard group duration of the retention policy
   * written to, asked once (SHOW RETENTION POLICIES). When they cannot be had (no permission, the
   * v2 API), shard groups are taken as 1 h, the shortest influxd allows: a group of ours then
   * never spans two of the server's (whose durations are whole hours), so what is certain stays
   * certain; it only costs more resend requests.
   */
  async rejectionContext(): Promise<RejectionContext> {
    if (this.#rpInfo === undefined) this.#rpInfo = await this.#fetchRetentionPolicy().catch(() => null);
    const context: RejectionContext = { precision: this.#o.write.precision, nowMs: Date.now(), shardGroupMs: kUnknownShardGroupMs };
    if (this.#rpInfo) {
      context.retentionMs = this.#rpInfo.retentionMs;
      context.shardGroupMs = this.#rpInfo.shardGroupMs;
    }
    return context;
  }

  async createDatabase(): Promise<void> {
    const t = this.#target();
    const db = this.#o.write.db;
    const res = await this.#postQuery(`CREATE DATABASE ${quoteIdentifier(db)}`);
    if (res.statusCode !== 200) {
      const msg = await readErrorMessage(res);
      throw new InfluxDBWriteError(`creating database ${JSON.stringify(db)} on ${t.describe} failed with HTTP ${res.statusCode}: ${msg}`, { status: res.statusCode, serverMessage: msg, endpoint: 'query' });
    }
    const text = await res.body.text();
    if (text.includes('"error"')) throw new InfluxDBWriteError(`creating database ${JSON.stringify(db)} on ${t.describe} failed: ${text.slice(0, 500)}`, { status: 200, serverMessage: text, endpoint: 'query' });
  }

  async #fetchRetentionPolicy(): Promise<RetentionInfo | null> {
    if (this.#o.api !== 'v1') return null;
    const res = await this.#postQuery(`SHOW RETENTION POLICIES ON ${quoteIdentifier(this.#o.write.db)}`);
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    const json = await res.body.json() as { results?: { series?: { columns?: string[]; values?: unknown[][] }[] }[] };
    const series = json.results?.[0]?.series?.[0];
    const cols = series?.columns ?? [];
    const [iName, iDur, iShard, iDefault] = ['name', 'duration', 'shardGroupDuration', 'default'].map((c) => cols.indexOf(c));
    const want = this.#o.write.rp;
    const row = (series?.values ?? []).find((v) => (want === undefined ? v[iDefault!] === true : v[iName!] === want));
    if (!row) return null;
    const retentionMs = goDurationMs(row[iDur!]);
    const shardGroupMs = goDurationMs(row[iShard!]);
    if (retentionMs === undefined || shardGroupMs === undefined || shardGroupMs <= 0) return null;
    return { retentionMs, shardGroupMs };
  }

  /** One InfluxQL statement to the target's /query, as a form POST. */
  #postQuery(q: string): ReturnType<HttpTransport['request']> {
    return this.#target().transport.request({ method: 'POST', endpoint: 'query', body: new URLSearchParams({ q }).toString(), contentType: 'application/x-www-form-urlencoded', signal: this.#signal });
  }
}
