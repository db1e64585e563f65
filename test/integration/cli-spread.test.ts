/**
 * `fastinflux load --spread URL --in-flight auto|N` against two real influxd: the load is shared
 * between them (each gets part of it) and together they hold every row, read from the servers
 * themselves; --in-flight takes auto or a number, anything else is a usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { numberedTable } from '../helpers/generators.js';
import { influxCount, startRestartableInfluxd, type RestartableServer } from '../helpers/restartable-server.js';

let a: RestartableServer;
let b: RestartableServer;
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-cli-spread-'));

beforeAll(async () => {
  [a, b] = await Promise.all([startRestartableInfluxd(), startRestartableInfluxd()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** An Arrow file of `n` rows over 200 series (dictionary tag `host`), one field, a millisecond apart. */
function arrowFile(name: string, n: number): string {
  const p = join(dir, name);
  writeFileSync(p, A.tableToIPC(numberedTable(n, { hosts: 200, t0: 1_704_067_200_000_000_000n, step: 1_000_000n }), 'file'));
  return p;
}

describe('fastinflux load over several servers', () => {
  it('--spread shares the load between the servers, and together they hold every row', async () => {
    const n = 60_000;
    const file = arrowFile('spread.arrow', n);
    for (const s of [a, b]) expect((await fetch(`${s.url}/query?q=${encodeURIComponent('CREATE DATABASE sp')}`, { method: 'POST' })).status).toBe(200);
    const r = await runCli(a.url, ['load', file, '--db', 'sp', '--batch-size', '1000', '--spread', b.url, '--json', '-q'], { killAfterMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: n, expired: 0, rejected: 0 });
    const [ca, cb] = [await influxCount(a.url, 'sp', 'spread'), await influxCount(b.url, 'sp', 'spread')];
    // Each took a share, and every row is on one of them (a row is in one place: no resend happened).
    expect(ca).toBeGreaterThan(0);
    expect(cb).toBeGreaterThan(0);
    expect(ca + cb).toBe(n);
  }, 150_000);

  it('--in-flight takes auto or a number from 1 to 64; anything else is a usage error', async () => {
    const file = arrowFile('inflight.arrow', 1000);
    for (const s of [a]) expect((await fetch(`${s.url}/query?q=${encodeURIComponent('CREATE DATABASE fl')}`, { method: 'POST' })).status).toBe(200);
    const ok = await runCli(a.url, ['load', file, '--db', 'fl', '--in-flight', '2', '--json', '-q'], { killAfterMs: 60_000 });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ written: 1000 });
    const bad = await runCli(a.url, ['load', file, '--db', 'fl', '--in-flight', 'lots'], { killAfterMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--in-flight/);
    expect(await influxCount(a.url, 'fl', 'inflight')).toBe(1000);
  }, 150_000);
});
