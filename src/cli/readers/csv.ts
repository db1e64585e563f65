/**
 * CSV input (RFC 4180: quoted fields, `""` escapes, newlines inside quotes, CRLF; `.tsv` is
 * tab-separated). The first record is the header. Each chunk of rows becomes an Arrow record
 * batch for the writer's columnar encoder:
 *
 * - the time column (`--time-column`, else one named time, _time or timestamp): an integer epoch
 *   in `--precision`, or an ISO 8601 / RFC 3339 date (no zone = UTC), kept exact in nanoseconds
 *   (a Timestamp(ns) column; the writer's precision is n);
 * - `--tag-columns`: tags (dictionary-encoded; an empty value leaves the tag out);
 * - every other column a field, typed by `--field-types` or from its values (inferred from the
 *   first chunk that has values, then fixed): integer (int64, exact as bigint), float, boolean
 *   (true/false), else string. An empty value leaves the field out of its line.
 *
 * A row whose value does not fit its column's type, or with the wrong number of values, is
 * rejected with the reason (the dead letter, with the row as CSV) and the rest is loaded. A
 * record still unfinished at the longest line a request can carry (an unclosed quote) stops the
 * reading, naming the line where it starts. The records themselves: csv-syntax.ts.
 */
import * as A from 'apache-arrow';
import type { FieldType } from '../../types.js';
import { CliError, UsageError } from '../errors.js';
import { CsvParser, CsvSyntaxError, csvJoin } from './csv-syntax.js';
import { openByteSource } from './source.js';
import { boolOf, inferType, isFloatText, isIntText, show, timeTextToNs } from './values.js';
import type { InputReader, ReaderChunk, ReaderOptions } from './reader.js';

interface Column {
  name: string;
  index: number;
  role: 'time' | 'tag' | 'field';
  type: FieldType | undefined;
}

const kTimeNames = ['time', '_time', 'timestamp'];

