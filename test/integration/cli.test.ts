/**
 * The command-line tool end to end, run from dist/ as a child process against the real server:
 * every input format stores exactly the same points (ns times, int64 extremes, escaping), bad
 * rows go to the dead letter with their reasons and a non-zero exit while the good rows are
 * stored, a file many times the writer's buffer streams through, every query format, ping,
 * --help, and errors as one line without a stack trace or a password.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as A from 'apache-arrow';
import * as P from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExactJson } from '../../src/query/exact-json.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';
import { CLI, spawnCli as spawnCliAt, type CliOptions, type Run } from '../helpers/cli.js';

const url = sharedInfluxUrl();
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-cli-test-'));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the built CLI with INFLUX_URL set to the shared server (no other INFLUX_* variable). */
function spawnCli(args: string[], o: CliOptions = {}): { child: ChildProcess; done: Promise<Run> } {
  return spawnCliAt(url, args, o);
}

/** Runs the built CLI to its end. */
async function cli(args: string[], o: CliOptions = {}): Promise<Run> {
  return spawnCli(args, o).done;
}

function file(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** /query with epoch=ns, parsed exactly (int64 and ns as bigint): independent of the client. */
async function exactQuery(db: string, q: string): Promise<{ columns: string[]; values: unknown[][] }[]> {
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, db, epoch: 'ns' }).toString(),
  });
  const doc = parseExactJson(await res.text()) as { results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
  if (doc.results[0]?.error) throw new Error(doc.results[0].error);
  return doc.results[0]?.series ?? [];
}

async function rows(db: string, q = 'SELECT * FROM m'): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const s of await exactQuery(db, q)) for (const v of s.values) out.push(Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
  return out;
}

const big = (n: bigint): unknown => (n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : n);

// The same four points in every format: ns times, int64 extremes, a string needing escapes, nulls.
const EXPECTED = [
  { time: 1704067200000000001n, host: 'a', msg: 'plain', ok: true, requests: 9223372036854775807n, usage: 0.1 },
  { time: 1704067200123456789n, host: 'b', msg: 'say "hi", ok=yes \\ done', ok: false, requests: -9223372036854775808n, usage: 1e-7 },
  { time: 1704067261999999999n, host: 'a', msg: 'ünïcødé ✓ 𝄞', ok: true, requests: 9007199254740993n, usage: 12345.678901234567 },
  { time: 1704067262000000000n, host: 'c', msg: null, ok: null, requests: 0n, usage: -0.5 },
].map((r) => ({ ...r, time: big(r.time), requests: big(r.requests) }));

function arrowTable(): A.Table {
  return new A.Table({
    host: A.vectorFromArray(['a', 'b', 'a', 'c'], new A.Dictionary(new A.Utf8(), new A.Int32())),
    time: A.makeVector({ type: new A.TimestampNanosecond(), data: BigInt64Array.from([1704067200000000001n, 1704067200123456789n, 1704067261999999999n, 1704067262000000000n]) } as never),
    usage: A.makeVector(Float64Array.from([0.1, 1e-7, 12345.678901234567, -0.5])),
    requests: A.makeVector(BigInt64Array.from([9223372036854775807n, -9223372036854775808n, 9007199254740993n, 0n])),
    ok: A.vectorFromArray([true, false, true, null], new A.Bool()),
    msg: A.vectorFromArray(['plain', 'say "hi", ok=yes \\ done', 'ünïcødé ✓ 𝄞', null], new A.Utf8()),
  });
}

const CSV = [
  'time,host,usage,requests,ok,msg',
  '2024-01-01T00:00:00.000000001Z,a,0.1,9223372036854775807,true,plain',
  '2024-01-01T00:00:00.123456789Z,b,1e-7,-9223372036854775808,false,"say ""hi"", ok=yes \\ done"',
  '1704067261999999999,a,12345.678901234567,9007199254740993,TRUE,ünïcødé ✓ 𝄞',
  '2024-01-01 00:01:02,c,-0.5,0,,',
].join('\r\n');

