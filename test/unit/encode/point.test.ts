/**
 * Point objects to line protocol (src/encode/point-encoder.ts through src/encode/encode.ts):
 * formatting of every value type, tags, options, and every rejection with its location.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, type EncodeOptions } from '../../../src/encode/encode.js';
import { formatFloat, PointEncoder, type Point } from '../../../src/encode/point-encoder.js';
import { InvalidPointError, type PointElement } from '../../../src/errors.js';

/** The one line `encode()` produces for a single point, without its newline. */
function line(point: Point, options: EncodeOptions = {}): string {
  const out = encode(point, options).toString();
  expect(out.endsWith('\n')).toBe(true);
  expect(out.indexOf('\n')).toBe(out.length - 1);
  return out.slice(0, -1);
}

/** The field set of a one-field point `m v=<value> 0`. */
function fieldText(value: unknown, options: EncodeOptions = {}): string {
  const l = line({ measurement: 'm', fields: { v: value as number }, time: 0 }, options);
  const m = /^m v=(.*) 0$/s.exec(l);
  expect(m, l).not.toBeNull();
  return m![1]!;
}

interface Where {
  pointIndex?: number;
  element: PointElement;
  key?: string | undefined;
  reason: RegExp;
}

/** Expects `fn` to throw an InvalidPointError at the given place. */
function expectPointError(fn: () => unknown, where: Where): InvalidPointError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an InvalidPointError').toBeInstanceOf(InvalidPointError);
  const e = caught as InvalidPointError;
  expect(e.code).toBe('FI_ERR_INVALID_POINT');
  expect(e.pointIndex).toBe(where.pointIndex ?? 0);
  expect(e.element).toBe(where.element);
  expect(e.key).toBe(where.key);
  expect(e.reason).toMatch(where.reason);
  expect(e.message).toContain(`invalid point #${where.pointIndex ?? 0}: `);
  return e;
}

/** Encodes one point that must be refused. */
const bad = (point: unknown, options: EncodeOptions = {}) => () => encode(point as Point, options);

