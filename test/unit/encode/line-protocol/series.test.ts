/**
 * Series hash and lane splitter (src/encode/line-protocol/series.ts): seeded random cases (no
 * fast-check), lines cut by the one scanner (scan.ts), series keys read the way parse.ts reads them.
 */
import { describe, expect, it } from 'vitest';
import { readLine } from '../../../../src/encode/line-protocol/parse.js';
import { cutLines } from '../../../../src/encode/line-protocol/scan.js';
import { LaneSplitter, combineSeriesHash, componentHash, countLines, seriesHash } from '../../../../src/encode/line-protocol/series.js';
import { prng } from '../../../helpers/generators.js';


const NAME_CHARS = ['a', 'b', 'x', '0', '9', '-', '_', 'é', '水', '🚀', '\\ ', '\\,', '\\=', '"'];

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function name(rand: () => number): string {
  let s = '';
  const len = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < len; i++) s += pick(rand, NAME_CHARS);
  // The first byte plain (never a backslash pair).
  return `n${s}`;
}

interface Series {
  measurement: string;
  tags: string[]; // `key=value`, escaped
}

function makeSeries(rand: () => number): Series {
  const tags = new Map<string, string>();
  const nTags = Math.floor(rand() * 4);
  for (let i = 0; i < nTags; i++) tags.set(name(rand), name(rand));
  return { measurement: name(rand), tags: [...tags].map(([k, v]) => `${k}=${v}`) };
}

function shuffled<T>(rand: () => number, xs: readonly T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function fields(rand: () => number): string {
  const f = [`v=${Math.floor(rand() * 1000)}i`];
  if (rand() < 0.5) f.push(`s="${pick(rand, ['ok', 'a b', 'multi\nline', 'x=1,y=2', 'é'])}"`);
  if (rand() < 0.3) f.push('b=true');
  return shuffled(rand, f).join(',');
}

function pointLine(rand: () => number, s: Series): string {
  const key = [s.measurement, ...shuffled(rand, s.tags)].join(',');
  return `${key} ${fields(rand)}${rand() < 0.7 ? ` ${Math.floor(rand() * 1e12)}` : ''}`;
}

/** A body: point lines of a few series, with comment, blank and whitespace lines between them. */
function makeBody(rand: () => number, series: Series[], lines: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = rand();
    if (r < 0.05) parts.push(pick(rand, ['# a comment', '#', '', '   ', '\t', '# "quoted\nstill comment"']));
    else parts.push(pointLine(rand, pick(rand, series)));
  }
  let text = parts.join('\n');
  if (rand() < 0.8) text += '\n';
  return Buffer.from(text);
}

/** The point lines of a body as the scanner cuts them (text only, as strings). */
function pointLines(body: Buffer): string[] {
  const l = cutLines(body);
  return l.start.map((s, i) => body.subarray(s, l.end[i]).toString('latin1'));
}

/** The series key as influxd keys a parsed point: the measurement and the tag pairs (sorted), as written. */
function referenceKey(line: string): string {
  let i = 1;
  const cuts: number[] = [0];
  for (; i < line.length; i++) {
    const c = line[i];
    if ((c === ',' || c === ' ') && line[i - 1] !== '\\') {
      cuts.push(i + 1);
      if (c === ' ') break;
    }
  }
  if (i >= line.length) cuts.push(line.length + 1);
  const parts: string[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) parts.push(line.slice(cuts[k], cuts[k + 1]! - 1));
  return [parts[0], ...parts.slice(1).sort()].join('\u0000');
}

