/**
 * Hostile line protocol against the real influxd 1.6.7, through every way raw line protocol
 * comes in: client.write() (string and Buffer), the batch writer, and `fastinflux load` of .lp
 * files (run from dist/ as a child process). Each row of the table says which lines influxd
 * cannot parse and what it stores of the rest; every outcome is checked by querying back
 * exactly what was stored. What influxd 1.6.7 does was measured first (invalid UTF-8 and NUL
 * bytes in names and values: stored as they are; a 10 MB string field: stored when the body
 * may be that large; a `\r` inside a line: refused), and the client agrees: a line influxd
 * would refuse never reaches the wire. Then a differential property test: random byte-ish lines
 * sent straight to influxd (no check of ours in between), its verdict per line against our
 * parser's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient, InvalidPointError } from '../../src/index.js';
import { checkLine, goString, precisionSpec } from '../../src/encode/line-protocol/parse.js';
import { cutLines } from '../../src/encode/line-protocol/scan.js';
import { errorText } from '../../src/writer/rejections.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';
import { runCli, type Run } from '../helpers/cli.js';

const url = sharedInfluxUrl();
const dir = mkdtempSync(join(tmpdir(), 'fastinflux-hostile-'));
let client: InfluxDBClient;

beforeAll(() => {
  client = new InfluxDBClient({ url });
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Bytes from text where each character below 256 is one byte (so `\xff` is the byte 0xff). */
const bytes = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

/** A POST that reads answers undici refuses (influxd echoes bad bytes into X-Influxdb-Error). */
function post(path: string, body: Buffer | string, type?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', insecureHTTPParser: true, headers: type ? { 'content-type': type } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function createDb(db: string): Promise<void> {
  const r = await post('/query', new URLSearchParams({ q: `CREATE DATABASE "${db}"` }).toString(), 'application/x-www-form-urlencoded');
  expect(r.status).toBe(200);
}

/** Every point stored in `db`, as `measurement time key=value …` (non-null values, keys sorted), sorted. */
async function stored(db: string): Promise<string[]> {
  const r = await post('/query', new URLSearchParams({ q: 'SELECT * FROM /.*/', db, epoch: 'ns' }).toString(), 'application/x-www-form-urlencoded');
  const doc = JSON.parse(r.text) as { results: { series?: { name: string; columns: string[]; values: unknown[][] }[]; error?: string }[] };
  if (doc.results[0]?.error) throw new Error(doc.results[0].error);
  const out: string[] = [];
  for (const s of doc.results[0]?.series ?? []) {
    for (const v of s.values) {
      const kv = s.columns.slice(1).map((c, i) => [c, v[i + 1]] as const).filter(([, x]) => x !== null).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      out.push(`${s.name} ${String(v[0])} ${kv.map(([k, x]) => `${k}=${String(x)}`).join(' ')}`);
    }
  }
  return out.sort();
}

interface Hostile {
  name: string;
  input: Buffer;
  /** Lines influxd cannot parse (1-based), with influxd's reason; never sent by us. */
  bad: { line: number; reason: RegExp }[];
  /** What influxd stores of the other lines (as `stored()` shows it). */
  good: string[];
  /** `fastinflux load`, when it does not write around the bad lines. */
  cli?: { code: number; good: string[]; stderr: RegExp };
}