const NDJSON = [
  '{"measurement":"m","time":"2024-01-01T00:00:00.000000001Z","tags":{"host":"a"},"fields":{"usage":0.1,"requests":9223372036854775807,"ok":true,"msg":"plain"}}',
  '{"time":1704067200123456789,"tags":{"host":"b"},"fields":{"usage":1e-7,"requests":-9223372036854775808,"ok":false,"msg":"say \\"hi\\", ok=yes \\\\ done"}}',
  '',
  '{"time":"2024-01-01T00:01:01.999999999Z","host":"a","usage":12345.678901234567,"requests":9007199254740993,"ok":true,"msg":"ünïcødé ✓ \\ud834\\udd1e"}',
  '{"time":1704067262000000000,"host":"c","usage":-0.5,"requests":0,"ok":null}',
].join('\n');

const LP = [
  '# four points, a comment, a blank line and CRLF endings',
  'm,host=a msg="plain",ok=true,requests=9223372036854775807i,usage=0.1 1704067200000000001',
  '',
  'm,host=b msg="say \\"hi\\", ok=yes \\\\ done",ok=false,requests=-9223372036854775808i,usage=1e-07 1704067200123456789',
  'm,host=a msg="ünïcødé ✓ 𝄞",ok=t,requests=9007199254740993i,usage=12345.678901234567 1704067261999999999',
  'm,host=c requests=0i,usage=-0.5 1704067262000000000',
].join('\r\n');

describe('fastinflux load: every format stores the same points exactly', () => {
  const load = async (path: string, extra: string[] = [], input?: Buffer | string): Promise<{ db: string; run: Run }> => {
    const db = uniqueDb('cli');
    const run = await cli(['load', path, '--db', db, '--create-db', '--measurement', 'm', '--json', ...extra], { input });
    return { db, run };
  };
  const check = async ({ db, run }: { db: string; run: Run }, format: string): Promise<void> => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { ok: boolean; written: number; files: { format: string }[] };
    expect(summary).toMatchObject({ ok: true, written: 4, rejected: 0, expired: 0, invalid: 0 });
    expect(summary.files[0]!.format).toBe(format);
    expect(await rows(db)).toEqual(EXPECTED);
  };

  it('Arrow IPC file', async () => {
    await check(await load(file('m.arrow', A.tableToIPC(arrowTable(), 'file'))), 'Arrow IPC file');
  });

  it('Arrow IPC stream, from standard input', async () => {
    await check(await load('-', ['--format', 'arrow'], Buffer.from(A.tableToIPC(arrowTable(), 'stream'))), 'Arrow IPC stream');
  });

  it('Parquet', async () => {
    const bytes = P.writeParquet(P.Table.fromIPCStream(A.tableToIPC(arrowTable(), 'stream')));
    await check(await load(file('m.parquet', bytes)), 'Parquet');
  });

  it('CSV (types inferred, RFC 3339 and integer times, quoted values, CRLF)', async () => {
    await check(await load(file('m.csv', CSV), ['--tag-columns', 'host']), 'CSV');
  });

  it('NDJSON (point objects and flat records)', async () => {
    await check(await load(file('m.ndjson', NDJSON), ['--tag-columns', 'host']), 'NDJSON');
  });

  it('line protocol, gzipped', async () => {
    await check(await load(file('m.lp.gz', gzipSync(LP))), 'line protocol');
  });
});