export function openCsvReader(o: ReaderOptions): InputReader {
  const source = openByteSource(o.path, o.gzip, o.tabs ? 'TSV' : 'CSV');
  const delimiter = o.tabs ? '\t' : ',';
  const startRow = o.startRow ?? 0;
  // Data records (after the header) read so far, and how far the chunks given out go.
  let dataRows = 0;
  let position = startRow;
  return {
    format: o.tabs ? 'TSV' : 'CSV',
    unit: 'row',
    totalBytes: source.totalBytes,
    bytesRead: () => source.bytesRead(),
    position: () => position,
    async *chunks(): AsyncGenerator<ReaderChunk> {
      // A record is at most one line of a request (in UTF-16 units, at most its bytes).
      const parser = new CsvParser(delimiter, o.maxLineBytes);
      const live = o.path === '-';
      const decoder = new TextDecoder('utf-8');
      let columns: Column[] | undefined;
      let width = 0;
      let rows: string[][] = [];
      let lines: number[] = [];
      const header = (names: string[]): void => {
        width = names.length;
        const seen = new Set<string>();
        for (const n of names) {
          if (n === '') throw new CliError(`${o.label}: the header has an empty column name`);
          if (seen.has(n)) throw new CliError(`${o.label}: the header names ${JSON.stringify(n)} twice`);
          seen.add(n);
        }
        for (const c of o.tagColumns) if (!seen.has(c)) throw new UsageError(`--tag-columns names ${JSON.stringify(c)}, which is not a column of ${o.label} (columns: ${names.join(', ')})`);
        if (o.timeColumn !== undefined && !seen.has(o.timeColumn)) throw new UsageError(`--time-column names ${JSON.stringify(o.timeColumn)}, which is not a column of ${o.label} (columns: ${names.join(', ')})`);
        for (const k of Object.keys(o.fieldTypes)) if (!seen.has(k)) throw new UsageError(`--field-types names ${JSON.stringify(k)}, which is not a column of ${o.label}`);
        const time = o.timeColumn ?? names.find((n) => kTimeNames.includes(n.toLowerCase()));
        columns = names.map((name, index): Column => {
          if (name === time) return { name, index, role: 'time', type: undefined };
          if (o.tagColumns.includes(name)) {
            if (o.fieldTypes[name] !== undefined) throw new UsageError(`column ${JSON.stringify(name)} is in both --tag-columns and --field-types`);
            return { name, index, role: 'tag', type: undefined };
          }
          return { name, index, role: 'field', type: o.fieldTypes[name] };
        });
        const fields = columns.filter((c) => c.role === 'field');
        if (fields.length === 0) throw new CliError(`${o.label}: no field column (columns: ${names.join(', ')}; tags: ${o.tagColumns.join(', ') || 'none'}; time: ${time ?? 'none'})`);
      };
      const flush = (): ReaderChunk | undefined => {
        const chunk = buildChunk(columns!, width, rows, lines, o, delimiter);
        rows = [];
        lines = [];
        position = dataRows;
        if (chunk) chunk.end = dataRows;
        return chunk;
      };
      // Resuming: the records before startRow are not loaded, but their values type the columns
      // as they did in the first run (chunk by chunk, until every field column has a type).
      let skipped: string[][] | undefined = startRow > 0 ? [] : undefined;
      const learn = (): void => {
        inferTypes(columns!, width, skipped!);
        skipped = columns!.every((c) => c.role !== 'field' || c.type !== undefined) ? undefined : [];
      };
      const handle = function* (batch: string[][], at: number[]): Generator<ReaderChunk> {
        for (let i = 0; i < batch.length; i++) {
          if (!columns) {
            header(batch[i]!);
            continue;
          }
          if (dataRows < startRow) {
            dataRows++;
            if (skipped) {
              skipped.push(batch[i]!);
              if (skipped.length >= o.chunkRows || dataRows === startRow) learn();
            }
            continue;
          }
          dataRows++;
          rows.push(batch[i]!);
          lines.push(at[i]!);
          if (rows.length >= o.chunkRows) {
            const c = flush();
            if (c) yield c;
          }
        }
      };
      const records: string[][] = [];
      const at: number[] = [];
      const feed = function* (text: string, final: boolean): Generator<ReaderChunk> {
        let error: CsvSyntaxError | undefined;
        try {
          parser.push(text, final, records, at);
        } catch (e) {
          if (!(e instanceof CsvSyntaxError)) throw e;
          error = e;
        }
        yield* handle(records, at);
        records.length = 0;
        at.length = 0;
        if (error) {
          // The rows before the record that cannot be finished go out first.
          if (columns && rows.length > 0) {
            const ch = flush();
            if (ch) yield ch;
          }
          throw error;
        }
      };
      try {
        for await (const c of source.chunks) {
          yield* feed(decoder.decode(c, { stream: true }), false);
          // A pipe may be a live feed: what has arrived goes out now, not when a chunk is full.
          if (live && columns && rows.length > 0) {
            const ch = flush();
            if (ch) yield ch;
          }
        }
        yield* feed(decoder.decode(), true);
      } catch (e) {
        if (e instanceof CsvSyntaxError) throw new CliError(`${o.label}:${e.line}: ${e.reason}`);
        if (e instanceof CliError && !(e instanceof UsageError) && !e.message.startsWith(o.label)) throw new CliError(`${o.label}: ${e.message}`);
        throw e;
      }
      if (!columns) throw new CliError(`${o.label} is empty: a CSV file needs a header`);
      if (rows.length > 0) {
        const c = flush();
        if (c) yield c;
      }
      position = Math.max(position, dataRows);
    },
    async close() {
      source.close();
    },
  };
}

/** Sets or clears bit `i`. */
function setBit(bits: Uint8Array, i: number, on: boolean): void {
  if (on) bits[i >> 3]! |= 1 << (i & 7);
  else bits[i >> 3]! &= ~(1 << (i & 7));
}

interface Store {
  col: Column;
  valid: Uint8Array;
  nulls: number;
  ints?: BigInt64Array;
  floats?: Float64Array;
  bools?: Uint8Array;
  strings?: (string | null)[];
  tagIndex?: Int32Array;
  tagDict?: Map<string, number>;
}

/** Types not known yet (no --field-types, no value so far): from these rows' values. */
function inferTypes(columns: Column[], width: number, rows: string[][]): void {
  for (const c of columns) {
    if (c.role === 'field' && c.type === undefined) {
      c.type = inferType((function* () {
        for (const r of rows) if (r.length === width) yield r[c.index]!;
      })());
    }
  }
}

