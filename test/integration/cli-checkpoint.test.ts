/**
 * `fastinflux load --checkpoint PATH` against the real server: a 2,000,000-row Arrow load killed
 * (SIGKILL) half way and run again stores exactly every row, the second run writing only the
 * rest; a finished load run again writes nothing; a file changed since is loaded from the start
 * with a warning naming it; line protocol, CSV, NDJSON and Parquet resume exactly where a
 * checkpoint says (a fresh database holds only the rest, the first row stored is the one at the
 * position, line numbers in messages stay right); a damaged checkpoint stops the load at once.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import * as P from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, spawnCli, type Run } from '../helpers/cli.js';
import { numberedTable } from '../helpers/generators.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-cli-checkpoint-'));
const T0 = 1_704_067_200_000_000_000n;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const path = (name: string): string => join(dir, name);

interface Summary {
  ok: boolean;
  interrupted?: boolean;
  expired: number;
  written: number;
  alreadyLoaded: number;
  invalid: number;
  files: { file: string; written: number; alreadyLoaded: number; complete: boolean }[];
}

function summary(r: Run): Summary {
  try {
    return JSON.parse(r.stdout) as Summary;
  } catch {
    throw new Error(`not a JSON summary (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** Points of `measurement` in `db`, asked of the server directly (0 when there is none). */
