/**
 * Auth, unix socket, HTTPS and a small max-body-size, each on its own real influxd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { InfluxDBClient, InfluxDBConnectionError, InfluxDBQueryError, InfluxDBWriteError, InvalidPointError } from '../../src/index.js';
import { startVariant, type LocalInfluxd } from '../helpers/server.js';

const PASSWORD = "s3cr'et\\pw";

describe('auth enabled', () => {
  let server: LocalInfluxd;
  beforeAll(async () => {
    server = await startVariant({ auth: { username: 'admin', password: PASSWORD } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('works with username/password sent as Basic auth', async () => {
    await using c = new InfluxDBClient({ url: server.url, username: 'admin', password: PASSWORD, db: 'authdb' });
    await c.createDatabase();
    await c.write({ measurement: 'm', time: 1, fields: { v: 1 } });
    const r = await c.query('SELECT v FROM m', { epoch: 'n' });
    expect(r.results[0]!.series![0]!.values).toEqual([[1, 1]]);
    const users = await c.showUsers();
    expect(users.results[0]!.series![0]!.values).toEqual([['admin', true]]);
  });

  it('moves credentials from the URL to the header', async () => {
    const u = new URL(server.url);
    u.username = 'admin';
    u.password = encodeURIComponent(PASSWORD);
    u.pathname = '/authdb';
    await using c = new InfluxDBClient(u.toString());
    expect(c.db).toBe('authdb');
    await expect(c.query('SHOW MEASUREMENTS')).resolves.toMatchObject({ results: [{ statement_id: 0 }] });
    expect(String(c)).not.toContain(PASSWORD);
    expect(inspect(c)).not.toContain(PASSWORD);
    expect(JSON.stringify(c)).not.toContain(PASSWORD);
    expect(JSON.stringify(c)).not.toContain(Buffer.from(`admin:${PASSWORD}`).toString('base64'));
  });

  it('surfaces 401 with the server\'s message, and never the password', async () => {
    await using c = new InfluxDBClient({ url: server.url, username: 'admin', password: 'wrong-password-xyz', db: 'authdb' });
    const q = await c.query('SHOW DATABASES').catch((e: unknown) => e) as InfluxDBQueryError;
    expect(q).toBeInstanceOf(InfluxDBQueryError);
    expect(q.status).toBe(401);
    expect(q.isAuthError).toBe(true);
    expect(q.serverMessage).toBe('authorization failed');
    const w = await c.write('m v=1 1').catch((e: unknown) => e) as InfluxDBWriteError;
    expect(w).toBeInstanceOf(InfluxDBWriteError);
    expect(w.status).toBe(401);
    expect(w.retryable).toBe(false);
    for (const e of [q, w]) {
      const shown = `${e.message} ${String(e)} ${inspect(e)} ${JSON.stringify(e)}`;
      expect(shown).not.toContain('wrong-password-xyz');
      expect(shown).not.toContain(Buffer.from('admin:wrong-password-xyz').toString('base64'));
    }
  });

  it('sends a token as Authorization: Token, which 1.6 does not read (the v1 API of 1.8+/2.x/3.x does)', async () => {
    await using c = new InfluxDBClient({ url: server.url, token: `admin:${PASSWORD}`, db: 'authdb' });
    const err = await c.query('SHOW DATABASES').catch((e: unknown) => e) as InfluxDBQueryError;
    expect(err.status).toBe(401);
    expect(err.serverMessage).toBe('unable to parse authentication credentials');
    expect(err.message).not.toContain(PASSWORD);
  });

  it('answers 401 without credentials', async () => {
    await using c = new InfluxDBClient({ url: server.url, db: 'authdb' });
    await expect(c.query('SHOW DATABASES')).rejects.toMatchObject({ status: 401 });
    // /ping needs no credentials in 1.x.
    await expect(c.ping()).resolves.toMatchObject({ build: 'OSS' });
  });
});

describe('unix socket', () => {
  let server: LocalInfluxd;
  beforeAll(async () => {
    server = await startVariant({ unixSocket: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('pings, writes and queries over the socket', async () => {
    await using c = new InfluxDBClient({ unixSocket: server.unixSocketPath!, db: 'sockdb' });
    expect((await c.ping()).version).toMatch(/^1\.6/);
    await c.createDatabase();
    await c.write({ measurement: 'm', time: 5n, fields: { v: 2.5 } });
    const r = await c.query('SELECT v FROM m', { epoch: 'n' });
    expect(r.results[0]!.series![0]!.values).toEqual([[5, 2.5]]);
  });

  it('fails clearly when the socket does not exist', async () => {
    await using c = new InfluxDBClient({ unixSocket: `${server.dir}/nope.sock`, timeout: 2000 });
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect((err as InfluxDBConnectionError).reason).toBe('ENOENT');
  });
});

describe('HTTPS with a self-signed certificate', () => {
  let server: LocalInfluxd;
  beforeAll(async () => {
    server = await startVariant({ https: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('rejects the certificate by default', async () => {
    await using c = new InfluxDBClient({ host: '127.0.0.1', port: server.port, ssl: true, timeout: 5000 });
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxDBConnectionError);
    expect((err as Error).message).toMatch(/TLS certificate rejected/);
    expect((err as InfluxDBConnectionError).retryable).toBe(false);
  });

  it('accepts it with the CA, for ping, write and query', async () => {
    await using c = new InfluxDBClient({ url: server.url, tls: { ca: server.caPem! }, db: 'tlsdb' });
    expect((await c.ping()).build).toBe('OSS');
    await c.createDatabase();
    await c.write('m v=1 1');
    const r = await c.query('SELECT v FROM m', { epoch: 'n' });
    expect(r.results[0]!.series![0]!.values).toEqual([[1, 1]]);
  });

  it('verifies the host name too', async () => {
    // The certificate names localhost and 127.0.0.1, not this servername.
    await using c = new InfluxDBClient({ url: server.url, tls: { ca: server.caPem!, servername: 'example.invalid' }, timeout: 5000 });
    await expect(c.ping()).rejects.toBeInstanceOf(InfluxDBConnectionError);
  });
});

describe('small max-body-size', () => {
  let server: LocalInfluxd;
  beforeAll(async () => {
    server = await startVariant({ maxBodySize: 20_000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('surfaces the server\'s 413 when a body is larger than it takes', async () => {
    await using c = new InfluxDBClient({ url: server.url, db: 'bodydb' });
    await c.createDatabase();
    const points = Array.from({ length: 1000 }, (_, i) => ({ measurement: 'm', time: i, fields: { v: i, s: 'padding-padding-padding' } }));
    const err = await c.write(points).catch((e: unknown) => e) as InfluxDBWriteError;
    expect(err).toBeInstanceOf(InfluxDBWriteError);
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/Request Entity Too Large.*maxBodyBytes/);
    expect(err.linesWritten).toBe(0);
    expect(err.linesNotWritten).toBe(1000);
  });

  it('stays under it with maxBodyBytes, in several requests', async () => {
    await using c = new InfluxDBClient({ url: server.url, db: 'bodydb', maxBodyBytes: 19_000 });
    const points = Array.from({ length: 1000 }, (_, i) => ({ measurement: 'split', time: i, fields: { v: i, s: 'padding-padding-padding' } }));
    await c.write(points);
    const r = await c.query('SELECT count(v) FROM split');
    expect(r.results[0]!.series![0]!.values![0]![1]).toBe(1000);
  });

  it('rejects a single line larger than maxBodyBytes before sending anything', async () => {
    await using c = new InfluxDBClient({ url: server.url, db: 'bodydb', maxBodyBytes: 2048 });
    const err = await c.write([{ measurement: 'one', time: 1, fields: { v: 1 } }, { measurement: 'one', time: 2, fields: { s: 'x'.repeat(3000) } }])
      .catch((e: unknown) => e) as InvalidPointError;
    expect(err).toBeInstanceOf(InvalidPointError);
    expect(err.pointIndex).toBe(1);
    const r = await c.query('SELECT count(v) FROM one');
    expect(r.results[0]!.series).toBeUndefined();
  });
});
