/**
 * The loader's line cutting (LineEnds) against influxd's own rule (`lineEndAt`, the port of
 * scanLine): the same line ends for every line start, whatever the quotes, backslashes, `=`,
 * `,`, spaces and newlines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineEnds, lineEndAt } from '../../../../src/encode/line-protocol/scan.js';

/** Line ends from the start of `buf`, one line after the other, by `end(start)`. */
function cut(buf: Buffer, end: (start: number) => number): number[] {
  const out: number[] = [];
  for (let start = 0; start < buf.length;) {
    const e = end(start);
    out.push(e);
    start = e + 1;
  }
  return out;
}

describe('LineEnds', () => {
  it('cuts lines where lineEndAt does', () => {
    const alphabet = fc.constantFrom('a', 'b', ' ', '=', ',', '"', '\\', '\n', '#', '\r', '1');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 120 }), (chars) => {
        const buf = Buffer.from(chars.join(''));
        const ends = new LineEnds(buf);
        expect(cut(buf, (s) => ends.at(s))).toEqual(cut(buf, (s) => lineEndAt(buf, s)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('line protocol with string fields, escapes and newlines in strings', () => {
    // Each of these is one line: the newlines inside their strings do not end it.
    const lines = [
      'm,t=a s="x\ny",n=1i 1',
      'm,t=a\\ b s="say \\"hi\\"\n# not a comment",v=2 2',
      'm s="a=b,c",t="d" 3',
      'm,k="q v=1 4',
      'm a=1,b"c=2 5',
      'm s="unfinished',
    ];
    const buf = Buffer.from(lines.join('\n'));
    const ends = new LineEnds(buf);
    const got = cut(buf, (s) => ends.at(s));
    expect(got).toEqual(cut(buf, (s) => lineEndAt(buf, s)));
    expect(got.map((e, i, a) => buf.toString('utf8', i === 0 ? 0 : a[i - 1]! + 1, e))).toEqual(lines);
  });
});