/** Rows of text to one Arrow record batch (rows that do not fit are rejected). */
function buildChunk(columns: Column[], width: number, rows: string[][], lines: number[], o: ReaderOptions, delimiter: string): ReaderChunk | undefined {
  const n = rows.length;
  inferTypes(columns, width, rows);
  const bitmapBytes = (n + 7) >> 3;
  let time: BigInt64Array | undefined;
  let timeCol: Column | undefined;
  const stores: Store[] = [];
  for (const c of columns) {
    if (c.role === 'time') {
      time = new BigInt64Array(n);
      timeCol = c;
      continue;
    }
    if (c.role === 'field' && c.type === undefined) continue; // no value yet: no column
    const s: Store = { col: c, valid: new Uint8Array(bitmapBytes), nulls: 0 };
    if (c.role === 'tag') {
      s.tagIndex = new Int32Array(n);
      s.tagDict = new Map();
    } else if (c.type === 'integer') s.ints = new BigInt64Array(n);
    else if (c.type === 'float') s.floats = new Float64Array(n);
    else if (c.type === 'boolean') s.bools = new Uint8Array(bitmapBytes);
    else s.strings = new Array<string | null>(n);
    stores.push(s);
  }
  const kept = new Int32Array(n);
  const keptRows: string[][] = [];
  let k = 0;
  // Null counts are recomputed from the kept rows: a rejected row may have counted some.
  const nullsAt = new Int32Array(stores.length);
  rowsLoop: for (let r = 0; r < n; r++) {
    const row = rows[r]!;
    const where = `${o.label}:${lines[r]}`;
    if (row.length !== width) {
      o.reject(where, `the row has ${row.length} values, the header ${width}`, csvJoin(row, delimiter));
      continue;
    }
    if (time && timeCol) {
      const ns = timeTextToNs(row[timeCol.index]!, o.precision);
      if (typeof ns === 'string') {
        o.reject(where, `column ${JSON.stringify(timeCol.name)}: ${ns}`, csvJoin(row, delimiter));
        continue;
      }
      time[k] = ns;
    }
    for (let j = 0; j < stores.length; j++) {
      const s = stores[j]!;
      const v = row[s.col.index]!;
      if (v === '') {
        setBit(s.valid, k, false);
        nullsAt[j] = 1;
        if (s.strings) s.strings[k] = null;
        continue;
      }
      nullsAt[j] = 0;
      let bad: string | undefined;
      if (s.tagIndex) {
        let id = s.tagDict!.get(v);
        if (id === undefined) s.tagDict!.set(v, (id = s.tagDict!.size));
        s.tagIndex[k] = id;
      } else if (s.ints) {
        if (isIntText(v)) s.ints[k] = BigInt(v);
        else bad = `${show(v)} is not an integer (int64)`;
      } else if (s.floats) {
        if (isFloatText(v)) s.floats[k] = Number(v);
        else bad = `${show(v)} is not a finite number`;
      } else if (s.bools) {
        const b = boolOf(v);
        if (b === undefined) bad = `${show(v)} is not a boolean (true or false)`;
        else setBit(s.bools, k, b);
      } else {
        s.strings![k] = v;
      }
      if (bad !== undefined) {
        o.reject(where, `column ${JSON.stringify(s.col.name)}: ${bad}${s.col.type && !o.fieldTypes[s.col.name] ? ` (the column was typed ${s.col.type} from its first values; --field-types sets it)` : ''}`, csvJoin(row, delimiter));
        continue rowsLoop;
      }
      setBit(s.valid, k, true);
    }
    for (let j = 0; j < stores.length; j++) if (nullsAt[j]) stores[j]!.nulls++;
    keptRows.push(row);
    kept[k++] = lines[r]!;
  }
  if (k === 0) return undefined;
  const vectors: Record<string, A.Vector> = {};
  for (const c of columns) {
    if (c.role === 'time') {
      vectors[c.name] = A.makeVector(A.makeData({ type: new A.TimestampNanosecond(), length: k, nullCount: 0, data: time!.subarray(0, k) } as never));
      continue;
    }
    const s = stores.find((x) => x.col === c);
    if (!s) continue;
    const nullBitmap = s.nulls > 0 ? s.valid : undefined;
    const base = { length: k, nullCount: s.nulls, nullBitmap };
    if (s.tagIndex) {
      const dictionary = A.vectorFromArray([...s.tagDict!.keys()], new A.Utf8());
      vectors[c.name] = A.makeVector(A.makeData({ ...base, type: new A.Dictionary(new A.Utf8(), new A.Int32()), data: s.tagIndex.subarray(0, k), dictionary } as never));
    } else if (s.ints) {
      vectors[c.name] = A.makeVector(A.makeData({ ...base, type: new A.Int64(), data: s.ints.subarray(0, k) } as never));
    } else if (s.floats) {
      vectors[c.name] = A.makeVector(A.makeData({ ...base, type: new A.Float64(), data: s.floats.subarray(0, k) } as never));
    } else if (s.bools) {
      vectors[c.name] = A.makeVector(A.makeData({ ...base, type: new A.Bool(), data: s.bools } as never));
    } else {
      vectors[c.name] = A.vectorFromArray(s.strings!.slice(0, k), new A.Utf8());
    }
  }
  const table = new A.Table(vectors);
  const batch = table.batches[0]!;
  const label = o.label;
  return { kind: 'arrow', batch, where: (row) => `${label}:${kept[row]}`, text: (row) => (keptRows[row] ? csvJoin(keptRows[row], delimiter) : undefined) };
}