describe('line layout', () => {
  it('measurement, sorted tags, fields in input order, time', () => {
    expect(line({ measurement: 'cpu', tags: { z: '1', a: '2', m: '3' }, fields: { b: 1, a: 2 }, time: 5 })).toBe('cpu,a=2,m=3,z=1 b=1,a=2 5');
  });

  it('sorts tag keys by code unit (upper case before lower case)', () => {
    expect(line({ measurement: 'm', tags: { b: 'x', B: 'y', a: 'z', _: 'w' }, fields: { v: 1 }, time: 0 })).toBe('m,B=y,_=w,a=z,b=x v=1 0');
  });

  it('escapes each element by its own rules', () => {
    expect(line({ measurement: 'my m,x=y', tags: { 'tag key,=': 'tag val,= "q"' }, fields: { 'field key,=': 'say "hi" \\o/, a=b' }, time: 0 }))
      .toBe('my\\ m\\,x=y,tag\\ key\\,\\==tag\\ val\\,\\=\\ "q" field\\ key\\,\\=="say \\"hi\\" \\\\o/, a=b" 0');
  });

  it('omits empty, null and undefined tag values (influxd refuses an empty tag value)', () => {
    expect(line({ measurement: 'm', tags: { a: '', b: null, c: undefined, d: 'x' }, fields: { v: 1 }, time: 0 })).toBe('m,d=x v=1 0');
    expect(line({ measurement: 'm', tags: { a: '', b: null }, fields: { v: 1 }, time: 0 })).toBe('m v=1 0');
    expect(line({ measurement: 'm', tags: {}, fields: { v: 1 }, time: 0 })).toBe('m v=1 0');
  });

  it('writes number, bigint and boolean tag values as their text', () => {
    expect(line({ measurement: 'm', tags: { n: 1.5, b: 2n, t: true }, fields: { v: 1 }, time: 0 })).toBe('m,b=2,n=1.5,t=true v=1 0');
  });

  it('omits null and undefined fields', () => {
    expect(line({ measurement: 'm', fields: { a: null, b: 1, c: undefined, d: 2 }, time: 0 })).toBe('m b=1,d=2 0');
  });

  it('takes the measurement from the options when the point has none; the point\'s own wins', () => {
    expect(line({ fields: { v: 1 }, time: 0 }, { measurement: 'dflt' })).toBe('dflt v=1 0');
    expect(line({ measurement: 'own', fields: { v: 1 }, time: 0 }, { measurement: 'dflt' })).toBe('own v=1 0');
  });

  it('merges extra tags; a point\'s own non-empty tag of the same key wins', () => {
    const opts = { tags: { region: 'eu', host: 'default', dc: '' } };
    expect(line({ measurement: 'm', tags: { host: 'mine' }, fields: { v: 1 }, time: 0 }, opts)).toBe('m,host=mine,region=eu v=1 0');
    expect(line({ measurement: 'm', fields: { v: 1 }, time: 0 }, opts)).toBe('m,host=default,region=eu v=1 0');
    // An empty or null own tag means "no tag", so the extra tag applies.
    expect(line({ measurement: 'm', tags: { host: '' }, fields: { v: 1 }, time: 0 }, opts)).toBe('m,host=default,region=eu v=1 0');
    expect(line({ measurement: 'm', tags: { host: null }, fields: { v: 1 }, time: 0 }, opts)).toBe('m,host=default,region=eu v=1 0');
  });

  it('extra tags named like Object.prototype members are not mistaken for the point\'s own', () => {
    expect(line({ measurement: 'm', tags: {}, fields: { v: 1 }, time: 0 }, { tags: { constructor: 'c', toString: 't' } })).toBe('m,constructor=c,toString=t v=1 0');
  });

  it('encodes many points, one line each, in order', () => {
    const points: Point[] = [1, 2, 3].map((i) => ({ measurement: 'm', tags: { i: String(i) }, fields: { v: i }, time: i }));
    expect(encode(points).toString()).toBe('m,i=1 v=1 1\nm,i=2 v=2 2\nm,i=3 v=3 3\n');
  });

  it('the same encoder reuses its scratch arrays without leaking tags between points', () => {
    const enc = new PointEncoder({ precision: 'n' });
    expect(enc.encode({ measurement: 'm', tags: { a: '1', b: '2', c: '3' }, fields: { v: 1 }, time: 0 }, 0)).toBe('m,a=1,b=2,c=3 v=1 0');
    expect(enc.encode({ measurement: 'm', tags: { b: '9' }, fields: { v: 1 }, time: 0 }, 1)).toBe('m,b=9 v=1 0');
    expect(enc.encode({ measurement: 'm', fields: { v: 1 }, time: 0 }, 2)).toBe('m v=1 0');
  });
});

