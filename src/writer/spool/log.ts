/**
 * The durable spool's storage (issue 13): a write-ahead log of request bodies in a directory.
 *
 * Owns the segment files `NNNNNNNNNNNN.seg` and `LOCK` of its directory: appending records
 * (opaque payloads with their line count and acceptance time) durably with group commit, lazy
 * release markers, deletion of fully released segments, the maxBytes bound, and recovery after a
 * crash. Knows nothing about HTTP or the writer. The record format and the scan of a segment are
 * in records.ts, the directory lock in lock.ts.
 *
 * Durability: append() resolves only after the fdatasync that covers it. Every append made while a
 * commit (write + fdatasync) runs waits for the next one, which covers all of them: one write
 * syscall (writev) and one fdatasync per commit, whatever the number of records. A release is
 * persisted lazily (a marker written with the next commit, or at close); a release lost in a crash
 * only means its record comes back on open and is resent. A failed write or sync breaks the log:
 * that commit's appends reject with the error, every later one with SpoolBrokenError.
 *
 * Segments: a new one starts when the current one would exceed segmentBytes (a record larger than
 * that gets a segment of its own), and each open starts a new one (recovered segments are never
 * appended to). A segment with no unreleased record that is not the current one is deleted after
 * the commit that follows; release markers it holds for records of segments still kept are written
 * again in that commit first, so that no release is lost by a deletion.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientClosedError, InvalidOptionError, SpoolBrokenError, SpoolFullError } from '../../errors.js';
import { acquireLock, releaseLock, type DirLock } from './lock.js';
import { frameData, frameOrigin, frameRelease, kDataOverhead, kOriginBytes, readSegments, recordProblem, segName, syncDir, unlinkIfThere, type SpoolDamage, type SpooledRecord } from './records.js';

export type { SpoolDamage, SpooledRecord, SpoolRecordMeta } from './records.js';

export interface SpoolStats {
  /** Size of every segment file not yet deleted (released records count until their file goes). */
  bytes: number;
  segments: number;
  /** Records appended and not released. */
  records: number;
  oldestAcceptedAt: number | undefined;
  /** fdatasync/fsync calls since open (files and the directory). */
  fsyncs: number;
  bytesWritten: number;
}
export interface SpoolOpenResult {
  log: SpoolLog;
  /** Unreleased records a previous process left, oldest first. */
  recovered: SpooledRecord[];
  damaged: SpoolDamage[];
  /** Bytes cut from the end of the last segment (a write a crash interrupted: never acknowledged). */
  tornBytes: number;
}
export interface SpoolOptions {
  maxBytes: number;
  /** Default 64 MiB. */
  segmentBytes?: number;
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes in the file. */
  size: number;
  /** Data records not released. */
  live: number;
  handle: FileHandle | undefined;
  created: boolean;
  state: 'open' | 'deleting' | 'deleted';
  /** Release markers held here for records of other segments: [id, the record's segment]. */
  markers: [number, Segment][];
}
interface Entry {
  seg: Segment | undefined;
  acceptedAt: number;
  released: boolean;
}
interface Pending {
  /** Per record: its framing, then its body. */
  frames: Buffer[];
  entries: Entry[];
  ids: number[];
  bytes: number;
  resolve: (ids: number[]) => void;
  reject: (err: unknown) => void;
}

export class SpoolLog {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly lock: DirLock;
  private readonly segments = new Map<number, Segment>();
  private current: Segment | undefined;
  private nextSeq: number;
  private nextId: number;
  /** Unreleased records (insertion order = id order). */
  private readonly live = new Map<number, Entry>();
  private queue: Pending[] = [];
  private releases: { id: number; entry: Entry }[] = [];
  private readonly deletable = new Set<Segment>();
  private running = false;
  /** The commit loop while it runs. */
  private loop: Promise<void> = Promise.resolve();
  private broken: unknown;
  private closing: Promise<void> | undefined;
  private bytes = 0;
  /** Bytes of queued appends, not yet written (they count against maxBytes already). */
  private reserved = 0;
  private fsyncs = 0;
  private bytesWritten = 0;
  /** null: to recompute. */
  private oldest: number | undefined | null = undefined;

