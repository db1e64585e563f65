/**
 * The writer's side of the durable spool (`spool` option): what ties the log on disk
 * (spool/log.ts: segments, checksums, group commit, the lock) to the path of a point.
 *
 * - Each encoded body of an accepted slice is one record, appended (and fsynced with whatever
 *   else is being appended) before `write()` resolves; the record's id goes with its lines into
 *   the lanes (`LaneRuns`), and with them into the batches cut from the lanes (`SpoolClaim`).
 * - A record is released once every one of its lines is settled (acknowledged, or given back
 *   with a reason): a batch's claim, shared with the pieces a 413 or a 400 cuts from it, settles
 *   when the last of them does.
 * - On opening, what an earlier process left unreleased comes back (oldest first) to be sent
 *   before new writes, with its acceptance time, so that its delivery deadline still counts
 *   from then; the recovery is reported once (`onRecover`, else a process warning).
 */
import type { EncodedBody } from '../encode/body-builder.js';
import type { ResolvedSpoolOptions, SpoolRecovery } from '../options/index.js';
import type { SpoolClaim } from './batch.js';
import { SpoolLog, type SpooledRecord } from './spool/log.js';

export type { SpooledRecord } from './spool/log.js';

/** The spool records of a lane's open body: (record id, lines) pairs in body order. */
export class LaneRuns {
  #runs: number[] = [];

  /** `lines` more lines of record `id` at the end of the open body. */
  push(id: number, lines: number): void {
    const r = this.#runs;
    if (r.length > 0 && r[r.length - 2] === id) r[r.length - 1]! += lines;
    else r.push(id, lines);
  }

  /** The first `lines` lines' runs, taken out (a batch cut from the front of the open body). */
  take(lines: number): number[] {
    const r = this.#runs;
    const out: number[] = [];
    let i = 0;
    while (lines > 0 && i < r.length) {
      const n = r[i + 1]!;
      if (n <= lines) {
        out.push(r[i]!, n);
        lines -= n;
        i += 2;
      } else {
        out.push(r[i]!, lines);
        r[i + 1] = n - lines;
        lines = 0;
      }
    }
    this.#runs = i === 0 ? r : r.slice(i);
    return out;
  }
}

export interface SpoolStats {
  dir: string;
  /** Bytes of the segment files on disk. */
  bytes: number;
  segments: number;
  /** Records (request bodies) not released yet. */
  records: number;
  /** Age (ms) of the oldest point still in the spool; 0 when it holds none. */
  oldestAgeMs: number;
  fsyncs: number;
  bytesWritten: number;
}

export class WriterSpool {
  readonly #o: ResolvedSpoolOptions;
  readonly #log: SpoolLog;
  /** Lines of each record not settled yet. */
  readonly #remaining = new Map<number, number>();
  /** Resolved at each release (a full spool may have room again). */
  #released: (() => void)[] = [];

  private constructor(o: ResolvedSpoolOptions, log: SpoolLog) {
    this.#o = o;
    this.#log = log;
  }

  /** Opens (and locks) the spool; returns it with what an earlier process left, oldest first. */
  static async open(o: ResolvedSpoolOptions): Promise<{ spool: WriterSpool; recovered: SpooledRecord[] }> {
    const r = await SpoolLog.open(o.dir, { maxBytes: o.maxBytes });
    const spool = new WriterSpool(o, r.log);
    for (const rec of r.recovered) spool.#remaining.set(rec.id, rec.lines);
    let points = 0;
    let oldest: number | undefined;
    for (const rec of r.recovered) {
      points += rec.lines;
      if (oldest === undefined || rec.acceptedAt < oldest) oldest = rec.acceptedAt;
    }
    const damagedPoints = r.damaged.reduce((n, d) => n + (d.lines ?? 0), 0);
    if (points > 0 || r.damaged.length > 0 || r.tornBytes > 0) {
      const report: SpoolRecovery = {
        dir: o.dir, points, records: r.recovered.length, oldestAcceptedAt: oldest,
        damaged: { records: r.damaged.length, points: damagedPoints }, tornBytes: r.tornBytes,
      };
      if (o.onRecover !== undefined) o.onRecover(report);
      else process.emitWarning(describeRecovery(report), { code: 'FI_SPOOL_RECOVERED' });
    }
    return { spool, recovered: r.recovered };
  }

  /** Appends the bodies of one accepted slice; resolves with their record ids once durable. */
  async append(bodies: readonly EncodedBody[], acceptedAt: number): Promise<number[]> {
    const ids = await this.#log.append(bodies.map((b) => ({ body: b.body, lines: b.lines, acceptedAt })));
    for (let i = 0; i < ids.length; i++) this.#remaining.set(ids[i]!, bodies[i]!.lines);
    return ids;
  }

  /** Records given up before they reached a lane (dropped at once): released. */
  drop(ids: readonly number[]): void {
    for (const id of ids) this.#release(id);
  }

  /** A new claim on the runs of a batch. */
  claim(runs: number[]): SpoolClaim | undefined {
    return runs.length === 0 ? undefined : { runs, open: 1 };
  }

  /** A batch (or a piece of it) settled: when the last one of its claim has, its lines are released. */
  settle(c: SpoolClaim): void {
    if (--c.open > 0) return;
    const runs = c.runs;
    for (let i = 0; i < runs.length; i += 2) {
      const id = runs[i]!;
      const left = (this.#remaining.get(id) ?? 0) - runs[i + 1]!;
      if (left > 0) this.#remaining.set(id, left);
      else this.#release(id);
    }
  }

  #release(id: number): void {
    this.#remaining.delete(id);
    this.#log.release(id);
    const waiting = this.#released;
    if (waiting.length === 0) return;
    this.#released = [];
    for (const w of waiting) w();
  }

  /** Resolves at the next release (room may have been freed), or after `ms`. */
  nextRelease(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#released.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stats(now = Date.now()): SpoolStats {
    const s = this.#log.stats();
    return {
      dir: this.#o.dir, bytes: s.bytes, segments: s.segments, records: s.records,
      oldestAgeMs: s.oldestAcceptedAt === undefined ? 0 : Math.max(0, now - s.oldestAcceptedAt),
      fsyncs: s.fsyncs, bytesWritten: s.bytesWritten,
    };
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}

/** The restart's line on stderr: what is being resent, and what could not be. */
export function describeRecovery(r: SpoolRecovery): string {
  const parts = [`fastinflux: spool ${r.dir}: resending ${r.points} point${r.points === 1 ? '' : 's'} (${r.records} record${r.records === 1 ? '' : 's'}) accepted by an earlier process`];
  if (r.oldestAcceptedAt !== undefined) parts.push(`the oldest accepted at ${new Date(r.oldestAcceptedAt).toISOString()}`);
  if (r.damaged.records > 0) parts.push(`${r.damaged.records} damaged record${r.damaged.records === 1 ? '' : 's'} skipped (${r.damaged.points} points, checksum mismatch)`);
  if (r.tornBytes > 0) parts.push(`a torn last record cut off (${r.tornBytes} bytes, never acknowledged to a write())`);
  return parts.join('; ');
}
