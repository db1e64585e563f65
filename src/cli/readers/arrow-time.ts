/**
 * The loader writes Arrow and Parquet rows with precision n, exact for Timestamp, Date and ISO
 * 8601 string times whatever `--precision` says. An integer time column is the one kind of
 * time that needs `--precision`: it becomes a Timestamp column of that unit (s, ms, us: the same
 * 64-bit values, no copy; m and h: converted to seconds), so that the encoder turns it into
 * nanoseconds exactly. Values too large for that become the largest int64, which the encoder
 * refuses as outside InfluxDB's time range (the row is reported, not written).
 */
import * as A from 'apache-arrow';
import type { Precision } from '../../types.js';

const kMaxInt64 = 9223372036854775807n;
const kMinInt64 = -9223372036854775808n;
interface Plan {
  /** The options it was made for. */
  key: string;
  /** The batch's schema with the time column as a Timestamp; undefined when nothing changes. */
  schema: A.Schema | undefined;
  index: number;
  unit: A.TimeUnit;
  scale: bigint;
}
const kCache = new WeakMap<A.Schema, Plan>();

/** Index of the column the encoder takes as the time (the same rule as its own). */
function timeIndex(schema: A.Schema, timeColumn: string | undefined): number {
  const names = schema.fields.map((f) => f.name);
  if (timeColumn !== undefined) return names.indexOf(timeColumn);
  const stamps = schema.fields.flatMap((f, i) => (f.type.typeId === A.Type.Timestamp ? [i] : []));
  if (stamps.length === 1) return stamps[0]!;
  return names.indexOf('time');
}

/** `batch` with its integer time column as a Timestamp column in `precision`; else `batch` itself. */
export function integerTimeAsTimestamp(batch: A.RecordBatch, timeColumn: string | undefined, precision: Precision): A.RecordBatch {
  if (precision === 'n') return batch; // an integer column in ns is what the encoder reads at precision n
  const key = `${precision}\0${timeColumn ?? ''}`;
  let plan = kCache.get(batch.schema);
  if (plan?.key !== key) {
    const index = timeIndex(batch.schema, timeColumn);
    const field = index >= 0 ? batch.schema.fields[index]! : undefined;
    const unit = precision === 'ms' ? A.TimeUnit.MILLISECOND : precision === 'u' ? A.TimeUnit.MICROSECOND : A.TimeUnit.SECOND;
    const scale = precision === 'm' ? 60n : precision === 'h' ? 3600n : 1n;
    let schema: A.Schema | undefined;
    if (field && field.type.typeId === A.Type.Int) {
      const fields = batch.schema.fields.map((f, i) => (i === index ? new A.Field(f.name, new A.Timestamp(unit), f.nullable, f.metadata) : f));
      schema = new A.Schema(fields, batch.schema.metadata, batch.schema.dictionaries);
    }
    plan = { key, schema, index, unit, scale };
    kCache.set(batch.schema, plan);
  }
  const { schema, index, unit, scale } = plan;
  if (!schema) return batch;
  const d = batch.data.children[index]!;
  const type = new A.Timestamp(unit);
  let data: A.Data;
  const v = d.values as unknown as ArrayLike<number | bigint>;
  if (v instanceof BigInt64Array && scale === 1n) {
    data = d.clone(type as never);
  } else {
    const out = new BigInt64Array(d.length);
    const lo = kMinInt64 / scale;
    const hi = kMaxInt64 / scale;
    for (let i = 0; i < d.length; i++) {
      const x = BigInt(v[i]!);
      out[i] = x > hi ? kMaxInt64 : x < lo ? kMinInt64 : x * scale;
    }
    // Buffers by Arrow's BufferType: offsets, data, validity, type ids.
    data = d.clone(type as never, d.offset, d.length, d.nullCount, [undefined, out, d.nullBitmap, undefined] as never);
  }
  const children = batch.data.children.map((c, i) => (i === index ? data : c));
  return new A.RecordBatch(schema, A.makeData({ type: new A.Struct(schema.fields), length: batch.numRows, nullCount: 0, children } as never) as unknown as A.Data<A.Struct>);
}
