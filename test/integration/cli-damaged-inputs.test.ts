/**
 * `fastinflux load` on damaged files, run from dist/ as a child process against the real server:
 * truncated and corrupt Arrow IPC files and streams, Parquet files, gzip, empty files and files
 * of another format. Each gives exit status 1 and one line on stderr naming the file and the
 * damage (never an internal error of a reader, never a stack trace). A file that fails before its
 * first row writes nothing; one that fails midway writes the rows before the damage, and the
 * summary and the message say how many.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as A from 'apache-arrow';
import * as P from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';
import { CLI, runCli, type Run } from '../helpers/cli.js';
import { numberedTable } from '../helpers/generators.js';

const url = sharedInfluxUrl();
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-damaged-'));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 3 record batches (Parquet: row groups) of 1000 rows: time, a dictionary tag, a float field. */
const table = (batches = 3): A.Table => numberedTable(batches * 1000, { hosts: 3, perBatch: 1000, t0: 1_000_000_000n, step: 1_000_000_000n });
const ipcFile = Buffer.from(A.tableToIPC(table(), 'file'));
const ipcStream = Buffer.from(A.tableToIPC(table(), 'stream'));
const oneBatchStream = Buffer.from(A.tableToIPC(table(1), 'stream'));
const parquet = Buffer.from(P.writeParquet(P.Table.fromIPCStream(A.tableToIPC(table(), 'stream')), new P.WriterPropertiesBuilder().setMaxRowGroupSize(1000).build()));
const csv = Buffer.from(['time,host,v', ...Array.from({ length: 20_000 }, (_, i) => `${i + 1},h${i % 3},${i}`)].join('\n'));

function damaged(bytes: Buffer, at: number, length: number, value: number): Buffer {
  const b = Buffer.from(bytes);
  b.fill(value, at, at + length);
  return b;
}

async function load(name: string, data: Buffer | string, db: string): Promise<Run> {
  const path = join(dir, name);
  writeFileSync(path, data);
  return runCli(url, ['load', path, '--db', db, '--create-db', '--measurement', 'm', '--batch-size', '500', '--precision', 's', '-q']);
}

/** Points stored in `db`, asked of the server directly. */
async function stored(db: string): Promise<number> {
  const r = await rawQuery(url, 'SELECT count(v) FROM m', { db });
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

/** Exit 1 and a single line on stderr, naming the file: the message after "fastinflux: error: ". */
function oneLineError(r: Run, name: string): string {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fastinflux: error: /);
  expect(lines[0]).not.toMatch(/Cannot read properties|TypeError|RuntimeError|\n\s+at /);
  const msg = lines[0]!.slice('fastinflux: error: '.length);
  expect(msg.startsWith(join(dir, name))).toBe(true);
  return msg.slice(join(dir, name).length);
}

