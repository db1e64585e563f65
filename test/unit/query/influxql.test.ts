/**
 * InfluxQL quoting (src/query/influxql.ts) and query patterns (src/query/patterns.ts), checked
 * against a small reference of the InfluxQL scanner (`influxql/scanner.go`):
 * - the reader turns `\r` and `\r\n` into `\n`;
 * - a quoted string or identifier ends at the first unescaped quote of its kind;
 * - a raw newline inside is "bad string"; the only escapes are `\n` `\\` `\'` `\"`, anything else is "bad escape".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfluxDBError, InvalidQueryError } from '../../../src/errors.js';
import { checkDuration, escapeIdentifier, escapeString, formatNumberLiteral, quoteIdentifier, quoteLiteral } from '../../../src/query/influxql.js';
import { compilePattern, renderPattern, type PatternArgs, type PatternValue } from '../../../src/query/patterns.js';

// ---- reference scanner -----------------------------------------------------------------------------

type Token = { ident: string } | { str: string } | string;

/** Scans the quoted token starting at `text[start]` (a `"` or `'`). */
function scanQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new Error('unterminated');
    let ch = text[i]!;
    if (ch === '\r') ch = '\n';
    if (ch === quote) return { value: out, end: i + 1 };
    if (ch === '\n') throw new Error('bad string');
    if (ch === '\\') {
      const n = text[i + 1];
      if (n === 'n') out += '\n';
      else if (n === '\\' || n === '"' || n === "'") out += n;
      else throw new Error(`bad escape \\${n}`);
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
}

/** Splits a statement into quoted identifiers, string literals and bare words (separated by spaces). */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') {
      i++;
    } else if (c === '"' || c === "'") {
      const { value, end } = scanQuoted(text, i);
      out.push(c === '"' ? { ident: value } : { str: value });
      i = end;
    } else {
      let j = i;
      while (j < text.length && !' "\''.includes(text[j]!)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Parses a whole quoted token, which must span all of `text`. */
function unquote(text: string): string {
  const { value, end } = scanQuoted(text, 0);
  expect(end).toBe(text.length);
  return value;
}

function expectQueryError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an InvalidQueryError').toBeInstanceOf(InvalidQueryError);
  expect(caught).toBeInstanceOf(InfluxDBError);
  expect((caught as InvalidQueryError).code).toBe('FI_ERR_INVALID_QUERY');
  expect((caught as Error).message).toMatch(message);
}

const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('"', "'", '\\', ';', '-', ' ', '/', '*', '\n', '$') },
  { weight: 3, arbitrary: fc.constantFrom('a', 'Z', '0', 'é', '😀', '中') },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\0', '\uD800', '\uDC00') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 16 });
const HOSTILE = ['x"; DROP DATABASE "y', "' OR 1=1 --", 'a\\', '\\', '\\"', "\\'", '"', "'", 'température 😀 中文', 'a;b', '/* x */', 'time'];

// ---- identifiers ---------------------------------------------------------------------------------