describe('field values', () => {
  it('booleans are true/false, never quoted', () => {
    expect(fieldText(true)).toBe('true');
    expect(fieldText(false)).toBe('false');
  });

  it('strings are double-quoted with " and \\ escaped', () => {
    expect(fieldText('plain')).toBe('"plain"');
    expect(fieldText('')).toBe('""');
    expect(fieldText('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(fieldText('true')).toBe('"true"');
  });

  it('floats use the shortest round-trip form', () => {
    expect(fieldText(0.64)).toBe('0.64');
    expect(fieldText(1)).toBe('1');
    expect(fieldText(-1.5)).toBe('-1.5');
    expect(fieldText(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(fieldText(1e21)).toBe('1e+21');
    expect(fieldText(1e-7)).toBe('1e-7');
    expect(fieldText(5e-324)).toBe('5e-324');
    expect(fieldText(Number.MAX_VALUE)).toBe('1.7976931348623157e+308');
    expect(fieldText(-0)).toBe('-0');
    expect(fieldText(0)).toBe('0');
    expect(formatFloat(-0)).toBe('-0');
  });

  it('bigints are integers with the i suffix, over the whole int64 range', () => {
    expect(fieldText(123n)).toBe('123i');
    expect(fieldText(-5n)).toBe('-5i');
    expect(fieldText(9223372036854775807n)).toBe('9223372036854775807i');
    expect(fieldText(-9223372036854775808n)).toBe('-9223372036854775808i');
  });

  it('fieldTypes integer writes numbers with the i suffix', () => {
    expect(fieldText(5, { fieldTypes: { v: 'integer' } })).toBe('5i');
    expect(fieldText(-0, { fieldTypes: { v: 'integer' } })).toBe('0i');
    expect(fieldText(Number.MAX_SAFE_INTEGER, { fieldTypes: { v: 'integer' } })).toBe('9007199254740991i');
    expect(fieldText(123n, { fieldTypes: { v: 'integer' } })).toBe('123i');
    expect(fieldText(5, { fieldTypes: { v: 'float' } })).toBe('5');
    expect(fieldText(5, { fieldTypes: { other: 'integer' } })).toBe('5');
  });

  it('a field named like an Object.prototype member is not "declared" by fieldTypes', () => {
    const l = line({ measurement: 'm', fields: { constructor: 1.5, toString: 'x', n: 5 }, time: 0 }, { fieldTypes: { n: 'integer' } });
    expect(l).toBe('m constructor=1.5,toString="x",n=5i 0');
  });

  it('strings with newlines are written only with allowNewlinesInStrings', () => {
    // The whole line stays one item of the body: the newline sits inside the quotes.
    expect(encode({ measurement: 'm', fields: { s: 'a\nb\r' }, time: 0 }, { allowNewlinesInStrings: true }).toString()).toBe('m s="a\nb\r" 0\n');
  });

  it('a string of exactly 64 KB is accepted (65536 bytes, also in multi-byte characters)', () => {
    expect(fieldText('a'.repeat(65536))).toHaveLength(65538);
    expect(Buffer.byteLength(fieldText('é'.repeat(32768)))).toBe(65538);
  });

  it('property: any finite double is written so that Number(text) gives it back exactly (including -0)', () => {
    const enc = new PointEncoder({ precision: 'n' });
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const l = enc.encode({ measurement: 'm', fields: { v: x }, time: 0 }, 0);
        const text = /^m v=(\S+) 0$/.exec(l!)![1]!;
        expect(text).not.toMatch(/i$/);
        expect(Object.is(Number(text), x)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('property: any int64 bigint is written as <digits>i and reads back exactly', () => {
    const enc = new PointEncoder({ precision: 'n' });
    fc.assert(
      fc.property(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), (x) => {
        const text = /^m v=(\S+) 0$/.exec(enc.encode({ measurement: 'm', fields: { v: x }, time: 0 }, 0)!)![1]!;
        expect(text).toMatch(/^-?\d+i$/);
        expect(BigInt(text.slice(0, -1))).toBe(x);
      }),
    );
  });
});

describe('times', () => {
  it('numbers and bigints are written as given (in the write precision)', () => {
    expect(line({ measurement: 'm', fields: { v: 1 }, time: 1257894000 }, { precision: 's' })).toBe('m v=1 1257894000');
    expect(line({ measurement: 'm', fields: { v: 1 }, time: 1257894000000000000n })).toBe('m v=1 1257894000000000000');
    expect(line({ measurement: 'm', fields: { v: 1 }, time: -5 })).toBe('m v=1 -5');
  });

  it('a point without a time gets the current time; two such points never share a timestamp', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const out = encode([{ measurement: 'm', fields: { v: 1 } }, { measurement: 'm', fields: { v: 2 }, time: null }]).toString().trim().split('\n');
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    const t = out.map((l) => BigInt(l.split(' ')[2]!));
    expect(t[0]! >= before - 5_000_000n && t[0]! <= after).toBe(true);
    expect(t[1]! > t[0]!).toBe(true);
  });

  it('a point without a time in precision s gets the current second', () => {
    const s = Math.floor(Date.now() / 1000);
    const t = Number(line({ measurement: 'm', fields: { v: 1 } }, { precision: 's' }).split(' ')[2]);
    expect(t === s || t === s + 1).toBe(true);
  });
});

describe('rejections: values', () => {
  it('NaN and ±Infinity', () => {
    for (const v of [Number.NaN, Infinity, -Infinity]) {
      expectPointError(bad({ measurement: 'm', fields: { ok: 1, v } }), { element: 'fields', key: 'v', reason: /InfluxDB floats must be finite/ });
    }
  });

  it('names the 3rd point of an array as #2', () => {
    const points = [
      { measurement: 'm', fields: { v: 1 } },
      { measurement: 'm', fields: { v: 2 } },
      { measurement: 'm', fields: { v: Number.NaN } },
      { measurement: 'm', fields: { v: 4 } },
    ];
    const e = expectPointError(() => encode(points), { pointIndex: 2, element: 'fields', key: 'v', reason: /NaN cannot be written/ });
    expect(e.message).toBe('invalid point #2: field "v": NaN cannot be written: InfluxDB floats must be finite');
  });

  it('counts raw line-protocol items when numbering points', () => {
    expectPointError(() => encode(['m v=1 1', Buffer.from('m v=2 2'), { measurement: 'm', fields: { v: Infinity } }]), {
      pointIndex: 2, element: 'fields', key: 'v', reason: /Infinity/,
    });
  });

  it('an empty field set, and one where every field is null or undefined', () => {
    expectPointError(bad({ measurement: 'm', fields: {} }), { element: 'fields', reason: /no field with a value/ });
    expectPointError(bad({ measurement: 'm', fields: { a: null, b: undefined } }), { element: 'fields', reason: /no field with a value/ });
  });

  it('missing or non-object fields', () => {
    expectPointError(bad({ measurement: 'm' }), { element: 'fields', reason: /a point needs at least one field/ });
    expectPointError(bad({ measurement: 'm', fields: null }), { element: 'fields', reason: /a point needs at least one field/ });
    expectPointError(bad({ measurement: 'm', fields: 5 }), { element: 'fields', reason: /a point needs at least one field/ });
  });

  it('a point that is not an object', () => {
    expectPointError(() => encode([null as unknown as Point]), { element: 'point', reason: /must be an object with fields \(got null\)/ });
    expectPointError(() => encode([42 as unknown as Point]), { element: 'point', reason: /got number/ });
  });

  it('nested iterables', () => {
    expectPointError(() => encode([[{ measurement: 'm', fields: { v: 1 } }]] as unknown as Point[]), { element: 'point', reason: /nested iterables/ });
  });

  it('lone surrogates in string values', () => {
    expectPointError(bad({ measurement: 'm', fields: { s: 'a\uD800b' } }), { element: 'fields', key: 's', reason: /lone UTF-16 surrogate/ });
    expectPointError(bad({ measurement: 'm', fields: { s: '\uDC00' } }), { element: 'fields', key: 's', reason: /lone UTF-16 surrogate/ });
  });

  it('newlines in string values by default', () => {
    expectPointError(bad({ measurement: 'm', fields: { s: 'a\nb' } }), { element: 'fields', key: 's', reason: /contains a newline; pass allowNewlinesInStrings: true/ });
    expectPointError(bad({ measurement: 'm', fields: { s: 'a\rb' } }), { element: 'fields', key: 's', reason: /contains a newline/ });
  });

  it('strings over 64 KB (65537 bytes)', () => {
    expectPointError(bad({ measurement: 'm', fields: { s: 'a'.repeat(65537) } }), { element: 'fields', key: 's', reason: /string value of 65537 bytes is over InfluxDB's 64 KB limit/ });
    expectPointError(bad({ measurement: 'm', fields: { s: `${'é'.repeat(32768)}a` } }), { element: 'fields', key: 's', reason: /65537 bytes/ });
  });

  it('bigints outside int64', () => {
    expectPointError(bad({ measurement: 'm', fields: { n: 2n ** 63n } }), { element: 'fields', key: 'n', reason: /9223372036854775808 is outside the int64 range/ });
    expectPointError(bad({ measurement: 'm', fields: { n: -(2n ** 63n) - 1n } }), { element: 'fields', key: 'n', reason: /-9223372036854775809 is outside the int64 range/ });
  });

  it('unsafe or fractional numbers declared integer', () => {
    const fieldTypes = { n: 'integer' as const };
    expectPointError(bad({ measurement: 'm', fields: { n: 2 ** 53 } }, { fieldTypes }), { element: 'fields', key: 'n', reason: /declared integer, but 9007199254740992 is not a safe integer: pass a bigint/ });
    expectPointError(bad({ measurement: 'm', fields: { n: 1.5 } }, { fieldTypes }), { element: 'fields', key: 'n', reason: /declared integer, but 1.5 is not a safe integer/ });
    expectPointError(bad({ measurement: 'm', fields: { n: Number.NaN } }, { fieldTypes }), { element: 'fields', key: 'n', reason: /declared integer/ });
  });

  it('values that contradict their declared type', () => {
    expectPointError(bad({ measurement: 'm', fields: { n: 'x' } }, { fieldTypes: { n: 'integer' } }), { element: 'fields', key: 'n', reason: /declared integer, got a string/ });
    expectPointError(bad({ measurement: 'm', fields: { n: 1 } }, { fieldTypes: { n: 'string' } }), { element: 'fields', key: 'n', reason: /declared string, got a number/ });
    expectPointError(bad({ measurement: 'm', fields: { n: 1n } }, { fieldTypes: { n: 'float' } }), { element: 'fields', key: 'n', reason: /declared float, got a bigint/ });
    expectPointError(bad({ measurement: 'm', fields: { n: true } }, { fieldTypes: { n: 'integer' } }), { element: 'fields', key: 'n', reason: /declared integer, got a boolean/ });
  });

  it('unsupported field value types', () => {
    for (const [v, t] of [[{}, 'object'], [[1], 'object'], [Symbol('s'), 'symbol'], [() => 1, 'function'], [new Date(0), 'object']] as const) {
      expectPointError(bad({ measurement: 'm', fields: { v } }), { element: 'fields', key: 'v', reason: new RegExp(`unsupported value type ${t}: use number, bigint, string or boolean`) });
    }
  });
});

describe('rejections: names', () => {
  const nl = ['a\nb', 'a\rb'];

  it('a missing, empty or non-string measurement', () => {
    expectPointError(bad({ fields: { v: 1 } }), { element: 'measurement', reason: /missing: give the point a measurement or pass \{ measurement \}/ });
    expectPointError(bad({ measurement: '', fields: { v: 1 } }), { element: 'measurement', reason: /must not be empty/ });
    expectPointError(bad({ measurement: 5, fields: { v: 1 } }), { element: 'measurement', reason: /must be a string \(got number\)/ });
  });

  it('newline or CR in the measurement, a tag key, a tag value or a field key', () => {
    for (const s of nl) {
      expectPointError(bad({ measurement: s, fields: { v: 1 } }), { element: 'measurement', reason: /must not contain a newline/ });
      expectPointError(bad({ measurement: 'm', tags: { [s]: 'x' }, fields: { v: 1 } }), { element: 'tags', key: s, reason: /^key must not contain a newline/ });
      expectPointError(bad({ measurement: 'm', tags: { host: s }, fields: { v: 1 } }), { element: 'tags', key: 'host', reason: /^value must not contain a newline/ });
      expectPointError(bad({ measurement: 'm', fields: { [s]: 1 } }), { element: 'fields', key: s, reason: /^key must not contain a newline/ });
    }
  });

  it('lone surrogates in the measurement, a tag key, a tag value or a field key', () => {
    const s = 'a\uD800b';
    expectPointError(bad({ measurement: s, fields: { v: 1 } }), { element: 'measurement', reason: /lone UTF-16 surrogate/ });
    expectPointError(bad({ measurement: 'm', tags: { [s]: 'x' }, fields: { v: 1 } }), { element: 'tags', key: s, reason: /lone UTF-16 surrogate/ });
    expectPointError(bad({ measurement: 'm', tags: { host: s }, fields: { v: 1 } }), { element: 'tags', key: 'host', reason: /lone UTF-16 surrogate/ });
    expectPointError(bad({ measurement: 'm', fields: { [s]: 1 } }), { element: 'fields', key: s, reason: /lone UTF-16 surrogate/ });
  });

  it('a trailing backslash in each name', () => {
    expectPointError(bad({ measurement: 'm\\', fields: { v: 1 } }), { element: 'measurement', reason: /must not end with a backslash/ });
    expectPointError(bad({ measurement: 'm', tags: { 'k\\': 'x' }, fields: { v: 1 } }), { element: 'tags', key: 'k\\', reason: /must not end with a backslash/ });
    expectPointError(bad({ measurement: 'm', tags: { k: 'x\\' }, fields: { v: 1 } }), { element: 'tags', key: 'k', reason: /must not end with a backslash/ });
    expectPointError(bad({ measurement: 'm', fields: { 'f\\': 1 } }), { element: 'fields', key: 'f\\', reason: /must not end with a backslash/ });
  });

  it('a backslash right before an escaped character in each name', () => {
    expectPointError(bad({ measurement: 'a\\,b', fields: { v: 1 } }), { element: 'measurement', reason: /a backslash before "," cannot be represented/ });
    expectPointError(bad({ measurement: 'a\\ b', fields: { v: 1 } }), { element: 'measurement', reason: /a backslash before a space/ });
    expectPointError(bad({ measurement: 'm', tags: { 'a\\=b': 'x' }, fields: { v: 1 } }), { element: 'tags', key: 'a\\=b', reason: /a backslash before "="/ });
    expectPointError(bad({ measurement: 'm', tags: { k: 'a\\ b' }, fields: { v: 1 } }), { element: 'tags', key: 'k', reason: /a backslash before a space/ });
    expectPointError(bad({ measurement: 'm', fields: { 'a\\,b': 1 } }), { element: 'fields', key: 'a\\,b', reason: /a backslash before ","/ });
  });

  it('backslashes elsewhere are written as they are', () => {
    expect(line({ measurement: 'a\\b', tags: { 'k\\k': 'v\\\\v' }, fields: { 'f\\f': 1 }, time: 0 })).toBe('a\\b,k\\k=v\\\\v f\\f=1 0');
  });

  it('a measurement starting with "#" (influxd would read the line as a comment)', () => {
    expectPointError(bad({ measurement: '#cpu', fields: { v: 1 } }), { element: 'measurement', reason: /must not start with "#"/ });
  });

  it('time, _field and _measurement as tag or field keys', () => {
    expectPointError(bad({ measurement: 'm', tags: { time: 'x' }, fields: { v: 1 } }), { element: 'tags', key: 'time', reason: /"time" is not allowed as a key/ });
    expectPointError(bad({ measurement: 'm', fields: { v: 1, time: 2 } }), { element: 'fields', key: 'time', reason: /"time" is not allowed as a key/ });
    expectPointError(bad({ measurement: 'm', tags: { _measurement: 'x' }, fields: { v: 1 } }), { element: 'tags', key: '_measurement', reason: /reserved/ });
    expectPointError(bad({ measurement: 'm', fields: { _field: 1 } }), { element: 'fields', key: '_field', reason: /reserved/ });
  });

  it('an empty field key', () => {
    expectPointError(bad({ measurement: 'm', fields: { '': 1 } }), { element: 'fields', key: '', reason: /must not be empty/ });
  });

  it('tag values that are objects, arrays, symbols or functions', () => {
    for (const [v, t] of [[{}, 'object'], [['a'], 'object'], [Symbol('x'), 'symbol'], [() => 'x', 'function']] as const) {
      expectPointError(bad({ measurement: 'm', tags: { host: v }, fields: { v: 1 } }), { element: 'tags', key: 'host', reason: new RegExp(`value must be a string \\(got ${t}\\)`) });
    }
  });

  it('tags that are not an object', () => {
    expectPointError(bad({ measurement: 'm', tags: 'host=a', fields: { v: 1 } }), { element: 'tags', reason: /must be an object \(got string\)/ });
  });

  it('bad extra tags from the options, up front', () => {
    expect(() => new PointEncoder({ precision: 'n', tags: { time: 'x' } })).toThrow(/"time" is not allowed/);
    expect(() => new PointEncoder({ precision: 'n', tags: { host: 'a\nb' } })).toThrow(InvalidPointError);
    expect(() => new PointEncoder({ precision: 'n', tags: { host: 'a\nb' } })).toThrow(/extra tag: must not contain a newline/);
  });
});

describe('rejections: times', () => {
  const at = (time: unknown, options: EncodeOptions = {}) => bad({ measurement: 'm', fields: { v: 1 }, time }, options);

  it('strings that are not ISO 8601 dates', () => {
    expectPointError(at('yesterday'), { element: 'time', reason: /"yesterday" is not an ISO 8601 date/ });
    expectPointError(at('2024-01-01T00:00:00.1234567891Z'), { element: 'time', reason: /not an ISO 8601 date/ });
    expectPointError(at(''), { element: 'time', reason: /not an ISO 8601 date/ });
  });

  it('impossible dates and times', () => {
    expectPointError(at('2024-13-01T00:00:00Z'), { element: 'time', reason: /month 13 is out of range/ });
    expectPointError(at('2024-00-10'), { element: 'time', reason: /month 00 is out of range/ });
    expectPointError(at('2023-02-29T00:00:00Z'), { element: 'time', reason: /day 29 is out of range/ });
    expectPointError(at('2024-02-30T00:00:00Z'), { element: 'time', reason: /day 30 is out of range/ });
    expectPointError(at('2024-04-31'), { element: 'time', reason: /day 31 is out of range/ });
    expectPointError(at('2024-01-01T24:00:00Z'), { element: 'time', reason: /hour 24 is out of range/ });
    expectPointError(at('2024-01-01T00:60:00Z'), { element: 'time', reason: /minute 60 is out of range/ });
    expectPointError(at('2016-12-31T23:59:60Z'), { element: 'time', reason: /second 60 is out of range .*leap seconds/ });
    expectPointError(at('2024-01-01T00:00:00+24:00'), { element: 'time', reason: /zone offset \+24:00 is out of range/ });
  });

  it('Invalid Date', () => {
    expectPointError(at(new Date('nope')), { element: 'time', reason: /^Invalid Date$/ });
  });

  it('times outside InfluxDB\'s range (1677-09-21 .. 2262-04-11)', () => {
    expectPointError(at('2300-01-01T00:00:00Z'), { element: 'time', reason: /outside InfluxDB's time range/ });
    expectPointError(at('1600-01-01T00:00:00Z'), { element: 'time', reason: /outside InfluxDB's time range/ });
    expectPointError(at(new Date(Date.UTC(2300, 0, 1))), { element: 'time', reason: /2300-01-01T00:00:00.000Z is outside InfluxDB's time range/ });
    expectPointError(at(new Date(Date.UTC(1600, 0, 1))), { element: 'time', reason: /outside InfluxDB's time range/ });
    expectPointError(at(2n ** 63n), { element: 'time', reason: /outside InfluxDB's time range/ });
    expectPointError(at(9300000000n, { precision: 's' }), { element: 'time', reason: /9300000000 \(s\) is outside InfluxDB's time range/ });
    expectPointError(at(9300000000, { precision: 's' }), { element: 'time', reason: /9300000000 \(s\) is outside InfluxDB's time range/ });
  });

  it('unsafe, fractional or non-finite numbers', () => {
    expectPointError(at(2 ** 53), { element: 'time', reason: /9007199254740992 is not a safe integer: pass a bigint/ });
    expectPointError(at(1.5), { element: 'time', reason: /1.5 is not a safe integer/ });
    expectPointError(at(Number.NaN), { element: 'time', reason: /NaN is not a safe integer/ });
    expectPointError(at(Infinity), { element: 'time', reason: /Infinity is not a safe integer/ });
  });

  it('unsupported time types', () => {
    expectPointError(at(true), { element: 'time', reason: /unsupported time type boolean: use Date, ISO string, number or bigint/ });
    expectPointError(at({}), { element: 'time', reason: /unsupported time type object/ });
  });
});

describe('series key length', () => {
  it('rejects a series key over 65 535 bytes, and accepts one just under', async () => {
    const { PointEncoder } = await import('../../../src/encode/point-encoder.js');
    const enc = new PointEncoder({ precision: 'n' });
    // measurement (1) + ',t=' (3) + value + ' ' ... the key counts measurement, tags, field key + 4.
    const ok = 'x'.repeat(65_535 - 1 - 3 - 1 - 4);
    expect(() => enc.encode({ measurement: 'm', tags: { t: ok }, fields: { f: 1 }, time: 1 }, 0)).not.toThrow();
    expect(() => enc.encode({ measurement: 'm', tags: { t: `${ok}y` }, fields: { f: 1 }, time: 1 }, 3))
      .toThrow(/invalid point #3: point: series key of 65536 bytes/);
    // Multi-byte characters count in bytes, not characters.
    expect(() => enc.encode({ measurement: 'm', tags: { t: 'é'.repeat(33_000) }, fields: { f: 1 }, time: 1 }, 0)).toThrow(/series key of 66009 bytes/);
  });
});
