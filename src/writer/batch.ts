/**
 * A batch: one request body of line protocol on its way from the buffer to the server, with
 * what the writer needs to account for it (its points' sequence numbers, its age, the memory it
 * holds, its attempts). The one definition of it, and of the pieces a server's answer cuts from it.
 */
import type { EncodedBody } from '../encode/body-builder.js';
import { splitLines } from '../encode/line-protocol/scan.js';

export interface Batch {
  body: Buffer;
  lines: number;
  /** Its per-series lane (lanes.ts): its series' lines never pass an earlier batch of the lane. */
  lane: number;
  /**
   * A lower bound of its points' sequence numbers (points are numbered in acceptance order): that
   * of the write its first line came with. flush() waits while a batch below its mark is pending.
   */
  firstSeq: number;
  /** When its first point was accepted (ms since the epoch): the delivery deadline counts from it. */
  acceptedAt: number;
  attempts: number;
  gz: Buffer | undefined;
  /** Bytes charged to the buffer for it. */
  mem: number;
  lastError: Error | undefined;
  /** The body owns its whole backing store and nothing else points into it: reusable once acknowledged. */
  recyclable: boolean;
  /** How many 400 answers led to this batch (lines resent after an answer that did not name them all). */
  rounds?: number;
  /** The batch a 413 split this one from (shared by all its pieces). */
  family?: SplitFamily;
  /** With a spool: the spool records its lines came from, shared with its pieces (spool.ts). */
  spool?: SpoolClaim;
}

/**
 * A batch's lines in the spool: `runs` holds (record id, lines) pairs in body order; `open`
 * counts the batch and its pieces not settled yet. When it falls to 0 every line of the batch
 * is settled, and the records' lines are released (a record goes once all its lines are).
 */
export interface SpoolClaim {
  readonly runs: number[];
  open: number;
}

export interface SplitFamily {
  lines: number;
  bytes: number;
  /** Set once the server refused an ordinary line of it alone: the other pieces are refused unsent. */
  refused?: Error;
}

/**
 * What the flusher asks of the buffer that its batches are charged to. The buffer implements it;
 * the flusher knows it by this interface alone.
 */
export interface BatchAccount {
  /** More memory held for batches (a gzip copy kept for retries, resent pieces). */
  charge(bytes: number): void;
  /** A batch leaves the writer: its memory is given back. */
  release(b: Batch): void;
  /** An acknowledged batch, whose body's memory may serve a later slice. */
  recycle(b: Batch): void;
  /** The server refused a body this large (413): later batches are cut at most this large. */
  lowerBatchBytes(bytes: number): void;
  /** A request ended: writers waiting for room may go on. */
  roomFreed(): void;
}

/** A body's memory: its backing store when it owns one (what the process really holds). */
function memOf(body: Buffer): number {
  return body.byteLength >= 4096 && body.buffer.byteLength < 2 * body.byteLength + 65_536 ? body.buffer.byteLength : body.byteLength;
}

/** A batch the buffer cut from a lane, its points numbered from `firstSeq`. */
export function newBatch(b: EncodedBody, lane: number, firstSeq: number, acceptedAt: number, spool?: SpoolClaim): Batch {
  return {
    body: b.body, lines: b.lines, lane, firstSeq, acceptedAt, attempts: 0, gz: undefined, mem: memOf(b.body), lastError: undefined,
    recyclable: b.body.byteOffset === 0 && b.body.byteLength >= 65_536 && b.body.buffer.byteLength <= 2 * b.body.byteLength + 65_536,
    spool,
  };
}

/**
 * A piece of `parent` sent on its own: a half after a 413 (with its `family`), or the lines
 * resent after a 400 (with its `rounds`). Never recyclable: it points into its parent's body, or is a copy.
 */
export function pieceOf(
  parent: Batch, body: Buffer, lines: number, firstSeq: number, lastError: Error | undefined,
  lineage: { family: SplitFamily } | { rounds: number },
): Batch {
  // The piece holds its parent's spool records until it settles too.
  if (parent.spool !== undefined) parent.spool.open++;
  return { body, lines, lane: parent.lane, firstSeq, acceptedAt: parent.acceptedAt, attempts: 0, gz: undefined, mem: body.length, lastError, recyclable: false, spool: parent.spool, ...lineage };
}

/** The lines of a body as strings (for the dead letter). */
export function linesOf(body: Buffer): string[] {
  return splitLines(body).map((r) => body.toString('utf8', r.start, r.end));
}
