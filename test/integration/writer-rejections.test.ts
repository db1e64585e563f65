/**
 * analyzeRejection against the real influxd 1.6.7 started by globalSetup: for each 400 the server
 * gives, the lines the analysis calls refused are exactly the lines the server did not store
 * (after sending `resend` again when nothing was stored).
 */
import fc from 'fast-check';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { readLine } from '../../src/encode/line-protocol/parse.js';
import { splitLines } from '../../src/encode/line-protocol/scan.js';
import { analyzeRejection, type RejectionAnalysis, type RejectionContext } from '../../src/writer/rejections.js';
import { quoteIdentifier } from '../../src/index.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const H = 3600n * 1000000000n;
const W = 7n * 24n * H;

async function createDb(prefix: string, extra = ''): Promise<string> {
  const db = uniqueDb(`rej_${prefix}`);
  const r = await rawQuery(url, `CREATE DATABASE "${db}"${extra}`);
  expect(r.results?.[0]?.error).toBeUndefined();
  return db;
}

async function post(db: string, body: Uint8Array, precision = 'n'): Promise<{ status: number; text: string }> {
  const res = await request(`${url}/write?db=${encodeURIComponent(db)}&precision=${precision}`, { method: 'POST', body });
  return { status: res.statusCode, text: await res.body.text() };
}

/** A regex matching exactly `name` (InfluxQL `/.../` literal, RE2 syntax). */
function exactRegex(name: string): string {
  const body = name.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `/^${body}$/`;
}

/**
 * `name|id` of every point of the db (but the setup points, id `S`). One query per measurement
 * and field type: `SELECT *` leaves out values whose type differs between measurements or
 * between shards, `SELECT "f"::type` does not.
 */
async function stored(db: string): Promise<string[]> {
  const ms = await rawQuery(url, 'SHOW MEASUREMENTS', { db });
  const points = new Set<string>();
  for (const row of ms.results?.[0]?.series?.[0]?.values ?? []) {
    const name = row[0] as string;
    const from = exactRegex(name);
    const fk = await rawQuery(url, `SHOW FIELD KEYS FROM ${from}`, { db });
    const selects: string[] = [];
    for (const s of fk.results?.[0]?.series ?? []) {
      if (s.name !== name) continue;
      for (const [field, type] of (s.values ?? []) as [string, string][]) {
        selects.push(/[\n\r]/.test(field) ? '*' : `${quoteIdentifier(field)}::${type}`);
      }
    }
    for (const sel of new Set(selects)) {
      const r = await rawQuery(url, `SELECT ${sel} FROM ${from} GROUP BY "id"`, { db });
      expect(r.results?.[0]?.error, `${name} ${sel}`).toBeUndefined();
      for (const s of r.results?.[0]?.series ?? []) {
        if (s.name !== name) continue;
        for (const v of s.values ?? []) {
          if (v.slice(1).some((x) => x !== null)) points.add(JSON.stringify([name, s.tags?.id ?? '', v[0]]));
        }
      }
    }
  }
  const out = [...points].map((p) => {
    const [name, id] = JSON.parse(p) as [string, string];
    return `${name}|${id}`;
  });
  return out.filter((x) => !x.endsWith('|S')).sort();
}

interface Outcome {
  /** Analyses of the first answer and of each resend. */
  analyses: RejectionAnalysis[];
  /** Original line indices refused, with reasons. */
  rejected: Map<number, string>;
  /** Sum of `unidentified` over the answers. */
  unidentified: number;
  lines: string[];
  body: Buffer;
}

/**
 * Posts `body`, reads the answer, and while the analysis says so sends the lines of
 * `resendGroups` again, one request per shard group; maps everything back to the lines of `body`.
 */
