import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExactJson } from '../../../src/query/exact-json.js';
import { parseNdjson, splitLines } from '../../../src/query/ndjson.js';

const encoder = new TextEncoder();

/** Split `bytes` at the given cut points (taken modulo length+1, deduplicated) into chunks. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.slice(prev, p)); // may be empty
    prev = p;
  }
  chunks.push(bytes.slice(prev));
  return chunks;
}

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve();
    yield c;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const SAMPLE =
  '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v","n"],"values":[[1704067200001000001,0.5,9223372036854775807],[1704067200001000002,1,-9223372036854775808]],"partial":true}],"partial":true}]}\n' +
  '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v","n"],"values":[[1704067200001000003,2.25,42]]}]}]}\n';

const SAMPLE_DOCS = [
  {
    results: [
      {
        statement_id: 0,
        series: [
          {
            name: 'cpu',
            columns: ['time', 'v', 'n'],
            values: [
              [1704067200001000001n, 0.5, 9223372036854775807n],
              [1704067200001000002n, 1, -9223372036854775808n],
            ],
            partial: true,
          },
        ],
        partial: true,
      },
    ],
  },
  {
    results: [
      {
        statement_id: 0,
        series: [{ name: 'cpu', columns: ['time', 'v', 'n'], values: [[1704067200001000003n, 2.25, 42]] }],
      },
    ],
  },
];

/** Line text made of characters of 1–4 UTF-8 bytes (and the odd CR), never LF. */
const lineText = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', '"', 'é', 'ß', '€', '中', '😀', '🇫🇷', '\u2028', '\r', '\t'),
  maxLength: 20,
});

describe('splitLines', () => {
  it('yields the non-empty lines for arbitrary chunkings (incl. cuts inside multi-byte characters)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineText, { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (lines, eol, trailing, cuts) => {
          const body = lines.join(eol) + (trailing ? eol : '');
          const expected = body
            .split('\n')
            .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
            .filter((l) => l.length > 0);
          const got = await collect(splitLines(fromChunks(cut(encoder.encode(body), cuts))));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes every possible split of multi-byte characters', async () => {
    const body = 'é😀€\n中🇫🇷\r\n\n x ';
    const bytes = encoder.encode(body);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const got = await collect(splitLines(fromChunks(cut(bytes, [i, j]))));
        expect(got).toEqual(['é😀€', '中🇫🇷', ' x ']);
      }
    }
    // One byte per chunk.
    const single = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(await collect(splitLines(fromChunks(single)))).toEqual(['é😀€', '中🇫🇷', ' x ']);
  });

  it('handles empty input, empty chunks and blank lines', async () => {
    expect(await collect(splitLines(fromChunks([])))).toEqual([]);
    expect(await collect(splitLines(fromChunks([new Uint8Array(0)])))).toEqual([]);
    expect(await collect(splitLines(fromChunks([encoder.encode('\n\r\n\n')])))).toEqual([]);
    expect(await collect(splitLines(fromChunks([encoder.encode('a'), new Uint8Array(0), encoder.encode('b\n\nc')])))).toEqual([
      'ab',
      'c',
    ]);
  });

  it('keeps interior CRs and strips only one trailing CR', async () => {
    expect(await collect(splitLines(fromChunks([encoder.encode('a\rb\r\r\nc\r')])))).toEqual(['a\rb\r', 'c']);
  });

  it('skips a UTF-8 BOM at the start of the body only, even when split', async () => {
    const body = Uint8Array.of(0xef, 0xbb, 0xbf, ...encoder.encode('{"a":1}\n\ufeffx\n'));
    for (let i = 0; i <= body.length; i++) {
      expect(await collect(splitLines(fromChunks(cut(body, [1, i]))))).toEqual(['{"a":1}', '\ufeffx']);
    }
  });

  it('replaces malformed UTF-8 with U+FFFD', async () => {
    expect(await collect(splitLines(fromChunks([Uint8Array.of(0x61, 0xff, 0x62, 0x0a, 0xe2, 0x82)])))).toEqual([
      'a\ufffdb',
      '\ufffd',
    ]);
  });

  it('streams: yields a line before the rest of the body has been read', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const part of ['first\nsec', 'ond\n', 'third']) {
        pulled++;
        yield encoder.encode(part);
      }
    }
    const it = splitLines(source());
    expect((await it.next()).value).toBe('first');
    expect(pulled).toBe(1);
    expect((await it.next()).value).toBe('second');
    expect(pulled).toBe(2);
    expect((await it.next()).value).toBe('third');
    expect((await it.next()).done).toBe(true);
  });

  it('handles lines much longer than a chunk, and Buffer chunks', async () => {
    const long = 'x'.repeat(100_000) + 'é';
    const bytes = Buffer.from(`${long}\nshort\n${long}`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
    expect(await collect(splitLines(fromChunks(chunks)))).toEqual([long, 'short', long]);
  });
});

describe('parseNdjson', () => {
  it('parses the InfluxDB chunked sample exactly, for any chunking', async () => {
    const bytes = encoder.encode(SAMPLE);
    expect(await collect(parseNdjson(fromChunks([bytes])))).toStrictEqual(SAMPLE_DOCS);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 20 }), async (cuts) => {
        expect(await collect(parseNdjson(fromChunks(cut(bytes, cuts))))).toStrictEqual(SAMPLE_DOCS);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips arbitrary documents (unicode strings, big integers) across arbitrary chunk boundaries', async () => {
    const doc = fc.oneof(
      fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
      fc.jsonValue({ maxDepth: 3, stringUnit: fc.constantFrom('a', 'é', '😀', '€', '\n', '\r', '"', '\\') }),
      fc.tuple(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.string({ unit: 'grapheme' })),
    );
    const serialize = (v: unknown): string => {
      // JSON.stringify with bigints written as raw integer literals.
      const marks: bigint[] = [];
      const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `\u0000BIG${marks.push(x) - 1}` : x));
      return text.replace(/"\\u0000BIG(\d+)"/g, (_m, i: string) => String(marks[Number(i)]));
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(doc, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        async (docs, cuts, eol, trailing) => {
          const lines = docs.map(serialize);
          const body = lines.join(eol) + (trailing ? eol : '');
          const got = await collect(parseNdjson(fromChunks(cut(encoder.encode(body), cuts))));
          expect(got).toHaveLength(lines.length);
          for (let i = 0; i < lines.length; i++) {
            expect(got[i]).toStrictEqual(parseExactJson(lines[i]!));
            expect(serialize(got[i])).toBe(lines[i]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips blank lines and surfaces JSON errors', async () => {
    expect(await collect(parseNdjson(fromChunks([encoder.encode('1\n \t\n\r\n[2]\n')])))).toEqual([1, [2]]);
    await expect(collect(parseNdjson(fromChunks([encoder.encode('1\n{bad}\n')])))).rejects.toThrow(SyntaxError);
  });
});
