/**
 * The point builder's tag columns (`src/encode/columnar/point-columns.ts`): the cache of recent
 * values (values that share a slot, values seen across layouts, invalid values), the dictionary
 * of each layout (first-seen order, entry 0 empty, entry 1 the extra tag's value), and a column
 * that forgets its values after many; then the builder's bytes against the point encoder on
 * tag values made to collide in the cache and on more values than a column remembers.
 */
import { describe, expect, it } from 'vitest';
import { encodePointsColumnar } from '../../../../src/encode/columnar/point-layouts.js';
import { kUtf8 } from '../../../../src/encode/columnar/point-columns.js';
import { TagCol } from '../../../../src/encode/columnar/tag-column.js';
import { encodeSync } from '../../../../src/encode/input.js';
import type { Point } from '../../../../src/encode/point-encoder.js';

const dictOf = (col: TagCol): string[] => {
  const buf = new ArrayBuffer(col.size(1) + 64);
  const t = col.copy(buf, new Uint8Array(buf), 0, 1);
  const out: string[] = [];
  for (let e = 0; e + 1 < t.dictOffsets.length; e++) out.push(Buffer.from(t.dictData.subarray(t.dictOffsets[e]!, t.dictOffsets[e + 1]!)).toString());
  return out;
};

describe('TagCol', () => {
  it('gives each value an entry in first-seen order, the same entry when seen again, -1 for an invalid value', () => {
    const col = new TagCol('host', kUtf8.encode('host'));
    expect(['a', 'b b', 'a', 'host-17', 'b b', 'host-71'].map((v) => col.entry(v))).toEqual([1, 2, 1, 3, 2, 4]);
    expect(col.entry('x\\')).toBe(-1); // a trailing backslash cannot be written
    expect(col.entry('a')).toBe(1);
    expect(dictOf(col)).toEqual(['', 'a', 'b\\ b', 'host-17', 'host-71']);
  });

  it('values in one cache slot, and fresh strings equal to cached ones, find their own entries', () => {
    const col = new TagCol('k', kUtf8.encode('k'));
    // Same length and last three characters (and middle ones): one slot in a small cache.
    const values = Array.from({ length: 300 }, (_, i) => `${String.fromCharCode(65 + (i % 26))}${i}-xyz`);
    const first = values.map((v) => col.entry(v));
    expect(new Set(first).size).toBe(300);
    for (let round = 0; round < 3; round++) {
      for (let i = values.length - 1; i >= 0; i--) expect(col.entry(`${values[i]!.slice(0, -4)}-xyz`)).toBe(first[i]);
    }
  });

  it('a new layout starts its dictionary over; the extra tag keeps entry 1', () => {
    const col = new TagCol('dc', kUtf8.encode('dc'), { value: 'eu', bytes: kUtf8.encode('eu') });
    expect(col.fallback).toBe(1);
    expect([col.entry('us'), col.entry('eu'), col.entry('ap')]).toEqual([2, 1, 3]);
    col.reset(1);
    expect(col.entries).toBe(2);
    expect([col.entry('ap'), col.entry('us'), col.entry('eu')]).toEqual([2, 3, 1]);
    expect(dictOf(col)).toEqual(['', 'eu', 'ap', 'us']);
  });

  it('a dictionary no larger than its layout is kept for the next one', () => {
    const col = new TagCol('host', kUtf8.encode('host'));
    expect([col.entry('a'), col.entry('b'), col.entry('c')]).toEqual([1, 2, 3]);
    col.reset(3);
    expect([col.entry('c'), col.entry('d')]).toEqual([3, 4]);
    expect(dictOf(col)).toEqual(['', 'a', 'b', 'c', 'd']);
    col.reset(2);
    expect([col.entry('d'), col.entry('a')]).toEqual([1, 2]);
    expect(dictOf(col)).toEqual(['', 'd', 'a']);
  });

  it('forgets its values after many, at a layout\'s end, keeping the extra tag', () => {
    const col = new TagCol('dc', kUtf8.encode('dc'), { value: 'eu', bytes: kUtf8.encode('eu') });
    for (let layout = 0; layout < 4; layout++) {
      const entries = Array.from({ length: 20_000 }, (_, i) => col.entry(`v${layout}-${i}`));
      expect(entries.every((e, i) => e === i + 2)).toBe(true);
      expect(col.entry('eu')).toBe(1);
      col.reset(1);
    }
    expect([col.entry('v0-5'), col.entry('eu'), col.entry('v3-7')]).toEqual([2, 1, 3]);
    expect(dictOf(col)).toEqual(['', 'eu', 'v0-5', 'v3-7']);
  });
});

describe('the builder on tag values that stress the cache', () => {
  const check = (points: Point[], options: Parameters<typeof encodeSync>[1]) => {
    const ref = encodeSync(points, options, 1 << 20);
    const got = encodePointsColumnar(points, options, 1 << 20);
    expect(got.lines).toBe(ref.lines);
    expect(Buffer.concat(got.bodies.map((b) => b.body)).toString()).toBe(Buffer.concat(ref.bodies.map((b) => b.body)).toString());
  };

  it('colliding values, 60,000 distinct values and an extra tag: the point encoder\'s bytes', () => {
    const points: Point[] = Array.from({ length: 80_000 }, (_, i) => ({
      measurement: 'm',
      tags: { a: `${String.fromCharCode(65 + (i % 26))}${i % 500}-xyz`, b: `u${(i * 7919) % 60_000}`, dc: i % 3 === 0 ? 'eu' : i % 3 === 1 ? 'us' : '' },
      fields: { v: i },
      time: BigInt(i),
    }));
    check(points, { precision: 'n', tags: { dc: 'eu' } });
    check(points.slice(0, 30_000), { precision: 'n' });
  });
});
