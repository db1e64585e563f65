import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExactJson } from '../../../src/query/exact-json.js';

/** A 20-digit integer: its presence forces the hand-written (slow) path. */
const BIG = '12345678901234567890';

/**
 * Strict structural equality: same types, Object.is for numbers (so -0 ≠ 0),
 * identical own-key order, plain objects with Object.prototype whose own
 * properties are ordinary enumerable/writable/configurable data properties.
 */
function expectSame(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected !== 'object' || expected === null) {
    if (!Object.is(actual, expected)) {
      throw new Error(`${path}: expected ${describeValue(expected)}, got ${describeValue(actual)}`);
    }
    return;
  }
  if (typeof actual !== 'object' || actual === null) {
    throw new Error(`${path}: expected an object, got ${describeValue(actual)}`);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new Error(`${path}: expected an array`);
    if (actual.length !== expected.length) throw new Error(`${path}: length ${actual.length} ≠ ${expected.length}`);
    for (let i = 0; i < expected.length; i++) expectSame(actual[i], expected[i], `${path}[${i}]`);
    return;
  }
  if (Array.isArray(actual)) throw new Error(`${path}: expected a plain object, got an array`);
  if (Object.getPrototypeOf(actual) !== Object.prototype) throw new Error(`${path}: prototype is not Object.prototype`);
  const ak = Reflect.ownKeys(actual);
  const ek = Reflect.ownKeys(expected);
  if (JSON.stringify(ak) !== JSON.stringify(ek)) {
    throw new Error(`${path}: keys ${JSON.stringify(ak)} ≠ ${JSON.stringify(ek)}`);
  }
  for (const k of ek as string[]) {
    const d = Object.getOwnPropertyDescriptor(actual, k)!;
    if (!('value' in d) || !d.enumerable || !d.writable || !d.configurable) {
      throw new Error(`${path}.${k}: not an ordinary data property`);
    }
    expectSame(d.value, (expected as Record<string, unknown>)[k], `${path}.${JSON.stringify(k)}`);
  }
}

/** Deep copy replacing each bigint by Number(b) — the correctly rounded double JSON.parse would give. */
function roundBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(roundBigints);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const value = roundBigints((v as Record<string, unknown>)[k]);
    Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/**
 * The result of parsing `text` must equal JSON.parse(text) up to rounding of
 * bigints, and every bigint must be an unsafe integer spelled in the text.
 */