describe('fastinflux load: what is not written is said', () => {
  it('a CSV with bad rows: the good rows are stored, the bad ones in the dead letter with the reasons, exit 3', async () => {
    const db = uniqueDb('cli_bad');
    const dead = join(dir, 'bad-csv.dead.lp');
    const csv = [
      'time,host,v,n',
      '2024-01-01T00:00:00Z,a,1.5,10',
      'yesterday,a,2.5,11', // bad time
      '2024-01-01T00:00:02Z,a,3.5,twelve', // not an integer
      '2024-01-01T00:00:03Z,a,4.5', // too few values
      '2024-01-01T00:00:04Z,b,5.5,14',
      '2024-01-01T00:00:05Z,b,,', // no field
    ].join('\n');
    const r = await cli(['load', file('bad.csv', csv), '--db', db, '--create-db', '-m', 'm', '-t', 'host', '--field-types', 'n=integer', '--dead-letter', dead]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('2 points written');
    expect(r.stdout).toContain('4 not written: 4 invalid');
    expect(await rows(db)).toEqual([
      { time: 1704067200000000000n, host: 'a', n: 10, v: 1.5 },
      { time: 1704067204000000000n, host: 'b', n: 14, v: 5.5 },
    ]);
    const text = readFileSync(dead, 'utf8');
    expect(text).toContain('bad.csv:3: column "time": "yesterday" is not an ISO 8601 date');
    expect(text).toContain('bad.csv:4: column "n": "twelve" is not an integer');
    expect(text).toContain('bad.csv:5: the row has 3 values, the header 4');
    expect(text).toContain('bad.csv:7: no field has a value');
    expect(text).toContain('# 2024-01-01T00:00:02Z,a,3.5,twelve');
  });

  it('line protocol the server refuses, and a line it cannot parse (never sent): the lines and the reasons in the dead letter, exit 3', async () => {
    const db = uniqueDb('cli_refused');
    const dead = join(dir, 'refused.dead.lp');
    const lp = ['m v=1i 1', 'm v="a string" 2', 'this is not line protocol', 'm v=4i 4'].join('\n');
    const r = await cli(['load', file('refused.lp', lp), '--db', db, '--create-db', '--dead-letter', dead, '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, written: 2, rejected: 1, invalid: 1 });
    expect(await rows(db)).toEqual([{ time: 1, v: 1 }, { time: 4, v: 4 }]);
    const text = readFileSync(dead, 'utf8');
    const lines = text.split('\n');
    expect(lines).toContain('m v="a string" 2');
    expect(text).toMatch(/# invalid, not sent: \S*refused\.lp:3: invalid field format\n# this is not line protocol\n/);
    expect(text).toMatch(/# rejected by the server \(1 line\): .*field type conflict/);
    // Without --dead-letter, the reasons are on stderr.
    const again = await cli(['load', file('refused2.lp', lp), '--db', db]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('rejected by the server');
    expect(again.stderr).toMatch(/invalid row \S*refused2\.lp:3: invalid field format/);
    expect(again.stderr).toContain('--dead-letter FILE');
  });
});

it('streams a file many times the writer\'s buffer (256 kB), exactly', async () => {
  const db = uniqueDb('cli_big');
  const n = 60_000;
  const lines = ['time,host,seq,value,note'];
  const t0 = 1_704_067_200_000_000_000n;
  for (let i = 0; i < n; i++) lines.push(`${t0 + BigInt(i) * 1_000_001n},h${i % 17},${9_007_199_254_740_000n + BigInt(i)},${(i % 1000) / 8},"row ${i}, quoted"`);
  const path = file('big.csv', lines.join('\n'));
  expect(readFileSync(path).length).toBeGreaterThan(14 * 256 * 1024);
  const r = await cli(['load', path, '--db', db, '--create-db', '-m', 'm', '-t', 'host', '--buffer-size', '256k', '--batch-size', '1000', '--json', '--progress-interval', '1']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, written: n });
  const [s] = await exactQuery(db, 'SELECT count(seq), max(seq), min(seq), sum(value), first(note) FROM m');
  expect(s!.values[0]!.slice(1)).toEqual([n, 9_007_199_254_740_000n + BigInt(n - 1), 9_007_199_254_740_000, (n / 1000) * (999 * 1000 / 2) / 8, 'row 0, quoted']);
  const [last] = await exactQuery(db, 'SELECT last(seq) FROM m');
  expect(last!.values[0]![0]).toBe(t0 + BigInt(n - 1) * 1_000_001n);
}, 20_000);

/** Resolves when `cond()` holds (polled every 20 ms), or rejects after `ms`. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stand-in for influxd that answers /ping and SHOW DATABASES but never answers a /write. */
async function hangingServer(db: string): Promise<{ url: string; writes: () => number; close: () => void }> {
  let writes = 0;
  const server = createHttpServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/ping') {
      res.writeHead(204, { 'X-Influxdb-Version': '1.8.10', 'X-Influxdb-Build': 'OSS' }).end();
    } else if (path === '/query') {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'databases', columns: ['name'], values: [[db]] }] }] }));
      });
    } else if (path === '/write') {
      writes++;
      req.resume(); // and never an answer
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    writes: () => writes,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe.concurrent('fastinflux load: exact times, line protocol as influxd cuts it, limits, dead letter, Ctrl-C', () => {
  it('--precision only reads integer epochs: sub-second times of CSV, NDJSON and Arrow are kept', async () => {
    const base = 1_704_067_200_000_000_000n;
    const subSecond = [base + 100_000_000n, base + 200_000_000n, base + 300_000_000n];
    const load = async (path: string): Promise<{ db: string; run: Run }> => {
      const db = uniqueDb('cli_prec');
      return { db, run: await cli(['load', path, '--db', db, '--create-db', '-m', 'm', '--precision', 's', '--json', '-q']) };
    };
    const csv = 'time,v\n2024-01-01T00:00:00.100Z,1\n2024-01-01T00:00:00.200Z,2\n2024-01-01T00:00:00.300Z,3\n1704067201,4\n';
    const ndjson = '{"time":"2024-01-01T00:00:00.100Z","v":1}\n{"time":"2024-01-01T00:00:00.200Z","v":2}\n{"time":"2024-01-01T00:00:00.300Z","v":3}\n{"time":1704067201,"v":4}\n';
    const stamped = new A.Table({
      time: A.makeVector({ type: new A.TimestampMillisecond(), data: BigInt64Array.from([1704067200100n, 1704067200200n, 1704067200300n]) } as never),
      v: A.makeVector(Float64Array.from([1, 2, 3])),
    });
    // An integer time column is read in --precision (as before), exactly.
    const integer = new A.Table({ time: A.makeVector(BigInt64Array.from([1704067201n, 1704067202n])), v: A.makeVector(Float64Array.from([4, 5])) });
    const [c, n, a, i, lp] = await Promise.all([
      load(file('prec.csv', csv)),
      load(file('prec.ndjson', ndjson)),
      load(file('prec.arrow', A.tableToIPC(stamped, 'file'))),
      load(file('prec-int.arrow', A.tableToIPC(integer, 'file'))),
      load(file('prec.lp', 'm v=1 1704067200\nm v=2 1704067201\n')),
    ]);
    const four = [...subSecond.map((t, k) => ({ time: t, v: k + 1 })), { time: base + 1_000_000_000n, v: 4 }];
    for (const [r, expected] of [[c, four], [n, four], [a, four.slice(0, 3)], [i, [{ time: base + 1_000_000_000n, v: 4 }, { time: base + 2_000_000_000n, v: 5 }]], [lp, [{ time: base, v: 1 }, { time: base + 1_000_000_000n, v: 2 }]]] as const) {
      expect(r.run.stderr).toBe('');
      expect(r.run.code).toBe(0);
      expect(JSON.parse(r.run.stdout)).toMatchObject({ ok: true, written: expected.length });
      expect(await rows(r.db)).toEqual(expected);
    }
  });

  it('line protocol: a newline inside a string field does not end the line, nor does a # after it', async () => {
    const db = uniqueDb('cli_multiline');
    const lp = [
      '# a comment',
      'm,k=a s="x',
      'y",n=1i 1',
      'm,k=b s="first',
      '# not a comment',
      'last \\"q\\"",n=2i 2',
      '',
      'm,k=c n=3i 3',
    ].join('\n');
    const r = await cli(['load', file('multiline.lp', lp), '--db', db, '--create-db', '--batch-size', '1', '--json', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, written: 3, rejected: 0, invalid: 0 });
    expect(await rows(db)).toEqual([
      { time: 1, k: 'a', n: 1, s: 'x\ny' },
      { time: 2, k: 'b', n: 2, s: 'first\n# not a comment\nlast "q"' },
      { time: 3, k: 'c', n: 3, s: null },
    ]);
  });

  it('a record or line that never ends (an unclosed quote, no newline) stops the load at the longest line, naming where it starts', async () => {
    const x = 'x'.repeat(4096);
    const feed = (format: string, input: string): Promise<Run> => {
      // Standard input stays open: without the limit, the loader waits for its end forever. The
      // kill is only the safety net of a failing loader: generous, so a busy machine never trips it.
      const db = uniqueDb('cli_unfinished');
      return spawnCli(['load', '-', '--format', format, '--db', db, '--create-db', '-m', 'm', '--buffer-size', '4k', '-q'], { input, keepStdinOpen: true, killAfterMs: 25_000 }).done;
    };
    const [csv, lp, nd] = await Promise.all([
      feed('csv', `time,s\n1,ok\n2,"unclosed ${x}`),
      feed('lp', `m s="ok" 1\nm s="unclosed ${x}`),
      feed('ndjson', `{"time":1,"s":"ok"}\n{"time":2,"s":"no newline ${x}`),
    ]);
    for (const [r, what] of [[csv, 'record'], [lp, 'line'], [nd, 'line']] as const) {
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^fastinflux: error: stdin:${what === 'record' ? 3 : 2}: a ${what} longer than 1024 bytes \\(the longest .*\\) does not end`));
    }
  });

  it('rows the encoder refuses keep their source text in the dead letter (NDJSON line, CSV row)', async () => {
    const db = uniqueDb('cli_dead_text');
    const deadN = join(dir, 'enc.ndjson.dead');
    const deadC = join(dir, 'enc.csv.dead');
    const ndjson = '{"time":1,"v":1}\n{"time":2,"v":99999999999999999999}\n{"time":3,"v":3}\n';
    // The second row's line is longer than a request can carry (--buffer-size 4k: 1024 bytes).
    const long = `long, ${'y'.repeat(1500)}`;
    const csv = `time,v,s\n1,1,short\n2,2,"${long}"\n3,3,"say ""hi"""\n4,,\n`;
    const [n, c] = await Promise.all([
      cli(['load', file('enc.ndjson', ndjson), '--db', db, '--create-db', '-m', 'n', '--dead-letter', deadN, '--json', '-q']),
      cli(['load', file('enc.csv', csv), '--db', db, '--create-db', '-m', 'c', '--buffer-size', '4k', '--dead-letter', deadC, '--json', '-q']),
    ]);
    expect(n.code).toBe(3);
    expect(JSON.parse(n.stdout)).toMatchObject({ written: 2, invalid: 1 });
    const textN = readFileSync(deadN, 'utf8').split('\n');
    const at = textN.findIndex((l) => l.startsWith('# invalid, not sent: ') && l.includes('enc.ndjson:2: '));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(textN[at + 1]).toBe('# {"time":2,"v":99999999999999999999}');
    expect(c.code).toBe(3);
    expect(JSON.parse(c.stdout)).toMatchObject({ written: 2, invalid: 2 });
    const textC = readFileSync(deadC, 'utf8').split('\n');
    const atC = textC.findIndex((l) => l.startsWith('# invalid, not sent: ') && l.includes('enc.csv:3: '));
    expect(atC).toBeGreaterThanOrEqual(0);
    expect(textC[atC + 1]).toBe(`# 2,2,"${long}"`);
    const skipped = textC.findIndex((l) => l.startsWith('# invalid, not sent: ') && l.includes('enc.csv:5: no field has a value'));
    expect(skipped).toBeGreaterThanOrEqual(0);
    expect(textC[skipped + 1]).toBe('# 4,,');
  });

  it('Ctrl-C while the writer waits for room: the summary within seconds, exit 130, what was read in the dead letter; a second Ctrl-C quits at once', async () => {
    const db = 'hangdb';
    const [srv, srv2] = await Promise.all([hangingServer(db), hangingServer(db)]);
    try {
      const lines = Array.from({ length: 3000 }, (_, i) => `m,host=h${i % 7} v=${i}i ${i + 1}`);
      const path = file('sigint.lp', lines.join('\n'));
      const dead = join(dir, 'sigint.dead.lp');
      const args = (server: string): string[] => ['load', path, '--url', server, '--db', db, '--buffer-size', '4k', '--batch-size', '20', '--json', '-q'];
      const first = spawnCli([...args(srv.url), '--dead-letter', dead], { killAfterMs: 25_000 });
      const second = spawnCli(args(srv2.url), { killAfterMs: 25_000 });
      let secondErr = '';
      second.child.stderr!.on('data', (x: string) => (secondErr += x));
      await until(() => srv.writes() >= 1 && srv2.writes() >= 1, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      first.child.kill('SIGINT');
      second.child.kill('SIGINT');
      // The second Ctrl-C only counts as one once the first was handled: its notice is the event.
      await until(() => secondErr.includes('interrupted'), 20_000);
      const t1 = performance.now();
      second.child.kill('SIGINT');
      const r2 = await second.done;
      expect(r2.code).toBe(130);
      expect(performance.now() - t1).toBeLessThan(5000);
      const r = await first.done;
      expect(r.code).toBe(130);
      expect(performance.now() - t0).toBeLessThan(15_000);
      expect(r.stderr).toContain('interrupted');
      const summary = JSON.parse(r.stdout) as { written: number; expired: number };
      expect(summary).toMatchObject({ ok: false, interrupted: true, written: 0, complete: false });
      expect(summary.expired).toBeGreaterThan(0);
      // Every line read is accounted for: the dead letter holds them all.
      const deadLines = readFileSync(dead, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(deadLines).toHaveLength(summary.expired);
      expect([...deadLines].sort()).toEqual(lines.slice(0, deadLines.length).sort());
    } finally {
      srv.close();
      srv2.close();
    }
  });

  it('Ctrl-C ends ping and query at once (exit 130), also while the server does not answer', async () => {
    // Accepts connections, never answers. A child connects only after main.ts installed its
    // SIGINT handler, so a connection seen here is the event that makes Ctrl-C meaningful
    // (a fixed delay failed on a busy machine: the signal arrived before the handler).
    let connections = 0;
    const silent = createServer(() => void (connections += 1));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const target = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const runs = [spawnCli(['ping', '--url', target], { killAfterMs: 25_000 }), spawnCli(['query', 'SHOW DATABASES', '--url', target], { killAfterMs: 25_000 })];
    try {
      await until(() => connections >= 2, 20_000);
      const t0 = performance.now();
      for (const x of runs) x.child.kill('SIGINT');
      const [ping, query] = await Promise.all(runs.map((x) => x.done));
      expect(ping!.code).toBe(130);
      expect(query!.code).toBe(130);
      // "At once": far below the request timeout the command would otherwise wait out
      // (generous, so that a machine with both cores busy still passes).
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      for (const x of runs) x.child.kill('SIGKILL');
      silent.close();
    }
  });
});

describe('fastinflux query', () => {
  let db: string;
  beforeAll(async () => {
    db = uniqueDb('cli_query');
    const r = await cli(['load', file('q.lp', LP), '--db', db, '--create-db', '-q']);
    expect(r.code).toBe(0);
  });

  it('csv, exact with --epoch n', async () => {
    const r = await cli(['query', 'SELECT * FROM m', '--db', db, '--format', 'csv', '--epoch', 'n']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      'name,time,host,msg,ok,requests,usage',
      'm,1704067200000000001,a,plain,true,9223372036854775807,0.1',
      'm,1704067200123456789,b,"say ""hi"", ok=yes \\ done",false,-9223372036854775808,1e-7',
      'm,1704067261999999999,a,ünïcødé ✓ 𝄞,true,9007199254740993,12345.678901234567',
      'm,1704067262000000000,c,,,0,-0.5',
      '',
    ].join('\n'));
  });

  it('json: the server\'s answer, with RFC 3339 times by default and int64 exact', async () => {
    const r = await cli(['query', 'SELECT requests FROM m WHERE host = \'a\'', '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","requests"],"values":[["2024-01-01T00:00:00.000000001Z",9223372036854775807],["2024-01-01T00:01:01.999999999Z",9007199254740993]]}]}]}\n');
  });

  it('ndjson, chunked one point per chunk', async () => {
    const r = await cli(['query', 'SELECT requests, usage FROM m', '--db', db, '--format', 'ndjson', '--chunked', '--chunk-size', '1', '--epoch', 'n']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => parseExactJson(l));
    expect(lines).toEqual(EXPECTED.map((e) => ({ name: 'm', values: { time: e.time, requests: e.requests, usage: e.usage } })));
  });

  it('ndjson and csv: columns named name or tags never pass for the measurement or the tags', async () => {
    const db2 = uniqueDb('cli_names');
    const lp = 'm,host=a name="n1",tags="t1",value=1i 1\nm,host=b name="n2",tags="t2",value=2i 2\n';
    expect((await cli(['load', file('names.lp', lp), '--db', db2, '--create-db', '-q'])).code).toBe(0);
    const nd = await cli(['query', 'SELECT * FROM m GROUP BY host', '--db', db2, '--format', 'ndjson', '--epoch', 'n']);
    expect(nd.code).toBe(0);
    expect(nd.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([
      { name: 'm', tags: { host: 'a' }, values: { time: 1, name: 'n1', tags: 't1', value: 1 } },
      { name: 'm', tags: { host: 'b' }, values: { time: 2, name: 'n2', tags: 't2', value: 2 } },
    ]);
    // CSV: a column whose name the header already has gets _1 (as influxd names duplicate columns).
    const csv = await cli(['query', 'SELECT * FROM m GROUP BY host', '--db', db2, '--format', 'csv', '--epoch', 'n']);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('name,host,time,name_1,tags,value\nm,a,1,n1,t1,1\nm,b,2,n2,t2,2\n');
  });

  it('table, with GROUP BY series as one table', async () => {
    const r = await cli(['query', 'SELECT count(usage), max(requests) FROM m GROUP BY host', '--db', db]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('name: m');
    expect(lines[1]!.split(/\s+/)).toEqual(['host', 'time', 'count', 'max']);
    expect(lines[3]!.split(/\s+/)).toEqual(['a', '1970-01-01T00:00:00Z', '2', '9223372036854775807']);
    expect(lines).toHaveLength(6);
  });

  it('arrow: an IPC stream to a file, Timestamp(ns) and Int64 exact; readable by load', async () => {
    const out = join(dir, 'q.arrows');
    const r = await cli(['query', 'SELECT * FROM m', '--db', db, '--format', 'arrow', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const t = A.tableFromIPC(readFileSync(out));
    expect(t.numRows).toBe(4);
    expect(String(t.schema.fields.find((f) => f.name === 'time')!.type)).toBe('Timestamp<NANOSECOND, UTC>');
    expect([...(t.getChild('time')!.data[0]!.values as unknown as BigInt64Array)]).toEqual([1704067200000000001n, 1704067200123456789n, 1704067261999999999n, 1704067262000000000n]);
    expect([...(t.getChild('requests')!.data[0]!.values as unknown as BigInt64Array)]).toEqual([9223372036854775807n, -9223372036854775808n, 9007199254740993n, 0n]);
    // Round trip: the Arrow answer loads back as the same points.
    const db2 = uniqueDb('cli_roundtrip');
    const back = await cli(['load', out, '--db', db2, '--create-db', '-m', 'm', '-q']);
    expect(back.code).toBe(0);
    expect(await rows(db2)).toEqual(EXPECTED);
  });
});

describe('fastinflux ping, --help and errors', () => {
  it('ping', async () => {
    const r = await cli(['ping']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^https?:\/\/\S+: InfluxDB 1\.\d+\.\d+\S*( \S+)?, \d+\.\d ms\n$/);
  });

  it('--help for the tool and every command', async () => {
    const [tool, load, query, ping] = await Promise.all([cli(['--help']), cli(['load', '--help']), cli(['query', '-h']), cli(['ping', '--help'])]);
    for (const r of [tool, load, query, ping]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('--url URL');
    }
    expect(tool.stdout).toContain('fastinflux load [options] FILE...');
    expect(load.stdout).toContain('--dead-letter FILE');
    expect(query.stdout).toContain('table (default) | csv | json | ndjson | arrow');
    expect(ping.stdout).toContain('Usage: fastinflux ping');
  });

  it('errors are one line on stderr, without a stack trace or the password', async () => {
    const secret = 'pw-S3cret-4711';
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    srv.close();
    const [refused, bad, envPw, usage, missing] = await Promise.all([
      cli(['ping', '--url', `http://admin:${secret}@127.0.0.1:${port}`]),
      cli(['query', 'SELEC nothing', '--db', 'x', '-u', 'admin', '-p', secret]),
      cli(['load', join(dir, 'nope.csv'), '--db', 'x', '-u', 'admin'], { env: { INFLUX_PASSWORD: secret } }),
      cli(['load', '--db', 'x', '--bogus', secret]),
      cli(['load', file('data.unknown', 'x'), '--db', 'x']),
    ]);
    for (const r of [refused, bad, envPw, usage, missing]) {
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^fastinflux: /);
      expect(r.stderr).not.toContain(secret);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).not.toContain(secret);
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot reach http://127.0.0.1:${port}`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error parsing query');
    expect(envPw.code).toBe(1);
    expect(envPw.stderr).toContain('nope.csv: no such file');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown option --bogus');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot tell the format of');
    // --debug adds the stack trace, still without the password.
    const debug = await cli(['query', 'SELEC nothing', '--db', 'x', '-u', 'admin', '-p', secret, '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(debug.stderr).not.toContain(secret);
  });
});