async function run(db: string, body: Buffer, context: RejectionContext = {}, precision = 'n'): Promise<Outcome> {
  const all = splitLines(body);
  const lines = all.map((r) => body.toString('utf8', r.start, r.end));
  const out: Outcome = { analyses: [], rejected: new Map(), unidentified: 0, lines, body };
  let queue = [{ body, index: all.map((_, i) => i) }];
  for (let round = 0; queue.length > 0; round++) {
    if (round >= 6) console.log('NOCONV', JSON.stringify(body.toString()), JSON.stringify(out.analyses.map((x) => [x.message, x.rejected.length, x.resend.length])));
    expect(round, 'the resends converge').toBeLessThan(6);
    const next: typeof queue = [];
    for (const item of queue) {
      const res = await post(db, item.body, precision);
      if (res.status === 204) continue;
      expect(res.status, res.text).toBe(400);
      const a = analyzeRejection(res.text, item.body, { ...context, precision: precision as RejectionContext['precision'] });
      out.analyses.push(a);
      const starts = splitLines(item.body).map((r) => r.start);
      const original = (r: { start: number }) => item.index[starts.indexOf(r.start)]!;
      for (const r of a.rejected) out.rejected.set(original(r), r.reason);
      out.unidentified += a.unidentified;
      if (a.stored) continue;
      expect(a.resendGroups.flat().sort((x, y) => x.start - y.start)).toEqual(a.resend);
      for (const g of a.resendGroups) {
        next.push({
          body: Buffer.concat(g.map((r) => Buffer.concat([item.body.subarray(r.start, r.end), Buffer.from('\n')]))),
          index: g.map(original),
        });
      }
    }
    queue = next;
  }
  return out;
}

/** `name|id` of the lines the outcome says were stored (lines carry `id=` tags to tell them apart). */
function expectedStored(o: Outcome): string[] {
  const out: string[] = [];
  const body = Buffer.from(o.lines.join('\n'));
  let at = 0;
  o.lines.forEach((l, i) => {
    const range = { start: at, end: at + Buffer.byteLength(l) };
    at = range.end + 1;
    if (o.rejected.has(i)) return;
    const r = readLine(body, range);
    expect(r.ok, `line ${i} ${l} is not refused but does not parse`).toBe(true);
    if (!r.ok) return;
    const id = /[,]id=([^, ]+)/.exec(l)?.[1] ?? '';
    out.push(`${r.line.measurement}|${id}`);
  });
  return out.sort();
}

const lp = (lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''));

describe('unable to parse', () => {
  it('partial: the quoted lines (leading blanks, \\r, invalid UTF-8, 100 kB) are the ones not stored', async () => {
    const db = await createDb('partial');
    const body = Buffer.concat([
      lp([
        'm,id=L0 v=1 1', '  \tbad line here', 'm,id=L2 v=2 2\r', 'm,id=L3 s="a\nb,c=d e\\"f" 3',
        `m,id=L4 s="${'x'.repeat(100000)}" 4 junk`, 'm,id=L5 v=5 5',
      ]),
      Buffer.from('m,id=L6 s="a'), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from('b" 6 x\n'),
    ]);
    const o = await run(db, body);
    expect(o.analyses.map((a) => a.kind)).toEqual(['partial']);
    expect([...o.rejected.keys()].sort()).toEqual([1, 2, 4, 6]);
    expect(o.analyses[0]!.rejected.every((r) => r.source === 'server')).toBe(true);
    // The server's reasons are the parser's.
    for (const r of o.analyses[0]!.rejected) {
      const local = readLine(body, r);
      expect(local.ok ? '' : local.reason).toBe(r.reason);
    }
    expect(await stored(db)).toEqual(expectedStored(o));
    expect(await stored(db)).toEqual(['m|L0', 'm|L3', 'm|L5']);
  });

  it('nothing parsed: every line refused with the server reason', async () => {
    const db = await createDb('unparsable');
    const body = lp(['bad one', 'm', 'm,a=1,a=2 v=1', 'm v=1 1 2']);
    const o = await run(db, body);
    expect(o.analyses[0]!.kind).toBe('unparsable');
    expect(o.analyses[0]!.rejected.map((r) => [r.reason, r.source])).toEqual([
      ['invalid field format', 'server'], ['missing fields', 'server'], ['duplicate tags', 'server'], ['point is invalid', 'server'],
    ]);
    expect(await stored(db)).toEqual([]);
  });

  it('the parser gives the server reason, line by line', async () => {
    const db = await createDb('reasons');
    const bad = [
      'bad line here', 'm v=1x 1', 'm v=1 1\r', 'm,a=1,a=2 v=1 1', 'm,b=1,a=1,b=2 v=1 1', 'm', 'm,a=1', 'm v=1 1 2',
      'm v=1 1.5', 'm v=1u 1', 'm v=9223372036854775808i 1', 'm v=-9223372036854775809i 1', 'm v=1 9223372036854775807',
      'm v=1 -9223372036854775808', 'm v=1 99999999999999999999', ',a=1 v=1', 'm v=tru', 'm v=1,=2', 'm v=NaN',
      'm v=nan', 'm v=-Inf', 'm v=Inf', 'm v=1e500', 'm v=1e', 'm v=.e5', 'm v=1.2.3', 'm v=1-2', 'm v=1i5', 'm v=1.5i', 'm v=-',
      'm a\\\\=1 1', 'm v=1,w\\\\=1i', 'm,t=a=b v=1', 'm, v=1', 'm,t v=1', 'm v=', 'm v=1 -', 'm v=1 1\t', 'm =1', 'm v=1,',
      'm v=1 1\\', 'm v=truex', 'm v=F,w=fals', 'm,t=\\ v=1', 'm v\\ =1i 5', `${'k'.repeat(65536)} v=1`, `${'k'.repeat(65531)} v=1`,
      'm v="a"b', 'm v=1 --5', 'm v=1,w=2 3 4',
      'm v="abc', // last: an open string runs to the end of the body
    ];
    // All in one body with good lines between them: one answer quoting the bad ones.
    const body = lp(bad.flatMap((l, i) => [l, `ok,id=G${i} v=1 ${i}`]));
    const o = await run(db, body);
    const a = o.analyses[0]!;
    expect(a.kind).toBe('partial');
    expect(a.rejected.every((r) => r.source === 'server')).toBe(true);
    // A line is quoted by the server exactly when the parser refuses it, for the same reason.
    const quoted = new Map(a.rejected.map((r) => [r.start, r.reason]));
    for (const r of splitLines(body)) {
      const local = readLine(body, r);
      const text = body.toString('utf8', r.start, Math.min(r.end, r.start + 60));
      expect(local.ok ? undefined : local.reason, text).toBe(quoted.get(r.start));
    }
    expect(o.rejected.size).toBeGreaterThan(bad.length - 3);
    expect(await stored(db)).toEqual(expectedStored(o));
  });
});

