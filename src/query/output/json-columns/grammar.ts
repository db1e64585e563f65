/**
 * The document: `{"results": [{"statement_id", "series": [{"name", "tags", "columns", "values",
 * "partial"}], "error"}], "error"}` in any key order, each series' values read into sinks typed
 * by its schema (or again generically when a value does not fit). Generators that yield a
 * measurement name whenever they need its schema, so that one parser serves sync and async lookups.
 */
import type { RecordBatch } from 'apache-arrow';
import { InfluxDBQueryError } from '../../../errors.js';
import { C, skipWs } from '../../json/bytes.js';
import { kLittleEndian } from '../arrow-columns.js';
import type { Kind } from '../arrow-typing.js';
import type { MeasurementSchema } from '../schema.js';
import { parseRows } from './cells.js';
import { isSelect, type ColumnConverter, type PendingSeries } from './converter.js';
import { bail, cursor, expectLiteral, firstItem, nextItem, parseKey, parseValue } from './scanner.js';
import { K, Sink, kindCode } from './sinks.js';

export type Need = Generator<string, void, MeasurementSchema | undefined>;

export interface StatementOut {
  statementId: unknown;
  /** The statement's `error` (only strings count, as in `checkQueryResponse`). */
  error: unknown;
  series: PendingSeries[];
  batches: RecordBatch[];
}

export interface DocumentOut {
  error: unknown;
  hasResults: boolean;
  statements: StatementOut[];
}

function transpose(rows: unknown, ncols: number): { n: number; cols: unknown[][] } {
  if (rows === null) return { n: 0, cols: Array.from({ length: ncols }, () => []) };
  if (!Array.isArray(rows)) bail();
  const n = rows.length;
  const cols: unknown[][] = Array.from({ length: ncols }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row)) bail();
    for (let c = 0; c < ncols; c++) cols[c]![i] = row[c];
  }
  return { n, cols };
}

/** Reads the series object at `p`; returns it with `cursor.end` past it. */
function* parseSeries(b: Buffer, p: number, conv: ColumnConverter, out: { series?: PendingSeries }): Need {
  const s: PendingSeries = {
    name: undefined, tags: undefined, columns: [], n: 0, partial: undefined, typed: [], typedKinds: [], generic: [], schema: undefined, looked: false,
  };
  let seen = 0;
  const once = (bit: number): void => {
    if (seen & bit) bail();
    seen |= bit;
  };
  let hasColumns = false;
  let hasValues = false;
  let rawRows: unknown;
  for (p = firstItem(b, p, C.LBRACE, C.RBRACE); p >= 0; p = nextItem(b, cursor.end, C.RBRACE)) {
    const key = parseKey(b, p);
    p = cursor.end;
    switch (key) {
      case 'name': {
        once(1);
        const v = parseValue(b, p);
        if (typeof v !== 'string') bail();
        s.name = v;
        break;
      }
      case 'tags': {
        once(2);
        const v = parseValue(b, p);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) bail();
        for (const k of Object.keys(v)) if (typeof (v as Record<string, unknown>)[k] !== 'string') bail();
        s.tags = v as Record<string, string>;
        break;
      }
      case 'columns': {
        once(4);
        const v = parseValue(b, p);
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bail();
        s.columns = v as string[];
        hasColumns = true;
        break;
      }
      case 'values': {
        once(8);
        hasValues = true;
        if (!hasColumns) {
          // Columns not known yet: read generically, typed when the series ends.
          rawRows = parseValue(b, p);
          break;
        }
        if (b[p] === C.LOWER_N) {
          cursor.end = expectLiteral(b, p, 'null');
          break;
        }
        if (b[p] !== C.LBRACKET) bail();
        if (s.name !== undefined && s.columns[0] === 'time') {
          s.schema = yield s.name;
          s.looked = true;
        }
        const ncols = s.columns.length;
        const kinds: (Kind | undefined)[] = s.columns.map((name, c) => conv.declared(name, c, s.schema, []));
        let sinks = kinds.map((k) => (k === undefined ? new Sink(K.UNDECIDED) : conv.takeSink(kLittleEndian ? kindCode(k) : K.GENERIC)));
        const start = skipWs(b, p + 1);
        let n = parseRows(b, start, sinks, conv.timeMul);
        if (n < 0) {
          // A value does not fit its declared type: read the series again, generically.
          const used = cursor.rows;
          for (const sink of sinks) conv.releaseSink(sink, used);
          sinks = kinds.map(() => new Sink(K.GENERIC));
          n = parseRows(b, start, sinks, conv.timeMul);
        }
        s.n = n;
        for (let c = 0; c < ncols; c++) {
          const sink = sinks[c]!;
          if (sink.kind === K.GENERIC) {
            s.generic[c] = sink.generic;
          } else if (sink.kind === K.UNDECIDED) {
            s.generic[c] = new Array<unknown>(n).fill(null);
          } else if (sink.kind === K.NUMBERS || sink.kind === K.STRINGS) {
            s.generic[c] = sink.speculative(n);
          } else {
            s.typed[c] = sink.finish(n, conv, s.columns[c]!);
            s.typedKinds[c] = kinds[c];
            conv.releaseSink(sink, n);
          }
        }
        break;
      }
      case 'partial':
        once(16);
        s.partial = parseValue(b, p);
        break;
      default:
        parseValue(b, p);
        break;
    }
  }
  const end = cursor.end;
  // `series.columns.forEach` in batch.ts needs columns.
  if (!hasColumns) bail();
  if (hasValues && rawRows !== undefined) {
    const { n, cols } = transpose(rawRows, s.columns.length);
    s.n = n;
    s.generic = cols;
  } else if (s.n === 0) {
    // No values (or null, or an empty array).
    s.typed = [];
    s.generic = s.columns.map(() => []);
  }
  if (!s.looked && isSelect(s)) {
    s.schema = yield s.name!;
    s.looked = true;
  }
  cursor.end = end;
  out.series = s;
}

