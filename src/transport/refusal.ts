/**
 * The one parser of influxd's `400` answers to `/write` (forms measured on influxd 1.6.7; see
 * writer/rejections.ts for what each means for the lines of a batch). Pure text: it reads what
 * the server said, nothing of the body sent. client.write() (rejectedLines, partial, linesWritten),
 * the transport (parseRejectedLines) and the writer's rejections.ts all read a 400 through it.
 *
 * | server text (`error` of the JSON body) | kind |
 * |---|---|
 * | `unable to parse '<line>': <reason>` (several joined by `\n`) | `unparsable` |
 * | `partial write: unable to parse '<line>': <reason>[\n…] dropped=0` | `partial` |
 * | `partial write: field type conflict: input field "<f>" on measurement "<m>" is type <t>, already exists as type <e> dropped=<n>` | `typeConflict` |
 * | `field type conflict` (no `partial write`, no count) | `typeConflictNothingStored` |
 * | `partial write: points beyond retention policy dropped=<n>` | `beyondRetention` |
 * | `partial write: invalid tag key: input tag "time" on measurement "<m>" is invalid dropped=<n>` | `timeKey` |
 * | `partial write: invalid field name: input field "time" on measurement "<m>" is invalid dropped=<n>` | `timeKey` |
 * | `partial write: max-values-per-tag limit exceeded (<n>/<max>): … dropped=<n>` | `limit` |
 * | `partial write: max-series-per-database limit exceeded: (<max>) dropped=<n>` | `limit` (`maxSeries`) |
 * | `partial write: <other> dropped=<n>` (e.g. `shard <id> is pending deletion`) | `other` (`partial`) |
 * | anything else (`database is required`, gzip errors, …) | `other` |
 */

export type RefusalKind =
  | 'unparsable'
  | 'partial'
  | 'typeConflict'
  | 'typeConflictNothingStored'
  | 'beyondRetention'
  | 'timeKey'
  | 'limit'
  | 'other';

export interface ParseErrorItem<T> {
  /** The line as the server quotes it (without its leading blanks; `\r` kept). */
  line: string;
  /** The parser's reason for it. */
  reason: string;
  /** What `locate` said of the line. */
  at: T;
}

export interface Refusal {
  kind: RefusalKind;
  /** The server's error text. */
  text: string;
  /** `partial write: …`: the server stored the points it does not count in `dropped`, nor quote. */
  partial: boolean;
  /** The server's `dropped=N`, when the message has one. */
  dropped: number | undefined;
  /** The message between `partial write: ` and ` dropped=N` (the whole text when not partial). */
  reason: string;
  /** The text of the `unable to parse` items (kinds `unparsable` and `partial`), else undefined. */
  items: string | undefined;
  /** The lines quoted by `unable to parse '…'` items anywhere in the text (the first `': ` ends a line). */
  lines: string[];
  /** `max-series-per-database limit exceeded`: influxd 1.6.7 drops the shard's whole batch. */
  maxSeries: boolean;
  /** A `field type conflict: …` naming its field (kind `typeConflict`). */
  conflict: FieldConflict | undefined;
}

export interface FieldConflict {
  /**
   * The ways to read `input field "<f>" on measurement "<m>"` (a field or measurement name may
   * itself hold `" on measurement "`): every split, the first one first.
   */
  splits: { field: string; measurement: string }[];
  /** The type of the point's field, and the type the field already has. */
  type: string;
  existing: string;
}

export const PARSE_PREFIX = "unable to parse '";
export const PARTIAL_PREFIX = 'partial write: ';
export const RETENTION_REASON = 'points beyond retention policy';
const DROPPED_RE = / dropped=(\d+)$/;
const CONFLICT_RE = /^field type conflict: input field "([\s\S]*)" is type (\w+), already exists as type (\w+)$/;

/** influxd's own reasons, for lines found by replaying its checks. */
export function conflictReason(field: string, m: string, type: string, existing: string): string {
  return `field type conflict: input field "${field}" on measurement "${m}" is type ${type}, already exists as type ${existing}`;
}
export function timeTagReason(m: string): string {
  return `invalid tag key: input tag "time" on measurement "${m}" is invalid`;
}
export function timeFieldReason(m: string): string {
  return `invalid field name: input field "time" on measurement "${m}" is invalid`;
}

/** The message of a JSON error body (`error`, else `message`: InfluxDB 2.x), else undefined. */
export function jsonErrorMessage(text: string): string | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(t) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // Not JSON after all (a proxy's page).
  }
  return undefined;
}