describe('quoteIdentifier / escapeIdentifier', () => {
  it('always double-quotes, even plain names and keywords', () => {
    expect(quoteIdentifier('cpu')).toBe('"cpu"');
    expect(quoteIdentifier('time')).toBe('"time"');
    expect(quoteIdentifier('SELECT')).toBe('"SELECT"');
  });

  it('escapes " and \\ so a hostile name stays one identifier', () => {
    expect(quoteIdentifier('x"; DROP DATABASE "y')).toBe('"x\\"; DROP DATABASE \\"y"');
    expect(quoteIdentifier('a\\')).toBe('"a\\\\"');
    expect(quoteIdentifier("' OR 1=1 --")).toBe('"\' OR 1=1 --"');
    expect(quoteIdentifier('température 😀')).toBe('"température 😀"');
    expect(escapeIdentifier('a"b\\c')).toBe('a\\"b\\\\c');
    for (const s of HOSTILE) expect(tokenize(`SELECT * FROM ${quoteIdentifier(s)}`), s).toEqual(['SELECT', '*', 'FROM', { ident: s }]);
  });

  it('rejects newline, CR and NUL', () => {
    for (const s of ['a\nb', 'a\rb', 'a\0b', '\n']) expectQueryError(() => quoteIdentifier(s), /an identifier must not contain a newline or NUL character/);
  });

  it('rejects empty names, non-strings and lone surrogates', () => {
    expectQueryError(() => quoteIdentifier(''), /an identifier must not be empty/);
    expectQueryError(() => quoteIdentifier(5 as unknown as string), /an identifier must be a string \(got number\)/);
    expectQueryError(() => quoteIdentifier('a\uD800'), /lone UTF-16 surrogate/);
  });

  it('property: the scanner reads quoteIdentifier(s) back as exactly s, or s is refused', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const ok = s.length > 0 && !/[\n\r\0]/.test(s) && s.isWellFormed();
        if (!ok) {
          expect(() => quoteIdentifier(s)).toThrow(InvalidQueryError);
          return;
        }
        expect(unquote(quoteIdentifier(s))).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- string literals -----------------------------------------------------------------------------

describe('quoteLiteral / escapeString: strings', () => {
  it('single-quotes and escapes \\ \' and newline', () => {
    expect(quoteLiteral("' OR 1=1 --")).toBe("'\\' OR 1=1 --'");
    expect(quoteLiteral('a\\')).toBe("'a\\\\'");
    expect(quoteLiteral('line1\nline2')).toBe("'line1\\nline2'");
    expect(quoteLiteral('say "hi"')).toBe("'say \"hi\"'");
    expect(quoteLiteral('')).toBe("''");
    expect(quoteLiteral('température 😀')).toBe("'température 😀'");
    expect(escapeString("it's \\ fine")).toBe("it\\'s \\\\ fine");
  });

  it('hostile values stay inside one literal', () => {
    for (const s of [...HOSTILE, 'a\nb']) {
      expect(tokenize(`SELECT * FROM "m" WHERE "host" = ${quoteLiteral(s)}`), s).toEqual(['SELECT', '*', 'FROM', { ident: 'm' }, 'WHERE', { ident: 'host' }, '=', { str: s }]);
    }
  });

  it('rejects NUL, carriage return and lone surrogates', () => {
    expectQueryError(() => quoteLiteral('a\0'), /must not contain a NUL character/);
    expectQueryError(() => quoteLiteral('a\rb'), /must not contain a carriage return/);
    expectQueryError(() => escapeString('a\r\nb'), /must not contain a carriage return/);
    expectQueryError(() => quoteLiteral('a\uDC00'), /lone UTF-16 surrogate/);
  });

  it('property: the scanner reads quoteLiteral(s) back as exactly s, or s is refused', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        if (/[\r\0]/.test(s) || !s.isWellFormed()) {
          expect(() => quoteLiteral(s)).toThrow(InvalidQueryError);
          return;
        }
        expect(unquote(quoteLiteral(s))).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- other literals ------------------------------------------------------------------------------

describe('quoteLiteral: numbers, booleans, dates', () => {
  it('writes numbers without exponent notation', () => {
    expect(formatNumberLiteral(42)).toBe('42');
    expect(formatNumberLiteral(-1.5)).toBe('-1.5');
    expect(formatNumberLiteral(1.5e-7)).toBe('0.00000015');
    expect(formatNumberLiteral(-1.5e-7)).toBe('-0.00000015');
    expect(formatNumberLiteral(1.234e-5)).toBe('0.00001234');
    expect(formatNumberLiteral(5e-324)).toBe(`0.${'0'.repeat(323)}5`);
    expect(formatNumberLiteral(1e20)).toBe('100000000000000000000.0');
    expect(formatNumberLiteral(1.5e300)).toBe(`15${'0'.repeat(299)}.0`);
    expect(formatNumberLiteral(-0)).toBe('0');
    expect(formatNumberLiteral(0)).toBe('0');
    expect(quoteLiteral(0.64)).toBe('0.64');
  });

  it('writes floats of 2^63 and beyond with ".0" (influxd cannot read them as integers)', () => {
    expect(formatNumberLiteral(1e21)).toBe('1000000000000000000000.0');
    expect(formatNumberLiteral(-1e21)).toBe('-1000000000000000000000.0');
    expect(formatNumberLiteral(2 ** 63)).toBe('9223372036854776000.0');
    expect(formatNumberLiteral(2 ** 62)).toBe('4611686018427388000');
  });

  it('writes bigints as integers within what the parser reads, and refuses others', () => {
    expect(quoteLiteral(123n)).toBe('123');
    expect(formatNumberLiteral(-(2n ** 63n))).toBe('-9223372036854775808');
    expect(formatNumberLiteral(2n ** 64n - 1n)).toBe('18446744073709551615');
    expectQueryError(() => formatNumberLiteral(-(2n ** 63n) - 1n), /outside the range of an InfluxQL integer literal/);
    expectQueryError(() => formatNumberLiteral(2n ** 64n), /outside the range of an InfluxQL integer literal/);
  });

  it('refuses NaN and ±Infinity', () => {
    expectQueryError(() => quoteLiteral(Number.NaN), /NaN cannot be written in InfluxQL \(numbers must be finite\)/);
    expectQueryError(() => quoteLiteral(Infinity), /Infinity cannot be written/);
    expectQueryError(() => formatNumberLiteral(-Infinity), /-Infinity cannot be written/);
  });

  it('property: for any finite double, Number(formatNumberLiteral(x)) === x and there is no exponent', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = formatNumberLiteral(x);
        expect(s).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Number(s) === x).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('booleans and dates', () => {
    expect(quoteLiteral(true)).toBe('true');
    expect(quoteLiteral(false)).toBe('false');
    expect(quoteLiteral(new Date('2024-01-01T00:00:00Z'))).toBe("'2024-01-01T00:00:00.000Z'");
    expectQueryError(() => quoteLiteral(new Date('x')), /Invalid Date/);
  });

  it('refuses other types', () => {
    expectQueryError(() => quoteLiteral({} as unknown as string), /cannot quote a object as an InfluxQL literal/);
    expectQueryError(() => quoteLiteral(undefined as unknown as string), /cannot quote a undefined/);
    expectQueryError(() => quoteLiteral(Symbol('s') as unknown as string), /cannot quote a symbol/);
  });
});

describe('checkDuration', () => {
  it('accepts single and combined units', () => {
    for (const d of ['1h30m', '7d', '30s', '1ns', '1u', '1µ', '100ms', '2w', '1d12h', '0s', '1h30m15s500ms']) expect(checkDuration(d)).toBe(d);
  });

  it('turns a number into seconds', () => {
    expect(checkDuration(30)).toBe('30s');
  });

  it('refuses anything else', () => {
    for (const d of ['1 hour', '1h 30m', '', 'h', '1', '1.5h', '-1h', '1y', '1H', '1h;DROP DATABASE x', "1h' OR 1=1", '1us', '1h\n']) {
      expectQueryError(() => checkDuration(d), /is not an InfluxQL duration \(e\.g\. 30s, 1h30m, 7d\)/);
    }
    for (const n of [1.5, -1, Number.NaN]) expectQueryError(() => checkDuration(n), /is not an InfluxQL duration/);
  });
});

// ---- patterns ------------------------------------------------------------------------------------

function render(source: string, args: PatternArgs, defaults?: Record<string, PatternValue | undefined>): string {
  return renderPattern(compilePattern(source), args, defaults);
}

describe('query patterns: field kinds', () => {
  it('{x} is a double-quoted identifier', () => {
    expect(render('SHOW TAG KEYS FROM {m}', ['cpu'])).toBe('SHOW TAG KEYS FROM "cpu"');
    expect(render('SHOW TAG KEYS FROM {m}', ['x"; DROP DATABASE "y'])).toBe('SHOW TAG KEYS FROM "x\\"; DROP DATABASE \\"y"');
    expect(render('SHOW TAG KEYS FROM {m:ident}', ['a\\'])).toBe('SHOW TAG KEYS FROM "a\\\\"');
  });

  it('"{x}" is escaped as an identifier inside the pattern\'s own quotes', () => {
    expect(render('DROP DATABASE "{db}"', ['x"; DROP DATABASE "y'])).toBe('DROP DATABASE "x\\"; DROP DATABASE \\"y"');
  });

  it('\'{x}\' is escaped as a string literal inside the pattern\'s own quotes', () => {
    expect(render("SELECT * FROM \"m\" WHERE \"host\" = '{h}'", ["' OR 1=1 --"])).toBe("SELECT * FROM \"m\" WHERE \"host\" = '\\' OR 1=1 --'");
  });

  it('{x:literal} quotes by type', () => {
    const p = 'SELECT * FROM "m" WHERE "v" = {v:literal}';
    expect(render(p, ['a\'b'])).toBe('SELECT * FROM "m" WHERE "v" = \'a\\\'b\'');
    expect(render(p, [1e21])).toBe('SELECT * FROM "m" WHERE "v" = 1000000000000000000000.0');
    expect(render(p, [5n])).toBe('SELECT * FROM "m" WHERE "v" = 5');
    expect(render(p, [true])).toBe('SELECT * FROM "m" WHERE "v" = true');
    // A Date as the last argument is a value, not the named-values object.
    expect(render(p, [new Date(0)])).toBe('SELECT * FROM "m" WHERE "v" = \'1970-01-01T00:00:00.000Z\'');
  });

  it('{x:string} and {x:number} take only their own kind', () => {
    expect(render('x = {s:string}', ['a'])).toBe("x = 'a'");
    expect(render('x > {n:number}', [1.5e-7])).toBe('x > 0.00000015');
    expect(render('x > {n:number}', [7n])).toBe('x > 7');
    expectQueryError(() => render('x = {s:string}', [1]), /query pattern field \{s\} must be a string \(got number\)/);
    expectQueryError(() => render('x > {n:number}', ['1; DROP DATABASE x']), /query pattern field \{n\} must be a number \(got string\)/);
    expectQueryError(() => render('x > {n:number}', [Number.NaN]), /must be finite/);
  });

  it('{x:duration} takes valid durations only', () => {
    expect(render('WHERE time > now() - {d:duration}', ['1h30m'])).toBe('WHERE time > now() - 1h30m');
    expect(render('WHERE time > now() - {d:duration}', [90])).toBe('WHERE time > now() - 90s');
    expectQueryError(() => render('WHERE time > now() - {d:duration}', ['1 hour']), /"1 hour" is not an InfluxQL duration/);
    expectQueryError(() => render('WHERE time > now() - {d:duration}', [true]), /query pattern field \{d\} must be a duration \(got boolean\)/);
  });

  it('names must be strings; quoted-string fields must be strings', () => {
    expectQueryError(() => render('FROM {m}', [1]), /query pattern field \{m\} is a name and must be a string \(got number\)/);
    expectQueryError(() => render('FROM "{m}"', [true]), /is a name and must be a string \(got boolean\)/);
    expectQueryError(() => render("= '{v}'", [1]), /query pattern field \{v\} must be a string \(got number\)/);
    expectQueryError(() => render('FROM {m}', ['a\nb']), /must not contain a newline/);
  });

  it('{{ and }} are literal braces', () => {
    expect(render('a {{b}} {{{x}}}', ['y'])).toBe('a {b} {"y"}');
    expect(compilePattern('{{}}').fields).toEqual([]);
  });

  it('property: hostile values never change the token structure of a statement', () => {
    const p = compilePattern('SELECT * FROM {m} WHERE "host" = {v:literal} AND x = \'{w}\' AND "{y}" = 1');
    const accepted = (s: string) => s.length > 0 && !/[\n\r\0]/.test(s) && s.isWellFormed();
    fc.assert(
      fc.property(hostileString.filter(accepted), hostileString.filter((s) => !/[\r\0]/.test(s) && s.isWellFormed()), hostileString.filter((s) => !/[\r\0]/.test(s) && s.isWellFormed()), hostileString.filter(accepted), (m, v, w, y) => {
        const q = renderPattern(p, [{ m, v, w, y }]);
        expect(tokenize(q)).toEqual(['SELECT', '*', 'FROM', { ident: m }, 'WHERE', { ident: 'host' }, '=', { str: v }, 'AND', 'x', '=', { str: w }, 'AND', { ident: y }, '=', '1']);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('query patterns: arguments', () => {
  const seed = 'SHOW TAG VALUES FROM {measurement} WITH KEY = {key}';

  it('mixes positional and named values as in aioinflux', () => {
    expect(render(seed, ['bar', { key: 'spam' }])).toBe('SHOW TAG VALUES FROM "bar" WITH KEY = "spam"');
    expect(render(seed, ['bar', 'spam'])).toBe('SHOW TAG VALUES FROM "bar" WITH KEY = "spam"');
    expect(render(seed, [{ key: 'spam', measurement: 'bar' }])).toBe('SHOW TAG VALUES FROM "bar" WITH KEY = "spam"');
    // Positional values fill the fields that named values leave, in order.
    expect(render(seed, ['spam', { measurement: 'bar' }])).toBe('SHOW TAG VALUES FROM "bar" WITH KEY = "spam"');
  });

  it('lists fields once, in order of first appearance; a repeated field takes one value', () => {
    const p = compilePattern('{b} {a} {b:literal}');
    expect(p.fields).toEqual(['b', 'a']);
    expect(renderPattern(p, ['x', 'y'])).toBe(`"x" "y" 'x'`);
  });

  it('uses defaults for fields left unset; given values win', () => {
    const p = 'SHOW MEASUREMENTS ON {database}';
    expect(render(p, [], { database: 'mydb' })).toBe('SHOW MEASUREMENTS ON "mydb"');
    expect(render(p, ['other'], { database: 'mydb' })).toBe('SHOW MEASUREMENTS ON "other"');
    expect(render(p, [{ database: 'named' }], { database: 'mydb' })).toBe('SHOW MEASUREMENTS ON "named"');
    // undefined, positional or named, means "not given".
    expect(render(p, [undefined], { database: 'mydb' })).toBe('SHOW MEASUREMENTS ON "mydb"');
    expect(render(p, [{ database: undefined }], { database: 'mydb' })).toBe('SHOW MEASUREMENTS ON "mydb"');
  });

  it('a missing value is an error naming the field', () => {
    expectQueryError(() => render(seed, ['bar']), /query pattern "SHOW TAG VALUES FROM \{measurement\} WITH KEY = \{key\}": no value for \{key\}/);
    expectQueryError(() => render('SHOW MEASUREMENTS ON {database}', [], { database: undefined }), /no value for \{database\}/);
  });

  it('a field named like an Object.prototype member does not take its default from the prototype', () => {
    expectQueryError(() => render('FROM {constructor}', []), /no value for \{constructor\}/);
    expectQueryError(() => render('FROM {toString}', [], {}), /no value for \{toString\}/);
  });

  it('too many positional values', () => {
    expectQueryError(() => render(seed, ['a', 'b', 'c']), /takes 2 value\(s\), got 3 positional/);
    expectQueryError(() => render(seed, ['a', 'b', { key: 'k' }]), /takes 2 value\(s\), got 2 positional/);
  });

  it('an unknown named key', () => {
    expectQueryError(() => render(seed, ['bar', { kee: 'spam' }]), /query pattern ".*" has no field \{kee\}/);
  });

  it('named values anywhere but last', () => {
    expectQueryError(() => render(seed, [{ key: 'spam' }, 'bar']), /named values must come last, in one object/);
  });
});

describe('query patterns: syntax errors', () => {
  it('an unmatched }', () => {
    expectQueryError(() => compilePattern('SHOW } x'), /unmatched "}" at 5 \(write }} for a literal brace\)/);
  });

  it('an unclosed {', () => {
    expectQueryError(() => compilePattern('SHOW {x'), /unclosed "\{" at 5/);
  });

  it('bad field names', () => {
    for (const p of ['{}', '{1x}', '{a b}', '{a-b}', '{:ident}', '{a{b}']) expectQueryError(() => compilePattern(p), /bad field name/);
  });

  it('unknown or malformed kinds', () => {
    expectQueryError(() => compilePattern('{x:raw}'), /unknown field kind "raw" \(use ident, literal, string, number, duration\)/);
    expectQueryError(() => compilePattern('{x:}'), /unknown field kind ""/);
    expectQueryError(() => compilePattern('{x:ident:literal}'), /bad field \{x:ident:literal\} \(one ":kind" at most\)/);
  });

  it('a pattern that is not a string', () => {
    expectQueryError(() => compilePattern(5 as unknown as string), /a query pattern must be a string \(got number\)/);
  });
});

describe('query patterns: fields escaped for the quotes they stand in', () => {
  const hostile = "x' OR 1=1 -- \" \\";
  it('escapes a field anywhere inside single quotes as a string literal', () => {
    const p = compilePattern("SELECT v FROM m WHERE host = 'prefix-{x}-suffix'");
    expect(renderPattern(p, [hostile])).toBe("SELECT v FROM m WHERE host = 'prefix-x\\' OR 1=1 -- \" \\\\-suffix'");
  });
  it('escapes a field anywhere inside double quotes as an identifier', () => {
    const p = compilePattern('SELECT v FROM "cpu_{x}"');
    expect(renderPattern(p, [hostile])).toBe('SELECT v FROM "cpu_x\' OR 1=1 -- \\" \\\\"');
  });
  it('keeps track of escaped quotes inside literals', () => {
    const p = compilePattern("SELECT v FROM m WHERE a = 'it\\'s' AND b = {y:literal}");
    expect(renderPattern(p, [{ y: "o'k" }])).toBe("SELECT v FROM m WHERE a = 'it\\'s' AND b = 'o\\'k'");
  });
  it('refuses a field inside a regex literal', () => {
    expectQueryError(() => compilePattern('SELECT v FROM m WHERE host =~ /^{x}$/'), /inside a regex literal/);
    expectQueryError(() => compilePattern('SELECT v FROM /{x}/'), /inside a regex literal/);
  });
  it('treats / outside those places as division', () => {
    expect(renderPattern(compilePattern('SELECT v / 2 FROM {m}'), ['cpu'])).toBe('SELECT v / 2 FROM "cpu"');
  });
  it('refuses an explicit kind inside quotes, and unclosed quotes', () => {
    expectQueryError(() => compilePattern("WHERE a = '{x:number}'"), /stands inside quotes/);
    expectQueryError(() => compilePattern("WHERE a = 'open"), /unclosed quote/);
    expectQueryError(() => compilePattern('WHERE a =~ /open'), /unclosed regex/);
  });
  it('never lets a hostile value add a statement (property)', () => {
    const p = compilePattern("SELECT v FROM {m} WHERE t = 'pre-{t}' AND \"f_{f}\" > {n:number}");
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }).filter((s) => s.length > 0 && !/[\n\r\0]/.test(s)), (s) => {
      const q = renderPattern(p, [s, s, s, 1]);
      // Outside quotes, the statement keeps exactly the pattern's own tokens.
      let outside = '';
      let ctx: string | null = null;
      for (let i = 0; i < q.length; i++) {
        const c = q[i]!;
        if (ctx && c === '\\') { i++; continue; }
        if (!ctx && (c === "'" || c === '"')) ctx = c;
        else if (ctx === c) ctx = null;
        else if (!ctx) outside += c;
      }
      expect(ctx).toBeNull();
      expect(outside).toBe('SELECT v FROM  WHERE t =  AND  > 1');
    }));
  });
});