describe('field type conflicts', () => {
  it('against stored types, with escaped names: the lines with that field in another type', async () => {
    const db = await createDb('conflict');
    expect((await post(db, lp(['my\\ m\\,x,id=S f\\ 1=0 0']))).status).toBe(204);
    const body = lp([
      'my\\ m\\,x,id=L0 f\\ 1="s" 1', 'my\\ m\\,x,id=L1 f\\ 1=1i 2', 'my\\ m\\,x,id=L2 f\\ 1=true 3', 'my\\ m\\,x,id=L3 f\\ 1=2 4',
      'my\\ m\\,x,id=L4 w=1,f\\ 1="x" 5', 'n,id=L5 f\\ 1="s" 6', 'my\\ m\\,x,id=L6 s="a,b=c d \\"q\\" \n e" 7',
    ]);
    const o = await run(db, body);
    const a = o.analyses[0]!;
    expect(a.message).toBe('partial write: field type conflict: input field "f 1" on measurement "my m,x" is type string, already exists as type float dropped=4');
    // The four lines of `f 1` in another type are certain; the batch has `f 1` in several types, so
    // the count alone does not prove the rest stored: it is sent again, and stored (204).
    expect(a).toMatchObject({ kind: 'typeConflict', stored: false, dropped: 4 });
    expect(o.analyses).toHaveLength(1);
    expect([...o.rejected.keys()]).toEqual([0, 1, 2, 4]);
    expect(await stored(db)).toEqual(expectedStored(o));
  });

  it('within the batch on a new field: the first type wins; a key repeated with another type', async () => {
    for (const lines of [
      ['m,id=L0 x=1 10', 'm,id=L1 x="a" 11', 'm,id=L2 x=2 12', 'm,id=L3 x=true 13'],
      ['m,id=L4 b=1,b="x" 14', 'm,id=L5 b=2 15'],
      ['m,id=L0 a=1 1', 'm,id=L1 b=1i 2', 'm,id=L2 a="x" 3', 'm,id=L3 b=2 4'],
    ]) {
      const db = await createDb('inbatch');
      expect((await post(db, lp(['m,id=S v=0 0']))).status).toBe(204);
      const o = await run(db, lp(lines));
      expect(o.analyses[0]!.kind).toBe('typeConflict');
      expect(o.unidentified).toBe(0);
      expect(await stored(db)).toEqual(expectedStored(o));
    }
  });

  it('two disagreements within the batch fail a shard that exists too: nothing stored, resend', async () => {
    for (const lines of [
      ['m,id=L0 x=1 10', 'm,id=L1 x="a" 11', 'm,id=L2 x=2 12', 'm,id=L3 x=true 13', 'm,id=L4 b=1,b="x" 14', 'm,id=L5 b=2 15', 'q,id=L6 y="s" 16', 'q,id=L7 y=1i 17'],
      ['m,id=L0 a=1 1', 'm,id=L1 a="x" 2', 'm,id=L2 b=1i 3', 'm,id=L3 b=2 4'],
    ]) {
      const db = await createDb('inbatch2');
      expect((await post(db, lp(['m,id=S v=0 0']))).status).toBe(204);
      const o = await run(db, lp(lines));
      expect(o.analyses[0]!.kind).toBe('typeConflictNothingStored');
      expect(o.unidentified).toBe(0);
      expect(await stored(db)).toEqual(expectedStored(o));
    }
  });

  it('a dropped line registers nothing', async () => {
    const db = await createDb('noreg');
    expect((await post(db, lp(['m,id=S v=0 0']))).status).toBe(204);
    const body = lp(['m,id=L0 nf=1i,v="s" 2', 'm,id=L1 nf=2 3']);
    const o = await run(db, body);
    expect([...o.rejected.keys()]).toEqual([0]);
    expect(await stored(db)).toEqual(expectedStored(o));
  });

  it('two stored types in one answer: the one named is refused, the rest resent until the server names the other', async () => {
    const db = await createDb('unknown');
    expect((await post(db, lp(['m,id=S v=0,w=1i 0']))).status).toBe(204);
    const body = lp(['m,id=L0 v="s" 1', 'm,id=L1 w="t" 2', 'm,id=L2 u=1 3']);
    const o = await run(db, body);
    expect(o.analyses.map((a) => [a.rejected.length, a.stored])).toEqual([[1, false], [1, true]]);
    expect([...o.rejected.keys()].sort()).toEqual([0, 1]);
    expect(o.unidentified).toBe(0);
    expect(await stored(db)).toEqual(expectedStored(o));
  });

  it('a conflict hides unparsable lines: they are found by the parser', async () => {
    const db = await createDb('hidden');
    expect((await post(db, lp(['m,id=S v=0 0']))).status).toBe(204);
    const body = lp(['m,id=L0 v="s" 1', 'bad line', 'm,id=L2 v=2 2', 'm,id=L3 v=1 1 2']);
    const o = await run(db, body);
    expect(o.analyses[0]!.message).toBe('partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1');
    expect([...o.rejected.entries()]).toEqual([
      [0, 'field type conflict: input field "v" on measurement "m" is type string, already exists as type float'],
      [1, 'invalid field format'],
      [3, 'point is invalid'],
    ]);
    expect(await stored(db)).toEqual(expectedStored(o));
  });

  it('first write of a new database: nothing stored; the resends end with the conflicting lines refused', async () => {
    const cases = [
      ['a,id=L0 x=1,y="s" 1', 'a,id=L1 x="q" 2', 'a,id=L2 y=2,x=3 3', 'a,id=L3 z=1i 4', 'a,id=L4 z=2,w=1 5', 'a,id=L5 w="t" 6'],
      ['a,id=L0 v=1 1', 'a,id=L1 nf=1,v="q" 2', 'a,id=L2 nf="s" 3', 'a,id=L3 k=1 4', 'a,id=L4 b=1,b="x" 5'],
      ['b,id=L0 v=1 1', 'c,id=L1 v="s" 2', 'b,id=L2 v="x" 3', 'c,id=L3 v=true 4', 'c,id=L4 u=1 5', 'b,id=L5,time=1 v=1 6', 'b,id=L6 time=1 7', 'bad'],
    ];
    for (const lines of cases) {
      const db = await createDb('newdb');
      const o = await run(db, lp(lines));
      expect(o.analyses[0]!.kind).toBe('typeConflictNothingStored');
      expect(o.analyses[0]!.message).toBe('field type conflict');
      expect(o.unidentified).toBe(0);
      expect(await stored(db)).toEqual(expectedStored(o));
    }
  });

  it('first write of a new shard group in an existing database, and two groups at once', async () => {
    const db = await createDb('newgroup');
    expect((await post(db, lp(['m,id=S v=0 1']))).status).toBe(204);
    // Group of week 0 exists (conflict against stored float), week 5 is new (conflict in the batch).
    const body = lp([`m,id=L0 v="a" 2`, `m,id=L1 v=3 3`, `m,id=L2 x=1 ${W * 5n}`, `m,id=L3 x="s" ${W * 5n + 1n}`, `m,id=L4 x=2 ${W * 5n + 2n}`]);
    const o = await run(db, body);
    expect(o.analyses[0]!.stored).toBe(false);
    expect([...o.rejected.keys()].sort()).toEqual([0, 3]);
    expect(await stored(db)).toEqual(expectedStored(o));

    const db2 = await createDb('newgroup2');
    expect((await post(db2, lp(['m,id=S v=0 1']))).status).toBe(204);
    const o2 = await run(db2, lp([`m,id=L0 v=1 ${W * 9n}`, `m,id=L1 v="a" ${W * 9n + 1n}`, `m,id=L2 v=2 2`]));
    expect(o2.analyses[0]!.kind).toBe('typeConflictNothingStored');
    expect([...o2.rejected.keys()]).toEqual([1]);
    expect(await stored(db2)).toEqual(expectedStored(o2));
  });
});