/** The error text of a `/write` answer: the message of a JSON body, or the text as given (less a final `\n`). */
export function errorText(answer: string): string {
  return jsonErrorMessage(answer) ?? (answer.endsWith('\n') ? answer.slice(0, -1) : answer);
}

/**
 * The `unable to parse '<line>': <reason>` items of `text`, in order. A line may hold `': ` itself:
 * `locate(candidate)` says which candidate is a line (undefined: not this one), trying the
 * shortest first; without it the first `': ` ends the line. `complete`: every item was read.
 */
export function parseErrorItems<T = true>(text: string, locate?: (line: string) => T | undefined): { items: ParseErrorItem<T>[]; complete: boolean } {
  const find = locate ?? ((() => true) as unknown as (line: string) => T);
  const items: ParseErrorItem<T>[] = [];
  let complete = true;
  let pos = 0;
  while (pos < text.length) {
    if (!text.startsWith(PARSE_PREFIX, pos)) {
      complete = false;
      break;
    }
    const from = pos + PARSE_PREFIX.length;
    let item: { line: string; at: T; reasonAt: number } | undefined;
    for (let e = text.indexOf("': ", from); e >= 0 && !item; e = text.indexOf("': ", e + 1)) {
      const line = text.slice(from, e);
      const at = find(line);
      if (at !== undefined) item = { line, at, reasonAt: e + 3 };
    }
    if (!item) {
      complete = false;
      // Skip to the next item (reasons are one line; the header copy has spaces for newlines).
      const next = text.indexOf('\n' + PARSE_PREFIX, from);
      if (next < 0) break;
      pos = next + 1;
      continue;
    }
    let next = text.indexOf('\n' + PARSE_PREFIX, item.reasonAt);
    if (next < 0) next = text.length;
    items.push({ line: item.line, reason: text.slice(item.reasonAt, next), at: item.at });
    pos = next + 1;
  }
  return { items, complete };
}

/** The lines named in "unable to parse '<line>': <reason>" messages (several are joined by newlines). */
export function parseRejectedLines(message: string): string[] {
  const at = message.indexOf(PARSE_PREFIX);
  return at < 0 ? [] : parseErrorItems(message.slice(at)).items.map((i) => i.line);
}

/** Reads the error text of a 400 answer to `/write` (see the table above). */
export function parseRefusal(text: string): Refusal {
  const out: Refusal = {
    kind: 'other', text, partial: false, dropped: undefined, reason: text, items: undefined, lines: [], maxSeries: false, conflict: undefined,
  };
  if (text.startsWith(PARSE_PREFIX)) {
    out.kind = 'unparsable';
    out.items = text;
  } else if (text.startsWith('field type conflict')) {
    out.kind = 'typeConflictNothingStored';
  } else if (text.startsWith(PARTIAL_PREFIX)) {
    out.partial = true;
    const dm = DROPPED_RE.exec(text);
    out.dropped = dm ? Number(dm[1]) : undefined;
    const reason = out.reason = text.slice(PARTIAL_PREFIX.length, dm ? dm.index : text.length);
    if (reason.startsWith(PARSE_PREFIX)) {
      out.kind = 'partial';
      out.items = reason;
    } else if (reason === RETENTION_REASON) {
      out.kind = 'beyondRetention';
    } else if (reason.startsWith('field type conflict: ')) {
      out.kind = 'typeConflict';
      out.conflict = fieldConflict(reason);
    } else if (reason.startsWith('invalid tag key: input tag "time"') || reason.startsWith('invalid field name: input field "time"')) {
      out.kind = 'timeKey';
    } else if (reason.startsWith('max-values-per-tag limit exceeded') || reason.startsWith('max-series-per-database limit exceeded')) {
      out.kind = 'limit';
      out.maxSeries = reason.startsWith('max-series-per-database limit exceeded');
    }
  }
  out.lines = parseRejectedLines(text);
  return out;
}

/** The field, measurement and types a `field type conflict: input field …` reason names. */
function fieldConflict(reason: string): FieldConflict | undefined {
  const re = CONFLICT_RE.exec(reason);
  if (!re) return undefined;
  const middle = re[1]!; // <field>" on measurement "<measurement>
  const sep = '" on measurement "';
  const splits: FieldConflict['splits'] = [];
  for (let at = middle.indexOf(sep); at >= 0; at = middle.indexOf(sep, at + 1)) {
    splits.push({ field: middle.slice(0, at), measurement: middle.slice(at + sep.length) });
  }
  return splits.length === 0 ? undefined : { splits, type: re[2]!, existing: re[3]! };
}
