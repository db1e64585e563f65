/**
 * What a refusal makes of a batch, worked out without touching the writer's state (the flusher
 * applies it): the two halves a 413 cuts, the error for a line refused alone, and the verdict on
 * a 400 (lines stored, lines rejected with the server's reason, lines sent again).
 */
import { InfluxDBWriteError } from '../errors.js';
import { splitLines } from '../encode/line-protocol/scan.js';
import { linesOf, pieceOf, type Batch, type SplitFamily } from './batch.js';
import { analyzeRejection, type RejectionContext } from './rejections.js';

/** Resends after 400 answers that leave lines unnamed, before those lines are rejected. */
const kMaxRejectionRounds = 16;

/** 413: the batch cut in two at its middle line; both halves share the family of the first batch cut. */
export function halves(b: Batch): [Batch, Batch] {
  const family: SplitFamily = b.family ?? { lines: b.lines, bytes: b.body.length };
  const ranges = splitLines(b.body);
  const n = Math.floor(ranges.length / 2);
  const mid = ranges[n]!.start;
  const half = (start: number, end: number, lines: number, seqOffset: number): Batch =>
    pieceOf(b, b.body.subarray(start, end), lines, b.firstSeq + seqOffset, b.lastError, { family });
  return [half(0, mid, n, 0), half(mid, b.body.length, ranges.length - n, n)];
}

/**
 * 413 for a single line. A line much larger than the others of its batch is rejected alone; an
 * ordinary one means the server's limit is below any batch, and the rest of the batch (its
 * pieces among `queued`) is refused with it, unsent (10 lines used to cost 18 requests).
 */
export function refusedAlone(b: Batch, cause: InfluxDBWriteError, queued: readonly Batch[]): { error: InfluxDBWriteError; ordinary: boolean; rest: Batch[] } {
  const f = b.family;
  const ordinary = f !== undefined && b.body.length <= 2 * (f.bytes / f.lines);
  const rest = ordinary ? queued.filter((q) => q.family === f) : [];
  const restLines = rest.reduce((n, q) => n + q.lines, 0);
  const error = new InfluxDBWriteError(
    `the server refuses even a single line (${b.body.length} bytes) with 413 Request Entity Too Large${ordinary ? `, an ordinary line of its batch: the ${restLines} lines left of that batch are refused with it, unsent` : ': rejected'}. `
      + 'Raise the server\'s request size limit (influxd: max-body-size in [http], default 25000000 bytes; or that of a proxy in front of it)',
    { status: 413, serverMessage: cause.serverMessage, endpoint: 'write', rejectedLines: linesOf(b.body) },
  );
  return { error, ordinary, rest };
}

export interface RefusalVerdict {
  /** Points known stored. */
  written: number;
  /** Batches to send again, in queue order (before the failures are recorded: see `refusal`). */
  resend: Batch[];
  /** Points rejected, in the order they are to be recorded. */
  rejected: { count: number; lines: string[]; error: InfluxDBWriteError }[];
}

/** 400: the lines the server refused are rejected with its reason; the rest were stored, or are sent again. */
export function refusal(b: Batch, error: InfluxDBWriteError, context: RejectionContext): RefusalVerdict {
  const a = analyzeRejection(error.serverMessage, b.body, context);
  const verdict: RefusalVerdict = { written: 0, resend: [], rejected: [] };
  const refused = a.rejected.map((r) => b.body.toString('utf8', r.start, r.end));
  const reasons = [...new Set(a.rejected.map((r) => r.reason))];
  const detail = new InfluxDBWriteError(error.message, {
    status: 400, serverMessage: error.serverMessage, endpoint: 'write', rejectedLines: refused, partial: a.stored,
  });
  if (reasons.length > 0 && reasons[0] !== error.serverMessage) detail.message += ` [${reasons.slice(0, 3).join('; ')}]`;
  if (a.stored) {
    const bad = refused.length + a.unidentified;
    verdict.written = Math.max(0, b.lines - bad);
    if (bad > 0) verdict.rejected.push({ count: bad, lines: refused, error: detail });
    return verdict;
  }
  // Not all known: the lines refused for sure are rejected; the rest is sent again, one batch
  // per shard group (so that each answer is about one shard and names what it refused). A
  // line stored already is stored again, harmlessly: same series, time and values.
  const resendLines = a.resend.length;
  const otherBad = b.lines - resendLines;
  // Every round refuses at least the lines its answer names, so rounds are few; the cap is a
  // guard against a server whose answers do not follow influxd's.
  const rounds = (b.rounds ?? 0) + 1;
  const giveUp = resendLines > 0 && rounds > kMaxRejectionRounds;
  if (resendLines > 0 && !giveUp) {
    for (const g of a.resendGroups) {
      const body = Buffer.concat(g.map((r) => b.body.subarray(r.start, Math.min(b.body.length, r.end + 1))));
      verdict.resend.push(pieceOf(b, body, g.length, b.firstSeq, detail, { rounds }));
    }
  }
  if (otherBad > 0) {
    const keep = new Set(a.resend.map((r) => r.start));
    const lines = splitLines(b.body).filter((r) => !keep.has(r.start)).map((r) => b.body.toString('utf8', r.start, r.end));
    verdict.rejected.push({ count: otherBad, lines, error: detail });
  }
  if (giveUp) {
    const lines = a.resend.map((r) => b.body.toString('utf8', r.start, r.end));
    const error = new InfluxDBWriteError(`${detail.message} (still refused after ${kMaxRejectionRounds} resends of the lines not named)`, {
      status: 400, serverMessage: detail.serverMessage, endpoint: 'write', rejectedLines: lines, partial: false,
    });
    verdict.rejected.push({ count: resendLines, lines, error });
  }
  return verdict;
}