function* parseStatement(b: Buffer, p: number, conv: ColumnConverter, out: StatementOut[], build: boolean): Need {
  const st: StatementOut = { statementId: undefined, error: undefined, series: [], batches: [] };
  let seenSeries = false;
  for (p = firstItem(b, p, C.LBRACE, C.RBRACE); p >= 0; p = nextItem(b, cursor.end, C.RBRACE)) {
    const key = parseKey(b, p);
    p = cursor.end;
    if (key === 'series') {
      if (seenSeries) bail();
      seenSeries = true;
      if (b[p] === C.LOWER_N) {
        cursor.end = expectLiteral(b, p, 'null');
        continue;
      }
      // parseSeries leaves `cursor.end` past the series once done with its lookups.
      for (p = firstItem(b, p, C.LBRACKET, C.RBRACKET); p >= 0; p = nextItem(b, cursor.end, C.RBRACKET)) {
        const holder: { series?: PendingSeries } = {};
        yield* parseSeries(b, p, conv, holder);
        st.series.push(holder.series!);
      }
    } else if (key === 'statement_id') {
      st.statementId = parseValue(b, p);
    } else if (key === 'error') {
      st.error = parseValue(b, p);
    } else {
      parseValue(b, p);
    }
  }
  const end = cursor.end;
  if (build) {
    st.batches = conv.statementBatches(st.series, st.statementId);
    st.series = [];
  }
  out.push(st);
  cursor.end = end;
}

export function* parseDocument(b: Buffer, conv: ColumnConverter, out: DocumentOut): Need {
  let p: number;
  for (p = firstItem(b, skipWs(b, 0), C.LBRACE, C.RBRACE); p >= 0; p = nextItem(b, cursor.end, C.RBRACE)) {
    const key = parseKey(b, p);
    p = cursor.end;
    if (key === 'results') {
      if (out.hasResults) bail();
      out.hasResults = true;
      for (p = firstItem(b, p, C.LBRACKET, C.RBRACKET); p >= 0; p = nextItem(b, cursor.end, C.RBRACKET)) {
        // A statement's batches are built when it ends, unless an earlier one failed.
        yield* parseStatement(b, p, conv, out.statements, !out.statements.some((s) => typeof s.error === 'string'));
      }
    } else if (key === 'error') {
      out.error = parseValue(b, p);
    } else {
      parseValue(b, p);
    }
  }
  if (skipWs(b, cursor.end) < b.length) bail();
}

/** The errors `checkQueryResponse` throws for a parsed document (`undefined`: none, or a shape only the generic path reports). */
export function documentError(doc: DocumentOut, status: number): Error | 'generic' | undefined {
  if (typeof doc.error === 'string') {
    return new InfluxDBQueryError(`query failed: ${doc.error}`, { status, serverMessage: doc.error, endpoint: 'query' });
  }
  if (!doc.hasResults) return 'generic';
  for (const st of doc.statements) {
    if (typeof st.error === 'string') {
      return new InfluxDBQueryError(`query failed in statement ${String(st.statementId)}: ${st.error}`, {
        status, serverMessage: st.error, endpoint: 'query', statementId: st.statementId as number,
      });
    }
  }
  return undefined;
}