  private constructor(dir: string, opts: Required<SpoolOptions>, lock: DirLock, nextSeq: number, nextId: number) {
    this.dir = dir;
    this.maxBytes = opts.maxBytes;
    // Released bytes of the current segment only go when it rolls: a segment of at most an eighth
    // of maxBytes keeps that waste small (else a spool smaller than a segment would fill for good).
    this.segmentBytes = Math.min(opts.segmentBytes, Math.max(1, Math.floor(opts.maxBytes / 8)));
    this.lock = lock;
    this.nextSeq = nextSeq;
    this.nextId = nextId;
  }

  static async open(dir: string, opts: SpoolOptions): Promise<SpoolOpenResult> {
    const { maxBytes, segmentBytes = 64 * 1024 * 1024 } = opts;
    if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new InvalidOptionError(`spool maxBytes must be a positive integer, got ${maxBytes}`);
    if (!(Number.isSafeInteger(segmentBytes) && segmentBytes > 0)) throw new InvalidOptionError(`spool segmentBytes must be a positive integer, got ${segmentBytes}`);
    await mkdir(dir, { recursive: true });
    const lock = await acquireLock(dir);
    try {
      return await SpoolLog.recover(dir, { maxBytes, segmentBytes }, lock);
    } catch (err) {
      await releaseLock(lock).catch(() => undefined);
      throw err;
    }
  }

  private static async recover(dir: string, opts: Required<SpoolOptions>, lock: DirLock): Promise<SpoolOpenResult> {
    const read = await readSegments(dir);
    const damaged: SpoolDamage[] = [];
    let maxId = 0;
    const scans = read.segments.map(({ seq, path, buf, scan }) => {
      for (const d of scan.damaged) damaged.push({ segment: segName(seq), ...d });
      if (scan.maxId > maxId) maxId = scan.maxId;
      const seg: Segment = { seq, path, size: buf.length, live: 0, handle: undefined, created: true, state: 'open', markers: [] };
      return { seg, buf, scan };
    });
    const log = new SpoolLog(dir, opts, lock, (read.segments.at(-1)?.seq ?? 0) + 1, maxId + 1);
    const released = new Set<number>();
    for (const { scan } of scans) for (const id of scan.released) released.add(id);
    const dataSeg = new Map<number, Segment>();
    const recovered: SpooledRecord[] = [];
    for (const { seg, buf, scan } of scans) {
      log.segments.set(seg.seq, seg);
      log.bytes += seg.size;
      const keep = scan.data.filter((d) => !released.has(d.id) && !log.live.has(d.id));
      let keptBytes = 0;
      for (const d of keep) keptBytes += d.bodyEnd - d.bodyStart;
      // Bodies are views of the segment's buffer, unless they would pin a buffer mostly released.
      const copy = keptBytes < buf.length / 2;
      for (const d of scan.data) dataSeg.set(d.id, seg);
      for (const d of keep) {
        const view = buf.subarray(d.bodyStart, d.bodyEnd);
        recovered.push({ id: d.id, lines: d.lines, acceptedAt: d.acceptedAt, body: copy ? Buffer.from(view) : view });
        log.live.set(d.id, { seg, acceptedAt: d.acceptedAt, released: false });
      }
      seg.live = keep.length;
    }
    for (const { seg, scan } of scans) {
      for (const id of scan.released) {
        const of = dataSeg.get(id);
        if (of !== undefined && of !== seg) seg.markers.push([id, of]);
      }
    }
    recovered.sort((a, b) => a.id - b.id);
    log.oldest = null;
    for (const seg of log.segments.values()) log.markDeletable(seg);
    // Deletes the segments left with no live record (and starts the new segment, whose origin
    // record keeps the ids increasing even if every old segment goes).
    if (log.deletable.size > 0) {
      try {
        await log.flush();
      } catch (err) {
        await log.close().catch(() => undefined);
        throw err;
      }
    }
    return { log, recovered, damaged, tornBytes: read.tornBytes };
  }