const TEN_MB = 'x'.repeat(10_000_000);
const TABLE: Hostile[] = [
  {
    name: 'binary garbage between good lines',
    input: bytes('good v=1 1\n', '\x01\xff\xfe bad line \x80', '\ngood v=3 3\n'),
    bad: [{ line: 2, reason: /^invalid field format$/ }],
    good: ['good 1 v=1', 'good 3 v=3'],
  },
  {
    // influxd 1.6.7 stores these bytes as they are (JSON shows one U+FFFD per bad byte): accepted.
    name: 'invalid UTF-8 in a tag key, a tag value and a string field',
    input: bytes('u,k\xff=a v=1 1\nu,t=a\xffb v=2 2\nu s="a\xc3b" 4\n'),
    bad: [],
    good: ['u 1 k\ufffd=a v=1', 'u 2 t=a\ufffdb v=2', 'u 4 s=a\ufffdb'],
  },
  {
    // influxd 1.6.7 parses these, then answers 500 and stores nothing of the request when the
    // write creates a shard (see the test below): refused before sending.
    name: 'invalid UTF-8 in a measurement name and in a field key',
    input: bytes('w v=0 1\nw\xff v=1 1\nw k\xfe=3 3\nw v=4 4\n'),
    bad: [{ line: 2, reason: /^the measurement name is not valid UTF-8/ }, { line: 3, reason: /^a field key is not valid UTF-8/ }],
    good: ['w 1 v=0', 'w 4 v=4'],
  },
  {
    // Leading NULs are whitespace to influxd; NULs inside names and strings are stored.
    name: 'NUL bytes: in a tag value, in a string field, leading, and a line of NULs only',
    input: bytes('n,t=a\x00b v=1 1\nn s="x\x00y" 2\n\x00\x00n v=3 3\n\x00\x00\n'),
    bad: [],
    good: ['n 1 t=a\u0000b v=1', 'n 2 s=x\u0000y', 'n 3 v=3'],
  },
  {
    name: 'CRLF line ends and a line of a lone \\r (the client drops a \\r before a line end)',
    input: bytes('c v=1 1\r\n\r\nc v=2 2\r\n'),
    bad: [],
    good: ['c 1 v=1', 'c 2 v=2'],
  },
  {
    name: 'a lone \\r inside a line (influxd: bad timestamp)',
    input: bytes('r v=0 5\nr v=1 1\rr v=2 2\n'),
    bad: [{ line: 2, reason: /^bad timestamp$/ }],
    good: ['r 5 v=0'],
  },
  {
    name: 'a line of 10 MB, more than a request may carry (maxBodyBytes 5 MB)',
    input: bytes('big v=1 1\nbig s="', TEN_MB, '" 2\nbig v=3 3\n'),
    bad: [{ line: 2, reason: /does not fit a request body of at most|more than a request can carry/ }],
    good: ['big 1 v=1', 'big 3 v=3'],
    // The loader reads a line until it ends: one still open at the longest line a request can
    // carry (an unclosed quote, or this) stops the load, naming it; what came before is written.
    cli: { code: 1, good: ['big 1 v=1'], stderr: /^fastinflux: error: \S+:2: a line longer than 5000000 bytes \(the longest a request can carry\) does not end within that length/ },
  },
  { name: 'empty input', input: bytes(''), bad: [], good: [] },
  { name: 'only comments and blank lines', input: bytes('# a comment\n\n  \t\n# v=1 1\n'), bad: [], good: [] },
];

/** Runs the built CLI against the shared server; resolves on exit. */
const cli = (args: string[]): Promise<Run> => runCli(url, args);

