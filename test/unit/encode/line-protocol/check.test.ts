/**
 * The pre-send check of raw line protocol (src/encode/line-protocol/parse.ts `checkLine`, used by
 * BodyBuilder.addRaw, InputEncoder and the loader): it gives the verdict and the reason of the
 * full parser (`readLine`) without allocating, and errors name the line as users count lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, InvalidPointError } from '../../../../src/index.js';
import { InputEncoder } from '../../../../src/encode/input.js';
import { checkLine, precisionSpec, readLine } from '../../../../src/encode/line-protocol/parse.js';
import { resolveEncodeOptions } from '../../../../src/options/index.js';

const ch = fc.constantFrom('a', 'b', '0', '1', '9', '-', '.', 'e', 'i', 'u', 't', 'F', 'N', ' ', ',', '=', '"', '\\', '#', '\t', '\0', '\xff', '\xc3', '\xa9');

describe('checkLine', () => {
  it('refuses exactly what readLine refuses, with the same reason (random byte-ish lines)', () => {
    const precisions = ['n', 'u', 'ms', 's', 'm', 'h'] as const;
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 60 }), fc.constantFrom(...precisions), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), (chars, p, t) => {
        for (const text of [chars.join(''), `m,t=1 v=1 ${t}`, `m ${chars.join('')} ${t}`]) {
          const buf = Buffer.from(text, 'latin1');
          const full = readLine(buf, { start: 0, end: buf.length }, p);
          const fast = checkLine(buf, 0, buf.length, precisionSpec(p));
          if (fast !== undefined && / is not valid UTF-8 /.test(fast)) {
            // The one rule the check adds to influxd's parse: names influxd cannot store.
            expect(full.ok).toBe(true);
            continue;
          }
          expect(fast).toBe(full.ok ? undefined : full.reason);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('timestamps at the edges of the range, in every precision', () => {
    const max = 9223372036854775806n;
    for (const [p, mult] of [['n', 1n], ['u', 1000n], ['ms', 1000000n], ['s', 1000000000n], ['m', 60000000000n], ['h', 3600000000000n]] as const) {
      const edge = max / mult;
      for (const [t, ok] of [[edge, true], [-edge, true], [edge + 1n, false], [-edge - 1n, false], [0n, true]] as const) {
        const buf = Buffer.from(`m v=1 ${t}`);
        expect(checkLine(buf, 0, buf.length, precisionSpec(p)), `${p} ${t}`).toEqual(ok ? undefined : expect.stringMatching(/^(time outside range|strconv.ParseInt)/));
      }
      // Leading zeros do not make a number larger.
      const z = Buffer.from(`m v=1 000000${edge}`);
      expect(checkLine(z, 0, z.length, precisionSpec(p))).toBeUndefined();
    }
  });
});

describe('raw line protocol in encode() and write(): the bad line named', () => {
  it('counts every newline, those inside string fields too, and names the item of an iterable', () => {
    const text = 'm s="a\nb" 1\n\n# comment\nm v=oops 2\n';
    const e = (() => {
      try {
        encode(text);
      } catch (x) {
        return x as InvalidPointError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(InvalidPointError);
    expect({ line: e.line, reason: e.reason, element: e.element, pointIndex: e.pointIndex }).toEqual({ line: 5, reason: 'invalid boolean', element: 'line', pointIndex: 0 });
    expect(() => encode(['m v=1 1', { measurement: 'm', fields: { v: 2 } }, 'ok v=1\nm v=1 1x'])).toThrow(/^invalid line 2 of item #2: bad timestamp: "m v=1 1x"$/);
  });

  it('sends CRLF text without the \\r, and leaves comment and blank lines out', () => {
    expect(encode('a v=1 1\r\n# c\r\n\r\n  \nb v=2 2\r\n').toString()).toBe('a v=1 1\nb v=2 2\n');
    expect(encode(Buffer.from('# only\n\n')).length).toBe(0);
  });

  it('a line longer than a request can carry is named too', () => {
    const enc = new InputEncoder(resolveEncodeOptions({}), 64);
    expect(() => enc.add(`a v=1 1\nb s="${'x'.repeat(100)}" 2`)).toThrow(/^invalid line 2: a line of 109 bytes does not fit a request body of at most 64 bytes/);
  });
});