async function count(db: string, measurement: string, field = 'v'): Promise<number> {
  const r = await rawQuery(url, `SELECT count("${field}") FROM "${measurement}"`, { db });
  const v = r.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

/** The smallest value of field v stored (the first row loaded, as every row's v is its index). */
async function minV(db: string, measurement: string): Promise<number> {
  const r = await rawQuery(url, `SELECT min("v") FROM "${measurement}"`, { db });
  return r.results?.[0]?.series?.[0]?.values?.[0]?.[1] as number;
}

interface CheckpointDoc {
  version: number;
  db: string;
  rp: string | null;
  files: { path: string; size: number; mtimeMs: number; format: string; unit: string; position: number; rows: number; line?: number; done: boolean }[];
}

const readCheckpoint = (p: string): CheckpointDoc => JSON.parse(readFileSync(p, 'utf8')) as CheckpointDoc;

/**
 * The checkpoint's first file once `ready` says so (read every 20 ms while `run` goes on); the
 * test fails if the run ends before (`before`: what it should not have ended before).
 */
async function untilCheckpoint(run: ReturnType<typeof spawnCli>, ck: string, ready: (f: CheckpointDoc['files'][number]) => boolean, before: string): Promise<CheckpointDoc['files'][number]> {
  let exited = false;
  void run.done.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`the first run ended before ${before}: ${JSON.stringify(await run.done)}`);
    const f = existsSync(ck) ? readCheckpoint(ck).files[0] : undefined;
    if (f && ready(f)) return f;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An Arrow IPC file of `n` numbered rows (100 series, v = the row's index, T0 + i ns) in record batches of `perBatch`. */
function arrowFile(name: string, n: number, perBatch: number): string {
  const p = path(name);
  writeFileSync(p, A.tableToIPC(numberedTable(n, { perBatch, t0: T0 }), 'file'));
  return p;
}

/** Line protocol of `n` lines (v = the line's index); `bad` line indices are replaced by a line influxd refuses. */
function lpText(n: number, bad: number[] = []): string {
  let s = '';
  for (let i = 0; i < n; i++) s += bad.includes(i) ? 'lp,host=x v=\n' : `lp,host=h${i % 10} v=${i} ${T0 + BigInt(i)}\n`;
  return s;
}

/** The byte offset after the first `k` lines. */
function offsetAfterLines(text: string, k: number): number {
  let at = 0;
  for (let i = 0; i < k; i++) at = text.indexOf('\n', at) + 1;
  return Buffer.byteLength(text.slice(0, at));
}

describe('fastinflux load --checkpoint', () => {
  it('a 2,000,000-row Arrow load SIGKILLed half way, run again: exactly every row stored, the second run writing only the rest', async () => {
    const n = 2_000_000;
    const file = arrowFile('big.arrow', n, 250_000);
    const ck = path('big.ckpt.json');
    const db = uniqueDb('ckbig');
    const args = ['load', file, '--db', db, '--create-db', '--measurement', 'big', '--checkpoint', ck, '--json', '-q'];
    const first = spawnCli(url, args, { killAfterMs: 60_000 });
    // The event: the checkpoint says a part of the file is loaded (saved every second). Then SIGKILL.
    const { position } = await untilCheckpoint(first, ck, (f) => f.position >= n * 0.25 && !f.done, 'it was killed');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).not.toBe(0);
    const storedFirst = await count(db, 'big');
    // What the checkpoint records is stored (it moves over acknowledged points only); the kill
    // may have come before the last second's acknowledgements reached it.
    const recorded = readCheckpoint(ck).files[0]!;
    expect(recorded.done).toBe(false);
    expect(recorded.position).toBeGreaterThanOrEqual(position);
    expect(recorded.position).toBeLessThan(n);
    expect(storedFirst).toBeGreaterThanOrEqual(recorded.position);

    const second = await runCli(url, args, { killAfterMs: 60_000 });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const s = summary(second);
    expect(s.alreadyLoaded).toBe(recorded.position);
    expect(s.written).toBe(n - recorded.position);
    expect(s.written).toBeLessThan(n);
    expect(s.alreadyLoaded).toBeGreaterThan(0);
    expect(await count(db, 'big')).toBe(n);
    const after = readCheckpoint(ck).files[0]!;
    expect(after).toMatchObject({ done: true, position: n, rows: n, unit: 'row', format: 'arrow' });
    console.log(`2M-row Arrow kill and resume: killed at checkpoint ${recorded.position} (server held ${storedFirst}); second run wrote ${s.written}, already loaded ${s.alreadyLoaded}; stored ${n}`);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  }, 60_000);

  it('SIGTERM stops the load in order: what the server acknowledged is in the checkpoint, and a second run loads the rest', async () => {
    const n = 600_000;
    const file = arrowFile('term.arrow', n, 100_000);
    const ck = path('term.ckpt.json');
    const db = uniqueDb('ckterm');
    const args = ['load', file, '--db', db, '--create-db', '--measurement', 'term', '--checkpoint', ck, '--json', '-q'];
    // Slowed down (one small request at a time, a small buffer): the reader stays far behind the
    // end of the file when the first position is saved, and the stop comes in its middle.
    const first = spawnCli(url, [...args, '--in-flight', '1', '--batch-size', '1000', '--buffer-size', '1M'], { killAfterMs: 60_000 });
    await untilCheckpoint(first, ck, (f) => f.position > 0 && !f.done, 'SIGTERM');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/terminated: stopped reading/);
    const s1 = summary(stopped);
    expect(s1).toMatchObject({ interrupted: true, expired: 0 });
    const p = readCheckpoint(ck).files[0]!;
    expect(p.done).toBe(false);
    expect(p.position).toBeGreaterThan(0);
    // Saved at the stop: every point written by then is in it, bar a write taken in as it stopped.
    expect(s1.written).toBeGreaterThanOrEqual(p.position);
    expect(s1.written - p.position).toBeLessThanOrEqual(1000);
    const second = await runCli(url, args, { killAfterMs: 60_000 });
    expect(second.code).toBe(0);
    expect(summary(second)).toMatchObject({ written: n - p.position, alreadyLoaded: p.position });
    expect(await count(db, 'term')).toBe(n);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  }, 60_000);

  it('a finished load run again writes nothing: every row already loaded, exit 0', async () => {
    const rows = 3000;
    let csv = 'time,host,v\n';
    for (let i = 0; i < rows; i++) csv += `${T0 + BigInt(i)},h${i % 7},${i}\n`;
    const file = path('done.csv');
    writeFileSync(file, csv);
    const ck = path('done.ckpt.json');
    const db = uniqueDb('ckdone');
    const args = ['load', file, '--db', db, '--create-db', '--tag-columns', 'host', '--batch-size', '500', '--checkpoint', ck];
    const first = await runCli(url, [...args, '--json', '-q'], { killAfterMs: 60_000 });
    expect(first.code).toBe(0);
    expect(summary(first)).toMatchObject({ written: rows, alreadyLoaded: 0 });
    expect(readCheckpoint(ck)).toMatchObject({ version: 1, db, rp: null, files: [{ path: file, format: 'csv', unit: 'row', position: rows, rows, done: true }] });
    const again = await runCli(url, [...args, '--json', '-q'], { killAfterMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(summary(again)).toMatchObject({ ok: true, written: 0, alreadyLoaded: rows, files: [{ written: 0, alreadyLoaded: rows, complete: true }] });
    // The text summary says it too.
    const text = await runCli(url, [...args, '-q'], { killAfterMs: 60_000 });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ 0 points written: all 3,000 rows already loaded/);
    expect(await count(db, 'done')).toBe(rows);
  }, 60_000);

  it('a file changed since the checkpoint (appended to, or touched) is loaded from the start, with a warning naming it', async () => {
    const lines = (from: number, to: number): string => {
      let s = '';
      for (let i = from; i < to; i++) s += `{"time":${T0 + BigInt(i)},"host":"h${i % 5}","v":${i}}\n`;
      return s;
    };
    const file = path('changed.ndjson');
    writeFileSync(file, lines(0, 1000));
    const ck = path('changed.ckpt.json');
    const db = uniqueDb('ckchanged');
    const args = ['load', file, '--db', db, '--create-db', '--tag-columns', 'host', '--batch-size', '300', '--checkpoint', ck, '--json', '-q'];
    expect(summary(await runCli(url, args, { killAfterMs: 60_000 }))).toMatchObject({ written: 1000, alreadyLoaded: 0 });
    // Appended to: another size.
    appendFileSync(file, lines(1000, 1500));
    const appended = await runCli(url, args, { killAfterMs: 60_000 });
    expect(appended.code).toBe(0);
    expect(appended.stderr).toContain(file);
    expect(appended.stderr).toMatch(/changed since the checkpoint .*size is \d+ bytes, not \d+.*loading it from the start/);
    expect(summary(appended)).toMatchObject({ written: 1500, alreadyLoaded: 0 });
    expect(await count(db, 'changed')).toBe(1500);
    // Touched: same size, another modification time.
    const st = statSync(file);
    utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
    const touched = await runCli(url, args, { killAfterMs: 60_000 });
    expect(touched.code).toBe(0);
    expect(touched.stderr).toContain(file);
    expect(touched.stderr).toMatch(/changed since the checkpoint .*modified/);
    expect(summary(touched)).toMatchObject({ written: 1500, alreadyLoaded: 0 });
    // Unchanged now: nothing to do, no warning.
    const same = await runCli(url, args, { killAfterMs: 60_000 });
    expect(same.stderr).toBe('');
    expect(summary(same)).toMatchObject({ written: 0, alreadyLoaded: 1500 });
    expect(await count(db, 'changed')).toBe(1500);
  }, 60_000);

  it('line protocol, CSV, NDJSON and Parquet resume exactly at the position a checkpoint records', async () => {
    const n = 5000;
    // Line protocol: two bad lines, one before the position and one after (its line number must be right).
    const lp = lpText(n, [1200, 3700]);
    const lpFile = path('resume.lp');
    writeFileSync(lpFile, lp);
    let csv = 'time,host,v\n';
    for (let i = 0; i < n; i++) csv += `${T0 + BigInt(i)},h${i % 10},${i === 3900 ? 'oops' : i}\n`;
    const csvFile = path('resume-csv.csv');
    writeFileSync(csvFile, csv);
    let nd = '';
    for (let i = 0; i < n; i++) nd += `{"time":${T0 + BigInt(i)},"host":"h${i % 10}","v":${i}.5}\n`;
    const ndFile = path('resume-nd.ndjson');
    writeFileSync(ndFile, nd);
    const table = numberedTable(n, { hosts: 10, t0: T0 });
    const pqFile = path('resume-pq.parquet');
    writeFileSync(pqFile, P.writeParquet(P.Table.fromIPCStream(A.tableToIPC(table, 'stream')), new P.WriterPropertiesBuilder().setMaxRowGroupSize(1000).build()));
    const files = [lpFile, csvFile, ndFile, pqFile];

    // A first run loads everything, with its checkpoint.
    const ck = path('resume.ckpt.json');
    const db1 = uniqueDb('ckfirst');
    const first = await runCli(url, ['load', ...files, '--db', db1, '--create-db', '--tag-columns', 'host', '--batch-size', '400', '--checkpoint', ck, '--json', '-q'], { killAfterMs: 60_000 });
    expect(first.code).toBe(3); // the bad rows
    expect(summary(first)).toMatchObject({ written: 4 * n - 3, invalid: 3 });
    const doc = readCheckpoint(ck);
    expect(doc.files.map((f) => [f.format, f.unit, f.done])).toEqual([['lp', 'byte', true], ['csv', 'row', true], ['ndjson', 'row', true], ['parquet', 'row', true]]);
    expect(doc.files[0]).toMatchObject({ position: Buffer.byteLength(lp), rows: n - 2 });

    // The same checkpoint, cut back: each file half loaded (Parquet inside a row group), into a fresh database.
    const db2 = uniqueDb('ckresume');
    const k = { lp: 2500, csv: 2400, nd: 2800, pq: 2300 };
    doc.db = db2;
    Object.assign(doc.files[0]!, { position: offsetAfterLines(lp, k.lp), rows: k.lp - 1, line: k.lp + 1, done: false });
    Object.assign(doc.files[1]!, { position: k.csv, rows: k.csv, done: false });
    Object.assign(doc.files[2]!, { position: k.nd, rows: k.nd, done: false });
    Object.assign(doc.files[3]!, { position: k.pq, rows: k.pq, done: false });
    writeFileSync(ck, JSON.stringify(doc));
    const second = await runCli(url, ['load', ...files, '--db', db2, '--create-db', '--tag-columns', 'host', '--batch-size', '400', '--checkpoint', ck, '--json'], { killAfterMs: 60_000 });
    expect(second.code).toBe(3);
    const s = summary(second);
    expect(s.files.map((f) => [f.written, f.alreadyLoaded])).toEqual([
      [n - k.lp - 1, k.lp - 1], // line 3701 is refused
      [n - k.csv - 1, k.csv], // row 3900 is refused
      [n - k.nd, k.nd],
      [n - k.pq, k.pq],
    ]);
    expect(s.invalid).toBe(2);
    // Only the bad rows after the positions are reported again, with their own line numbers.
    expect(second.stderr).toContain(`${lpFile}:3701`);
    expect(second.stderr).not.toContain(`${lpFile}:1201`);
    expect(second.stderr).toContain(`${csvFile}:3902`);
    // The fresh database holds the rest exactly, starting at the position.
    expect(await count(db2, 'lp')).toBe(n - k.lp - 1);
    expect(await minV(db2, 'lp')).toBe(k.lp);
    expect(await count(db2, 'resume-csv')).toBe(n - k.csv - 1);
    expect(await minV(db2, 'resume-csv')).toBe(k.csv);
    expect(await count(db2, 'resume-nd')).toBe(n - k.nd);
    expect(await minV(db2, 'resume-nd')).toBe(k.nd + 0.5);
    expect(await count(db2, 'resume-pq')).toBe(n - k.pq);
    expect(await minV(db2, 'resume-pq')).toBe(k.pq);
    expect(readCheckpoint(ck).files.every((f) => f.done)).toBe(true);
    await rawQuery(url, `DROP DATABASE "${db1}"`);
    await rawQuery(url, `DROP DATABASE "${db2}"`);
  }, 60_000);

  it('a damaged checkpoint stops the load at once with an error naming it; nothing is written', async () => {
    const file = path('small.lp');
    writeFileSync(file, lpText(100));
    const db = uniqueDb('ckdamaged');
    await rawQuery(url, `CREATE DATABASE "${db}"`);
    const cases: [string, string, RegExp][] = [
      ['truncated.json', '{"version":1,"db":', /damaged: not JSON/],
      ['empty.json', '', /damaged: it is empty/],
      ['wrong.json', JSON.stringify({ version: 1, db, rp: null, files: [{ path: file, size: 'big' }] }), /damaged: files\[0\] is not a valid file record/],
      ['version.json', JSON.stringify({ version: 0, db, rp: null, files: [] }), /damaged: its version is 0/],
    ];
    for (const [name, text, why] of cases) {
      const ck = path(name);
      writeFileSync(ck, text);
      const r = await runCli(url, ['load', file, '--db', db, '--checkpoint', ck], { killAfterMs: 60_000 });
      expect(r.code, name).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(ck);
      expect(r.stderr).toMatch(why);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      // Left as it was.
      expect(readFileSync(ck, 'utf8')).toBe(text);
    }
    // Another database's checkpoint is not this load's.
    const other = path('other.json');
    writeFileSync(other, JSON.stringify({ version: 1, db: 'elsewhere', rp: null, files: [] }));
    const r = await runCli(url, ['load', file, '--db', db, '--checkpoint', other], { killAfterMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/records a load into database "elsewhere"/);
    // Standard input cannot be resumed.
    const stdin = await runCli(url, ['load', '-', '--format', 'lp', '--db', db, '--checkpoint', path('stdin.json')], { input: lpText(3), killAfterMs: 60_000 });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/--checkpoint cannot resume standard input/);
    expect(await count(db, 'lp')).toBe(0);
    await rawQuery(url, `DROP DATABASE "${db}"`);
  }, 60_000);
});
