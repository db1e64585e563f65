/**
 * Reading Arrow results back in the tests: a column by name (`col`, which names a missing one),
 * and the exact int64 values of a Timestamp or Int64 column as bigints (`int64s` over every
 * chunk; `oneChunkInt64s` when the column must be a single chunk).
 */
import type * as A from 'apache-arrow';
import { expect } from 'vitest';

/** Column `name` of a table or record batch; throws if there is none. */
export function col(t: A.Table | A.RecordBatch, name: string): A.Vector {
  const v = t.getChild(name);
  if (v === null) throw new Error(`no column ${name}`);
  return v;
}

/** The exact int64 values of a Timestamp / Int64 column, chunk after chunk. */
export function int64s(t: A.Table | A.RecordBatch, name: string): bigint[] {
  return col(t, name).data.flatMap((d) => [...(d.values as BigInt64Array)]);
}

/** The exact int64 values of a Timestamp / Int64 column that is one chunk (asserted). */
export function oneChunkInt64s(t: A.Table | A.RecordBatch, name: string): bigint[] {
  expect(col(t, name).data).toHaveLength(1);
  return int64s(t, name);
}
