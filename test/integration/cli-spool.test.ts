/**
 * `fastinflux load --spool DIR` against the real server, stalled by our fault proxy: what a killed
 * load had read is on disk, and the next load on DIR sends it first and says so on stderr.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { rawQuery, sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-cli-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function count(db: string): Promise<number> {
  const r = await rawQuery(url, 'SELECT count(v) FROM lp', { db });
  return Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
}

it('a load SIGKILLed while the server stalls leaves its points in the spool; the next load sends them first', async () => {
  const db = uniqueDb('clispool');
  await rawQuery(url, `CREATE DATABASE "${db}"`);
  const file = join(dir, 'lp.lp');
  const n = 20_000;
  writeFileSync(file, Array.from({ length: n }, (_, i) => `lp,k=s${i % 50} v=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`).join('\n') + '\n');
  const spool = join(dir, 'spool');
  const proxy = await startFaultProxy({ target: url });
  try {
    // Writes stall (503); the rest (ping, SHOW DATABASES) goes through.
    proxy.setHandler((req) => (req.path.startsWith('/write') ? { status: 503 } : undefined));
    const first = spawnCli(proxy.url, ['load', file, '--db', db, '--spool', spool, '--batch-size', '1000', '-q']);
    // Sent means spooled first: once the server has seen a few writes, points are on disk.
    await proxy.waitForCount(3, '/write', 60_000);
    const segBytes = readdirSync(spool).filter((f) => f.endsWith('.seg')).reduce((b, f) => b + statSync(join(spool, f)).size, 0);
    expect(segBytes).toBeGreaterThan(1000);
    first.child.kill('SIGKILL');
    await first.done;
    expect(await count(db)).toBe(0);
  } finally {
    await proxy.close();
  }
  const second = await runCli(url, ['load', file, '--db', db, '--spool', spool, '--json', '-q'], { killAfterMs: 60_000 });
  expect(second.code).toBe(0);
  expect(second.stderr).toMatch(/spool .*: resending \d+ points? \(\d+ records?\) accepted by an earlier process/);
  const resent = Number(/resending (\d+) point/.exec(second.stderr)![1]);
  expect(resent).toBeGreaterThan(0);
  // Resent and read again: the same points (same series and times), stored once each.
  expect(await count(db)).toBe(n);
  await rawQuery(url, `DROP DATABASE "${db}"`);
}, 90_000);

it('--spool-size without --spool is a usage error', async () => {
  const r = await runCli(url, ['load', join(dir, 'none.lp'), '--db', 'x', '--spool-size', '10m']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/--spool-size applies to --spool DIR/);
});