const kBeforeFirstRow: { name: string; data: () => Buffer | string; says: RegExp }[] = [
  { name: 'half.arrow', data: () => ipcFile.subarray(0, ipcFile.length >> 1), says: /^ is truncated or corrupt: an Arrow IPC file ends with its footer and the ARROW1 magic, and this one \(\d+ bytes\) does not; nothing was read$/ },
  { name: 'in-footer.arrow', data: () => ipcFile.subarray(0, ipcFile.length - 20), says: /^ is truncated or corrupt: an Arrow IPC file ends with its footer/ },
  { name: 'magic.arrow', data: () => ipcFile.subarray(0, 6), says: /^ is truncated: 6 bytes, only the start of an Arrow IPC file; nothing was read$/ },
  { name: 'bad-footer.arrow', data: () => damaged(ipcFile, ipcFile.length - 200, 190, 0x7f), says: /^ is corrupt: the Arrow IPC file's footer or schema cannot be read; nothing was read \(.+\)$/ },
  { name: 'empty.arrow', data: () => '', says: /^ is empty: no Arrow IPC data$/ },
  { name: 'csv.arrow', data: () => 'time,v\n1,2\n', says: /^ is not Arrow IPC data: it starts with neither the file magic ARROW1 nor a stream message$/ },
  { name: 'schema-cut.arrows', data: () => ipcStream.subarray(0, 200), says: /^ is truncated: the Arrow IPC stream's schema cannot be read; nothing was read/ },
  { name: 'empty.arrows', data: () => '', says: /^ is empty: no Arrow IPC data$/ },
  { name: 'text.arrows', data: () => 'hello, not arrow\n', says: /^ is not Arrow IPC data/ },
  { name: 'half.parquet', data: () => parquet.subarray(0, parquet.length >> 1), says: /^ is truncated or corrupt: a Parquet file ends with its footer and the PAR1 magic, and this one \(\d+ bytes\) does not; nothing was read$/ },
  { name: 'bad-footer.parquet', data: () => damaged(parquet, parquet.length - 60, 52, 0x5a), says: /^ is corrupt: its footer \(the file's metadata\) cannot be read; nothing was read \(.+\)$/ },
  { name: 'footer-length.parquet', data: () => { const b = Buffer.from(parquet); b.writeUInt32LE(parquet.length * 4, parquet.length - 8); return b; }, says: /^ is truncated or corrupt: its footer length says \d+ bytes, more than the file holds/ },
  { name: 'magic.parquet', data: () => 'PAR1', says: /^ is truncated: 4 bytes/ },
  { name: 'empty.parquet', data: () => '', says: /^ is empty: no Parquet data$/ },
  { name: 'arrow.parquet', data: () => ipcFile, says: /^ is not a Parquet file: it does not start with the PAR1 magic$/ },
  { name: 'parquet.csv', data: () => parquet, says: /^ is not CSV: it holds binary data \(a NUL byte at byte \d+\)$/ },
  { name: 'arrow.ndjson', data: () => ipcFile, says: /^ is not NDJSON: it holds binary data/ },
  { name: 'empty.ndjson', data: () => '', says: /^ is empty: no NDJSON records$/ },
  { name: 'empty.csv.gz', data: () => '', says: /^ is empty: no gzip data$/ },
  { name: 'not-gzip.csv.gz', data: () => csv, says: /^ is corrupt: not valid gzip data/ },
];

describe('a file that fails before its first row: one line, nothing written', () => {
  for (const f of kBeforeFirstRow) {
    it(f.name, async () => {
      const db = uniqueDb('dmg');
      const r = await load(f.name, f.data(), db);
      expect(oneLineError(r, f.name)).toMatch(f.says);
      expect(r.stdout).not.toMatch(/points written/);
      expect(await stored(db)).toBe(0);
    });
  }
});

describe('a file that fails midway: the rows before the damage are written, and counted', () => {
  it('an Arrow IPC stream cut inside its second record batch', async () => {
    const db = uniqueDb('dmg');
    const r = await load('half.arrows', ipcStream.subarray(0, ipcStream.length >> 1), db);
    expect(oneLineError(r, 'half.arrows')).toMatch(/^ is truncated: reading stopped in record batch 2, after row 1000 \(the 1000 rows before it were read\) \(Expected to read \d+ bytes for message body, but only read \d+\.\)$/);
    expect(r.stdout).toMatch(/1,000 points written/);
    expect(r.stdout).toMatch(/stopped before the end of the input/);
    expect(await stored(db)).toBe(1000);
  });

  it('an Arrow IPC stream cut between record batches (no end-of-stream marker)', async () => {
    const db = uniqueDb('dmg');
    const r = await load('boundary.arrows', oneBatchStream.subarray(0, oneBatchStream.length - 8), db);
    expect(oneLineError(r, 'boundary.arrows')).toBe(' is truncated: the Arrow IPC stream ends without its end-of-stream marker, after row 1000 (the 1000 rows before it were read)');
    expect(r.stdout).toMatch(/1,000 points written/);
    expect(await stored(db)).toBe(1000);
  });

  it('a Parquet file whose second row group is damaged', async () => {
    const f = await P.ParquetFile.fromFile(new Blob([parquet]));
    const meta = f.metadata();
    const firstGroup = meta.rowGroup(0).compressedSize();
    f.free();
    const db = uniqueDb('dmg');
    const r = await load('row-group-2.parquet', damaged(parquet, 4 + firstGroup, 16, 0xff), db);
    expect(oneLineError(r, 'row-group-2.parquet')).toMatch(/^ is corrupt: reading stopped after row 1000 \(the 1000 rows before it were read\) \(.+\)$/);
    expect(r.stdout).toMatch(/1,000 points written/);
    expect(await stored(db)).toBe(1000);
  });

  it('a CSV .gz cut short', async () => {
    const gz = gzipSync(csv);
    const db = uniqueDb('dmg');
    const r = await load('cut.csv.gz', gz.subarray(0, gz.length >> 1), db);
    expect(oneLineError(r, 'cut.csv.gz')).toMatch(/^ is truncated: its gzip data ends early, after \d+ compressed bytes \(unexpected end of file\)$/);
    const written = Number(/([\d,]+) points written/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(20_000);
    expect(await stored(db)).toBe(written);
  });

  it('the undamaged files load whole (the same builders)', async () => {
    for (const [name, data] of [['ok.arrow', ipcFile], ['ok.arrows', ipcStream], ['ok.parquet', parquet]] as const) {
      const db = uniqueDb('dmg');
      const r = await load(name, data, db);
      expect(r.code, r.stderr).toBe(0);
      expect(await stored(db)).toBe(3000);
    }
  });
});