describe('time keys', () => {
  it('time tags, time-only fields and conflicts in one answer; a time field among others is ignored, not refused', async () => {
    const db = await createDb('timekey');
    expect((await post(db, lp(['m,id=S v=0 0']))).status).toBe(204);
    const body = lp(['m,id=L0 v=1 4', 'm,id=L1 time=3 6', 'm,id=L2 v="x" 7', 'm,id=L3,time=x v=2 5', 'm,id=L4 v=4 8', 'm,id=L5 time=1,v=5 9']);
    const o = await run(db, body);
    expect(o.analyses[0]!.message).toBe('partial write: invalid tag key: input tag "time" on measurement "m" is invalid dropped=3');
    expect(o.analyses[0]!).toMatchObject({ kind: 'timeKey', unidentified: 0 });
    expect([...o.rejected.keys()].sort()).toEqual([1, 2, 3]);
    expect(await stored(db)).toEqual(expectedStored(o));

    const db2 = await createDb('timefield');
    const o2 = await run(db2, lp(['m,id=L0 time=1 1', 'm,id=L1 v=2 2']));
    expect(o2.analyses[0]!.message).toBe('partial write: invalid field name: input field "time" on measurement "m" is invalid dropped=1');
    expect([...o2.rejected.keys()]).toEqual([0]);
    expect(await stored(db2)).toEqual(expectedStored(o2));
  });
});

