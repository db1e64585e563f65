/**
 * The durable spool's storage (src/writer/spool/log.ts, records.ts, lock.ts): a write-ahead log
 * of request bodies, on real files in temp directories.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SpoolBrokenError, SpoolFullError, SpoolLockedError } from '../../../../src/errors.js';
import { SpoolLog, type SpooledRecord, type SpoolOpenResult } from '../../../../src/writer/spool/log.js';
import { crc32js, kDataOverhead } from '../../../../src/writer/spool/records.js';

const dirs: string[] = [];
let opened: SpoolLog[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fastinflux-spool-'));
  dirs.push(dir);
  return dir;
}
async function openLog(dir: string, opts: { maxBytes?: number; segmentBytes?: number } = {}): Promise<SpoolOpenResult> {
  const res = await SpoolLog.open(dir, { maxBytes: opts.maxBytes ?? 1 << 30, ...(opts.segmentBytes === undefined ? {} : { segmentBytes: opts.segmentBytes }) });
  opened.push(res.log);
  return res;
}
afterEach(async () => {
  await Promise.all(opened.map((l) => l.close().catch(() => undefined)));
  opened = [];
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A deterministic record: n lines, accepted at a time derived from `seed`, body of `size` bytes. */
function rec(seed: number, size = 100): { body: Buffer; lines: number; acceptedAt: number } {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (seed * 31 + i * 7) & 0xff;
  return { body, lines: (seed % 97) + 1, acceptedAt: 1_700_000_000_000 + seed * 1.5 };
}
const shape = (r: SpooledRecord) => ({ id: r.id, lines: r.lines, acceptedAt: r.acceptedAt, body: r.body.toString('hex') });
const segs = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
async function diskBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const n of await segs(dir)) sum += (await stat(path.join(dir, n))).size;
  return sum;
}

