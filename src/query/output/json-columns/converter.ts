/**
 * Column typing: `SeriesConverter`'s rules (`ColumnTyper` of arrow-typing.ts) over the series as read —
 * typed columns already built, generic values, and speculative columns typed straight from their
 * arrays where the outcome is plain — then each series' batch (batch.ts). Also pools the sinks
 * of small series and owns the slab.
 */
import { type Data, Float64, Int64, type RecordBatch, Utf8, type Vector, makeData } from 'apache-arrow';
import { kLittleEndian, utf8Vector, type Column } from '../arrow-columns.js';
import { ColumnTyper, NumberStats, type Kind } from '../arrow-typing.js';
import { toRecordBatch, type ConstantSource } from '../batch.js';
import type { MeasurementSchema } from '../schema.js';
import { writeSafe } from './cells.js';
import { Slab, kSmallRows } from './slab.js';
import { K, Sink, Speculative } from './sinks.js';

/** An undeclared column: generic values, or read speculatively. */
export type LooseColumn = Column | Speculative;

/** `inferKind` of a speculative column of numbers (at least one). */
function inferNumbers(col: Speculative, name: string): Kind {
  const nums = new NumberStats();
  const f = col.f64;
  for (let i = 0; i < col.n; i++) if (col.valid(i)) nums.number(f[i]!);
  return nums.kind(name);
}

/** `buildInt64` of a speculative column of numbers; undefined when one is not an int64. */
function numbersToInt64(col: Speculative): Data | undefined {
  const n = col.n;
  const values = new BigInt64Array(n);
  const words = new Int32Array(values.buffer);
  const f = col.f64;
  for (let i = 0; i < n; i++) {
    if (!col.valid(i)) continue;
    const x = f[i]!;
    if (kLittleEndian && Number.isSafeInteger(x)) {
      writeSafe(words, i, x);
    } else if (Number.isInteger(x)) {
      const b = BigInt(x);
      values[i] = b;
      if (values[i] !== b) return undefined;
    } else {
      return undefined;
    }
  }
  return makeData({ type: new Int64(), length: n, data: values, ...col.validity() });
}

/** One series as read: typed columns already built, the others as generic values. */
export interface PendingSeries {
  name: string | undefined;
  tags: Record<string, string> | undefined;
  columns: string[];
  n: number;
  partial: unknown;
  /** Per column: the Data of a typed column (with its declared kind), or the generic values. */
  typed: (Data | undefined)[];
  typedKinds: (Kind | undefined)[];
  generic: (LooseColumn | undefined)[];
  /** The measurement's schema, looked up once for a SELECT series. */
  schema: MeasurementSchema | undefined;
  looked: boolean;
}

export function isSelect(s: PendingSeries): boolean {
  return s.name !== undefined && s.columns[0] === 'time';
}

/** `SeriesConverter` on columns; one per answer or per chunked stream (dictionary types and sticky kinds shared). */
export class ColumnConverter extends ColumnTyper implements ConstantSource {
  readonly #constants = new Map<string, Vector<Utf8>>();
  readonly #pool: Sink[][] = [[], [], [], [], [], [], []];
  readonly slab = new Slab();

  /** A sink for a column of this kind (a reused one when a small series released it). */
  takeSink(kind: number): Sink {
    return this.#pool[kind]!.pop() ?? new Sink(kind);
  }

  /** Gives back a sink after its series, `rows` rows written (the arrays of a big series were handed over: not reused). */
  releaseSink(sink: Sink, rows: number): void {
    if (sink.kind === K.GENERIC || sink.kind >= K.UNDECIDED || rows > kSmallRows || sink.table.length > 8192) return;
    const pool = this.#pool[sink.kind]!;
    if (pool.length >= 64) return;
    sink.reset(rows);
    pool.push(sink);
  }

  /**
   * `column` for a speculative column, without its generic values where the outcome is plain:
   * strings end as Utf8 of their bytes (unless declared a tag), numbers as Float64 or Int64.
   * Anything else goes the generic way (nothing is changed before, so that is exact).
   */
  #speculativeColumn(col: Speculative, n: number, name: string, declared: Kind | undefined): { data: Data; kind: Kind } {
    const generic = (): { data: Data; kind: Kind } => this.column(col.values(), n, name, declared);
    if (col.strings) {
      // Strict float / integer / boolean builds fail on a string; 'string' (declared, sticky or
      // inferred: every value is a string) gives these bytes.
      if (declared !== undefined && declared !== 'string' && declared !== 'float' && declared !== 'integer' && declared !== 'boolean') return generic();
      const data = makeData({ type: new Utf8(), length: n, data: col.bytes, valueOffsets: col.offsets, ...col.validity() });
      if (declared === 'string' || (declared === undefined && this.sticky.get(name) === 'string')) return { data, kind: 'string' };
      this.sticky.set(name, 'string');
      return { data, kind: 'string' };
    }
    // Numbers: 'float' always fits, 'integer' when every value is an int64; the other kinds
    // fail strictly, except what needs the generic values (unsigned, stringified, time).
    const build = (kind: Kind, mode: 'declared' | 'sticky' | 'inferred'): Data | undefined | 'generic' => {
      switch (kind) {
        case 'float': return makeData({ type: new Float64(), length: n, data: col.f64, ...col.validity() });
        case 'integer': return numbersToInt64(col);
        case 'boolean': case 'tag': case 'null': return undefined;
        case 'string': return mode === 'declared' ? undefined : 'generic';
        default: return 'generic';
      }
    };
    if (declared !== undefined) {
      const d = build(declared, 'declared');
      if (d === 'generic') return generic();
      if (d !== undefined) return { data: d, kind: declared };
    } else {
      const sticky = this.sticky.get(name);
      if (sticky !== undefined) {
        const d = build(sticky, 'sticky');
        if (d === 'generic') return generic();
        if (d !== undefined) return { data: d, kind: sticky };
      }
    }
    const kind = inferNumbers(col, name);
    const d = build(kind, 'inferred');
    if (d === 'generic' || d === undefined) return generic();
    this.sticky.set(name, kind);
    return { data: d, kind };
  }

  /** A GROUP BY tag's dictionary: one per value, shared by the batches of the answer (the values are equal). */
  constantVector(value: string): Vector<Utf8> {
    let dictionary = this.#constants.get(value);
    if (dictionary === undefined) this.#constants.set(value, (dictionary = utf8Vector([value])));
    return dictionary;
  }

  zeroIndices(n: number): Int32Array {
    return n <= kSmallRows ? this.slab.i32(n) : new Int32Array(n);
  }

  #toRecordBatch(series: PendingSeries, statementId: unknown, schema: MeasurementSchema | undefined, others: readonly MeasurementSchema[]): RecordBatch {
    const n = series.n;
    return toRecordBatch(this, series, statementId, n, (name, c) => {
      const typed = series.typed[c];
      if (typed !== undefined) return { data: typed, kind: series.typedKinds[c]! };
      const col = series.generic[c]!;
      const declared = this.declared(name, c, schema, others);
      return col instanceof Speculative ? this.#speculativeColumn(col, n, name, declared) : this.column(col, n, name, declared);
    }, this);
  }

  /** The batches of one statement's series (the schemas of all of them known). */
  statementBatches(seriesList: PendingSeries[], statementId: unknown): RecordBatch[] {
    const own = seriesList.map((s) => (isSelect(s) ? s.schema : undefined));
    const all = [...new Set(own.filter((s): s is MeasurementSchema => s !== undefined))];
    return seriesList.map((s, i) => this.#toRecordBatch(s, statementId, own[i], all));
  }
}