describe('seriesHash', () => {
  it('is the documented combination of murmur3 component hashes', () => {
    const line = Buffer.from('cpu,host=a\\ b,region=x\\,y v=1 1');
    const c = (s: string) => componentHash(Buffer.from(s), 0, Buffer.byteLength(s));
    expect(seriesHash(line, 0, line.length)).toBe(combineSeriesHash(c('cpu'), [c('region=x\\,y'), c('host=a\\ b')]));
    // murmur3_x86_32 reference values (seed 0)
    expect(componentHash(Buffer.from(''), 0, 0)).toBe(0);
    expect(componentHash(Buffer.from('hello'), 0, 5) >>> 0).toBe(0x248bfa47);
    expect(componentHash(Buffer.from('The quick brown fox jumps over the lazy dog'), 0, 43) >>> 0).toBe(0x2e4ff723);
  });

  it('does not depend on tag order, nor on what follows the key (random series)', () => {
    const rand = prng(1);
    for (let n = 0; n < 3000; n++) {
      const s = makeSeries(rand);
      const a = Buffer.from(pointLine(rand, s));
      const b = Buffer.from(`  ${pointLine(rand, s)}`);
      expect(seriesHash(a, 0, a.length)).toBe(seriesHash(b, 0, b.length));
    }
  });

  it('differential: lines parse.ts reads as one series key (tags sorted) have one hash', () => {
    const rand = prng(2);
    const seen = new Map<string, number>();
    const pool = Array.from({ length: 300 }, () => makeSeries(rand));
    for (let n = 0; n < 20000; n++) {
      const text = pointLine(rand, pick(rand, pool));
      const buf = Buffer.from(text);
      const read = readLine(buf, { start: 0, end: buf.length });
      expect(read.ok, `${text}: ${read.ok ? '' : read.reason}`).toBe(true);
      const key = referenceKey(buf.toString('latin1'));
      // The reference cut agrees with the parser's measurement.
      const meas = key.split('\u0000')[0]!;
      expect(Buffer.from(meas.replace(/\\([,"= ])/g, '$1'), 'latin1').toString()).toBe(read.ok && read.line.measurement);
      const h = seriesHash(buf, 0, buf.length);
      const prev = seen.get(key);
      if (prev === undefined) seen.set(key, h);
      else expect(h).toBe(prev);
    }
    // Different keys mostly have different hashes.
    expect(new Set(seen.values()).size).toBeGreaterThan(seen.size * 0.99);
  });
});

describe('LaneSplitter', () => {
  it('lanes = 1: the body itself', () => {
    const body = Buffer.from('a v=1\n# c\nb v=2\n');
    const r = new LaneSplitter(1).split(body);
    expect(r.bodies[0]).toBe(body);
    expect(r.lines).toEqual([2]);
    expect(new LaneSplitter(1).split(body, 7).lines).toEqual([7]);
  });

  it('lanes hold a permutation of the point lines, each lane in body order, one series in one lane (random bodies)', () => {
    const rand = prng(3);
    for (let n = 0; n < 600; n++) {
      const lanes = 2 + Math.floor(rand() * 9);
      const splitter = new LaneSplitter(lanes);
      const series = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => makeSeries(rand));
      const laneOfKey = new Map<string, number>();
      for (let b = 0; b < 3; b++) {
        const body = makeBody(rand, series, Math.floor(rand() * 60));
        const input = pointLines(body);
        const r = splitter.split(body);
        expect(r.bodies.length).toBe(lanes);
        let total = 0;
        const all: string[] = [];
        for (let l = 0; l < lanes; l++) {
          const out = r.bodies[l]!;
          if (out.length > 0) expect(out[out.length - 1]).toBe(10);
          const got = pointLines(out);
          expect(got.length).toBe(r.lines[l]);
          expect(countLines(out)).toBe(r.lines[l]);
          total += got.length;
          // Body order kept: got is a subsequence of input.
          let k = 0;
          for (const line of got) {
            while (k < input.length && input[k] !== line) k++;
            expect(k).toBeLessThan(input.length);
            k++;
          }
          for (const line of got) {
            const key = referenceKey(line);
            const lane = laneOfKey.get(key);
            if (lane === undefined) laneOfKey.set(key, l);
            else expect(lane).toBe(l);
            all.push(line);
          }
        }
        expect(total).toBe(input.length);
        expect(all.sort()).toEqual(input.slice().sort());
      }
    }
  });

  it('trusted scan and route() (bodies our encoders wrote: a newline always ends a line) split as the general scan does', () => {
    const rand = prng(11);
    for (let n = 0; n < 300; n++) {
      const lanes = 2 + Math.floor(rand() * 9);
      const splitter = new LaneSplitter(lanes);
      const series = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => makeSeries(rand));
      // What an encoder writes: whole lines, no blank or comment lines, no newline inside a string.
      const lines = Array.from({ length: Math.floor(rand() * 80) }, () => pointLine(rand, pick(rand, series)).replace(/[\r\n]/g, ' '));
      const body = Buffer.from(lines.map((l) => `${l}\n`).join(''));
      const general = splitter.split(body);
      const g = { bodies: general.bodies.map((b) => Buffer.from(b)), lines: [...general.lines] };
      const t = splitter.split(body, lines.length, true);
      expect(t.lines).toEqual(g.lines);
      expect(t.bodies.map((b) => b.toString())).toEqual(g.bodies.map((b) => b.toString()));
      // route(): the same lines per lane, in runs of the body itself, without a Buffer per lane.
      const routed = Array.from({ length: lanes }, () => ({ text: '', lines: 0 }));
      expect(splitter.route(body, (lane, from, start, end, n) => {
        routed[lane]!.text += from.toString('utf8', start, end);
        routed[lane]!.lines += n;
      })).toBe(true);
      expect(routed.map((r) => r.lines)).toEqual(g.lines);
      expect(routed.map((r) => r.text)).toEqual(g.bodies.map((b) => b.toString()));
    }
  });

  it('route() leaves a body whose last line has no newline to split()', () => {
    const splitter = new LaneSplitter(4);
    let called = 0;
    expect(splitter.route(Buffer.from('a,t=1 v=1i 1\nb v=2i 2'), () => called++)).toBe(false);
    expect(called).toBe(0);
    expect(splitter.route(Buffer.alloc(0), () => called++)).toBe(true);
    expect(called).toBe(0);
  });

  it('cuts lines as the scanner does: strings holding newlines, escaped newlines, a last line without newline', () => {
    const body = Buffer.from('m,t=1 s="a\nb" 1\nm,t=2 s="x" 2\n# x="c\nd"\nm\\ x,t=1 v=1 3\nm,t=1 v=1 4');
    const splitter = new LaneSplitter(4);
    const r = splitter.split(body);
    const got = r.bodies.flatMap((b) => pointLines(b));
    expect(got.sort()).toEqual(pointLines(body).sort());
    expect(r.lines.reduce((a, b) => a + b, 0)).toBe(4);
    const lane1 = r.bodies.findIndex((b) => b.includes('s="a\nb"'));
    expect(r.bodies[lane1]!.toString()).toContain('m,t=1 v=1 4\n');
  });

  it('a large body, tables grown and reused', () => {
    const rand = prng(4);
    const series = Array.from({ length: 1000 }, () => makeSeries(rand));
    const splitter = new LaneSplitter(8);
    for (const lines of [5000, 50, 70000, 10]) {
      const body = makeBody(rand, series, lines);
      const r = splitter.split(body);
      expect(r.lines.reduce((a, b) => a + b, 0)).toBe(countLines(body));
      expect(r.bodies.reduce((a, b) => a + b.length, 0)).toBe(r.bodies.flatMap((b) => pointLines(b)).reduce((a, l) => a + Buffer.byteLength(l, 'latin1') + 1, 0));
    }
  });
});
