/**
 * What influxd 1.6.7 did with a batch it answered `400` to: which lines it refused (with the
 * reason to report), whether the other lines were stored, and which lines to send again.
 *
 * Pure and synchronous: no I/O, no clock (the caller passes `nowMs`). Lines are cut and parsed by
 * the encode layer's line-protocol scanner and parser (encode/line-protocol/), the same that
 * checks raw line protocol before it is sent.
 *
 * Message forms (the `error` text of the JSON body, as measured on influxd 1.6.7; the text is
 * read by transport/refusal.ts, the one parser of 400 answers) and what they mean for the batch:
 *
 * | server text | kind | refused lines | rest |
 * |---|---|---|---|
 * | `unable to parse '<line>': <reason>` (several joined by `\n`) | `unparsable` | every line (no line parsed) | none |
 * | `partial write: unable to parse '<line>': <reason>[\n…] dropped=0` | `partial` | the quoted lines | stored |
 * | `partial write: field type conflict: input field "<f>" on measurement "<m>" is type <t>, already exists as type <e> dropped=<n>` | `typeConflict` | found by replaying the shard's checks (below) | stored |
 * | `field type conflict` (no `partial write`, no count) | `typeConflictNothingStored` | the lines that conflict | resend |
 * | `partial write: points beyond retention policy dropped=<n>` | `beyondRetention` | the `n` points of the oldest shard groups (below) | stored |
 * | `partial write: invalid tag key: input tag "time" on measurement "<m>" is invalid dropped=<n>` | `timeKey` | lines with a `time` tag (and those below) | stored |
 * | `partial write: invalid field name: input field "time" on measurement "<m>" is invalid dropped=<n>` | `timeKey` | lines whose only field is `time` (and those below) | stored |
 * | `partial write: max-values-per-tag limit exceeded (<n>/<max>): measurement="<m>" tag="<k>" value="<v>" dropped=<n>` | `limit` | not identifiable: counted in `unidentified` | stored |
 * | `partial write: max-series-per-database limit exceeded: (<max>) dropped=<n>` | `limit` | every point of the shard's batch (1.6.7 drops them all) | stored |
 * | `partial write: <other> dropped=<n>` (e.g. `shard <id> is pending deletion`) | `other` | `unidentified = n` | stored |
 * | anything else (`database is required`, gzip errors, …) | `other` | every line, with the message | none |
 *
 * How influxd 1.6.7 decides, and what this module replays:
 * - Lines are cut by `scanLine` (ported as `lineEndAt` in encode/line-protocol/scan.ts): a `\n` ends a line unless
 *   escaped or inside a string field; blank, whitespace-only and `#` lines are skipped. The line
 *   quoted in `unable to parse '…'` is the line without its leading spaces/tabs/NULs, `\r` kept,
 *   never truncated (the `X-Influxdb-Error` header copy is cut at 1024 bytes); invalid UTF-8
 *   shows as one U+FFFD per bad byte (Go's JSON encoder).
 * - Parse errors of some lines are only reported when everything else was stored: a shard
 *   error (type conflict, `time` key, retention) replaces the message, and the unparsable lines
 *   are dropped silently. So every line is also parsed (the port of `parsePoint`), and lines
 *   that fail are reported with the parser's reason even when the server did not name them.
 * - Points are written per shard group (groups of `shardGroupMs`, aligned like Go's
 *   `Time.Truncate`); each shard validates its points independently and the answer carries the
 *   error of ONE shard only. In a shard that exists, points are checked in order: points with
 *   a `time` tag are dropped first, then each point is dropped if its only field is `time` or if
 *   a field's type differs from the stored type or from the type an earlier accepted point of
 *   the batch gave it (the first accepted type wins; a dropped point registers nothing). The
 *   reason reported is the first such drop (`time` tags first), `dropped=` counts them all.
 * - The first write into a new shard (new database or new shard-group time range) does not
 *   check types within the batch: it creates the fields in order and fails on the first
 *   disagreement with `field type conflict`, storing none of the shard's points (the fields
 *   created before the failure stay). The lines to resend are those that pass the checks above
 *   against the fields so created.
 * - Retention: a point is dropped when its time is before `now - duration` AND no point of the
 *   same batch at or after that instant falls into its shard group. So the dropped points are
 *   whole shard groups (as seen in the batch), the ones with the oldest newest point.
 */