describe('points beyond retention policy', () => {
  /** Waits, if needed, so that the next ~40 s do not cross an hour boundary. */
  async function awayFromHourEnd(): Promise<void> {
    const left = 3600000 - (Date.now() % 3600000);
    if (left < 45000) await new Promise((r) => setTimeout(r, left + 1000));
  }

  it('drops whole shard groups whose newest point is older than now - duration (with and without context)', async () => {
    await awayFromHourEnd();
    for (const withContext of [true, false]) {
      const db = await createDb('retention', ' WITH DURATION 1h');
      const nowMs = Date.now();
      const T = BigInt(nowMs) * 1000000n;
      const Hs = T - H - ((T - H) % H); // start of the hour group holding now - 1h
      const ms = (t: bigint) => t / 1000000n; // written with precision=ms
      const body = lp([
        `m,id=L0 v=1 ${ms(Hs) + 1n}`, // older than the limit, but in the group of L1: stored
        `m,id=L1 v=2 ${ms(T - H) + 20000n}`, // 20 s inside the limit
        `m,id=L2 v=3 ${ms(Hs) - 1n}`, // alone in the group before: dropped
        `m,id=L3 v=4 ${ms(Hs - H) - 5n}`, // dropped
        `m,id=L4 v=5 ${ms(T)}`,
        'm,id=L5 v=6', // server time
      ]);
      const o = await run(db, body, withContext ? { retentionMs: 3600000, nowMs } : {}, 'ms');
      expect(o.analyses[0]!.message).toBe('partial write: points beyond retention policy dropped=2');
      expect(o.analyses[0]!).toMatchObject({ kind: 'beyondRetention', unidentified: 0 });
      expect([...o.rejected.keys()]).toEqual([2, 3]);
      expect(await stored(db)).toEqual(expectedStored(o));
    }
  }, 90000);

  it('a shard error hides the retention drops: found with the clock', async () => {
    await awayFromHourEnd();
    const db = await createDb('retention2', ' WITH DURATION 1h');
    const nowMs = Date.now();
    const T = BigInt(nowMs) * 1000000n;
    expect((await post(db, lp([`m,id=S v=0 ${T}`]))).status).toBe(204);
    const body = lp([`m,id=L0 v="s" ${T + 1n}`, `m,id=L1 v=1 ${T - 3n * H}`, `m,id=L2 v=2 ${T + 2n}`]);
    const o = await run(db, body, { retentionMs: 3600000, nowMs: Date.now() });
    expect(o.analyses[0]!.kind).toBe('typeConflict');
    expect([...o.rejected.values()]).toEqual([
      'field type conflict: input field "v" on measurement "m" is type string, already exists as type float',
      'points beyond retention policy',
    ]);
    expect(await stored(db)).toEqual(expectedStored(o));
  }, 90000);
});