describe('hostile line protocol, through every way in, checked against what influxd stored', () => {
  for (const h of TABLE) {
    describe(h.name, () => {
      const first = h.bad[0];

      it('client.write(Buffer) and client.write(string): all of it, or nothing and the line named', async () => {
        const inputs: [string, Buffer | string][] = [['Buffer', h.input]];
        // A string when the bytes are text (invalid UTF-8 cannot be a JS string).
        if (Buffer.from(h.input.toString('utf8')).equals(h.input)) inputs.push(['string', h.input.toString('utf8')]);
        for (const [kind, data] of inputs) {
          const db = uniqueDb(`hostile_${kind}`);
          await createDb(db);
          const r = await client.write(data, { db }).catch((e: unknown) => e);
          if (first) {
            expect(r, kind).toBeInstanceOf(InvalidPointError);
            const e = r as InvalidPointError;
            expect({ line: e.line, element: e.element, code: e.code }).toEqual({ line: first.line, element: 'line', code: 'FI_ERR_INVALID_POINT' });
            expect(e.reason).toMatch(first.reason);
            expect(e.message.startsWith(`invalid line ${first.line}: `)).toBe(true);
            expect(e.message.length).toBeLessThan(400);
            expect(await stored(db)).toEqual([]);
          } else {
            expect(r, kind).toBe(true);
            expect(await stored(db)).toEqual(h.good);
          }
        }
      });

      it('the batch writer: write() rejects naming the line, nothing of it accepted; or everything stored', async () => {
        const db = uniqueDb('hostile_writer');
        await createDb(db);
        const rejected: string[][] = [];
        const w = client.writer({ db, onRejected: (lines) => rejected.push(lines) });
        const r = await w.write(h.input).catch((e: unknown) => e);
        await w.close();
        if (first) {
          expect(r).toBeInstanceOf(InvalidPointError);
          expect((r as InvalidPointError).line).toBe(first.line);
          expect((r as InvalidPointError).reason).toMatch(first.reason);
          expect(w.stats()).toMatchObject({ accepted: 0, written: 0, rejected: 0 });
          expect(await stored(db)).toEqual([]);
        } else {
          expect(r).toMatchObject({ accepted: h.good.length });
          expect(w.stats()).toMatchObject({ written: h.good.length, rejected: 0, expired: 0 });
          expect(await stored(db)).toEqual(h.good);
        }
        expect(rejected).toEqual([]);
      });

      it('fastinflux load FILE.lp: the good lines stored, each bad one in the dead letter with its line and reason', async () => {
        const db = uniqueDb('hostile_cli');
        const safe = h.name.replace(/[^a-z0-9]+/gi, '_').slice(0, 40);
        const path = join(dir, `${safe}.lp`);
        const dead = join(dir, `${safe}.dead.lp`);
        writeFileSync(path, h.input);
        const [withDead, plain] = await Promise.all([
          cli(['load', path, '--db', db, '--create-db', '--dead-letter', dead, '--json', '-q']),
          cli(['load', path, '--db', `${db}_2`, '--create-db', '-q']),
        ]);
        expect(plain.code).toBe(withDead.code);
        if (h.cli) {
          expect(withDead.code).toBe(h.cli.code);
          expect(await stored(db)).toEqual(h.cli.good);
          expect(plain.stderr.trimEnd().split('\n')).toHaveLength(1);
          expect(plain.stderr).toMatch(h.cli.stderr);
          return;
        }
        expect(withDead.code).toBe(h.bad.length > 0 ? 3 : 0);
        expect(JSON.parse(withDead.stdout)).toMatchObject({ written: h.good.length, invalid: h.bad.length, rejected: 0, expired: 0 });
        expect(await stored(db)).toEqual(h.good);
        const text = readFileSync(dead, 'utf8');
        const comments = text.split('\n').filter((l) => l.startsWith('# invalid, not sent: '));
        expect(comments).toHaveLength(h.bad.length);
        h.bad.forEach((b, i) => {
          const m = /^# invalid, not sent: (.*):(\d+): (.*)$/.exec(comments[i]!);
          expect(m?.[1]).toBe(path);
          expect(Number(m?.[2])).toBe(b.line);
          expect(m?.[3]).toMatch(b.reason);
          // Without --dead-letter: one line on stderr names it.
          expect(plain.stderr).toContain(`fastinflux: invalid row ${path}:${b.line}: `);
        });
        // Nothing but the invalid lines (as comments) in the dead letter: no line was sent and refused.
        expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
      });
    });
  }

  it('the binary garbage line is kept in the dead letter as text (its bad bytes as U+FFFD)', async () => {
    const path = join(dir, 'garbage.lp');
    const dead = join(dir, 'garbage.dead.lp');
    writeFileSync(path, TABLE[0]!.input);
    const r = await cli(['load', path, '--db', uniqueDb('hostile_garbage'), '--create-db', '--dead-letter', dead, '-q']);
    expect(r.code).toBe(3);
    expect(readFileSync(dead, 'utf8')).toBe(`# invalid, not sent: ${path}:2: invalid field format\n# \u0001\ufffd\ufffd bad line \ufffd\n`);
  });

  it('a 10 MB line is stored when a request may be that large (influxd accepts a 10 MB string)', async () => {
    const db = uniqueDb('hostile_big');
    await createDb(db);
    const big = new InfluxDBClient({ url, maxBodyBytes: 16_000_000 });
    try {
      expect(await big.write(TABLE.find((h) => h.name.startsWith('a line of 10 MB'))!.input, { db })).toBe(true);
    } finally {
      await big.close();
    }
    const r = await post('/query', new URLSearchParams({ q: 'SELECT count(s), count(v) FROM big', db }).toString(), 'application/x-www-form-urlencoded');
    expect(JSON.parse(r.text).results[0].series[0].values[0].slice(1)).toEqual([1, 2]);
  });

  it('why invalid UTF-8 in a measurement or field key is refused: influxd 1.6.7 answers 500 and stores nothing of the request', async () => {
    for (const line of ['w v=0 1\nw\xff v=1 1\n', 'w v=0 1\nw k\xfe=3 3\n']) {
      const db = uniqueDb('hostile_utf8');
      await createDb(db);
      const r = await post(`/write?db=${db}`, bytes(line));
      expect(r.status).toBe(500);
      expect(errorText(r.text)).toMatch(/^proto: field "tsdb\.(MeasurementFields|Field)\.Name" contains invalid UTF-8$/);
      expect(await stored(db)).toEqual([]);
    }
  });

  it('a lone UTF-16 surrogate in a string of line protocol is refused (it would go out as U+FFFD)', async () => {
    const e = await client.write('ok v=1 1\nx\uD800y v=2 2', { db: uniqueDb('hostile_surrogate') }).catch((x: unknown) => x) as InvalidPointError;
    expect(e).toBeInstanceOf(InvalidPointError);
    expect(e.line).toBe(2);
    expect(e.reason).toMatch(/lone UTF-16 surrogate/);
  });
});

