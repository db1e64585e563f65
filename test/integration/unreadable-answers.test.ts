/**
 * Answers the client cannot read, after the request reached the real influxd: our fault proxy
 * (test/helpers/fault-proxy.ts) forwards each request, then spoils the server's answer (a bad
 * header byte, headers too large, bytes that are not HTTP, a body cut short). The client must say
 * what it knows: the request was sent, the server may have stored it, the answer was unreadable;
 * and tell that apart from a request that certainly never left (connection refused).
 */
import { describe, expect, it } from 'vitest';
import { InfluxDBConnectionError, type WriterStats } from '../../src/index.js';
import type { FaultAction } from '../helpers/fault-proxy.js';
import { freePort, lines, proxiedWrites } from '../helpers/proxied-writes.js';

const { url, proxy, clientFor, newDb, count } = proxiedWrites();
async function rejection(p: Promise<unknown>): Promise<InfluxDBConnectionError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InfluxDBConnectionError);
  return err as InfluxDBConnectionError;
}

const kSpoiled: { name: string; action: FaultAction; reason: string; detail: RegExp }[] = [
  { name: 'a header value with a control byte', action: { pass: true, spoil: { badHeaderByte: true } }, reason: 'UND_ERR_HTTP_PARSER', detail: /Invalid header value char/ },
  { name: 'headers larger than the client takes (4 MiB)', action: { pass: true, spoil: { headerBytes: 5 * 1024 * 1024 } }, reason: 'UND_ERR_HEADERS_OVERFLOW', detail: /Headers Overflow/ },
  { name: 'bytes that are not HTTP', action: { pass: true, then: { raw: 'SSH-2.0-OpenSSH_9.2\r\n' } }, reason: 'UND_ERR_HTTP_PARSER', detail: /Expected HTTP\// },
];

describe('client.write()', () => {
  for (const f of kSpoiled) {
    it(`${f.name}: rejects saying the points may be stored, and the server did store them`, async () => {
      const db = await newDb('ua_w');
      const p = await proxy();
      p.script(f.action);
      const err = await rejection(clientFor(p.url, db).write(lines(3)));
      expect(err).toMatchObject({ code: 'FI_ERR_CONNECTION', reason: f.reason, requestSent: true, answerUnreadable: true, retryable: true });
      expect(err.message).toMatch(f.detail);
      expect(err.message).toMatch(/the answer could not be read/);
      expect(err.message).toMatch(/the points may or may not have been stored/);
      expect(p.requests[0]!.upstreamStatus).toBe(204);
      expect(await count(db)).toBe(3);
    });
  }

  it('the connection closed after the request, before any answer: sent, no answer, may be stored', async () => {
    const db = await newDb('ua_wc');
    const p = await proxy();
    p.script({ pass: true, then: { close: true } });
    const err = await rejection(clientFor(p.url, db).write(lines(2)));
    expect(err).toMatchObject({ reason: 'UND_ERR_SOCKET', requestSent: true, answerUnreadable: false, retryable: true });
    expect(err.message).toMatch(/may or may not have been stored/);
    expect(await count(db)).toBe(2);
  });

  it('connection refused: certainly not sent, and the message does not hedge', async () => {
    const db = await newDb('ua_wr');
    const err = await rejection(clientFor(`http://127.0.0.1:${await freePort()}`, db).write(lines(2)));
    expect(err).toMatchObject({ reason: 'ECONNREFUSED', requestSent: false, answerUnreadable: false, retryable: true });
    expect(err.message).not.toMatch(/may or may not/);
    expect(await count(db)).toBe(0);
  });
});

describe('the batch writer', () => {
  it('retries every unreadable answer: each point stored once, stats and onError say so', async () => {
    const db = await newDb('ua_bw');
    const p = await proxy();
    p.script(...kSpoiled.map((f) => f.action));
    const errors: Error[] = [];
    const w = clientFor(p.url, db).writer({ retryInitialDelayMs: 20, retryMaxDelayMs: 200, batchSize: 50, onError: (e) => errors.push(e) });
    await w.write(lines(100));
    await w.flush();
    const s: WriterStats = w.stats();
    expect(s).toMatchObject({ accepted: 100, written: 100, rejected: 0, expired: 0, pending: 0, retries: 3, requests: 5 });
    // The first batch reached the server four times (three spoiled answers, then a readable one).
    expect(p.requests.map((r) => r.upstreamStatus)).toEqual([204, 204, 204, 204, 204]);
    expect(p.requests[0]!.body.equals(p.requests[3]!.body)).toBe(true);
    // Same timestamps on every resend: overwritten, not added.
    expect(await count(db)).toBe(100);
    expect(errors.map((e) => [(e as InfluxDBConnectionError).reason, (e as InfluxDBConnectionError).answerUnreadable])).toEqual(
      kSpoiled.map((f) => [f.reason, true]),
    );
    await w.close();
  });
});

describe('client.query()', () => {
  async function seeded(prefix: string): Promise<string> {
    const db = await newDb(prefix);
    await clientFor(url, db).write(lines(20));
    return db;
  }

  it('a body cut short: rejects saying the answer could not be read', async () => {
    const db = await seeded('ua_q');
    const p = await proxy();
    const c = clientFor(p.url, db);
    for (const output of ['raw', 'arrow'] as const) {
      p.script({ pass: true, spoil: { cutBodyAfter: 30 } });
      const err = await rejection(c.query('SELECT * FROM m', { output }));
      expect(err).toMatchObject({ reason: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', requestSent: true, answerUnreadable: true });
      expect(err.message).toMatch(/^query to .*: the answer could not be read/);
      expect(err.message).not.toMatch(/points/);
    }
    // The same query through a clean answer.
    expect((await c.query('SELECT count(v) FROM m')).results[0]!.series![0]!.values).toEqual([['1970-01-01T00:00:00Z', 20]]);
  });

  it('bad header bytes, and a chunked answer cut short', async () => {
    const db = await seeded('ua_qc');
    const p = await proxy();
    const c = clientFor(p.url, db);
    p.script({ pass: true, spoil: { badHeaderByte: true } });
    const bad = await rejection(c.query('SELECT * FROM m'));
    expect(bad).toMatchObject({ reason: 'UND_ERR_HTTP_PARSER', answerUnreadable: true });
    expect(bad.message).toMatch(/Invalid header value char/);

    p.script({ pass: true, spoil: { cutBodyAfter: 30 } });
    const chunks = await c.query('SELECT * FROM m', { chunked: true, chunkSize: 5 });
    const err = await rejection((async () => {
      for await (const _ of chunks) { /* read until it fails */ }
    })());
    expect(err.answerUnreadable).toBe(true);
    expect(err.message).toMatch(/^chunked query from .*: the answer could not be read/);
  });
});