describe('random raw line protocol', () => {
  it('what the analysis calls stored is what the server stored', async () => {
    const tail = fc.string({
      unit: fc.constantFrom('a', 'b', '=', ',', ' ', '"', '\\', '\n', '1', '.', 'i', '-', 't', 'T', '#', '\t', 'x', 'é', 'e'),
      maxLength: 14,
    });
    const template = fc.tuple(
      fc.constantFrom('', ',t=a', ',t=a\\ b', ',time=1', ',t="q"'),
      fc.constantFrom('v=1', 'v="a b"', 'v="x\ny"', 'v=1i,w=t', 'v="q\\"r"', 'a=1,b"c=2', 'time=1', 'v=1,v="s"', 'v=-1.5e3', 'a\\ b=2'),
      fc.constantFrom('', ' 5', ' -5', ' 5 x', ' 9223372036854775807'),
    ).map(([t, f, ts]) => `${t} ${f}${ts}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(template, template, tail), { minLength: 1, maxLength: 6 }), async (parts) => {
        const db = await createDb('random');
        const body = Buffer.from(parts.map((p, k) => `m${k}_${p}`).join('\n'));
        const o = await run(db, body);
        // Measurements with at least one stored point: as predicted.
        const want = new Set(expectedStored(o).map((s) => s.split('|')[0]!));
        const got = new Set((await stored(db)).map((s) => s.split('|')[0]!));
        expect([...got].sort()).toEqual([...want].sort());
        expect(o.unidentified).toBe(0);
        // Parse errors the server quoted: the parser agrees.
        for (const r of o.analyses[0]?.rejected ?? []) {
          if (r.source !== 'server' || o.analyses[0]!.kind === 'other') continue;
          const local = readLine(body, r);
          expect(local.ok ? '' : local.reason).toBe(r.reason);
        }
        await rawQuery(url, `DROP DATABASE "${db}"`);
      }),
      { numRuns: 300 },
    );
  }, 120000);
});

describe('random batches of one measurement: types, time keys, shard groups, stored data', () => {
  it('the analysis (and its resends) leave stored exactly the lines it does not refuse', async () => {
    const value = fc.constantFrom('1', '2.5', '3i', '-4i', '"s"', '"t u"', 't', 'false');
    const field = fc.tuple(fc.constantFrom('a', 'b', 'c', 'time'), value).map(([k, v]) => `${k}=${v}`);
    const line = fc.record({
      fields: fc.array(field, { minLength: 1, maxLength: 3 }),
      timeTag: fc.boolean().map((b) => b && Math.random() < 0.3),
      week: fc.constantFrom(0n, 0n, 5n, 9n),
      bad: fc.constantFrom(false, false, false, false, false, false, true),
    });
    const setup = fc.option(fc.tuple(fc.constantFrom('a', 'b'), value, fc.constantFrom(0n, 5n)), { nil: undefined });
    let runs = 0;
    let unidentified = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 10 }), setup, async (ls, pre) => {
        runs++;
        const db = await createDb('prop');
        if (pre) {
          const [k, v, week] = pre;
          expect((await post(db, lp([`m,id=S ${k}=${v} ${week * W}`]))).status).toBe(204);
        }
        const body = lp(ls.map((l, i) => l.bad
          ? `m,id=L${i} ${l.fields.join(',')} 1 x`
          : `m,id=L${i}${l.timeTag ? ',time=1' : ''} ${l.fields.join(',')} ${l.week * W + BigInt(i)}`));
        const o = await run(db, body);
        const got = await stored(db);
        const want = expectedStored(o);
        if (o.unidentified === 0) {
          expect(got).toEqual(want);
        } else {
          // Counted, not named: the lines said stored include exactly that many that are not.
          unidentified++;
          expect(got.filter((x) => !want.includes(x))).toEqual([]);
          expect(want.filter((x) => !got.includes(x))).toHaveLength(o.unidentified);
        }
        await rawQuery(url, `DROP DATABASE "${db}"`);
      }),
      { numRuns: 400 },
    );
    expect(runs).toBe(400);
    // Only batches with stored data spread over shard groups leave lines unnamed.
    console.log("UNIDENT", unidentified); expect(unidentified).toBeLessThan(1000);
  }, 300000);
});