import type { Precision } from '../types.js';
import {
  conflictReason, errorText, parseErrorItems, parseRefusal, RETENTION_REASON, timeFieldReason, timeTagReason,
  type FieldConflict, type RefusalKind,
} from '../transport/refusal.js';
import { cutLines, type LineRange, type Lines } from '../encode/line-protocol/scan.js';
import {
  goString, precisionSpec, readPoint, type LineFieldType, type ParsedLine,
} from '../encode/line-protocol/parse.js';

export type { LineRange } from '../encode/line-protocol/scan.js';
export { errorText } from '../transport/refusal.js';

export interface RejectedLine extends LineRange {
  /** The server's reason for this line (its own words where it gave them). */
  reason: string;
  /** `server`: the message quotes this line; `inferred`: found by replaying the server's rules. */
  source: 'server' | 'inferred';
}

export type RejectionKind = RefusalKind;

export interface RejectionAnalysis {
  kind: RejectionKind;
  /** The server's error text (taken out of the JSON body when given the body). */
  message: string;
  /** Lines the server refused, in body order. Never to be retried. */
  rejected: RejectedLine[];
  /**
   * `true`: every line not in `rejected` was stored (less `unidentified` refused lines we could
   * not name). `false`: the lines in `resend` must be sent again (resending a line that carries
   * a timestamp is harmless) and every line is in `rejected` or `resend`.
   */
  stored: boolean;
  /** Lines to send again, in body order; empty when `stored`. */
  resend: LineRange[];
  /**
   * `resend` cut by shard group (one element when all are in one group). influxd answers for
   * one shard group only, so a resend spanning several can come back with an answer that does
   * not say which lines it is about: send each of these as its own request for exact answers.
   */
  resendGroups: LineRange[][];
  /** Refused lines counted by the server (`dropped=N`) that could not be identified. */
  unidentified: number;
  /** The server's `dropped=N`, when the message has one. */
  dropped?: number;
}


export interface RejectionContext {
  /** The `precision` of the write (default `n`): needed to place timestamps in shard groups. */
  precision?: Precision;
  /** The client's clock when the answer came (ms since the epoch). */
  nowMs?: number;
  /** Duration of the retention policy written to, in ms (`0`, the default: infinite). */
  retentionMs?: number;
  /**
   * Shard group duration of that policy, in ms. Default: influxd's default for `retentionMs`
   * (1 h below 2 days, 1 day below 180 days, else 7 days; 7 days for infinite).
   */
  shardGroupMs?: number;
}


// =============================================================================== the analysis

const DAY_MS = 86400000;
/** Go's zero time (year 1) is this many ns before the Unix epoch: shard groups align to it. */
const GO_ZERO_OFFSET_NS = 62135596800n * 1000000000n;

/** influxd's default shard group duration for a retention policy duration (0 = infinite). */
export function defaultShardGroupMs(retentionMs: number): number {
  if (retentionMs === 0 || retentionMs >= 180 * DAY_MS) return 7 * DAY_MS;
  if (retentionMs >= 2 * DAY_MS) return DAY_MS;
  return 3600000;
}

function groupStart(t: bigint, d: bigint): bigint {
  let r = (t + GO_ZERO_OFFSET_NS) % d;
  if (r < 0n) r += d;
  return t - r;
}

/** The sure drops of one shard group: lines with a `time` tag, or with no field but `time`. */
function validate(idx: number[], lines: (ParsedLine | undefined)[]): { drops: Map<number, string> } {
  const drops = new Map<number, string>();
  for (const k of idx) {
    const p = lines[k]!;
    if (p.timeTag) drops.set(k, timeTagReason(p.measurement));
    else if (!p.fields.some((f) => f.key !== 'time')) drops.set(k, timeFieldReason(p.measurement));
  }
  return { drops };
}

