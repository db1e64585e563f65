/**
 * Differential: the lanes the columnar encodes compute from dictionary hashes
 * (src/encode/columnar/lanes.ts) are the lanes the splitter computes from each written line
 * (`seriesHash(line) % lanes`, line-protocol/series.ts), for point objects and Arrow tables with
 * escaped names, missing, null and empty tag values, the write's extra tags and skipped rows.
 * Then the buffer's routing with given lanes puts every line where the scan would.
 */
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowLanes } from '../../../../src/encode/columnar/lanes.js';
import { PointColumnBuilder } from '../../../../src/encode/columnar/point-builder.js';
import { LaneSplitter, seriesHash } from '../../../../src/encode/line-protocol/series.js';
import type { Point } from '../../../../src/encode/point-encoder.js';
import { encodeArrowInThreadWasm, encodePointsInThreadWasm } from '../../../../src/encode/route.js';
import type { EncodedInput } from '../../../../src/encode/input.js';
import { resolveEncodeOptions } from '../../../../src/options/index.js';

/** Names with the bytes that line protocol escapes, unicode, and plain ones. */
const nameArb = fc.stringMatching(/^[a-c ,="é水]{1,5}$/); // (a backslash is refused before some bytes: not the point here)
const tagValueArb = fc.oneof(nameArb, fc.constant(''), fc.constant(null), fc.constant(undefined));
const extraTagsArb = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.constantFrom('a', 'k', 'z'), fc.stringMatching(/^[a-c ,=]{1,3}$/), { maxKeys: 2 }),
);

/** Each line of the bodies (every line our encoders write ends in `\n`) with its lane by scan. */
function scannedLanes(enc: EncodedInput, lanes: number): number[] {
  const out: number[] = [];
  for (const { body } of enc.bodies) {
    for (let s = 0; s < body.length;) {
      const e = body.indexOf(10, s);
      out.push(seriesHash(body, s, e) % lanes);
      s = e + 1;
    }
  }
  return out;
}

describe('row lanes from dictionaries', () => {
  it('point objects: each line\'s lane is the lane of its series key as written', () => {
    fc.assert(fc.property(
      fc.array(fc.record({
        m: fc.constantFrom('cpu', 'm e,x', 'é'),
        tags: fc.dictionary(fc.constantFrom('a', 'k', 'b c', 'x=y'), tagValueArb, { maxKeys: 3 }),
        v: fc.oneof({ weight: 5, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.constant(null) }),
      }), { minLength: 1, maxLength: 60 }),
      extraTagsArb, fc.integer({ min: 2, max: 40 }), fc.integer({ min: 200, max: 4000 }),
      (rows, extra, L, maxBodyBytes) => {
        const w = resolveEncodeOptions({ tags: extra, invalidRows: 'skip' });
        const points: Point[] = rows.map((r, i) => ({ measurement: r.m, tags: r.tags as Record<string, string>, fields: { v: r.v }, time: i }));
        const lanes = new RowLanes(L);
        const enc = encodePointsInThreadWasm(points, w, maxBodyBytes, new PointColumnBuilder({ ...w, maxBodyBytes }), undefined, undefined, lanes);
        expect(enc.lanes, 'lanes for every line').toBeDefined();
        expect(Array.from(enc.lanes!)).toEqual(scannedLanes(enc, L));
        expect(enc.skippedRows).toEqual(rows.flatMap((r, i) => (r.v === null ? [i] : [])));
      },
    ), { numRuns: 300 });
  });

  it('Arrow tables (dictionary tags with nulls and empty values, sliced batches): the same lanes as a scan', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ a: tagValueArb, k: tagValueArb, v: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)) }), { minLength: 1, maxLength: 60 }),
      extraTagsArb, fc.integer({ min: 2, max: 40 }), fc.nat(5),
      (rows, extra, L, cut) => {
        const w = resolveEncodeOptions({ measurement: 'm,x', tags: extra, invalidRows: 'skip' });
        const dict = () => new A.Dictionary(new A.Utf8(), new A.Int32());
        const table = new A.Table({
          a: A.vectorFromArray(rows.map((r) => r.a ?? null), dict()),
          k: A.vectorFromArray(rows.map((r) => r.k ?? null), dict()),
          v: A.vectorFromArray(rows.map((r) => r.v), new A.Float64()),
          time: A.vectorFromArray(rows.map((_, i) => BigInt(i)), new A.Int64()),
        });
        // A slice that starts past row 0: the layout's rows are the slice's.
        const part = table.slice(Math.min(cut, rows.length - 1));
        const lanes = new RowLanes(L);
        const enc = encodeArrowInThreadWasm(part, { ...w, tagColumns: ['a', 'k'] } as typeof w, 1 << 20, undefined, undefined, undefined, lanes);
        expect(enc.lanes).toBeDefined();
        expect(Array.from(enc.lanes!)).toEqual(scannedLanes(enc, L));
      },
    ), { numRuns: 200 });
  });

  it('routing with the given lanes gathers the lines the scan would, lane by lane', () => {
    const w = resolveEncodeOptions({});
    const points: Point[] = Array.from({ length: 3000 }, (_, i) => ({ measurement: 'cpu', tags: { host: `h${i % 97}`, dc: `d${i % 5}` }, fields: { v: i }, time: i }));
    const L = 16;
    const rowLanes = new RowLanes(L);
    const enc = encodePointsInThreadWasm(points, w, 1 << 20, new PointColumnBuilder({ ...w, maxBodyBytes: 1 << 20 }), undefined, undefined, rowLanes);
    const collect = (known: boolean): string[] => {
      const byLane = new Array<string>(L).fill('');
      const s = new LaneSplitter(L);
      const add = (lane: number, from: Buffer, start: number, end: number): void => { byLane[lane] += from.toString('utf8', start, end); };
      for (const b of enc.bodies) expect(known ? s.routeKnown(b.body, enc.lanes!, add) : s.route(b.body, add)).toBe(true);
      return byLane;
    };
    const known = collect(true);
    expect(known).toEqual(collect(false));
    expect(known.filter((x) => x !== '').length).toBeGreaterThan(8);
    // Lanes that do not match the body (one line short): the keys are read instead, same result.
    const s = new LaneSplitter(L);
    const got = new Array<string>(L).fill('');
    s.routeKnown(enc.bodies[0]!.body, enc.lanes!.subarray(1), (lane, from, start, end) => { got[lane] += from.toString('utf8', start, end); });
    expect(got).toEqual(known);
  });
});
