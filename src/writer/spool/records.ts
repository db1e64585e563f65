/**
 * The durable spool's on-disk record format (owned here; src/writer/spool/log.ts writes and
 * recovers segments with it): framing, CRC32, the scan of a segment file, the reading of a
 * directory's segments (`NNNNNNNNNNNN.seg`, oldest first) on open, and small file helpers.
 *
 * A segment file is a sequence of records, each a 24-byte header then its payload
 * (all integers little-endian):
 *
 * ```
 *  0  magic    4 bytes  F5 53 50 4C ("\xF5SPL": 0xF5 never occurs in UTF-8, so never inside line protocol)
 *  4  kind     u8       1 data, 2 release, 3 origin
 *  5  version  u8       1
 *  6  reserved u16      0
 *  8  length   u32      payload bytes
 * 12  count    u32      data: the record's lines; release: the number of ids; origin: 0
 * 16  hcrc     u32      CRC32 of bytes 0..16 (a readable header: trusted length and lines even when the payload is damaged)
 * 20  crc      u32      CRC32 of bytes 0..16 then the payload
 * 24  payload
 *       data:    id u64, lines u32, acceptedAt f64 (ms since epoch), body bytes (opaque)
 *       release: id u64 × count (records whose lines are all settled)
 *       origin:  next id u64 (first record of every segment: ids keep increasing even when every
 *                older segment was deleted)
 * ```
 */
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';

export interface SpoolRecordMeta {
  lines: number;
  /** ms since epoch */
  acceptedAt: number;
}
export interface SpooledRecord extends SpoolRecordMeta {
  id: number;
  body: Buffer;
}
/** A record recovery skipped (bad checksum, impossible length …) and why. */
export interface SpoolDamage {
  /** The segment's file name. */
  segment: string;
  offset: number;
  /** The record's lines, when its header was readable. */
  lines: number | undefined;
  reason: string;
}

export const kHeaderBytes = 24;
/** Data payload bytes before the body: id, lines, acceptedAt. */
export const kDataMetaBytes = 20;
/** Bytes a data record takes beyond its body. */
export const kDataOverhead = kHeaderBytes + kDataMetaBytes;
/** An origin record's bytes: the first record of every segment. */
export const kOriginBytes = kHeaderBytes + 8;
export const kMagic = Buffer.from([0xf5, 0x53, 0x50, 0x4c]);
const kVersion = 1;
export const Kind = { Data: 1, Release: 2, Origin: 3 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
const kMaxPayload = 0xffff_ffff;

/** Table-driven CRC32 (IEEE, as zlib's): the fallback for Node < 20.15, exported for its test. */
const kTable = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
export function crc32js(data: Uint8Array, value = 0): number {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = kTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
/** CRC32 of `data`, continuing from `value` (the CRC of what came before). */
export const crc32: (data: Uint8Array, value?: number) => number = typeof native === 'function' ? native : crc32js;

function writeU64(b: Buffer, off: number, n: number): void {
  b.writeUInt32LE(n >>> 0, off);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), off + 4);
}
/** A u64 as a number; NaN beyond 2^53 (not an id this module wrote). */
function readU64(b: Buffer, off: number): number {
  const hi = b.readUInt32LE(off + 4);
  return hi > 0x1f_ffff ? NaN : hi * 0x1_0000_0000 + b.readUInt32LE(off);
}

/** Writes the header at `b[0..24)`; the payload is `b[24..]` then `rest` (a body, not copied). */
function seal(b: Buffer, kind: Kind, length: number, count: number, rest?: Uint8Array): void {
  kMagic.copy(b, 0);
  b[4] = kind;
  b[5] = kVersion;
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(length, 8);
  b.writeUInt32LE(count, 12);
  const hcrc = crc32(b.subarray(0, 16));
  b.writeUInt32LE(hcrc, 16);
  let crc = crc32(b.subarray(kHeaderBytes), hcrc);
  if (rest !== undefined) crc = crc32(rest, crc);
  b.writeUInt32LE(crc, 20);
}

