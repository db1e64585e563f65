/**
 * Integers in a query answer that no 64-bit type holds, read into Arrow columns: InfluxDB writes
 * int64 and uint64 values, and floats below 1e21 in plain digits (Go's 'f' format), so those
 * stay exact; an integer of 1e21 or more is no value InfluxDB stores, and Arrow output says so
 * (raw output keeps it as a bigint) instead of making it Infinity or rounding it silently.
 */
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InfluxDBResponseError } from '../../../../src/errors.js';
import { parseExactJson } from '../../../../src/query/exact-json.js';
import { jsonToArrow } from '../../../../src/query/output/json-columns/index.js';
import { responseToArrow } from '../../../../src/query/output/arrow.js';
import type { QueryResponse } from '../../../../src/query/response.js';

const answer = (values: string[]): string =>
  `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[${values.map((v, i) => `[${i},${v}]`).join(',')}]}]}]}`;

/** Both Arrow paths: JSON bytes straight into columns, and the parsed response. */
const paths = {
  bytes: (text: string) => jsonToArrow(text, undefined) as Table,
  parsed: (text: string) => responseToArrow(parseExactJson(text) as QueryResponse) as Table,
};

describe.each(Object.entries(paths))('Arrow output (%s) of large integer literals', (_name, toArrow) => {
  it('a float InfluxDB wrote in plain digits (1e20, just below 1e21) stays an exact Float64', () => {
    const t = toArrow(answer(['100000000000000000000', '1.5']));
    expect([...t.getChild('v')!]).toEqual([1e20, 1.5]);
  });

  it('uint64 values beyond int64 stay exact (Uint64)', () => {
    const t = toArrow(answer(['18446744073709551615', '9223372036854775808']));
    expect([...t.getChild('v')!]).toEqual([18446744073709551615n, 9223372036854775808n]);
  });

  it.each([
    ['a 22-digit integer', '1000000000000000000000', 22],
    ['a negative 22-digit integer', '-1000000000000000000000', 22],
    ['a 10,000-digit integer', '9'.repeat(10_000), 10_000],
  ])('%s: an InfluxDBResponseError that says why (never Infinity, null or a rounded value)', (_what, literal, digits) => {
    let caught: unknown;
    try {
      toArrow(answer(['1', literal]));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InfluxDBResponseError);
    expect((caught as InfluxDBResponseError).reason).toBe('invalid');
    expect((caught as Error).message).toContain(`an integer of ${digits} digits`);
    expect((caught as Error).message).toContain("output: 'raw'");
  });
});

it('raw output keeps such an integer exactly', () => {
  const doc = parseExactJson(answer(['9'.repeat(10_000)])) as QueryResponse;
  expect(doc.results[0]!.series![0]!.values![0]![1]).toBe(BigInt('9'.repeat(10_000)));
});
