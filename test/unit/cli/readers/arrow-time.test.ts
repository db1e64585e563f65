/**
 * The loader's integer time columns (Arrow/Parquet) in --precision: made Timestamp columns of
 * that unit, so that the writer (precision n) stores them exactly.
 */
import * as A from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { integerTimeAsTimestamp } from '../../../../src/cli/readers/arrow-time.js';
import { encode } from '../../../../src/encode/encode.js';

const lines = (b: A.RecordBatch): string[] => encode(b as never, { measurement: 'm', precision: 'n', invalidRows: 'skip' }).toString('utf8').trimEnd().split('\n');

describe('integerTimeAsTimestamp', () => {
  it('Int64 seconds, no copy; Int32 hours; a sliced batch with a null time', () => {
    const s = new A.Table({ time: A.makeVector(BigInt64Array.from([1n, 2n])), v: A.makeVector(Float64Array.from([1, 2])) }).batches[0]!;
    expect(lines(integerTimeAsTimestamp(s, undefined, 's'))).toEqual(['m v=1 1000000000', 'm v=2 2000000000']);
    const h = new A.Table({ t: A.vectorFromArray([0, 1, null, 3], new A.Int32()), v: A.makeVector(Float64Array.from([0, 1, 2, 3])) }).batches[0]!;
    const out = integerTimeAsTimestamp(h.slice(1, 4), 't', 'h');
    expect(String(out.schema.fields[0]!.type)).toBe('Timestamp<SECOND>');
    const got = lines(out);
    expect(got[0]).toBe('m v=1 3600000000000');
    expect(got[1]).toMatch(/^m v=2 \d+$/); // a null time is the time of the write
    expect(got[2]).toBe('m v=3 10800000000000');
  });

  it('ms and u; precision n and non-integer time columns are left as they are', () => {
    const b = new A.Table({ time: A.makeVector(BigInt64Array.from([1704067200123n])), v: A.makeVector(Float64Array.from([1])) }).batches[0]!;
    expect(lines(integerTimeAsTimestamp(b, undefined, 'ms'))).toEqual(['m v=1 1704067200123000000']);
    expect(lines(integerTimeAsTimestamp(b, undefined, 'u'))).toEqual(['m v=1 1704067200123000']);
    expect(integerTimeAsTimestamp(b, undefined, 'n')).toBe(b);
    const ts = new A.Table({ time: A.makeVector({ type: new A.TimestampMillisecond(), data: BigInt64Array.from([1n]) } as never), v: A.makeVector(Float64Array.from([1])) }).batches[0]!;
    expect(integerTimeAsTimestamp(ts, undefined, 's')).toBe(ts);
  });

  it('a value too large for the unit is refused by the encoder, not wrapped around', () => {
    // 2e17 minutes is beyond int64 in seconds: clamped, then refused as outside InfluxDB's range.
    for (const t of [9_000_000_000_000_000n, 200_000_000_000_000_000n, -200_000_000_000_000_000n]) {
      const b = new A.Table({ time: A.makeVector(BigInt64Array.from([1n, t])), v: A.makeVector(Float64Array.from([1, 2])) }).batches[0]!;
      const out = integerTimeAsTimestamp(b, undefined, 'm');
      expect(lines(out.slice(0, 1))).toEqual(['m v=1 60000000000']);
      expect(() => lines(out)).toThrow(/#1: time: .* is outside InfluxDB's time range/);
    }
  });
});