/** The header and metadata of a data record (44 bytes); the body is written after it as is (no copy). */
/** Why a record cannot be appended, or undefined. */
export function recordProblem(r: { body: unknown; lines: number; acceptedAt: number }): string | undefined {
  if (!(r.body instanceof Uint8Array)) return 'a spool record body must be a Buffer';
  if (r.body.length > kMaxPayload - kDataMetaBytes) return `a spool record body of ${r.body.length} bytes is too large`;
  if (!(Number.isInteger(r.lines) && r.lines >= 0 && r.lines <= 0xffff_ffff)) return `a spool record's lines must be a u32, got ${r.lines}`;
  if (!Number.isFinite(r.acceptedAt)) return `a spool record's acceptedAt must be a finite number, got ${r.acceptedAt}`;
  return undefined;
}

export function frameData(id: number, lines: number, acceptedAt: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(kDataOverhead);
  writeU64(b, kHeaderBytes, id);
  b.writeUInt32LE(lines, kHeaderBytes + 8);
  b.writeDoubleLE(acceptedAt, kHeaderBytes + 12);
  seal(b, Kind.Data, kDataMetaBytes + body.length, lines, body);
  return b;
}

export function frameRelease(ids: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(kHeaderBytes + 8 * ids.length);
  for (let i = 0; i < ids.length; i++) writeU64(b, kHeaderBytes + 8 * i, ids[i]!);
  seal(b, Kind.Release, 8 * ids.length, ids.length);
  return b;
}

export function frameOrigin(nextId: number): Buffer {
  const b = Buffer.allocUnsafe(kHeaderBytes + 8);
  writeU64(b, kHeaderBytes, nextId);
  seal(b, Kind.Origin, 8, 0);
  return b;
}

type Check =
  | { ok: true; kind: number; total: number }
  | { ok: false; reason: string; /** the header's checksum held: its length and count are trustworthy */ headerOk: boolean; kind: number; count: number; total: number };

/** Validates the record at `off` (header, length, checksum) without decoding its payload. */
function check(buf: Buffer, off: number): Check {
  const bad = (reason: string, headerOk = false): Check => ({
    ok: false,
    reason,
    headerOk,
    kind: headerOk ? buf[off + 4]! : 0,
    count: headerOk ? buf.readUInt32LE(off + 12) : 0,
    total: headerOk ? kHeaderBytes + buf.readUInt32LE(off + 8) : 0,
  });
  if (buf.length - off < kHeaderBytes) return bad(`short header (${buf.length - off} bytes)`);
  if (buf.compare(kMagic, 0, 4, off, off + 4) !== 0) return bad('no record magic');
  const hcrc = crc32(buf.subarray(off, off + 16));
  if (hcrc !== buf.readUInt32LE(off + 16)) return bad('bad header checksum');
  const kind = buf[off + 4]!;
  const length = buf.readUInt32LE(off + 8);
  const count = buf.readUInt32LE(off + 12);
  if (buf[off + 5] !== kVersion) return bad(`unknown record version ${buf[off + 5]}`, true);
  const lengthOk = kind === Kind.Data ? length >= kDataMetaBytes
    : kind === Kind.Release ? length === 8 * count
    : kind === Kind.Origin ? length === 8 : undefined;
  if (lengthOk === undefined) return bad(`unknown record kind ${kind}`, true);
  if (!lengthOk) return bad(`impossible length ${length} for a record of kind ${kind}`, true);
  const total = kHeaderBytes + length;
  if (off + total > buf.length) return bad(`length ${length} runs past the end of the segment`, true);
  if (crc32(buf.subarray(off + kHeaderBytes, off + total), hcrc) !== buf.readUInt32LE(off + 20)) return bad('bad checksum', true);
  return { ok: true, kind, total };
}