  /**
   * Appends records; resolves with their ids (increasing) once they are durable. The bodies are
   * written as they are, without a copy: do not modify them before the promise settles.
   */
  append(records: { body: Buffer; lines: number; acceptedAt: number }[]): Promise<number[]> {
    if (this.closing !== undefined) return Promise.reject(new ClientClosedError(`the spool log of ${this.dir} is closed`));
    if (this.broken !== undefined) return Promise.reject(this.brokenError());
    let bytes = 0;
    for (const r of records) {
      const problem = recordProblem(r);
      if (problem !== undefined) return Promise.reject(new InvalidOptionError(problem));
      bytes += kDataOverhead + r.body.length;
    }
    if (records.length === 0) return Promise.resolve([]);
    const held = this.bytes + this.reserved;
    if (held + bytes > this.maxBytes) {
      return Promise.reject(new SpoolFullError(`the spool of ${this.dir} is full: ${held} bytes held, ${bytes} more would exceed its maxBytes ${this.maxBytes}; nothing of this append was written`, held, bytes, this.maxBytes));
    }
    const frames: Buffer[] = [];
    const entries: Entry[] = [];
    const ids: number[] = [];
    for (const r of records) {
      const id = this.nextId++;
      frames.push(frameData(id, r.lines, r.acceptedAt, r.body), r.body);
      const entry: Entry = { seg: undefined, acceptedAt: r.acceptedAt, released: false };
      entries.push(entry);
      ids.push(id);
      this.live.set(id, entry);
      if (this.oldest !== null && !(r.acceptedAt >= (this.oldest ?? Infinity))) this.oldest = r.acceptedAt;
    }
    this.reserved += bytes;
    return new Promise((resolve, reject) => {
      this.queue.push({ frames, entries, ids, bytes, resolve, reject });
      this.kick();
    });
  }

  /**
   * The record's lines are all settled: it no longer needs to be kept. Persisted lazily (a marker
   * in the next commit, or at close); a release after close() started is dropped (resent on open).
   */
  release(id: number): void {
    const entry = this.live.get(id);
    // Unknown or already released; after close() (or a failure) a release is dropped: the record
    // only comes back on the next open.
    if (entry === undefined || this.broken !== undefined || this.closing !== undefined) return;
    this.live.delete(id);
    entry.released = true;
    if (entry.acceptedAt === this.oldest) this.oldest = null;
    this.releases.push({ id, entry });
    const seg = entry.seg;
    if (seg !== undefined && --seg.live === 0 && this.markDeletable(seg)) this.kick();
  }