describe('differential: our parser agrees with influxd 1.6.7 on random byte-ish lines', () => {
  // Lines built from the characters that matter to the scanner and the parser, half of them
  // shaped like line protocol (so that most parse and the accept paths are exercised too).
  const ch = fc.constantFrom('a', 'b', 'x', '0', '1', '9', '-', '.', 'e', 'E', '+', 'i', 'u', 't', 'T', 'f', 'F', 'N',
    ' ', ',', '=', '"', '\\', '#', '\t', '\r', '\0', '\xff', '\xc3', 'é');
  const noise = fc.array(ch, { minLength: 1, maxLength: 30 }).map((a) => a.join(''));
  const name = fc.array(fc.oneof(
    { arbitrary: fc.constantFrom('a', 'b', 'x', 'é', '\\ ', '\\,', '\\='), weight: 8 },
    { arbitrary: fc.constantFrom('"', '\xff', '\0', '#', '\\', '\t'), weight: 1 },
  ), { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
  const value = fc.oneof(
    { arbitrary: fc.constantFrom('1', '2.5', '-3i', 'true', 'F', '"text"', '"q\\"x"', '1e-5'), weight: 4 },
    fc.constantFrom('1', '-1', '1.5', '1e5', '1e309', '-0', '.5', '1.', '1i', '-9223372036854775808i', '9223372036854775808i', '1u', 't', 'true', 'FALSE', 'tRue', 'NaN', '"s"', '"a\\"b"', '"x', '"é\xff"', '""', '1.2.3'),
    noise,
  );
  const ts = fc.oneof({ arbitrary: fc.constantFrom('', ' 1', ' 1704067200000000000'), weight: 4 }, fc.constantFrom(' 1', ' -1', ' 9223372036854775806', ' 9223372036854775807', ' -9223372036854775807', ' 1x', ' 1 ', ' 1 2', ' -', ' 01'));
  const shaped = fc.tuple(name, fc.array(fc.tuple(name, name), { maxLength: 3 }), fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 3 }), ts)
    .map(([m, tags, fields, t]) => `${m}${tags.map(([k, v]) => `,${k}=${v}`).join('')} ${fields.map(([k, v]) => `${k}=${v}`).join(',')}${t}`);
  const line = fc.oneof({ arbitrary: shaped.map((t) => [true, t] as const), weight: 3 }, noise.map((t) => [false, t] as const));

  it('accept/refuse per line, for a few hundred lines in a handful of requests', async () => {
    const batches = fc.sample(fc.array(line, { minLength: 40, maxLength: 60 }), { numRuns: 8, seed: Number(process.env.FI_HOSTILE_SEED ?? 20261207) });
    const spec = precisionSpec('n');
    let compared = 0;
    let skipped = 0;
    let accepted = 0;
    for (const batch of batches) {
      // Type conflicts are refused by the shards, after parsing, and their message hides the
      // parse errors: a fresh database per batch, and a measurement of its own for each shaped line.
      // Lines our check refuses for invalid UTF-8 in a name (influxd parses them, then fails the
      // whole request with a 500) are left out: the rest is compared with influxd's parser.
      // (A quote left open takes the next lines into its line: filtered as influxd cuts them, until stable.)
      let body = Buffer.from(batch.map(([shapedLine, t], k) => (shapedLine ? `L${k}${t}` : t)).join('\n'), 'latin1');
      let cut = cutLines(body);
      for (;;) {
        const keep = cut.text.flatMap((t, k) => (/not valid UTF-8/.test(checkLine(body, t, cut.end[k]!, spec) ?? '') ? [] : [body.subarray(cut.start[k]!, cut.end[k]!)]));
        if (keep.length === cut.text.length) break;
        body = Buffer.concat(keep.flatMap((l) => [l, Buffer.from('\n')]));
        cut = cutLines(body);
      }
      const ours = cut.text.map((t, k) => checkLine(body, t, cut.end[k]!, spec));
      const db = uniqueDb('hostile_diff');
      await createDb(db);
      const answer = await post(`/write?db=${db}`, body);
      // influxd quotes every line it cannot parse (the text from its first non-blank byte).
      const refused = new Map<string, number>();
      if (answer.status === 400) {
        const text = errorText(answer.text);
        const parse = text.replace(/^partial write: /, '').replace(/ dropped=\d+$/, '');
        if (!parse.startsWith("unable to parse '")) {
          skipped++; // a shard error hides the parse errors: not comparable
          continue;
        }
        for (const item of parse.split(/\n(?=unable to parse ')/)) {
          const m = /^unable to parse '([\s\S]*)': [^']*$/.exec(item);
          expect(m, item).not.toBeNull();
          refused.set(m![1]!, (refused.get(m![1]!) ?? 0) + 1);
        }
      } else {
        expect(answer.status, answer.text).toBe(204);
      }
      const oursRefused = new Map<string, number>();
      ours.forEach((r, k) => {
        if (r === undefined) return;
        const shown = goString(body, cut.text[k]!, cut.end[k]!);
        oursRefused.set(shown, (oursRefused.get(shown) ?? 0) + 1);
      });
      expect(oursRefused).toEqual(refused);
      compared += ours.length;
      accepted += ours.filter((r) => r === undefined).length;
    }
    expect(skipped).toBeLessThanOrEqual(2);
    expect(compared).toBeGreaterThan(150);
    // Both verdicts well represented (seeded: the same lines every run).
    expect(accepted).toBeGreaterThan(30);
    expect(compared - accepted).toBeGreaterThan(30);
    console.log(`differential: ${compared} lines compared (${accepted} accepted by both), ${skipped} batches not comparable`);
  });
});
