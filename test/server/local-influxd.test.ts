import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInfluxd, type LocalInfluxd } from '../../src/server/index.js';
import { isAlive } from '../helpers/process.js';
import { rawQuery, sharedInfluxUrl, startVariant, uniqueDb } from '../helpers/server.js';

interface Res {
  status: number;
  body: string;
}

function collect(res: http.IncomingMessage, resolve: (r: Res) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
  res.on('error', reject);
}

function httpGetSocket(socketPath: string, path: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath, path, agent: false }, (res) => collect(res, resolve, reject)).on('error', reject);
  });
}

function httpsGet(url: string, ca?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    https.get(url, { ...(ca !== undefined ? { ca } : {}), agent: false }, (res) => collect(res, resolve, reject)).on('error', reject);
  });
}

const basic = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('findInfluxd', () => {
  it('finds the installed binary', () => {
    expect(findInfluxd()).toMatch(/influxd$/);
  });
});

describe('shared server (globalSetup)', () => {
  it('answers /ping with 204', async () => {
    const res = await fetch(`${sharedInfluxUrl()}/ping`);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version')).toBeTruthy();
  });

  it('runs queries through rawQuery', async () => {
    const db = uniqueDb('srv');
    expect(db).toMatch(new RegExp(`^srv_${process.pid}_\\d+_[a-z0-9]+$`));
    expect(await rawQuery(sharedInfluxUrl(), `CREATE DATABASE "${db}"`)).toEqual({ results: [{ statement_id: 0 }] });
    const shown = await rawQuery(sharedInfluxUrl(), 'SHOW DATABASES');
    const names = (shown.results?.[0]?.series?.[0]?.values ?? []).map((v) => v[0]);
    expect(names).toContain(db);
    expect(names).not.toContain('_internal');
    await rawQuery(sharedInfluxUrl(), `DROP DATABASE "${db}"`);
  });
});

describe('variants', () => {
  // Awkward credentials to exercise the InfluxQL quoting of CREATE USER.
  const auth = { username: 'ad"m\\in', password: "p'a\\ss\"w0rd" };
  let authSrv: LocalInfluxd;
  let sockSrv: LocalInfluxd;
  let tlsSrv: LocalInfluxd;
  let smallSrv: LocalInfluxd;

  beforeAll(async () => {
    [authSrv, sockSrv, tlsSrv, smallSrv] = await Promise.all([
      startVariant({ auth }),
      startVariant({ unixSocket: true }),
      startVariant({ https: true }),
      startVariant({ maxBodySize: 1000, extraHttpConfig: { 'max-concurrent-write-limit': 4 } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([authSrv, sockSrv, tlsSrv, smallSrv].map((s) => s?.stop()));
  });

  it('auth: unauthenticated query gets 401, Basic auth works', async () => {
    expect(authSrv.username).toBe(auth.username);
    expect(authSrv.password).toBe(auth.password);
    const body = new URLSearchParams({ q: 'SHOW USERS' }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };

    const anon = await fetch(`${authSrv.url}/query`, { method: 'POST', headers, body });
    expect(anon.status).toBe(401);
    await anon.arrayBuffer();

    const wrong = await fetch(`${authSrv.url}/query`, {
      method: 'POST',
      headers: { ...headers, authorization: basic(auth.username, 'nope') },
      body,
    });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();

    const ok = await fetch(`${authSrv.url}/query`, {
      method: 'POST',
      headers: { ...headers, authorization: basic(auth.username, auth.password) },
      body,
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      results: [{ statement_id: 0, series: [{ columns: ['user', 'admin'], values: [[auth.username, true]] }] }],
    });

    // rawQuery helper with auth
    const viaHelper = await rawQuery(authSrv.url, 'SHOW DATABASES', { auth });
    expect(viaHelper.results?.[0]?.error).toBeUndefined();
  });

  it('auth: never prints the password', () => {
    for (const text of [String(authSrv), inspect(authSrv), JSON.stringify(authSrv), inspect({ ...authSrv })]) {
      expect(text).not.toContain(auth.password);
    }
    expect(inspect(authSrv)).toContain(authSrv.url);
    expect(Object.keys(authSrv)).not.toContain('password');
  });

  it('unix socket: answers /ping over the socket', async () => {
    expect(sockSrv.unixSocketPath).toBeDefined();
    expect(Buffer.byteLength(sockSrv.unixSocketPath!)).toBeLessThanOrEqual(107);
    const res = await httpGetSocket(sockSrv.unixSocketPath!, '/ping');
    expect(res.status).toBe(204);
  });

  it('https: verification fails without the CA and succeeds with it', async () => {
    expect(tlsSrv.protocol).toBe('https');
    expect(tlsSrv.url).toBe(`https://127.0.0.1:${tlsSrv.port}`);
    expect(tlsSrv.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await expect(httpsGet(`${tlsSrv.url}/ping`)).rejects.toThrow(/self[- ]signed|unable to verify/i);
    await expect(fetch(`${tlsSrv.url}/ping`)).rejects.toThrow();
    const res = await httpsGet(`${tlsSrv.url}/ping`, tlsSrv.caPem);
    expect(res.status).toBe(204);
    // the certificate also carries DNS:localhost
    const byName = await httpsGet(`https://localhost:${tlsSrv.port}/ping`, tlsSrv.caPem);
    expect(byName.status).toBe(204);
  });

  it('maxBodySize: a larger /write body gets 413, a small one is accepted', async () => {
    const db = uniqueDb('mbs');
    await rawQuery(smallSrv.url, `CREATE DATABASE "${db}"`);
    const big = Array.from({ length: 100 }, (_, i) => `m,t=${i} v=${i}i ${i}`).join('\n');
    expect(big.length).toBeGreaterThan(1000);
    const tooBig = await fetch(`${smallSrv.url}/write?db=${db}`, { method: 'POST', body: big });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ error: 'Request Entity Too Large' });

    const small = await fetch(`${smallSrv.url}/write?db=${db}`, { method: 'POST', body: 'm,t=a v=1i 1' });
    expect(small.status).toBe(204);
    await small.arrayBuffer();
    const count = await rawQuery(smallSrv.url, 'SELECT count(v) FROM m', { db });
    expect(count.results?.[0]?.series?.[0]?.values).toEqual([['1970-01-01T00:00:00Z', 1]]);
  });
});

describe('stop()', () => {
  it('kills the process, removes the temp dir, and is idempotent', async () => {
    const srv = await startVariant({ unixSocket: true });
    const { pid, dir } = srv;
    expect(isAlive(pid)).toBe(true);
    await expect(fs.stat(dir)).resolves.toBeTruthy();
    await expect(fs.stat(srv.logPath)).resolves.toBeTruthy();

    await Promise.all([srv.stop(), srv.stop()]);
    await srv.stop();

    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('supports await using via Symbol.asyncDispose', async () => {
    const srv = await startVariant({});
    const { pid } = srv;
    await srv[Symbol.asyncDispose]();
    expect(isAlive(pid)).toBe(false);
  });
});