  /** Writes and syncs what is pending (appends, release markers) and deletes what can be. */
  flush(): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.brokenError());
    return new Promise((resolve, reject) => {
      this.queue.push({ frames: [], entries: [], ids: [], bytes: 0, resolve: () => resolve(), reject });
      this.kick();
    });
  }

  stats(): SpoolStats {
    if (this.oldest === null) {
      let min: number | undefined;
      for (const e of this.live.values()) if (!(e.acceptedAt >= (min ?? Infinity))) min = e.acceptedAt;
      this.oldest = min;
    }
    let segments = 0;
    for (const s of this.segments.values()) if (s.created) segments++;
    return { bytes: this.bytes, segments, records: this.live.size, oldestAcceptedAt: this.oldest, fsyncs: this.fsyncs, bytesWritten: this.bytesWritten };
  }

  /** Syncs what is pending (appends, releases), closes the files, removes the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let failure: unknown;
      if (this.broken === undefined) {
        try {
          await this.flush();
        } catch (err) {
          failure = err;
        }
      }
      await this.loop; // deletions after the last commit
      for (const s of this.segments.values()) {
        const h = s.handle;
        s.handle = undefined;
        if (h !== undefined) await h.close().catch((err: unknown) => (failure ??= err));
      }
      await releaseLock(this.lock);
      if (failure !== undefined) throw failure;
    })();
    return this.closing;
  }

  private brokenError(): SpoolBrokenError {
    const why = this.broken instanceof Error ? this.broken.message : String(this.broken);
    return new SpoolBrokenError(`the spool log of ${this.dir} is broken since a write or sync failed (${why}): it refuses appends; reopen it to recover what is durable`, { cause: this.broken });
  }

  private markDeletable(seg: Segment): boolean {
    if (seg.live !== 0 || seg === this.current || seg.state !== 'open' || !seg.created) return false;
    this.deletable.add(seg);
    return true;
  }

  /** Starts the commit loop on the next microtask (so that appends made in the same tick share it). */
  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.loop = Promise.resolve().then(() => this.run());
  }

  private async run(): Promise<void> {
    try {
      while (this.broken === undefined && (this.queue.length > 0 || this.deletable.size > 0)) await this.commit();
    } catch (err) {
      this.broken ??= err; // not an I/O error (those are handled in commit): a bug, but no hang
      this.rejectQueue();
    } finally {
      // Synchronous with the last check above: an append after it sees running = false and kicks.
      this.running = false;
    }
  }

  private newSegment(): Segment {
    const seq = this.nextSeq++;
    const seg: Segment = { seq, path: join(this.dir, segName(seq)), size: 0, live: 0, handle: undefined, created: false, state: 'open', markers: [] };
    this.segments.set(seq, seg);
    return seg;
  }

  /** One group commit: every queued append, the release markers, one writev and fdatasync per segment touched, then deletions. */
  private async commit(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const dels = [...this.deletable];
    this.deletable.clear();
    for (const d of dels) {
      d.state = 'deleting';
      // Markers for records still kept must outlive this file: write them again below.
      for (const [id, of] of d.markers) if (of.state === 'open') this.releases.push({ id, entry: { seg: of, acceptedAt: 0, released: true } });
    }
    const rels = this.releases;
    this.releases = [];
    // Plan: which buffers go to which segment (rolling where the current one would overflow).
    const chunks: { seg: Segment; bufs: Buffer[]; bytes: number }[] = [];
    const rolled: Segment[] = [];
    let chunk: (typeof chunks)[number] | undefined;
    const place = (bufs: Buffer[], size: number): Segment => {
      let seg = this.current;
      const used = seg === undefined ? 0 : seg.size + (chunk?.seg === seg ? chunk.bytes : 0);
      // (A segment holding only its origin record takes a record of any size.)
      if (seg === undefined || (used > kOriginBytes && used + size > this.segmentBytes)) {
        if (seg !== undefined) rolled.push(seg);
        seg = this.current = this.newSegment();
        const origin = frameOrigin(this.nextId);
        chunk = { seg, bufs: [origin], bytes: origin.length };
        chunks.push(chunk);
      } else if (chunk?.seg !== seg) {
        chunk = { seg, bufs: [], bytes: 0 };
        chunks.push(chunk);
      }
      chunk.bufs.push(...bufs);
      chunk.bytes += size;
      return seg;
    };
    for (const p of batch) {
      for (let i = 0; i < p.entries.length; i++) {
        const head = p.frames[2 * i]!;
        const body = p.frames[2 * i + 1]!;
        const entry = p.entries[i]!;
        entry.seg = place([head, body], head.length + body.length);
        if (!entry.released) entry.seg.live++;
      }
    }
    if (rels.length > 0) {
      const marker = frameRelease(rels.map((r) => r.id));
      const at = place([marker], marker.length);
      for (const { id, entry } of rels) if (entry.seg !== undefined && entry.seg !== at) at.markers.push([id, entry.seg]);
    }
    // Keeps a segment (with its origin record) when deleting: the ids' high-water mark survives.
    if (dels.length > 0 && this.current === undefined) place([], 0);
    let wrote = 0;
    try {
      for (const c of chunks) {
        const seg = c.seg;
        if (!seg.created) {
          seg.handle = await open(seg.path, 'wx');
          seg.created = true;
          await syncDir(this.dir); // the new file's name is durable too
          this.fsyncs++;
        }
        const { bytesWritten } = await seg.handle!.writev(c.bufs, seg.size);
        seg.size += bytesWritten;
        wrote += bytesWritten;
        if (bytesWritten !== c.bytes) throw new Error(`short write to ${seg.path}: ${bytesWritten} of ${c.bytes} bytes`);
        await seg.handle!.datasync();
        this.fsyncs++;
      }
    } catch (err) {
      this.broken ??= err;
    }
    // In one step, so that no append is refused for bytes counted twice.
    this.bytes += wrote;
    this.bytesWritten += wrote;
    for (const p of batch) this.reserved -= p.bytes;
    if (this.broken !== undefined) {
      for (const p of batch) p.reject(this.broken);
    } else {
      // Durable. Then the housekeeping, before resolving so that flush() sees the files gone; a
      // failure here breaks the log but not these appends.
      try {
        for (const seg of rolled) {
          const h = seg.handle;
          seg.handle = undefined;
          await h?.close();
          this.markDeletable(seg);
        }
        for (const d of dels) {
          await unlinkIfThere(d.path);
          d.state = 'deleted';
          d.markers = [];
          this.bytes -= d.size;
          this.segments.delete(d.seq);
        }
      } catch (err) {
        this.broken = err;
      }
      for (const p of batch) p.resolve(p.ids);
    }
    if (this.broken !== undefined) this.rejectQueue();
  }

  private rejectQueue(): void {
    for (const p of this.queue.splice(0)) {
      this.reserved -= p.bytes;
      p.reject(this.brokenError());
    }
  }
}