describe('SpoolLog', () => {
  it('round trip: records come back oldest first, released ones do not, ids keep increasing', async () => {
    const dir = await tempDir();
    const a = await openLog(dir);
    expect(a.recovered).toEqual([]);
    const input = [rec(1), rec(2, 0), rec(3, 5000)];
    const ids = [...(await a.log.append(input.slice(0, 2))), ...(await a.log.append(input.slice(2)))];
    expect(ids).toEqual([1, 2, 3]);
    expect(a.log.stats()).toMatchObject({ records: 3, oldestAcceptedAt: input[0]!.acceptedAt });
    await a.log.close();
    await a.log.close(); // idempotent
    await expect(a.log.append([rec(9)])).rejects.toThrow(/closed/);

    const b = await openLog(dir);
    expect(b.damaged).toEqual([]);
    expect(b.tornBytes).toBe(0);
    expect(b.recovered.map(shape)).toEqual(input.map((r, i) => shape({ id: i + 1, ...r })));
    b.log.release(1);
    b.log.release(3);
    b.log.release(3); // twice: no effect
    b.log.release(77); // unknown: no effect
    expect(b.log.stats()).toMatchObject({ records: 1, oldestAcceptedAt: input[1]!.acceptedAt });
    await b.log.close();

    const c = await openLog(dir);
    expect(c.recovered.map((r) => r.id)).toEqual([2]);
    expect(await c.log.append([rec(4)])).toEqual([4]);
    c.log.release(2);
    c.log.release(4);
    await c.log.close();

    // Everything released: the old segments go, and ids still do not restart.
    const d = await openLog(dir);
    expect(d.recovered).toEqual([]);
    expect(await d.log.append([rec(5)])).toEqual([5]);
  });

  it('group commit: concurrent appends share fsyncs, and all resolve', async () => {
    const dir = await tempDir();
    const { log } = await openLog(dir);
    const same = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([rec(i, 1000)])));
    expect(same.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const first = log.stats().fsyncs;
    expect(first).toBeLessThanOrEqual(3); // one datasync (+ the directory's, for the new segment)
    // Appends made while a commit runs all wait for the next one, and share it.
    const head = log.append([rec(100, 1000)]);
    await new Promise<void>((r) => setImmediate(r)); // the first commit is under way (or done)
    const rest = Array.from({ length: 49 }, (_, i) => log.append([rec(101 + i, 1000)]));
    const ids = (await Promise.all([head, ...rest])).flat();
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    expect(log.stats().fsyncs - first).toBeLessThanOrEqual(2);
    expect(log.stats().bytesWritten).toBe(await diskBytes(dir));
  });

  it('torn tail: a last record cut at any byte is dropped and the file cut; what came before stays', async () => {
    const dir = await tempDir();
    const a = await openLog(dir);
    const input = [rec(1, 50), rec(2, 70), rec(3, 40)];
    for (const r of input) await a.log.append([r]);
    await a.log.close();
    const [name] = await segs(dir);
    const file = path.join(dir, name!);
    const whole = await readFile(file);
    const last = kDataOverhead + 40;
    for (let keep = 1; keep < last; keep++) {
      await writeFile(file, whole.subarray(0, whole.length - last + keep));
      const b = await openLog(dir);
      expect(b.tornBytes).toBe(keep);
      expect(b.damaged).toEqual([]);
      expect(b.recovered.map((r) => r.id)).toEqual([1, 2]);
      await b.log.close();
      expect((await stat(file)).size).toBe(whole.length - last);
    }
    const c = await openLog(dir);
    expect(c.tornBytes).toBe(0);
    // A torn record's id was never acknowledged, so it is handed out again.
    expect(await c.log.append([rec(4)])).toEqual([3]);
    await c.log.close();
    const d = await openLog(dir);
    expect(d.recovered.map(shape)).toEqual([shape({ id: 1, ...input[0]! }), shape({ id: 2, ...input[1]! }), shape({ id: 3, ...rec(4) })]);
  });

  it('a damaged record in the middle is reported with its lines; the records around it come back', async () => {
    const dir = await tempDir();
    const a = await openLog(dir);
    const input = [1, 2, 3, 4, 5].map((i) => rec(i, 60));
    for (const r of input) await a.log.append([r]);
    await a.log.close();
    const [name] = await segs(dir);
    const file = path.join(dir, name!);
    const whole = await readFile(file);
    const origin = whole.length - 5 * (kDataOverhead + 60);
    const third = origin + 2 * (kDataOverhead + 60);

    const body = Buffer.from(whole);
    body[third + kDataOverhead + 10]! ^= 0x40; // a byte of the third body
    await writeFile(file, body);
    const b = await openLog(dir);
    expect(b.damaged).toEqual([{ segment: name, offset: third, lines: input[2]!.lines, reason: 'bad checksum' }]);
    expect(b.tornBytes).toBe(0);
    expect(b.recovered.map((r) => r.id)).toEqual([1, 2, 4, 5]);
    expect(b.recovered[2]!.body.equals(input[3]!.body)).toBe(true);
    await b.log.close();

    const header = Buffer.from(whole);
    header[third + 9]! ^= 0x01; // its length field: the header no longer validates
    await writeFile(file, header);
    const c = await openLog(dir);
    expect(c.damaged).toEqual([{ segment: name, offset: third, lines: undefined, reason: 'bad header checksum' }]);
    expect(c.recovered.map((r) => r.id)).toEqual([1, 2, 4, 5]);
  });

  it('segments: fully released ones are deleted and their bytes no longer count', async () => {
    const dir = await tempDir();
    const { log } = await openLog(dir, { segmentBytes: 1000 });
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(...(await log.append([rec(i, 300)])));
    const before = await segs(dir);
    expect(before.length).toBe(5); // two records of 344 bytes (and an origin record) per segment
    expect(log.stats()).toMatchObject({ segments: 5, records: 10 });
    const bytes = log.stats().bytes;
    for (const id of ids.slice(0, 6)) log.release(id);
    await log.flush();
    expect(await segs(dir)).toEqual(before.slice(3));
    expect(log.stats().bytes).toBeLessThan(bytes - 3 * 600);
    expect(log.stats()).toMatchObject({ segments: 2, records: 4, oldestAcceptedAt: rec(6).acceptedAt });
    expect(log.stats().bytes).toBe(await diskBytes(dir));
    // A release out of order: the middle segment goes too, the current one stays.
    log.release(ids[6]!);
    log.release(ids[7]!);
    log.release(ids[9]!);
    await log.flush();
    expect((await segs(dir)).length).toBe(1);
    await log.close();
    // A record larger than a segment gets one of its own (no empty segment before it).
    const again = await openLog(dir, { segmentBytes: 1000 });
    expect(again.recovered.map((r) => r.id)).toEqual([ids[8]]);
    await again.log.append([rec(20, 5000)]);
    await again.log.append([rec(21, 5000), rec(22, 10)]);
    expect((await segs(dir)).length).toBe(4);
    expect(again.log.stats().segments).toBe(4);
  });

  it('maxBytes: an append beyond it is refused with SpoolFullError and writes nothing', async () => {
    const dir = await tempDir();
    const { log } = await openLog(dir, { maxBytes: 2000 });
    await log.append([rec(1, 500), rec(2, 500), rec(3, 500)]);
    const before = log.stats();
    const err = await log.append([rec(4, 500)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolFullError);
    expect((err as SpoolFullError).code).toBe('FI_ERR_SPOOL_FULL');
    expect((err as Error).message).toMatch(/maxBytes 2000/);
    expect(log.stats()).toEqual(before);
    expect(await diskBytes(dir)).toBe(before.bytes);
    expect(await log.append([rec(5, 10)])).toEqual([4]); // a smaller one still fits
  });

  it('lock: a second open is refused while the owner lives; a dead owner\'s lock is taken over', async () => {
    const dir = await tempDir();
    const a = await openLog(dir);
    const err = await SpoolLog.open(dir, { maxBytes: 1e6 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolLockedError);
    expect((err as SpoolLockedError).ownerPid).toBe(process.pid);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(String(process.pid));
    await a.log.close();
    expect(await readdir(dir)).not.toContain('LOCK');

    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    await writeFile(path.join(dir, 'LOCK'), `${pid}\n`);
    const b = await openLog(dir);
    expect((await readFile(path.join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await b.log.close();
    expect((await readdir(dir)).filter((n) => n.startsWith('LOCK'))).toEqual([]);
  });

  it('a failed write breaks the log: that append rejects with the error, later ones say the log is broken', async () => {
    const dir = await tempDir();
    const { log } = await openLog(dir);
    await rm(dir, { recursive: true, force: true }); // the segment cannot be created
    const first = await log.append([rec(1)]).catch((e: unknown) => e);
    expect((first as NodeJS.ErrnoException).code).toBe('ENOENT');
    const later = await log.append([rec(2)]).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(SpoolBrokenError);
    expect((later as Error).message).toMatch(/broken/);
    expect((later as Error).cause).toBe(first);
    await log.close();
  });

  it('CRC32 fallback agrees with zlib', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 50 }), (x, y) => {
        const z = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
        if (z === undefined) return;
        expect(crc32js(x)).toBe(z(x));
        expect(crc32js(y, crc32js(x))).toBe(z(Buffer.concat([x, y])));
      }),
    );
  });

  it('property: after any appends, releases, reopens and torn tails, the unreleased records come back', async () => {
    type Cmd = { t: 'append'; sizes: number[]; wait: boolean } | { t: 'release'; pick: number } | { t: 'reopen' } | { t: 'tear'; garbage: Uint8Array };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ t: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 4 }), wait: fc.boolean() }) },
      { weight: 4, arbitrary: fc.record({ t: fc.constant('release' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('tear' as const), garbage: fc.uint8Array({ minLength: 1, maxLength: 60 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 25 }), async (cmds) => {
        const dir = await tempDir();
        // The model: acknowledged and unreleased records, by id.
        const model = new Map<number, ReturnType<typeof rec>>();
        let lastId = 0;
        let seed = 0;
        // Appends not awaited yet (they run while releases and other appends happen).
        let inFlight: Promise<void>[] = [];
        let inFlightRecords = 0;
        const opts = { segmentBytes: 900 };
        let cur = await openLog(dir, opts);
        const reopen = async (torn = 0): Promise<void> => {
          await cur.log.close();
          cur = await openLog(dir, opts);
          expect(cur.damaged).toEqual([]);
          expect(cur.tornBytes).toBe(torn);
          const want = [...model].sort(([x], [y]) => x - y).map(([id, r]) => shape({ id, ...r }));
          expect(cur.recovered.map(shape)).toEqual(want);
        };
        const settle = async (): Promise<void> => {
          await Promise.all(inFlight);
          inFlight = [];
        };
        for (const c of cmds) {
          if (c.t === 'append') {
            const rs = c.sizes.map((s) => rec(++seed, s));
            inFlightRecords += rs.length;
            const done = cur.log.append(rs).then((ids) => {
              inFlightRecords -= rs.length;
              ids.forEach((id, i) => {
                expect(id).toBeGreaterThan(lastId);
                lastId = id;
                model.set(id, rs[i]!);
              });
            });
            if (c.wait) await done;
            else inFlight.push(done);
          } else if (c.t === 'release') {
            const keys = [...model.keys()];
            if (keys.length === 0) continue;
            const id = keys[c.pick % keys.length]!;
            cur.log.release(id);
            model.delete(id);
          } else if (c.t === 'reopen') {
            await settle();
            await reopen();
          } else {
            await settle();
            await cur.log.close();
            const names = await segs(dir);
            if (names.length > 0) await appendFile(path.join(dir, names.at(-1)!), c.garbage);
            await reopen(names.length > 0 ? c.garbage.length : 0);
          }
          expect(cur.log.stats().records).toBe(model.size + inFlightRecords);
        }
        await settle();
        await reopen();
        await cur.log.close();
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });
});