/** The offset of the next valid record at or after `from`, or -1. */
function resync(buf: Buffer, from: number): number {
  for (let at = buf.indexOf(kMagic, from); at >= 0; at = buf.indexOf(kMagic, at + 1)) {
    if (check(buf, at).ok) return at;
  }
  return -1;
}

export interface ScannedData {
  id: number;
  lines: number;
  acceptedAt: number;
  /** The body's bytes within the segment's buffer. */
  bodyStart: number;
  bodyEnd: number;
}
export interface ScannedSegment {
  data: ScannedData[];
  /** Ids of release markers, in file order. */
  released: number[];
  /** The largest id this segment proves was handed out (data, releases, origin), or 0. */
  maxId: number;
  damaged: Omit<SpoolDamage, 'segment'>[];
  /** The last segment only: where a torn tail starts (the file is to be cut there). */
  tornAt: number | undefined;
}

/**
 * Reads every valid record of a segment. A bad record is skipped by resynchronising on the next
 * record that validates; in the last segment, bad bytes with no valid record after them are a
 * write cut short by a crash (`tornAt`), elsewhere they are damage.
 */
export function scanSegment(buf: Buffer, last: boolean): ScannedSegment {
  const out: ScannedSegment = { data: [], released: [], maxId: 0, damaged: [], tornAt: undefined };
  let off = 0;
  while (off < buf.length) {
    const c = check(buf, off);
    if (c.ok) {
      const p = off + kHeaderBytes;
      if (c.kind === Kind.Data) {
        const id = readU64(buf, p);
        const lines = buf.readUInt32LE(p + 8);
        const acceptedAt = buf.readDoubleLE(p + 12);
        out.data.push({ id, lines, acceptedAt, bodyStart: p + kDataMetaBytes, bodyEnd: off + c.total });
        if (id > out.maxId) out.maxId = id;
      } else if (c.kind === Kind.Release) {
        for (let q = p; q < off + c.total; q += 8) {
          const id = readU64(buf, q);
          out.released.push(id);
          if (id > out.maxId) out.maxId = id;
        }
      } else {
        const next = readU64(buf, p);
        if (next - 1 > out.maxId) out.maxId = next - 1;
      }
      off += c.total;
      continue;
    }
    // With a readable header, the next record should start right after this one: try there first
    // (a body may hold the magic bytes), then scan.
    let next = c.headerOk && off + c.total < buf.length && check(buf, off + c.total).ok ? off + c.total : -1;
    if (next < 0) next = resync(buf, off + 1);
    if (next < 0 && last) {
      out.tornAt = off;
      break;
    }
    out.damaged.push({ offset: off, lines: c.headerOk && c.kind === Kind.Data ? c.count : undefined, reason: c.reason });
    if (next < 0) break;
    off = next;
  }
  return out;
}

const kSegRe = /^\d{12}\.seg$/;
export const segName = (seq: number): string => `${String(seq).padStart(12, '0')}.seg`;

export interface ReadSegment {
  seq: number;
  path: string;
  /** The file's bytes (without the torn tail). */
  buf: Buffer;
  scan: ScannedSegment;
}

/** Reads and scans every segment of `dir`, oldest first, and cuts the last one's torn tail off the file. */
export async function readSegments(dir: string): Promise<{ segments: ReadSegment[]; tornBytes: number }> {
  const seqs = (await readdir(dir)).flatMap((n) => (kSegRe.test(n) ? [Number(n.slice(0, 12))] : [])).sort((a, b) => a - b);
  const segments: ReadSegment[] = [];
  let tornBytes = 0;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const path = join(dir, segName(seq));
    let buf = await readFile(path);
    const scan = scanSegment(buf, i === seqs.length - 1);
    if (scan.tornAt !== undefined) {
      tornBytes += buf.length - scan.tornAt;
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.tornAt);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      buf = buf.subarray(0, scan.tornAt);
    }
    segments.push({ seq, path, buf, scan });
  }
  return { segments, tornBytes };
}

/** fsync of a directory: makes the names of files created in it durable. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
}