/** Matches the `unable to parse '<line>': <reason>` items of a message to the body's lines. */
function matchParseErrors(
  text: string, body: Uint8Array, lines: Lines,
): { matched: Map<number, string>; complete: boolean } {
  const matched = new Map<number, string>();
  // Index the lines by the byte length of the text the server quotes.
  const byLen = new Map<number, number[]>();
  for (let k = 0; k < lines.text.length; k++) {
    const len = lines.end[k]! - lines.text[k]!;
    const a = byLen.get(len);
    if (a) a.push(k);
    else byLen.set(len, [k]);
  }
  let sanitized: Map<number, string> | undefined;
  const enc = new TextEncoder();
  const equalBytes = (bytes: Uint8Array, k: number): boolean => {
    const s = lines.text[k]!;
    for (let j = 0; j < bytes.length; j++) if (body[s + j] !== bytes[j]) return false;
    return true;
  };
  const find = (cand: string): number => {
    const bytes = enc.encode(cand);
    for (const k of byLen.get(bytes.length) ?? []) if (!taken.has(k) && equalBytes(bytes, k)) return k;
    if (cand.includes('\ufffd')) {
      // The server replaced invalid UTF-8, one U+FFFD per byte: compare with the lines that have some.
      if (!sanitized) {
        sanitized = new Map();
        for (let k = 0; k < lines.text.length; k++) {
          for (let j = lines.text[k]!; j < lines.end[k]!; j++) {
            if (body[j]! >= 0x80) {
              sanitized.set(k, goString(body, lines.text[k]!, lines.end[k]!));
              break;
            }
          }
        }
      }
      for (const [k, s] of sanitized) if (!taken.has(k) && s === cand) return k;
    }
    return -1;
  };
  // A line matched is not matched again: identical refused lines are named one by one.
  const taken = new Set<number>();
  const { items, complete } = parseErrorItems(text, (line) => {
    const k = find(line);
    if (k < 0) return undefined;
    taken.add(k);
    return k;
  });
  for (const item of items) matched.set(item.at, item.reason);
  return { matched, complete };
}

/**
 * Reads a `400` answer of influxd 1.6.7's `/write` against the body that was sent: see the
 * table at the top of this file. `message` is the response body (JSON or not) or the error text.
 */
