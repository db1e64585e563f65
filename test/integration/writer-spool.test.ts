/**
 * The writer's durable spool (issue 13) against the real influxd, with our fault proxy in front
 * of it to stall the server: points on disk before write() resolves, released once written,
 * resent by the next writer after a close() that gave up or a SIGKILL, one owner per directory,
 * lines without a time stamped so that a resend overwrites.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PointsDroppedError, SpoolFullError, SpoolLockedError, type SpoolRecovery } from '../../src/index.js';
import { lines, proxiedWrites } from '../helpers/proxied-writes.js';
import { rawQuery } from '../helpers/server.js';

const { url, proxy, clientFor, newDb, count } = proxiedWrites();
const fast = { retryInitialDelayMs: 20, retryMaxDelayMs: 200 };
const dirs: string[] = [];
const spoolDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'fastinflux-spool-test-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function countOf(db: string, measurement: string): Promise<number> {
  const r = await rawQuery(url, `SELECT count(v) FROM ${measurement}`, { db });
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

describe('writer spool', () => {
  it('written points leave the spool: records released, segments deleted, fsyncs counted', async () => {
    const db = await newDb('sp1');
    const dir = await spoolDir();
    const w = clientFor(url, db).writer({ ...fast, spool: { dir } });
    for (let k = 0; k < 10; k++) await w.write(lines(1000, k * 1000));
    await w.flush();
    const s = w.stats();
    expect(s).toMatchObject({ accepted: 10_000, written: 10_000, pending: 0 });
    expect(s.spool).toMatchObject({ dir, records: 0 });
    expect(s.spool!.fsyncs).toBeGreaterThan(0);
    expect(s.spool!.bytesWritten).toBeGreaterThan(10_000 * 15); // the lines, ~19 bytes each, and framing
    await w.close();
    expect(await count(db)).toBe(10_000);
    // Nothing left but (at most) the empty current segment; the lock is gone.
    expect((await readdir(dir)).filter((f) => f !== 'LOCK' && f.endsWith('.seg')).length).toBeLessThanOrEqual(1);
    expect(await readdir(dir)).not.toContain('LOCK');
  });

  it('what close() gave up stays on disk; the next writer reports it and sends it first', async () => {
    const db = await newDb('sp2');
    const dir = await spoolDir();
    const p = await proxy();
    p.defaultAction = { status: 503 };
    const w1 = clientFor(p.url, db).writer({ ...fast, spool: { dir } });
    await w1.write(lines(3000));
    // Acknowledged by write(): on disk. The server is down; close() gives up at once.
    await expect(w1.close({ timeoutMs: 0 })).rejects.toThrow(/expired|not written/);
    const reports: SpoolRecovery[] = [];
    const w2 = clientFor(url, db).writer({ ...fast, spool: { dir, onRecover: (r) => reports.push(r) } });
    await w2.write(lines(10, 5000));
    await w2.flush();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ dir, points: 3000, damaged: { records: 0, points: 0 }, tornBytes: 0 });
    expect(reports[0]!.oldestAcceptedAt).toBeLessThanOrEqual(Date.now());
    expect(w2.stats()).toMatchObject({ accepted: 3010, written: 3010 });
    await w2.close();
    expect(await count(db)).toBe(3010);
  });

  it('the delivery deadline counts from acceptance, across a restart: old spooled points expire at once', async () => {
    const db = await newDb('spexp');
    const dir = await spoolDir();
    const p = await proxy();
    p.defaultAction = { status: 503 };
    const w1 = clientFor(p.url, db).writer({ ...fast, spool: { dir } });
    await w1.write(lines(100));
    const acceptedAt = Date.now();
    await w1.close({ timeoutMs: 0 }).catch(() => undefined);
    // The next writer's budget is shorter than the records' age (waited for by the clock, not a sleep).
    const budget = 300;
    while (Date.now() - acceptedAt <= budget) await new Promise((r) => setImmediate(r));
    const rejected: string[] = [];
    const w2 = clientFor(p.url, db).writer({ ...fast, deliveryTimeoutMs: budget, requestTimeoutMs: 100, flushIntervalMs: 50, spool: { dir, onRecover: () => undefined }, onRejected: (l) => rejected.push(...l) });
    await expect(w2.flush()).rejects.toThrow(/expired|not confirmed/);
    expect(w2.stats()).toMatchObject({ accepted: 100, expired: 100, written: 0 });
    expect(rejected).toHaveLength(100);
    // Given back with a reason: released from the spool, not sent again by a third writer.
    await w2.close();
    const reports: SpoolRecovery[] = [];
    const w3 = clientFor(url, db).writer({ ...fast, spool: { dir, onRecover: (r) => reports.push(r) } });
    await w3.write(lines(1, 1000));
    await w3.close();
    expect(reports).toHaveLength(0);
    expect(await count(db)).toBe(1);
  });

  it.each(['error', 'dropNewest', 'block'] as const)('a full spool (maxBytes) with whenFull %s: refused, dropped, or waits and then refuses', async (whenFull) => {
    const db = await newDb('spfull');
    const dir = await spoolDir();
    const p = await proxy();
    p.defaultAction = { status: 503 };
    const dropped: string[] = [];
    const w = clientFor(p.url, db).writer({
      ...fast, whenFull, ...(whenFull === 'block' ? { maxBlockMs: 200 } : {}),
      spool: { dir, maxBytes: 1024 * 1024 }, onRejected: (l, e) => { if (e instanceof PointsDroppedError) dropped.push(...l); },
    });
    // About 25 KB per write: the 1 MiB spool fills long before the 64 MiB memory buffer.
    let error: unknown;
    let accepted = 0;
    for (let k = 0; k < 100 && error === undefined; k++) {
      await w.write(lines(1000, k * 1000)).then((r) => { accepted += r.accepted - r.dropped; }, (e: unknown) => { error = e; });
    }
    const s = w.stats();
    if (whenFull === 'dropNewest') {
      expect(error).toBeUndefined();
      expect(s.dropped).toBeGreaterThan(0);
      expect(dropped).toHaveLength(s.dropped);
    } else {
      expect(error).toBeInstanceOf(SpoolFullError);
      expect((error as Error).message).toContain(dir);
    }
    expect(s.spool!.bytes).toBeLessThanOrEqual(1024 * 1024 + 4096);
    expect(accepted).toBeGreaterThan(10_000);
    // What was accepted is on disk: the next writer, with the server back, stores exactly that.
    await w.close({ timeoutMs: 0 }).catch(() => undefined);
    const w2 = clientFor(url, db).writer({ ...fast, spool: { dir, onRecover: () => undefined } });
    await w2.flush();
    await w2.close();
    expect(await count(db)).toBe(accepted);
  });

  it('one process per directory: a second writer is refused, naming the directory and the owner pid', async () => {
    const db = await newDb('sp3');
    const dir = await spoolDir();
    const w1 = clientFor(url, db).writer({ ...fast, spool: { dir } });
    await w1.write(lines(5));
    const w2 = clientFor(url, db).writer({ ...fast, spool: { dir } });
    const err = await w2.write(lines(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolLockedError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(String(process.pid));
    await w2.close().catch(() => undefined);
    await w1.close();
    expect(await count(db)).toBe(5);
  });

  it('line protocol without a time gets the time of acceptance: a resend overwrites, it does not add', async () => {
    const db = await newDb('sp4');
    const dir = await spoolDir();
    const p = await proxy();
    // The first request is stored by the server but its answer is lost: resent from the spool.
    p.script({ pass: true, then: { reset: true } });
    const w = clientFor(p.url, db).writer({ ...fast, spool: { dir } });
    await w.write('m,k=a v=1i\nm,k=b v=2i');
    await w.flush();
    await w.close();
    expect(await count(db)).toBe(2);
    expect(p.requests.length).toBeGreaterThanOrEqual(2);
    // Both requests carried the same timestamps.
    const bodies = p.requests.filter((r) => r.path.startsWith('/write')).map((r) => r.body.toString());
    expect(bodies[0]!.trim().split('\n').sort()).toEqual([expect.stringMatching(/^m,k=a v=1i \d+$/), expect.stringMatching(/^m,k=b v=2i \d+$/)]);
    expect(new Set(bodies).size).toBe(1);
  });

  it('crash test: SIGKILLed five times (twice while the server is stalled), every acknowledged point stored once', async () => {
    const db = await newDb('spcrash');
    const dir = await spoolDir();
    const p = await proxy();
    const child = fileURLToPath(new URL('../helpers/spool-child.mjs', import.meta.url));
    const slices = 200;
    const size = 5000;
    let acked = -1; // the last slice whose write() resolved, over all runs
    const recoveredLines: string[] = [];
    const run = (untilAcked: number | 'done'): Promise<{ proc: ChildProcess; reached: Promise<void>; exited: Promise<number | null> }> => {
      const proc = spawn(process.execPath, [child, p.url, db, dir, String(acked + 1), String(slices), String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let reach!: () => void;
      let fail!: (e: Error) => void;
      const reached = new Promise<void>((resolve, reject) => { reach = resolve; fail = reject; });
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        for (const l of d.toString().split('\n')) if (l.includes('resending')) recoveredLines.push(l);
      });
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (line.startsWith('acked ')) {
          acked = Math.max(acked, Number(line.slice(6)));
          if (untilAcked !== 'done' && acked >= untilAcked) reach();
        } else if (line === 'done' && untilAcked === 'done') reach();
      });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => {
        if (untilAcked === 'done' && code !== 0) fail(new Error(`child exited ${code}: ${stderr}`));
        resolve(code);
      }));
      exited.then(() => fail(new Error(`child exited before acking slice ${String(untilAcked)}: ${stderr}`)), () => undefined);
      return Promise.resolve({ proc, reached, exited });
    };
    // Kill points: a few slices further each time (seeded, not timed); rounds 2 and 4 with the
    // server stalled (503), so that the spool holds everything acknowledged since.
    const steps = [17, 23, 29, 11, 31];
    for (let round = 0; round < steps.length; round++) {
      const stalled = round === 1 || round === 3;
      p.defaultAction = stalled ? { status: 503 } : { pass: true };
      const { proc, reached, exited } = await run(acked + steps[round]!);
      await reached;
      proc.kill('SIGKILL');
      await exited;
    }
    p.defaultAction = { pass: true };
    const last = await run('done');
    await last.reached;
    await last.exited;
    expect(acked).toBe(slices - 1);
    // Every point is distinct (series, time): stored once each means exactly slices × size.
    expect(await countOf(db, 'sp')).toBe(slices * size);
    // The runs after a stalled one found points in the spool and said so on stderr.
    expect(recoveredLines.length).toBeGreaterThanOrEqual(2);
    expect(recoveredLines[0]).toMatch(/resending \d+ points/);
  }, 120_000);
});
