/** The loader's CSV parser: records split across any chunk boundary, and the unfinished-record limit. */
import { describe, expect, it } from 'vitest';
import { CsvParser, CsvSyntaxError, csvJoin } from '../../../../src/cli/readers/csv-syntax.js';

function parse(text: string, step: number, max = Infinity): { rows: string[][]; lines: number[] } {
  const p = new CsvParser(',', max);
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = 0; i < text.length; i += step) p.push(text.slice(i, i + step), false, rows, lines);
  p.push('', true, rows, lines);
  return { rows, lines };
}

describe('CsvParser', () => {
  it('a quoted value spanning many chunks (doubled quotes, line breaks) is the same at every chunk size', () => {
    const big = `a""b\n${'x'.repeat(20_000)}""${'y\r\nz'.repeat(100)}"",`;
    const text = `h1,h2\n1,"${big}"\n2,"short ""q"""\n3,plain\n`;
    const expected = [['h1', 'h2'], ['1', big.replaceAll('""', '"')], ['2', 'short "q"'], ['3', 'plain']];
    for (const step of [1, 2, 3, 7, 1000, 4096, 1 << 20]) {
      expect(parse(text, step)).toEqual({ rows: expected, lines: [1, 2, 104, 105] });
    }
  });

  it('a record still unfinished at the limit stops the parsing, naming the line where it starts', () => {
    const p = new CsvParser(',', 1000);
    const rows: string[][] = [];
    const lines: number[] = [];
    p.push('h\n1\n"', false, rows, lines);
    expect(() => {
      for (let i = 0; i < 10; i++) p.push('x'.repeat(200), false, rows, lines);
    }).toThrow(CsvSyntaxError);
    expect(rows).toEqual([['h'], ['1']]);
    let error: unknown;
    try {
      new CsvParser(',', 1000).push(`h\n\n"${'x'.repeat(2000)}`, false, [], []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CsvSyntaxError);
    expect((error as CsvSyntaxError).line).toBe(3);
    expect((error as CsvSyntaxError).reason).toMatch(/^a record longer than 1000 bytes .* does not end: is a quote not closed\?$/);
  });

  it('csvJoin quotes what needs it, and parses back to the same values', () => {
    const row = ['plain', 'a,b', 'say "hi"', 'two\nlines', ''];
    const text = csvJoin(row, ',');
    expect(text).toBe('plain,"a,b","say ""hi""","two\nlines",');
    expect(parse(`${text}\n`, 3).rows).toEqual([row]);
  });
});
