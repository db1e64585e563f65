/**
 * The one parser of influxd's 400 answers to /write (src/transport/refusal.ts), on the messages
 * influxd 1.6.7 sends (the `error` of its JSON body: /work/shared/reference/reliability.md, and
 * writer/rejections.ts's table).
 */
import { describe, expect, it } from 'vitest';
import { errorText, parseErrorItems, parseRefusal, parseRejectedLines } from '../../../src/transport/refusal.js';

describe('parseRefusal: influxd 1.6.7 messages', () => {
  it.each([
    ["unable to parse 'bad line here': invalid field format", { kind: 'unparsable', partial: false, dropped: undefined, lines: ['bad line here'] }],
    ["unable to parse 'bad one': invalid field format\nunable to parse 'm': missing fields", { kind: 'unparsable', partial: false, lines: ['bad one', 'm'] }],
    ["partial write: unable to parse 'bad line here': invalid field format dropped=0",
      { kind: 'partial', partial: true, dropped: 0, reason: "unable to parse 'bad line here': invalid field format", lines: ['bad line here'] }],
    ['partial write: field type conflict: input field "v" on measurement "conf" is type string, already exists as type float dropped=2',
      { kind: 'typeConflict', partial: true, dropped: 2, lines: [], conflict: { splits: [{ field: 'v', measurement: 'conf' }], type: 'string', existing: 'float' } }],
    ['field type conflict', { kind: 'typeConflictNothingStored', partial: false, dropped: undefined, lines: [] }],
    ['partial write: points beyond retention policy dropped=3', { kind: 'beyondRetention', partial: true, dropped: 3, reason: 'points beyond retention policy' }],
    ['partial write: invalid tag key: input tag "time" on measurement "m" is invalid dropped=1', { kind: 'timeKey', partial: true, dropped: 1 }],
    ['partial write: invalid field name: input field "time" on measurement "m" is invalid dropped=1', { kind: 'timeKey', partial: true, dropped: 1 }],
    ['partial write: max-values-per-tag limit exceeded (4/2): measurement="m" tag="h" value="e" dropped=2', { kind: 'limit', maxSeries: false, dropped: 2 }],
    ['partial write: max-series-per-database limit exceeded: (2) dropped=3', { kind: 'limit', maxSeries: true, dropped: 3 }],
    ['partial write: shard 12 is pending deletion dropped=2', { kind: 'other', partial: true, dropped: 2, reason: 'shard 12 is pending deletion' }],
    ['database is required', { kind: 'other', partial: false, dropped: undefined, reason: 'database is required', lines: [] }],
  ] as const)('%j', (text, want) => {
    expect(parseRefusal(text)).toMatchObject({ text, ...want });
  });

  it('a field or measurement holding `" on measurement "`: every split, for the batch to choose', () => {
    const r = parseRefusal('partial write: field type conflict: input field "a" on measurement "b" on measurement "c" is type integer, already exists as type float dropped=1');
    expect(r.conflict).toEqual({
      splits: [{ field: 'a', measurement: 'b" on measurement "c' }, { field: 'a" on measurement "b', measurement: 'c' }],
      type: 'integer', existing: 'float',
    });
  });

  it('a cut message (the 1 KiB X-Influxdb-Error copy) has no dropped=', () => {
    const full = `partial write: unable to parse '${'x'.repeat(1200)}': invalid field format dropped=0`;
    expect(parseRefusal(full.slice(0, 1024))).toMatchObject({ kind: 'partial', partial: true, dropped: undefined, lines: [] });
  });
});

describe('the lines quoted', () => {
  it('lines with quotes, `\': \'` inside, \\r and invalid UTF-8 as Go shows it', () => {
    const msg = 'partial write: ' + [
      "unable to parse 'm s=\"a\ufffd\ufffdb\" 1 x': point is invalid",
      "unable to parse 'm v=2 2\r': bad timestamp",
      "unable to parse 'it's': invalid field format",
    ].join('\n') + ' dropped=0';
    expect(parseRejectedLines(msg)).toEqual(['m s="a\ufffd\ufffdb" 1 x', 'm v=2 2\r', "it's"]);
  });

  it('`locate` settles a `\': \'` inside a line: the first candidate it knows', () => {
    const text = "unable to parse 'm s=\"a': b\" 1 x': point is invalid\nunable to parse 'bad': invalid field format";
    expect(parseRejectedLines(text)).toEqual(['m s="a', 'bad']);
    const known = ['m s="a\': b" 1 x', 'bad'];
    const { items, complete } = parseErrorItems(text, (line) => (known.includes(line) ? known.indexOf(line) : undefined));
    expect(complete).toBe(true);
    expect(items).toEqual([
      { line: 'm s="a\': b" 1 x', reason: 'point is invalid', at: 0 },
      { line: 'bad', reason: 'invalid field format', at: 1 },
    ]);
  });

  it('an item no line matches is skipped, and the walk says it is incomplete', () => {
    const text = "unable to parse 'gone': invalid field format\nunable to parse 'bad': invalid field format";
    const { items, complete } = parseErrorItems(text, (line) => (line === 'bad' ? 1 : undefined));
    expect(complete).toBe(false);
    expect(items).toEqual([{ line: 'bad', reason: 'invalid field format', at: 1 }]);
  });

  it('no lines in messages that quote none', () => {
    expect(parseRejectedLines('partial write: points beyond retention policy dropped=1')).toEqual([]);
    expect(parseRejectedLines('')).toEqual([]);
  });
});

describe('errorText', () => {
  it('the JSON body\'s error (or InfluxDB 2.x\'s message), else the text less its final newline', () => {
    expect(errorText('{"error":"partial write: points beyond retention policy dropped=1"}\n')).toBe('partial write: points beyond retention policy dropped=1');
    expect(errorText('{"code":"invalid","message":"unable to parse \'x\': missing fields"}')).toBe("unable to parse 'x': missing fields");
    expect(errorText('request throttled, queue full\n')).toBe('request throttled, queue full');
    expect(errorText('{not json')).toBe('{not json');
  });
});