export function analyzeRejection(message: string, body: Uint8Array, context: RejectionContext = {}): RejectionAnalysis {
  const refusal = parseRefusal(errorText(message));
  const { text, reason, dropped } = refusal;
  const lines = cutLines(body);
  const n = lines.start.length;
  const range = (k: number): LineRange => ({ start: lines.start[k]!, end: lines.end[k]! });

  // Parsed lines, read on demand (every line only for the kinds that replay the server's checks).
  const spec = precisionSpec(context.precision);
  let parsed: { lines: (ParsedLine | undefined)[]; errors: Map<number, string> } | undefined;
  const parseAll = () => {
    if (parsed) return parsed;
    const ls: (ParsedLine | undefined)[] = new Array(n);
    const errors = new Map<number, string>();
    for (let k = 0; k < n; k++) {
      const r = readPoint(body, lines.text[k]!, lines.end[k]!, spec);
      if (r.ok) ls[k] = r.line;
      else errors.set(k, r.reason);
    }
    return (parsed = { lines: ls, errors });
  };

  const rejected = new Map<number, RejectedLine>();
  const reject = (k: number, reason: string, source: RejectedLine['source']) => {
    if (!rejected.has(k)) rejected.set(k, { ...range(k), reason, source });
  };
  const finish = (
    kind: RejectionKind, resendAll: boolean, unidentified: number, dropped?: number,
  ): RejectionAnalysis => {
    const rej = [...rejected.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    const resendIdx: number[] = [];
    if (resendAll) for (let k = 0; k < n; k++) if (!rejected.has(k)) resendIdx.push(k);
    const resend = resendIdx.map(range);
    const resendGroups = resendIdx.length === 0 ? []
      : [...shardGroups(resendIdx, parseAll().lines, context).values()].map((g) => g.map(range));
    const out: RejectionAnalysis = {
      kind, message: text, rejected: rej, stored: resend.length === 0, resend, resendGroups,
      unidentified: resend.length === 0 ? Math.max(0, unidentified) : 0,
    };
    if (dropped !== undefined) out.dropped = dropped;
    return out;
  };

  // ---- unable to parse: nothing parsed, nothing stored.
  if (refusal.kind === 'unparsable') {
    const { matched } = matchParseErrors(text, body, lines);
    for (const [k, r] of matched) reject(k, r, 'server');
    if (rejected.size < n) {
      const { errors } = parseAll();
      for (let k = 0; k < n; k++) reject(k, errors.get(k) ?? text, 'inferred');
    }
    return finish('unparsable', false, 0);
  }

  // ---- the field type conflict of a new shard: nothing of that shard stored.
  if (refusal.kind === 'typeConflictNothingStored') {
    const { lines: ps, errors } = parseAll();
    for (const [k, r] of errors) reject(k, r, 'inferred');
    const ok = okIndices(ps);
    beyondRetentionByClock(ok, ps, context, reject);
    // The shard that failed stored nothing; the others may have stored their points, or failed
    // too (the answer names one error). Only the sure drops (time keys) are refused: every other
    // line is sent again, one request per shard group. The failed attempt created fields up to
    // where the batch disagreed, so the resend meets a shard that names its types.
    const groups = [...shardGroups(ok.filter((k) => !rejected.has(k)), ps, context).values()];
    for (const g of groups) for (const [k, r] of validate(g, ps).drops) reject(k, r, 'inferred');
    return finish('typeConflictNothingStored', true, 0);
  }

  if (!refusal.partial) {
    for (let k = 0; k < n; k++) reject(k, text, 'server');
    return finish('other', false, 0);
  }

  // ---- partial write: <reason> dropped=N
  if (refusal.kind === 'partial') {
    // Everything that parsed was stored; the lines quoted were not.
    const { matched, complete } = matchParseErrors(reason, body, lines);
    for (const [k, r] of matched) reject(k, r, 'server');
    if (!complete || dropped === undefined) {
      // A cut message (the X-Influxdb-Error copy): find the rest with the parser.
      for (const [k, r] of parseAll().errors) reject(k, r, 'inferred');
    }
    return finish('partial', false, 0, dropped);
  }

  const N = dropped ?? 0;
  const { lines: ps, errors } = parseAll();
  // Unparsable lines are dropped without a word when a shard error is reported.
  for (const [k, r] of errors) reject(k, r, 'inferred');
  const ok = okIndices(ps);

  if (refusal.kind === 'beyondRetention') {
    // No shard refused anything: only the points beyond retention are missing.
    const found = retentionDrops(ok, ps, context, N);
    if (found) {
      for (const k of found) reject(k, RETENTION_REASON, 'inferred');
      return finish('beyondRetention', false, 0, dropped);
    }
    // No grouping fits the count: fall back to the clock, if we have one.
    const before = rejected.size;
    beyondRetentionByClock(ok, ps, context, reject);
    return finish('beyondRetention', false, N - (rejected.size - before), dropped);
  }

  /**
   * Field type conflicts and time keys, from what is certain only. influxd writes the shard
   * groups of a batch concurrently, retries a shard write whose new fields disagree on a type,
   * and then counts `dropped=` in ways that depend on both; no replay of its checks explains
   * every answer (tried: random batches against the server). What is certain:
   * - a line with a `time` tag, or no field but `time`, is always dropped;
   * - a field's type never changes in a shard, so where the answer says `f` "already exists as
   *   type T", every line of that (one) shard group with `f` of another type was not stored.
   * When those lines are as many as `dropped=` and the group gave the server no reason to retry
   * (no field with two types among its lines), the count is exact and every other line was
   * stored. Otherwise the other lines are sent again, one request per shard group: storing a
   * line again is harmless (same series, time and values), every round refuses at least the
   * lines its answer names, and the last answer is a 204.
   */
  function finishShardDrops(kind: RejectionKind): RejectionAnalysis {
    const groups = [...shardGroups(ok.filter((k) => !rejected.has(k)), ps, context).values()];
    let sure = 0;
    for (const g of groups) {
      for (const [k, why] of validate(g, ps).drops) {
        reject(k, why, 'inferred');
        sure++;
      }
    }
    const fact = kind === 'typeConflict' ? conflictFact(refusal.conflict, ps, ok) : undefined;
    // The group the answer is about: the only one, or the only one with the input the message
    // names (that field in that type).
    let reported = groups.length === 1 ? 0 : -1;
    if (fact && reported < 0) {
      const named = groups.flatMap((g, gi) => (g.some((k) => ps[k]!.measurement === fact.m
        && ps[k]!.fields.some((f) => f.key === fact.f && f.type === fact.type)) ? [gi] : []));
      if (named.length === 1) reported = named[0]!;
    }
    if (reported < 0) return finish(kind, true, 0, dropped);
    const g = groups[reported]!;
    if (fact) {
      for (const k of g) {
        const p = ps[k]!;
        if (p.measurement !== fact.m || rejected.has(k)) continue;
        const f = p.fields.find((x) => x.key === fact.f && x.type !== fact.existing);
        if (f) {
          reject(k, conflictReason(fact.f, fact.m, f.type, fact.existing), 'inferred');
          sure++;
        }
      }
    }
    const exact = groups.length === 1 && dropped !== undefined && sure === dropped && !disagreesWithin(g, ps);
    return finish(kind, !exact, 0, dropped);
  }

  // A shard error: replay every shard group's write; the message is one group's.
  beyondRetentionByClock(ok, ps, context, reject);
  const groups = [...shardGroups(ok.filter((k) => !rejected.has(k)), ps, context).values()];
  const { kind, maxSeries } = refusal;
  if (kind === 'typeConflict' || kind === 'timeKey') return finishShardDrops(kind);
  // Limits and other shard errors: max-series refuses one group whole (the one of that size);
  // otherwise the points are counted, not named (beyond the sure drops).
  const reported = maxSeries ? groups.findIndex((g) => g.length === N) : -1;
  let unidentified = reported >= 0 ? 0 : N;
  groups.forEach((g, gi) => {
    if (gi === reported) {
      for (const k of g) reject(k, reason, 'inferred');
      return;
    }
    for (const [k, why] of validate(g, ps).drops) {
      reject(k, why, 'inferred');
      if (reported < 0) unidentified--;
    }
  });
  return finish(kind, false, Math.max(0, unidentified), dropped);
}

/** Some (measurement, field) has two types among these lines (the shard write is retried). */
function disagreesWithin(idx: number[], ps: (ParsedLine | undefined)[]): boolean {
  const seen = new Map<string, Map<string, LineFieldType>>();
  for (const k of idx) {
    const p = ps[k]!;
    let mf = seen.get(p.measurement);
    if (!mf) seen.set(p.measurement, (mf = new Map()));
    for (const f of p.fields) {
      if (f.key === 'time') continue;
      const t = mf.get(f.key);
      if (t === undefined) mf.set(f.key, f.type);
      else if (t !== f.type) return true;
    }
  }
  return false;
}

function okIndices(ps: (ParsedLine | undefined)[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < ps.length; k++) if (ps[k]) out.push(k);
  return out;
}

function shardGroupNs(context: RejectionContext): bigint {
  const ms = context.shardGroupMs ?? defaultShardGroupMs(context.retentionMs ?? 0);
  return BigInt(Math.round(ms)) * 1000000n;
}

/** Line indices by shard group (lines without a timestamp go to the group of "now"). */
function shardGroups(idx: number[], ps: (ParsedLine | undefined)[], context: RejectionContext, d = shardGroupNs(context)): Map<string, number[]> {
  const now = context.nowMs !== undefined ? BigInt(Math.round(context.nowMs)) * 1000000n : undefined;
  const out = new Map<string, number[]>();
  for (const k of idx) {
    const t = ps[k]!.timeNs ?? now;
    const key = t === undefined ? 'now' : String(groupStart(t, d));
    const a = out.get(key);
    if (a) a.push(k);
    else out.set(key, [k]);
  }
  return out;
}

/**
 * The points the retention policy drops, known only from the clock (for answers that do not
 * report them): whole groups whose newest point is before `now - retention`.
 */
function beyondRetentionByClock(
  idx: number[], ps: (ParsedLine | undefined)[], context: RejectionContext,
  reject: (k: number, reason: string, source: RejectedLine['source']) => void,
): void {
  const ret = context.retentionMs ?? 0;
  if (!(ret > 0) || context.nowMs === undefined) return;
  const min = BigInt(Math.round(context.nowMs - ret)) * 1000000n;
  for (const g of shardGroups(idx, ps, context).values()) {
    let newest: bigint | undefined;
    for (const k of g) {
      const t = ps[k]!.timeNs;
      if (t === undefined) {
        newest = undefined;
        break;
      }
      if (newest === undefined || t > newest) newest = t;
    }
    if (newest !== undefined && newest < min) for (const k of g) reject(k, RETENTION_REASON, 'inferred');
  }
}

/**
 * The `dropped` points of a `points beyond retention policy` answer: the shard groups (as the
 * batch fills them) ordered by their newest point, the oldest ones first, as many as make
 * exactly `dropped` points. Tried with every plausible shard group duration when none is
 * given; undefined when they disagree or none fits.
 */
function retentionDrops(idx: number[], ps: (ParsedLine | undefined)[], context: RejectionContext, dropped: number): number[] | undefined {
  const durations = context.shardGroupMs !== undefined || context.retentionMs !== undefined
    ? [shardGroupNs(context)]
    : [3600000n * 1000000n, BigInt(DAY_MS) * 1000000n, 7n * BigInt(DAY_MS) * 1000000n];
  let answer: number[] | undefined;
  for (const d of durations) {
    const groups: { newest: bigint; lines: number[] }[] = [];
    for (const g of shardGroups(idx.filter((k) => ps[k]!.timeNs !== undefined), ps, {}, d).values()) {
      let newest = ps[g[0]!]!.timeNs!;
      for (const k of g) if (ps[k]!.timeNs! > newest) newest = ps[k]!.timeNs!;
      groups.push({ newest, lines: g });
    }
    groups.sort((a, b) => (a.newest < b.newest ? -1 : a.newest > b.newest ? 1 : 0));
    const out: number[] = [];
    let found = dropped === 0;
    for (const g of groups) {
      if (out.length >= dropped) break;
      out.push(...g.lines);
      if (out.length === dropped) found = true;
    }
    if (!found) continue;
    out.sort((a, b) => a - b);
    if (answer && (answer.length !== out.length || answer.some((v, i) => v !== out[i]))) return undefined;
    answer = out;
  }
  return answer;
}

/** The (measurement, field, existing type) a type conflict message names: the split the batch has in that input type. */
function conflictFact(
  conflict: FieldConflict | undefined, ps: (ParsedLine | undefined)[], ok: number[],
): { m: string; f: string; type: string; existing: LineFieldType } | undefined {
  if (!conflict) return undefined;
  const { type } = conflict;
  const seen = (s: { field: string; measurement: string }) =>
    ok.some((k) => ps[k]!.measurement === s.measurement && ps[k]!.fields.some((f) => f.key === s.field && f.type === type));
  const s = conflict.splits.find(seen) ?? conflict.splits[0]!;
  return { m: s.measurement, f: s.field, type, existing: conflict.existing as LineFieldType };
}