function expectExactParse(actual: unknown, expected: unknown, text: string): void {
  expectSame(roundBigints(actual), expected);
  const visit = (v: unknown): void => {
    if (typeof v === 'bigint') {
      expect(v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)).toBe(true);
      expect(text).toContain(String(v));
    } else if (typeof v === 'object' && v !== null) {
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit(actual);
}

function describeValue(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Object.is(v, -0)) return '-0';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function expectSyntaxErrorWithPosition(text: string): void {
  let caught: unknown;
  try {
    parseExactJson(text);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${JSON.stringify(text)} to throw`).toBeInstanceOf(SyntaxError);
  expect((caught as SyntaxError).message).toMatch(/position \d+/);
}

const jsonValues = fc.jsonValue({ maxDepth: 4 });
const unicodeJsonValues = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });

describe('parseExactJson: agreement with JSON.parse', () => {
  it('matches JSON.parse on arbitrary JSON (fast path or not)', () => {
    fc.assert(
      fc.property(fc.oneof(jsonValues, unicodeJsonValues), fc.constantFrom(undefined, 1, '\t'), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        expectExactParse(parseExactJson(text), JSON.parse(text), text);
      }),
      { numRuns: 500 },
    );
  });

  it('matches JSON.parse on arbitrary JSON forced into the slow path (except the big integer)', () => {
    fc.assert(
      fc.property(
        fc.oneof(jsonValues, unicodeJsonValues),
        fc.constantFrom(undefined, 2, '\r\n'),
        fc.boolean(),
        (v, indent, bigFirst) => {
          const inner = JSON.stringify(v, null, indent);
          const text = bigFirst ? `[${BIG}, ${inner}]` : `[${inner} ,\n${BIG}]`;
          const actual = parseExactJson(text) as unknown[];
          const expected = JSON.parse(text) as unknown[];
          expect(actual).toHaveLength(2);
          expect(actual[bigFirst ? 0 : 1]).toBe(BigInt(BIG));
          expectExactParse(actual[bigFirst ? 1 : 0], expected[bigFirst ? 1 : 0], inner);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches JSON.parse on objects with duplicate and integer-like keys (slow path)', () => {
    const keys = fc.constantFrom('a', 'b', '0', '1', '10', '4294967295', '-1', '__proto__', 'constructor', 'toString', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(keys, fc.oneof(fc.integer(), fc.string(), fc.constant(null)))), (entries) => {
        const body = entries.map(([k, val]) => `${JSON.stringify(k)}:${JSON.stringify(val)}`);
        for (const text of [`{${body.join(',')}}`, `{${[...body, `"big":${BIG}`].join(',')}}`]) {
          const expected = JSON.parse(text) as Record<string, unknown>;
          if (text.includes(BIG)) expected.big = BigInt(BIG);
          expectSame(parseExactJson(text), expected);
        }
      }),
    );
  });

  it('decodes every kind of string escape exactly like JSON.parse', () => {
    // Encode each code unit of an arbitrary string in a randomly chosen legal way.
    const encodedString = fc
      .array(
        fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.nat(3), fc.boolean()),
        { maxLength: 30 },
      )
      .map((parts) => {
        let json = '"';
        for (const [s, how, upper] of parts) {
          for (let i = 0; i < s.length; i++) {
            const ch = s[i]!;
            const cu = s.charCodeAt(i);
            const hex = cu.toString(16).padStart(4, '0');
            const u = `\\u${upper ? hex.toUpperCase() : hex}`;
            if (how === 0 && cu >= 0x20 && ch !== '"' && ch !== '\\') json += ch;
            else if (how === 1 && ch === '/') json += '\\/';
            else if (how === 1 || how === 0) json += JSON.stringify(ch).slice(1, -1);
            else json += u;
          }
        }
        return `${json}"`;
      });
    fc.assert(
      fc.property(encodedString, fc.boolean(), (text, slow) => {
        const doc = slow ? `[${text},${BIG}]` : text;
        const expected = JSON.parse(doc) as unknown;
        const actual = parseExactJson(doc);
        if (slow) {
          expect((actual as unknown[])[0]).toBe((expected as unknown[])[0]);
        } else {
          expect(actual).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('handles specific escapes and surrogates', () => {
    const cases = [
      String.raw`"\"\\\/\b\f\n\r\t"`,
      String.raw`"\ud83d\ude00 \uD83D\uDE00"`, // surrogate pair, both hex cases
      String.raw`"\ud83d"`, // lone high surrogate
      String.raw`"\ude00x"`, // lone low surrogate
      String.raw`"\u0000\u001f\u00e9\u20AC"`,
      '"raw é 😀 \u2028 \u2029 \ud800"', // raw non-ASCII, line separators, lone surrogate
      '"a\\u0041b\\nc"',
    ];
    for (const c of cases) {
      expect(parseExactJson(c)).toBe(JSON.parse(c));
      expect((parseExactJson(`[${c},${BIG}]`) as unknown[])[0]).toBe(JSON.parse(c));
    }
  });

  it('agrees with JSON.parse on validity for mutated (often invalid) texts', () => {
    const junk = fc.constantFrom(...'{}[],:"\\/0123456789.eE+- \t\ntfnlrsu'.split(''), 'true', 'null', '\\u12', '\u0001');
    fc.assert(
      fc.property(jsonValues, fc.array(fc.tuple(fc.nat(), fc.nat(2), junk), { minLength: 1, maxLength: 3 }), (v, edits) => {
        let inner = JSON.stringify(v);
        for (const [at, op, s] of edits) {
          const i = inner.length === 0 ? 0 : at % (inner.length + 1);
          if (op === 0) inner = inner.slice(0, i) + s + inner.slice(i);
          else if (op === 1) inner = inner.slice(0, i) + inner.slice(i + 1);
          else inner = inner.slice(0, i) + s + inner.slice(i + 1);
        }
        for (const text of [inner, `[${BIG},${inner}]`]) {
          let expected: unknown;
          let jsonError = false;
          try {
            expected = JSON.parse(text);
          } catch {
            jsonError = true;
          }
          if (jsonError) {
            expectSyntaxErrorWithPosition(text);
          } else {
            expectExactParse(parseExactJson(text), expected, text);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseExactJson: integers', () => {
  it('returns unsafe integers as exact bigints and safe ones as numbers', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
          fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
          fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
        ),
        (b) => {
          const safe = b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER);
          const expected = safe ? Number(b) : b;
          expect(parseExactJson(String(b))).toBe(expected);
          expect(parseExactJson(` [ ${b} ] `)).toEqual([expected]);
          expect(parseExactJson(`{"v":${b}}`)).toEqual({ v: expected });
          expect(parseExactJson(`[${b},"x",${BIG}]`)).toEqual([expected, 'x', BigInt(BIG)]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('handles the safe-integer and int64 boundaries', () => {
    const max = 2n ** 53n - 1n;
    const cases: [string, number | bigint][] = [
      [String(max), Number.MAX_SAFE_INTEGER],
      [String(max + 1n), max + 1n],
      [String(max + 2n), max + 2n],
      [String(-max), Number.MIN_SAFE_INTEGER],
      [String(-max - 1n), -max - 1n],
      [String(-max - 2n), -max - 2n],
      ['9999999999999999', 9999999999999999n],
      ['1000000000000000', 1e15],
      ['-1000000000000000', -1e15],
      [String(2n ** 63n), 2n ** 63n],
      [String(-(2n ** 63n)), -(2n ** 63n)],
      ['9223372036854775807', 9223372036854775807n],
      ['-9223372036854775808', -9223372036854775808n],
      ['18446744073709551615', 18446744073709551615n],
      ['0', 0],
      ['-1', -1],
    ];
    for (const [text, expected] of cases) {
      expect(parseExactJson(text), text).toBe(expected);
      expect(parseExactJson(`[${text},${BIG}]`), text).toEqual([expected, BigInt(BIG)]);
    }
  });

  it('keeps non-integer number forms as JSON.parse gives them', () => {
    const cases = [
      '1.0',
      '-0',
      '-0.0',
      '0e0',
      '1e2',
      '1E+2',
      '1e-2',
      '12345678901234567890.5',
      '12345678901234567890e0',
      '9007199254740993.0',
      '1e400',
      '-1e400',
      '1e-400',
      '-1e-400',
      '123456789012345678901234567890e-10',
      '0.1234567890123456789',
    ];
    for (const text of cases) {
      const expected = JSON.parse(text) as number;
      expect(typeof parseExactJson(text)).toBe('number');
      expect(Object.is(parseExactJson(text), expected), text).toBe(true);
      const slow = parseExactJson(`[${text},${BIG}]`) as unknown[];
      expect(Object.is(slow[0], expected), text).toBe(true);
    }
  });

  it('leaves digit runs inside strings alone', () => {
    expect(parseExactJson('"12345678901234567890"')).toBe('12345678901234567890');
    expect(parseExactJson(`{"12345678901234567890":"${BIG}","n":${BIG}}`)).toEqual({
      '12345678901234567890': BIG,
      n: BigInt(BIG),
    });
    expect(parseExactJson(`["\\u0031${BIG}", "a\\n${BIG}"]`)).toEqual([`1${BIG}`, `a\n${BIG}`]);
  });
});

describe('parseExactJson: objects', () => {
  it('makes "__proto__" an own property without touching the prototype', () => {
    for (const text of [
      '{"__proto__":{"polluted":1},"a":1}',
      `{"__proto__":{"polluted":1},"a":${BIG}}`,
      `{"a":${BIG},"__proto__":[1],"__proto__":{"polluted":2}}`,
      `[{"x":{"__proto__":null,"y":${BIG}}}]`,
    ]) {
      const expected = JSON.parse(text.replaceAll(BIG, '0')) as unknown;
      const actual = parseExactJson(text);
      const normalized = JSON.parse(JSON.stringify(actual, (_k, v: unknown) => (typeof v === 'bigint' ? 0 : v)));
      expectSame(normalized, expected);
      expectSame(parseExactJson(text.replaceAll(BIG, '0')), expected);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    const obj = parseExactJson(`{"__proto__":{"polluted":1},"a":${BIG}}`) as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(['__proto__', 'a']);
    expect(obj.polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value).toEqual({ polluted: 1 });
  });

  it('lets the last duplicate key win, keeping first-occurrence order', () => {
    const obj = parseExactJson(`{"a":1,"b":2,"a":${BIG},"c":3}`) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['a', 'b', 'c']);
    expect(obj.a).toBe(BigInt(BIG));
  });
});

describe('parseExactJson: errors', () => {
  const invalid = [
    '',
    ' ',
    '[1,]',
    '[,1]',
    '[1 2]',
    '{"a" 1}',
    '{"a":1,}',
    '{a:1}',
    "{'a':1}",
    '{"a":1',
    '[1',
    '[',
    '{',
    '01',
    '-01',
    '-',
    '+1',
    '1.',
    '.5',
    '1e',
    '1e+',
    '0x10',
    'NaN',
    'Infinity',
    '"\\x"',
    '"\\u12"',
    '"\\u12g4"',
    '"\\',
    '"abc',
    '"a\u0001b"',
    '"tab\there"',
    '[1] x',
    '{} {}',
    'tru',
    'nul',
    'falsy',
    'True',
    '\ufeff1',
    '\u00a01',
  ];

  it.each(invalid)('rejects %j with a positioned SyntaxError (fast and slow path)', (text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError); // sanity: really invalid
    expectSyntaxErrorWithPosition(text);
    for (const wrapped of [`[${BIG},${text}]`, `[${text},${BIG}]`]) {
      expect(() => JSON.parse(wrapped)).toThrow(SyntaxError);
      expectSyntaxErrorWithPosition(wrapped);
    }
  });

  it('reports the offending position', () => {
    expect(() => parseExactJson(`[${BIG},]`)).toThrow(/position 22/);
    expect(() => parseExactJson(`{"a" ${BIG}}`)).toThrow(/position 5/);
    expect(() => parseExactJson('[1,]')).toThrow(/position 3/);
    expect(() => parseExactJson(`[${BIG}] x`)).toThrow(/position 23/);
  });
});

describe('parseExactJson: robustness', () => {
  it('parses very deep nesting without overflowing the stack', () => {
    const depth = 200_000;
    const text = '['.repeat(depth) + BIG + ']'.repeat(depth);
    let v = parseExactJson(text);
    let arrays = 0;
    while (Array.isArray(v) && v.length === 1) {
      arrays++;
      v = v[0];
    }
    expect(arrays).toBe(depth);
    expect(v).toBe(BigInt(BIG));
    const objText = '{"a":'.repeat(depth) + BIG + '}'.repeat(depth);
    let o = parseExactJson(objText);
    for (let i = 0; i < depth; i++) o = (o as Record<string, unknown>).a;
    expect(o).toBe(BigInt(BIG));
    expectSyntaxErrorWithPosition('['.repeat(depth) + BIG);
  });

  it('produces compact arrays equal to JSON.parse results for large inputs', () => {
    const rows: string[] = [];
    for (let i = 0; i < 2000; i++) rows.push(`[${1704067200001000000n + BigInt(i)},${i / 7},${i},"ok","host-${i % 10}"]`);
    const text = `{"values":[${rows.join(',')}]}`;
    const values = (parseExactJson(text) as { values: unknown[][] }).values;
    expect(values).toHaveLength(2000);
    for (let i = 0; i < 2000; i++) {
      expect(values[i]).toEqual([1704067200001000000n + BigInt(i), i / 7, i, 'ok', `host-${i % 10}`]);
    }
  });
});

describe('parseExactJson: InfluxDB responses', () => {
  it('parses a realistic /query response exactly', () => {
    const body =
      '{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"server01"},"columns":["time","v","n","s","b"],' +
      '"values":[[1704067200001000001,0.5,9223372036854775807,"ok",true],[1704067200001000002,1,-9223372036854775808,"12345678901234567890",false],' +
      '[1704067200001000003,-2.5e-7,42,null,null]]}]},{"statement_id":1,"error":"database not found: x"}]}';
    expect(parseExactJson(body)).toStrictEqual({
      results: [
        {
          statement_id: 0,
          series: [
            {
              name: 'cpu',
              tags: { host: 'server01' },
              columns: ['time', 'v', 'n', 's', 'b'],
              values: [
                [1704067200001000001n, 0.5, 9223372036854775807n, 'ok', true],
                [1704067200001000002n, 1, -9223372036854775808n, '12345678901234567890', false],
                [1704067200001000003n, -2.5e-7, 42, null, null],
              ],
            },
          ],
        },
        { statement_id: 1, error: 'database not found: x' },
      ],
    });
  });

  it('uses plain JSON.parse results when no integer can be unsafe', () => {
    const body = '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[["2024-01-01T00:00:00Z",1.5],[1704067200001,123456789012345]]}]}]}';
    expectSame(parseExactJson(body), JSON.parse(body));
  });
});
