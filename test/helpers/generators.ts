/**
 * Data for the tests. Seeded, from the benchmarks' sources so that both use the same numbers:
 * `prng` (mulberry32, bench/lib/prng.mjs, typed by prng.d.mts) and the standard workload
 * (bench/lib/workload.mjs: untyped JavaScript, imported through a URL so that tsc does not ask
 * for its types; the types below are the part the tests use). Numbered rows as an Arrow table
 * (`numberedTable`), for the tests that read rows back by their number.
 */
import * as A from 'apache-arrow';
import type { Point } from '../../src/index.js';

export { prng } from '../../bench/lib/prng.mjs';

/** The standard workload's columns (host indexes into hostRegion and hostRack; status indexes STATUSES). */
export interface Workload {
  n: number;
  host: Uint16Array;
  hostRegion: Uint8Array;
  hostRack: Uint8Array;
  usageUser: Float64Array;
  usageSystem: Float64Array;
  requests: Int32Array;
  status: Uint8Array;
}

interface WorkloadModule {
  START_NS: bigint;
  makeWorkload(n?: number, seed?: number): Workload;
  toPoints(w: Workload): Point[];
  toArrowTable(w: Workload): A.Table;
}

const workload = (await import(new URL('../../bench/lib/workload.mjs', import.meta.url).href)) as WorkloadModule;

/** 2024-01-01T00:00:00Z in nanoseconds: the workload's first timestamp. */
export const START_NS: bigint = workload.START_NS;
export const makeWorkload: WorkloadModule['makeWorkload'] = workload.makeWorkload;
export const toPoints: WorkloadModule['toPoints'] = workload.toPoints;
export const toArrowTable: WorkloadModule['toArrowTable'] = workload.toArrowTable;

export interface NumberedTableOptions {
  /** Series: the tag `host` is `h${i % hosts}`. Default 100. */
  hosts?: number;
  /** Rows per record batch. Default: all in one. */
  perBatch?: number;
  /** Time of row 0, in ns. Default `START_NS`. */
  t0?: bigint;
  /** Nanoseconds from one row to the next. Default 1. */
  step?: bigint;
}

/**
 * `n` numbered rows as an Arrow table: row i has `time` = t0 + i * step (Timestamp, ns), the tag
 * `host` (a dictionary of `hosts` names) and the float field `v` = i, so that every row is its own
 * point and the rows stored can be told by their `v`. Built from typed arrays (millions of rows
 * take a fraction of a second), then cut into record batches of `perBatch` rows.
 */
export function numberedTable(n: number, o: NumberedTableOptions = {}): A.Table {
  const hosts = o.hosts ?? 100;
  const t0 = o.t0 ?? START_NS;
  const step = o.step ?? 1n;
  const host = new Int32Array(n);
  const v = new Float64Array(n);
  const time = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    host[i] = i % hosts;
    v[i] = i;
    time[i] = t0 + BigInt(i) * step;
  }
  const dictionary = A.vectorFromArray(Array.from({ length: hosts }, (_, i) => `h${i}`), new A.Utf8());
  const whole = new A.Table({
    time: A.makeVector(A.makeData({ type: new A.TimestampNanosecond(), length: n, nullCount: 0, data: time } as never)),
    host: A.makeVector(A.makeData({ type: new A.Dictionary(new A.Utf8(), new A.Int32()), length: n, nullCount: 0, data: host, dictionary } as never)),
    v: A.makeVector(v),
  }).batches[0]!;
  const perBatch = o.perBatch ?? n;
  const batches: A.RecordBatch[] = [];
  for (let from = 0; from < n; from += perBatch) batches.push(whole.slice(from, Math.min(n, from + perBatch)));
  return new A.Table(batches);
}
