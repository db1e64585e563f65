/**
 * src/writer/rejections.ts and the line-protocol scanner and parser it uses (src/encode/line-protocol/): cutting bodies into lines as influxd 1.6.7 does, reading lines
 * (names, field types, reasons), and reading every 400 message form against the body.
 * The server texts used here were measured on influxd 1.6.7 (see the integration test).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '../../../src/index.js';
import { goString, readLine } from '../../../src/encode/line-protocol/parse.js';
import { lineEndAt, splitLines, type LineRange } from '../../../src/encode/line-protocol/scan.js';
import { analyzeRejection, errorText, type RejectionAnalysis } from '../../../src/writer/rejections.js';

const te = new TextEncoder();
const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const texts = (body: Buffer, ranges: LineRange[]): string[] => ranges.map((r) => body.toString('utf8', r.start, r.end));
const rejectedTexts = (body: Buffer, a: RejectionAnalysis): string[] => texts(body, a.rejected);
const json = (error: string): string => JSON.stringify({ error }) + '\n';

function read(line: string, precision?: 'n' | 'u' | 'ms' | 's' | 'm' | 'h') {
  const body = b(line);
  return readLine(body, { start: 0, end: body.length }, precision);
}

describe('splitLines: where influxd ends lines', () => {
  it('cuts at newlines and skips blank, whitespace-only and comment lines', () => {
    const body = b('a v=1\n\n   \n\t\n# comment\n  b v=2\nc v=3');
    expect(texts(body, splitLines(body))).toEqual(['a v=1', '  b v=2', 'c v=3']);
  });

  it('keeps a \\r before the newline in the line (influxd does too)', () => {
    const body = b('a v=1 1\r\nb v=2 2\n');
    expect(texts(body, splitLines(body))).toEqual(['a v=1 1\r', 'b v=2 2']);
  });

  it('does not end a line inside a string field, with escaped quotes and backslashes', () => {
    const body = b('m s="a,b=c d\\"e\nf" 1\nm s="x\\\\" 2\nm,t=a"b s="p\nq" 3\n');
    expect(texts(body, splitLines(body))).toEqual(['m s="a,b=c d\\"e\nf" 1', 'm s="x\\\\" 2', 'm,t=a"b s="p\nq" 3']);
  });

  it('an escaped newline does not end a line', () => {
    const body = b('m v=1 1\\\nm v=2 2\n');
    expect(texts(body, splitLines(body))).toEqual(['m v=1 1\\\nm v=2 2']);
  });

  it('a quote in a field key after a comma opens no string (influxd counts `=` against `,`)', () => {
    const body = b('m a=1,b"c=2 1\nm v=1 2\n');
    expect(texts(body, splitLines(body))).toEqual(['m a=1,b"c=2 1', 'm v=1 2']);
    expect(lineEndAt(body, 0)).toBe(13);
  });

  it('a body ending in a backslash ends at the body', () => {
    const body = b('m v=1 1\nm v=2 2\\');
    expect(texts(body, splitLines(body))).toEqual(['m v=1 1', 'm v=2 2\\']);
  });

  it('one line per point for bodies our encoder makes (random names, tags and string fields)', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '=', '"', '\\a', 'é', '#', '\t'), minLength: 1, maxLength: 8 })
      .filter((s) => !s.endsWith('\\') && !/^[ \t#]/.test(s) && !s.startsWith('#'));
    const str = fc.string({ unit: fc.constantFrom('a', ' ', ',', '=', '"', '\\', '\n', 'é', '😀'), maxLength: 12 });
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      str,
      fc.boolean(),
    );
    const point = fc.record({
      measurement: name,
      tags: fc.dictionary(name, name, { maxKeys: 3 }),
      fields: fc.dictionary(name, value, { minKeys: 1, maxKeys: 4 }),
      time: fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
    });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 8 }), (points) => {
        const clean = points.map((p) => ({ ...p, tags: Object.fromEntries(Object.entries(p.tags).filter(([k]) => k !== 'time')) }));
        let body: Buffer;
        try {
          body = encode(clean, { allowNewlinesInStrings: true });
        } catch {
          return; // the encoder refuses some names (e.g. a backslash before a space): not our subject
        }
        const lines = splitLines(body);
        expect(lines.length).toBe(clean.length);
        lines.forEach((r, i) => {
          const p = clean[i]!;
          const got = readLine(body, r);
          expect(got.ok, got.ok ? '' : got.reason).toBe(true);
          if (!got.ok) return;
          expect(got.line.measurement).toBe(p.measurement);
          expect(got.line.timeNs).toBe(p.time);
          const want = Object.entries(p.fields).map(([key, v]) => ({
            key,
            type: typeof v === 'bigint' ? 'integer' : typeof v === 'number' ? 'float' : typeof v,
          }));
          expect(got.line.fields).toEqual(want);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('readLine: names and types as influxd reads them', () => {
  it('unescapes \\, \\" \\<space> \\= in names and keeps other backslashes', () => {
    const r = read('my\\ me\\,a\\=s\\"x,t=1 my\\ fi\\,e\\=ld=1,o\\"k=2i,a\\\\b="s",c\\d=t 5');
    expect(r).toEqual({
      ok: true,
      line: {
        measurement: 'my me,a=s"x',
        fields: [
          { key: 'my fi,e=ld', type: 'float' }, { key: 'o"k', type: 'integer' },
          { key: 'a\\\\b', type: 'string' }, { key: 'c\\d', type: 'boolean' },
        ],
        timeTag: false,
        timeNs: 5n,
      },
    });
  });

  it('reads every value type', () => {
    const r = read('m a=1,b=-1.5e3,c=1.,d=.5,e=3i,f=-9223372036854775808i,g="x",h=t,i=FALSE,j=True');
    expect(r.ok && r.line.fields.map((f) => f.type)).toEqual([
      'float', 'float', 'float', 'float', 'integer', 'integer', 'string', 'boolean', 'boolean', 'boolean',
    ]);
    expect(r.ok && r.line.timeNs).toBe(undefined);
  });

  it('reads a string field holding , = spaces quotes escaped quotes and a newline', () => {
    const r = read('m,k=v s="a,b=c d \\"q\\" \\\\ \n end",n=1i 7');
    expect(r).toEqual({
      ok: true,
      line: { measurement: 'm', fields: [{ key: 's', type: 'string' }, { key: 'n', type: 'integer' }], timeTag: false, timeNs: 7n },
    });
  });

  it('sees a time tag, keeps a time field among the others', () => {
    expect(read('m,time=1 v=1 1')).toMatchObject({ ok: true, line: { timeTag: true } });
    expect(read('m time=1,v=2 1')).toMatchObject({ ok: true, line: { fields: [{ key: 'time' }, { key: 'v' }] } });
  });

  it('scales timestamps by the precision', () => {
    expect(read('m v=1 3', 's')).toMatchObject({ ok: true, line: { timeNs: 3000000000n } });
    expect(read('m v=1 2', 'h')).toMatchObject({ ok: true, line: { timeNs: 7200000000000n } });
  });

  it('gives influxd 1.6.7 reasons (measured) for bad lines', () => {
    const cases: [string, string][] = [
      ['bad line here', 'invalid field format'],
      ['m v=1x 1', 'invalid number'],
      ['m v=1 1\r', 'bad timestamp'],
      ['m,a=1,a=2 v=1 1', 'duplicate tags'],
      ['m,b=1,a=1,b=2 v=1 1', 'duplicate tags'],
      ['m', 'missing fields'],
      ['m,a=1', 'missing fields'],
      ['m v=1 1 2', 'point is invalid'],
      ['m v=1 1.5', 'bad timestamp'],
      ['m v=1u 1', 'invalid number'],
      ['m v=9223372036854775808i 1', 'unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range'],
      ['m v=1 9223372036854775807', 'time outside range -9223372036854775806 - 9223372036854775806'],
      ['m v=1 -9223372036854775808', 'time outside range -9223372036854775806 - 9223372036854775806'],
      ['m v=1 99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
      [',a=1 v=1', 'missing measurement'],
      ['m v="abc', 'unbalanced quotes'],
      ['m v=tru', 'invalid boolean'],
      ['m v=1,=2', 'missing field key'],
      ['m v=NaN', 'invalid number'],
      ['m a\\\\=1 1', 'invalid value: field-key=a\\\\=1'],
      ['m,t=a=b v=1', 'invalid tag format'],
      ['m, v=1', 'missing tag key'],
      ['m,t v=1', 'missing tag value'],
      ['m v=', 'missing field value'],
      ['m v=1e500', 'invalid float'],
      ['m v=1 -', 'strconv.ParseInt: parsing "-": invalid syntax'],
      ['m v=1 1\t', 'bad timestamp'],
    ];
    for (const [line, reason] of cases) expect(read(line), line).toEqual({ ok: false, reason });
  });

  it('checks the key length like influxd (series key + 4 + field key)', () => {
    expect(read(`${'m'.repeat(65536)} v=1`)).toEqual({ ok: false, reason: 'max key length exceeded: 65536 > 65535' });
    expect(read(`${'m'.repeat(65531)} v=1`)).toEqual({ ok: false, reason: 'max key length exceeded: 65536 > 65535' });
    expect(read(`${'m'.repeat(65530)} v=1`).ok).toBe(true);
  });
});

describe('goString', () => {
  it('shows each byte of an invalid UTF-8 sequence as U+FFFD, like Go', () => {
    expect(goString(Uint8Array.from([0x61, 0xff, 0xe2, 0x82, 0x62]))).toBe('a\ufffd\ufffd\ufffdb');
    expect(goString(te.encode('é€中😀'))).toBe('é€中😀');
    expect(goString(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe('\ufffd\ufffd\ufffd'); // a surrogate
  });
});

describe('errorText', () => {
  it('takes the error out of a JSON body, or keeps the text', () => {
    expect(errorText('{"error":"field type conflict"}\n')).toBe('field type conflict');
    expect(errorText('request throttled, queue full\n')).toBe('request throttled, queue full');
  });
});

describe('analyzeRejection: unable to parse', () => {
  it('every line refused when none parsed (JSON body or bare text)', () => {
    const body = b('bad one\nm\n');
    const msg = "unable to parse 'bad one': invalid field format\nunable to parse 'm': missing fields";
    for (const m of [json(msg), msg]) {
      const a = analyzeRejection(m, body);
      expect(a).toMatchObject({ kind: 'unparsable', stored: true, resend: [], unidentified: 0 });
      expect(a.rejected.map((r) => [body.toString('utf8', r.start, r.end), r.reason, r.source])).toEqual([
        ['bad one', 'invalid field format', 'server'], ['m', 'missing fields', 'server'],
      ]);
    }
  });

  it('partial: only the quoted lines refused, matched exactly (leading blanks, \\r, quotes and \': \' inside)', () => {
    const body = b("m v=1 1\n  \tbad line here\nm s=\"a': b\" 1 x\nm v=2 2\r\nm v=3 3\n");
    const msg = 'partial write: ' + [
      "unable to parse 'bad line here': invalid field format",
      "unable to parse 'm s=\"a': b\" 1 x': point is invalid",
      "unable to parse 'm v=2 2\r': bad timestamp",
    ].join('\n') + ' dropped=0';
    const a = analyzeRejection(json(msg), body);
    expect(a.kind).toBe('partial');
    expect(a.stored).toBe(true);
    expect(a.dropped).toBe(0);
    expect(a.rejected.map((r) => [body.toString('utf8', r.start, r.end), r.reason, r.source])).toEqual([
      ['  \tbad line here', 'invalid field format', 'server'],
      ["m s=\"a': b\" 1 x", 'point is invalid', 'server'],
      ['m v=2 2\r', 'bad timestamp', 'server'],
    ]);
  });

  it('matches lines with invalid UTF-8 the way Go shows them, and identical bad lines one by one', () => {
    const body = Buffer.concat([b('m s="a'), Buffer.from([0xff, 0xe2, 0x82]), b('b" 1 x\nbad\nm v=1 1\nbad\n')]);
    const msg = `partial write: unable to parse 'm s="a\ufffd\ufffd\ufffdb" 1 x': point is invalid\n` +
      "unable to parse 'bad': invalid field format\nunable to parse 'bad': invalid field format dropped=0";
    const a = analyzeRejection(json(msg), body);
    expect(a.rejected).toHaveLength(3);
    expect(a.rejected.every((r) => r.source === 'server')).toBe(true);
    expect(rejectedTexts(body, a).slice(1)).toEqual(['bad', 'bad']);
  });

  it('finds the lines a cut message (the X-Influxdb-Error header) leaves out with the parser', () => {
    const body = b(`m v=1 1\n${'x'.repeat(1200)}\nbad two\n`);
    const full = `partial write: unable to parse '${'x'.repeat(1200)}': invalid field format\nunable to parse 'bad two': invalid field format dropped=0`;
    const a = analyzeRejection(full.slice(0, 1024), body);
    expect(rejectedTexts(body, a)).toEqual(['x'.repeat(1200), 'bad two']);
    expect(a.rejected.map((r) => r.source)).toEqual(['inferred', 'inferred']);
    expect(a.stored).toBe(true);
  });
});

describe('analyzeRejection: field type conflicts', () => {
  it('against stored data: the lines with that field in another type, escaped names', () => {
    const body = b([
      'my\\ m\\,x f\\ 1="s" 1', 'my\\ m\\,x f\\ 1=1i 2', 'my\\ m\\,x f\\ 1=true 3', 'my\\ m\\,x f\\ 1=2 4',
      'my\\ m\\,x w=1,f\\ 1="x" 5', 'n f\\ 1="s" 6',
    ].join('\n') + '\n');
    const msg = 'partial write: field type conflict: input field "f 1" on measurement "my m,x" is type string, already exists as type float dropped=4';
    const a = analyzeRejection(json(msg), body);
    // Certain: `f 1` cannot have another type in that shard. The batch has `f 1` in several
    // types (the server may have retried the write and counted twice), so the rest is resent.
    expect(a).toMatchObject({ kind: 'typeConflict', stored: false, unidentified: 0, dropped: 4 });
    expect(texts(body, a.resend)).toEqual(['my\\ m\\,x f\\ 1=2 4', 'n f\\ 1="s" 6']);
    expect(a.rejected.map((r) => [r.start, r.reason])).toEqual([
      [0, 'field type conflict: input field "f 1" on measurement "my m,x" is type string, already exists as type float'],
      [splitLines(body)[1]!.start, 'field type conflict: input field "f 1" on measurement "my m,x" is type integer, already exists as type float'],
      [splitLines(body)[2]!.start, 'field type conflict: input field "f 1" on measurement "my m,x" is type boolean, already exists as type float'],
      [splitLines(body)[4]!.start, 'field type conflict: input field "f 1" on measurement "my m,x" is type string, already exists as type float'],
    ]);
  });

  it('within the batch on a new field: the lines of another type than the one named are refused', () => {
    const body = b('m x=1 10\nm x="a" 11\nm x=2 12\nm x=true 13\n');
    const a = analyzeRejection(json('partial write: field type conflict: input field "x" on measurement "m" is type string, already exists as type float dropped=2'), body);
    expect(rejectedTexts(body, a)).toEqual(['m x="a" 11', 'm x=true 13']);
    expect(a).toMatchObject({ unidentified: 0, stored: false });
    expect(texts(body, a.resend)).toEqual(['m x=1 10', 'm x=2 12']);
  });

  it('the count proves the rest stored only when the group agrees with itself on every type', () => {
    const body = b('m x=1 10\nm x="a" 11\nm y=2 12\n');
    const msg = json('partial write: field type conflict: input field "x" on measurement "m" is type string, already exists as type float dropped=1');
    expect(analyzeRejection(msg, body)).toMatchObject({ stored: false }); // x in two types: resend
    const agree = b('m x="a" 11\nm y=2 12\nm z="b" 13\n');
    const a = analyzeRejection(msg, agree);
    expect(a).toMatchObject({ stored: true, resend: [], unidentified: 0 });
    expect(rejectedTexts(agree, a)).toEqual(['m x="a" 11']);
  });

  it('a key repeated in a line with another type conflicts with itself', () => {
    const body = b('m b=1,b="x" 2\nm c=1 3\n');
    const a = analyzeRejection(json('partial write: field type conflict: input field "b" on measurement "m" is type string, already exists as type float dropped=1'), body);
    expect(rejectedTexts(body, a)).toEqual(['m b=1,b="x" 2']);
  });

  it('names what is certain; when that is not the count, resends the rest', () => {
    const body = b('m v="s" 1\nm w="t" 2\nm u=1 3\n');
    const msg = json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=2');
    const a = analyzeRejection(msg, body);
    expect(rejectedTexts(body, a)).toEqual(['m v="s" 1']);
    expect(a).toMatchObject({ stored: false, unidentified: 0 });
    expect(texts(body, a.resend)).toEqual(['m w="t" 2', 'm u=1 3']);
  });

  it('reports the unparsable lines the server dropped without a word', () => {
    const body = b('m v="s" 1\nbad line\nm v=2 2\n');
    const a = analyzeRejection(json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'), body);
    expect(a.rejected.map((r) => [body.toString('utf8', r.start, r.end), r.source])).toEqual([
      ['m v="s" 1', 'inferred'], ['bad line', 'inferred'],
    ]);
    expect(a.rejected[1]!.reason).toBe('invalid field format');
  });

  it('first write into a new shard: nothing stored; only the sure drops refused, the rest resent', () => {
    const body = b('a x=1,y="s" 1\na x="q" 2\na,time=1 y=2 3\na z=1i 4\na time=5 5\n');
    const a = analyzeRejection(json('field type conflict'), body);
    expect(a.kind).toBe('typeConflictNothingStored');
    expect(a.stored).toBe(false);
    expect(rejectedTexts(body, a)).toEqual(['a,time=1 y=2 3', 'a time=5 5']);
    expect(texts(body, a.resend)).toEqual(['a x=1,y="s" 1', 'a x="q" 2', 'a z=1i 4']);
  });

  it('new shard among groups: each group is resent as its own request', () => {
    const W = 7n * 86400n * 1000000000n;
    const body = b(`m v=3 3\nm,time=1 v=1 4\nm x=1 ${W * 5n}\nm x="s" ${W * 5n + 1n}\n`);
    const a = analyzeRejection(json('field type conflict'), body);
    expect(rejectedTexts(body, a)).toEqual(['m,time=1 v=1 4']);
    expect(a.resendGroups.map((g) => texts(body, g))).toEqual([['m v=3 3'], [`m x=1 ${W * 5n}`, `m x="s" ${W * 5n + 1n}`]]);
  });

  it('new shard: two groups disagree, either may have failed: only the sure drops are refused', () => {
    const W = 7n * 86400n * 1000000000n;
    const body = b(`m v=3 3\nm v="a" 4\nm x=1 ${W * 5n}\nm x="s" ${W * 5n + 1n}\nm time=1 5\n`);
    const a = analyzeRejection(json('field type conflict'), body);
    expect(rejectedTexts(body, a)).toEqual(['m time=1 5']);
    expect(a.resend).toHaveLength(4);
  });

  it('partial conflict in one group of several: the group with the named input is the one; the others are resent', () => {
    const W = 7n * 86400n * 1000000000n;
    const body = b(`m v="a" 2\nm v=3 3\nm x=1 ${W * 5n}\nm x="s" ${W * 5n + 1n}\n`);
    const a = analyzeRejection(json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'), body);
    expect(rejectedTexts(body, a)).toEqual(['m v="a" 2']);
    expect(a.stored).toBe(false);
    expect(texts(body, a.resend)).toEqual(['m v=3 3', `m x=1 ${W * 5n}`, `m x="s" ${W * 5n + 1n}`]);
    // The input named in two groups: either may have answered, nothing is certain.
    const both = b(`m v="a" 2\nm v=3 3\nm v="b" ${W * 5n}\n`);
    const c = analyzeRejection(json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'), both);
    expect(c.rejected).toEqual([]);
    expect(c.resendGroups).toHaveLength(2);
  });

  it('two fields in conflict: the one named is refused, the other is left to the resend', () => {
    const body = b('m a=1 1\nm b=1i 2\nm a="x" 3\nm b=2 4\n');
    const a = analyzeRejection(json('partial write: field type conflict: input field "a" on measurement "m" is type string, already exists as type float dropped=2'), body);
    expect(rejectedTexts(body, a)).toEqual(['m a="x" 3']);
    expect(a).toMatchObject({ stored: false, unidentified: 0 });
    expect(texts(body, a.resend)).toEqual(['m a=1 1', 'm b=1i 2', 'm b=2 4']);
  });
});

describe('analyzeRejection: time keys, retention, limits, others', () => {
  it('time tag first, then time-only fields and conflicts, in one count', () => {
    const body = b('m v=1 4\nm time=3 6\nm v="x" 7\nm,time=x v=2 5\nm v=4 8\nm time=1,v=5 9\n');
    const a = analyzeRejection(json('partial write: invalid tag key: input tag "time" on measurement "m" is invalid dropped=3'), body);
    // Two sure drops of three: the third (a conflict the message does not name) is left to the resend.
    expect(a).toMatchObject({ kind: 'timeKey', stored: false, unidentified: 0 });
    expect(rejectedTexts(body, a)).toEqual(['m time=3 6', 'm,time=x v=2 5']);
    expect(a.rejected.map((r) => r.reason)).toEqual([
      'invalid field name: input field "time" on measurement "m" is invalid',
      'invalid tag key: input tag "time" on measurement "m" is invalid',
    ]);
    expect(texts(body, a.resend)).toEqual(['m v=1 4', 'm v="x" 7', 'm v=4 8', 'm time=1,v=5 9']);
  });

  it('a time field alone', () => {
    const body = b('m time=1 1\nm v=2 2\n');
    const a = analyzeRejection(json('partial write: invalid field name: input field "time" on measurement "m" is invalid dropped=1'), body);
    expect(rejectedTexts(body, a)).toEqual(['m time=1 1']);
  });

  const H = 3600000n * 1000000n;
  const now = 1_800_000_000_000; // ms, on an hour boundary plus 30 min below
  const T = BigInt(now) * 1000000n + 30n * 60n * 1000000000n;
  const nowMs = Number(T / 1000000n);

  it('beyond retention: whole shard groups, the oldest first, as many as the count', () => {
    // 1 h retention, 1 h groups. now = hh:30. min = (hh-1):30.
    const Hs = T - H - (T % H); // start of the group holding min
    const body = b([
      `m v=1 ${Hs + 1n}`, // old, but its group holds a fresh point: kept
      `m v=2 ${T - H + 60n * 1000000000n}`, // fresh
      `m v=3 ${Hs - 1n}`, // old, group of its own: dropped
      `m v=4 ${Hs - H - 5n}`, // older: dropped
      `m v=5 ${T}`,
      'm v=6', // no timestamp: server time
    ].join('\n') + '\n');
    const msg = json('partial write: points beyond retention policy dropped=2');
    for (const context of [{ retentionMs: 3600000, nowMs }, {}]) {
      const a = analyzeRejection(msg, body, context);
      expect(a).toMatchObject({ kind: 'beyondRetention', stored: true, unidentified: 0, dropped: 2 });
      expect(rejectedTexts(body, a).map((l) => l.slice(0, 5))).toEqual(['m v=3', 'm v=4']);
    }
  });

  it('beyond retention: counts what no grouping explains', () => {
    const body = b('m v=1 1\nm v=2 2\n');
    const a = analyzeRejection(json('partial write: points beyond retention policy dropped=1'), body, { retentionMs: 3600000 });
    expect(a).toMatchObject({ rejected: [], unidentified: 1, stored: true });
  });

  it('retention drops hidden behind a shard error are found with the clock', () => {
    const body = b(`m v="s" ${T}\nm v=1 ${T - 3n * H}\nm v=2 ${T}\n`);
    const a = analyzeRejection(
      json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1'),
      body, { retentionMs: 3600000, nowMs },
    );
    expect(a.rejected.map((r) => r.reason)).toEqual([
      'field type conflict: input field "v" on measurement "m" is type string, already exists as type float',
      'points beyond retention policy',
    ]);
    expect(a.unidentified).toBe(0);
  });

  it('max-series-per-database: every point of the shard batch', () => {
    const body = b('a,k=1 v=1 1\nb,k=1 v=1 1\nc,k=1 v=1 1\n');
    const a = analyzeRejection(json('partial write: max-series-per-database limit exceeded: (2) dropped=3'), body);
    expect(a).toMatchObject({ kind: 'limit', stored: true, unidentified: 0 });
    expect(a.rejected).toHaveLength(3);
  });

  it('max-values-per-tag: counted, not named', () => {
    const body = b('m,h=e v=1 7\nm,h=a v="x" 8\nm,h=a v=3 9\n');
    const a = analyzeRejection(json('partial write: max-values-per-tag limit exceeded (4/2): measurement="m" tag="h" value="e" dropped=2'), body);
    expect(a).toMatchObject({ kind: 'limit', stored: true, unidentified: 2, rejected: [] });
  });

  it('another partial write: counted, not named', () => {
    const a = analyzeRejection(json('partial write: shard 12 is pending deletion dropped=2'), b('m v=1 1\nm v=2 2\n'));
    expect(a).toMatchObject({ kind: 'other', rejected: [], stored: true, unidentified: 2, dropped: 2 });
  });

  it('anything else: every line refused with the message', () => {
    const body = b('m v=1 1\nm v=2 2\n');
    const a = analyzeRejection(json('database is required'), body);
    expect(a).toMatchObject({ kind: 'other', stored: true, unidentified: 0 });
    expect(a.rejected.map((r) => r.reason)).toEqual(['database is required', 'database is required']);
  });
});

describe('analyzeRejection: invariants', () => {
  it('every line is rejected, resent or stored, never two of these; resend only when not stored', () => {
    const line = fc.oneof(
      fc.constantFrom('m v=1', 'm v="s"', 'm v=1i', 'm v=t', 'bad', 'm,time=1 v=1', 'm time=1', 'n v=2', 'm v=1,v="x"'),
      fc.string({ unit: fc.constantFrom('m', 'v', '=', ',', ' ', '"', '\\', '1', 'i'), maxLength: 10 }),
    );
    const messages = [
      json('field type conflict'),
      json('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=2'),
      json('partial write: points beyond retention policy dropped=1'),
      json('partial write: invalid tag key: input tag "time" on measurement "m" is invalid dropped=1'),
      json("unable to parse 'bad': invalid field format"),
      json("partial write: unable to parse 'bad': invalid field format dropped=0"),
    ];
    fc.assert(
      fc.property(fc.array(fc.tuple(line, fc.bigInt({ min: 0n, max: 10n ** 17n })), { minLength: 1, maxLength: 10 }), fc.constantFrom(...messages), (ls, msg) => {
        const body = b(ls.map(([l, t]) => `${l} ${t}\n`).join(''));
        const a = analyzeRejection(msg, body, { nowMs: 1e12, retentionMs: 3600000 });
        const all = splitLines(body).map((r) => r.start);
        const rej = a.rejected.map((r) => r.start);
        const res = a.resend.map((r) => r.start);
        expect(new Set(rej).size).toBe(rej.length);
        expect(res.filter((s) => rej.includes(s))).toEqual([]);
        expect([...rej, ...res].every((s) => all.includes(s))).toBe(true);
        expect(a.stored).toBe(res.length === 0);
        if (!a.stored) expect(rej.length + res.length).toBe(all.length);
        expect(a.unidentified).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
