/**
 * Unit tests of src/options/client.ts and the shared precision check (src/options/validate.ts):
 * every validation message, the defaults, URL parsing, credentials handling, precision aliases,
 * the encoder and workers options. No server needed.
 */
import { describe, expect, it } from 'vitest';
import {
  CLIENT_DEFAULTS,
  resolveClientOptions,
  resolvePrecision,
  resolveWriteOptions,
  resolveWriterOptions,
  type ClientOptions,
} from '../../../src/options/index.js';
import { expectOptionError } from './expect-option-error.js';

const client = (o: unknown) => () => resolveClientOptions(o as ClientOptions);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('resolveClientOptions: defaults', () => {
  it('uses localhost:8086, path /, precision n, 60 s timeout, 5 MB bodies and verified TLS', () => {
    for (const input of [undefined, {}]) {
      const r = resolveClientOptions(input);
      expect(r.protocol).toBe('http');
      expect(r.host).toBe('localhost');
      expect(r.port).toBe(8086);
      expect(r.basePath).toBe('/');
      expect(r.precision).toBe('n');
      expect(r.timeout).toBe(60000);
      expect(r.maxBodyBytes).toBe(5000000);
      expect(r.tls.rejectUnauthorized).toBe(true);
      expect(r.authorization).toBeUndefined();
      expect(r.db).toBeUndefined();
      expect(r.rp).toBeUndefined();
      expect(r.unixSocket).toBeUndefined();
      expect(r.dispatcher).toBeUndefined();
      expect(r.headers).toEqual({});
      expect(r.origin).toBe('http://localhost:8086');
      expect(r.describe).toBe('http://localhost:8086');
    }
  });

  it('exports the same defaults it applies', () => {
    expect(CLIENT_DEFAULTS).toMatchObject({ host: 'localhost', port: 8086, path: '/', ssl: false, precision: 'n', timeout: 60000, maxBodyBytes: 5000000 });
  });

  it('keeps rejectUnauthorized true when tls is given without it, and honours an explicit false', () => {
    expect(resolveClientOptions({ tls: { servername: 'db.example' } }).tls).toEqual({ servername: 'db.example', rejectUnauthorized: true });
    expect(resolveClientOptions({ tls: { rejectUnauthorized: false } }).tls.rejectUnauthorized).toBe(false);
  });

  it('does not mutate the caller\'s tls object', () => {
    const tls = { servername: 'x' };
    resolveClientOptions({ tls });
    expect(tls).toEqual({ servername: 'x' });
  });
});

describe('resolveClientOptions: which options the user set', () => {
  it('marks timeout and maxBodyBytes as given only when set (the writer\'s defaults follow those)', () => {
    expect(resolveClientOptions({}).given).toEqual({ timeout: false, maxBodyBytes: false });
    expect(resolveClientOptions('http://localhost:8086/db').given).toEqual({ timeout: false, maxBodyBytes: false });
    // Set to the default value is still set: the user chose it.
    expect(resolveClientOptions({ timeout: 60_000, maxBodyBytes: 5_000_000 }).given).toEqual({ timeout: true, maxBodyBytes: true });
    expect(resolveClientOptions({ timeout: 0 }).given).toEqual({ timeout: true, maxBodyBytes: false });
  });

  it('hands the writer its request timeout and its batch size limit through them', () => {
    const c = resolveClientOptions({ db: 'd', timeout: 5000, maxBodyBytes: 1_000_000 });
    const w = resolveWriterOptions({}, c);
    expect(w).toMatchObject({ requestTimeoutMs: 5000, batchBytes: 1_000_000 });
    expect(() => resolveWriterOptions({ batchBytes: 2_000_000 }, c)).toThrow(/batchBytes \(2000000\) must be at most the client's maxBodyBytes \(1000000\)/);
    const d = resolveClientOptions({ db: 'd' });
    expect(resolveWriterOptions({ batchBytes: 2_000_000 }, d)).toMatchObject({ requestTimeoutMs: 30_000, batchBytes: 2_000_000 });
  });
});

describe('resolveClientOptions: explicit options', () => {
  it('normalises the path prefix to start and end with /', () => {
    expect(resolveClientOptions({ path: 'influx' }).basePath).toBe('/influx/');
    expect(resolveClientOptions({ path: '/influx' }).basePath).toBe('/influx/');
    expect(resolveClientOptions({ path: '/influx/' }).basePath).toBe('/influx/');
    expect(resolveClientOptions({ path: '/influx' }).describe).toBe('http://localhost:8086/influx/');
  });

  it('ssl switches the protocol and origin', () => {
    const r = resolveClientOptions({ ssl: true, host: 'db.example', port: 8443 });
    expect(r.protocol).toBe('https');
    expect(r.origin).toBe('https://db.example:8443');
  });

  it('brackets IPv6 hosts in the origin', () => {
    expect(resolveClientOptions({ host: '::1' }).origin).toBe('http://[::1]:8086');
    expect(resolveClientOptions('http://[::1]:9999').origin).toBe('http://[::1]:9999');
  });

  it('uses a unix socket: origin is http://localhost and describe names the socket', () => {
    const r = resolveClientOptions({ unixSocket: '/var/run/influxdb.sock' });
    expect(r.unixSocket).toBe('/var/run/influxdb.sock');
    expect(r.origin).toBe('http://localhost');
    expect(r.describe).toBe('unix:/var/run/influxdb.sock');
  });

  it('accepts db or its alias database (equal values are fine)', () => {
    expect(resolveClientOptions({ db: 'a' }).db).toBe('a');
    expect(resolveClientOptions({ database: 'b' }).db).toBe('b');
    expect(resolveClientOptions({ db: 'c', database: 'c' }).db).toBe('c');
  });

  it('lower-cases header names', () => {
    expect(resolveClientOptions({ headers: { 'X-Trace': 'abc' } }).headers).toEqual({ 'x-trace': 'abc' });
  });

  it('accepts an object with a request function as dispatcher', () => {
    const dispatcher = { request() {} };
    expect(resolveClientOptions({ dispatcher } as unknown as ClientOptions).dispatcher).toBe(dispatcher);
  });

  it('accepts timeout 0 (none) and the boundary values of maxBodyBytes', () => {
    expect(resolveClientOptions({ timeout: 0 }).timeout).toBe(0);
    expect(resolveClientOptions({ maxBodyBytes: 1024 }).maxBodyBytes).toBe(1024);
    expect(resolveClientOptions({ maxBodyBytes: 2 ** 31 - 1 }).maxBodyBytes).toBe(2 ** 31 - 1);
    expect(resolveClientOptions({ port: 1 }).port).toBe(1);
    expect(resolveClientOptions({ port: 65535 }).port).toBe(65535);
  });

  it('token gives an Authorization: Token header', () => {
    expect(resolveClientOptions({ token: 'user:secret' }).authorization).toBe('Token user:secret');
  });

  it('username alone gives Basic auth with an empty password', () => {
    expect(resolveClientOptions({ username: 'bob' }).authorization).toBe(basic('bob', ''));
  });
});

describe('resolveClientOptions: URL parsing', () => {
  it('takes host, port, db and credentials from http://user:p%40ss@host:8086/mydb', () => {
    const r = resolveClientOptions({ url: 'http://user:p%40ss@host:8086/mydb', allowInsecureAuth: true });
    expect(r.host).toBe('host');
    expect(r.port).toBe(8086);
    expect(r.db).toBe('mydb');
    expect(r.basePath).toBe('/');
    expect(r.authorization).toBe(basic('user', 'p@ss'));
    expect(r.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('never puts the user name or password in describe or origin', () => {
    const r = resolveClientOptions({ url: 'http://user:p%40ss@host:8086/mydb', allowInsecureAuth: true });
    expect(r.describe).toBe('http://host:8086');
    for (const s of [r.describe, r.origin]) {
      expect(s).not.toContain('user');
      expect(s).not.toContain('p@ss');
      expect(s).not.toContain('p%40ss');
    }
    const local = resolveClientOptions('https://admin:hunter2@localhost/');
    expect(local.describe).toBe('https://localhost:443');
    expect(local.describe).not.toMatch(/admin|hunter2/);
  });

  it('a string argument is a URL', () => {
    const r = resolveClientOptions('http://localhost:8086/telegraf');
    expect(r.db).toBe('telegraf');
    expect(r.port).toBe(8086);
  });

  it('decodes a percent-encoded database name', () => {
    expect(resolveClientOptions('http://localhost:8086/my%20db').db).toBe('my db');
  });

  it('an https URL turns ssl on; a missing port is the scheme default', () => {
    const s = resolveClientOptions('https://db.example/x');
    expect(s.protocol).toBe('https');
    expect(s.port).toBe(443);
    expect(resolveClientOptions('http://db.example').port).toBe(80);
  });

  it('more than one path segment is a path prefix, not a database', () => {
    const r = resolveClientOptions('http://localhost:8086/proxy/influx');
    expect(r.db).toBeUndefined();
    expect(r.basePath).toBe('/proxy/influx/');
  });

  it('explicit options override the parts of the URL', () => {
    const r = resolveClientOptions({ url: 'https://a.example:1/x', host: 'localhost', port: 2, ssl: false, db: 'y', username: 'u2', password: 'p2' });
    expect(r.protocol).toBe('http');
    expect(r.host).toBe('localhost');
    expect(r.port).toBe(2);
    expect(r.db).toBe('y');
    expect(r.authorization).toBe(basic('u2', 'p2'));
  });

  it('rejects an invalid URL without echoing it (it may hold a password)', () => {
    const e = expectOptionError(client({ url: 'http://user:s3cret@' }), /^options\.url is not a valid URL$/);
    expect(e.message).not.toContain('s3cret');
  });

  it('rejects a non-http(s) URL', () => {
    expectOptionError(client('ftp://localhost/db'), /options\.url must use http: or https: \(got ftp:\)/);
  });

  it('rejects credentials in the query string (u= / p=)', () => {
    expectOptionError(client('http://localhost:8086/db?u=admin'), /options\.url must not carry credentials as query parameters/);
    expectOptionError(client('http://localhost:8086/db?p=secret'), /options\.url must not carry credentials as query parameters/);
  });

  it('rejects a malformed percent-escape with an InvalidOptionError, not a URIError, and never echoes it', () => {
    const e = expectOptionError(client('http://user:%E0secret@localhost/'), /options\.url has a malformed percent-escape in its password/);
    expect(e.message).not.toContain('secret');
    expectOptionError(client('http://%E0@localhost/'), /malformed percent-escape in its user name/);
    expectOptionError(client('http://localhost/%E0'), /malformed percent-escape in its path/);
  });

  it('a URL password without user name is refused', () => {
    expectOptionError(client('http://:pass@localhost/'), /options\.password needs options\.username/);
  });
});

describe('resolveClientOptions: credentials over plain HTTP', () => {
  it('refuses Basic auth over http to a non-loopback host', () => {
    const e = expectOptionError(client({ host: 'db.example', username: 'u', password: 'secret' }), /credentials would be sent in clear text to db\.example: use ssl: true, or set allowInsecureAuth: true/);
    expect(e.message).not.toContain('secret');
    expectOptionError(client('http://user:p%40ss@host:8086/mydb'), /credentials would be sent in clear text to host/);
  });

  it('refuses a token over http to a non-loopback host', () => {
    expectOptionError(client({ host: '10.0.0.5', token: 't' }), /credentials would be sent in clear text to 10\.0\.0\.5/);
  });

  it('allows it with allowInsecureAuth: true', () => {
    expect(resolveClientOptions({ host: 'db.example', username: 'u', password: 'p', allowInsecureAuth: true }).authorization).toBe(basic('u', 'p'));
  });

  it('allows it over https, to loopback hosts, and over a unix socket', () => {
    expect(resolveClientOptions({ host: 'db.example', ssl: true, username: 'u', password: 'p' }).authorization).toBe(basic('u', 'p'));
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      expect(resolveClientOptions({ host, username: 'u', password: 'p' }).authorization, host).toBe(basic('u', 'p'));
    }
    expect(resolveClientOptions('http://u:p@[::1]:8086/').authorization).toBe(basic('u', 'p'));
    expect(resolveClientOptions({ host: 'db.example', unixSocket: '/tmp/influx.sock', username: 'u', password: 'p' }).authorization).toBe(basic('u', 'p'));
  });

  it('does not treat look-alike hosts as loopback', () => {
    for (const host of ['localhost.evil.example', '127.0.0.1.evil.example', '128.0.0.1']) {
      expectOptionError(client({ host, username: 'u', password: 'p' }), /credentials would be sent in clear text/);
    }
  });

  it('needs no opt-in without credentials', () => {
    expect(resolveClientOptions({ host: 'db.example' }).authorization).toBeUndefined();
  });
});

describe('resolveClientOptions: validation messages', () => {
  it('rejects a non-object, non-string argument', () => {
    expectOptionError(client(42), /options must be a URL string or an object \(got number\)/);
    expectOptionError(client(null), /options must be a URL string or an object \(got null\)/);
    expectOptionError(client(['http://x']), /options must be a URL string or an object \(got array\)/);
  });

  it('rejects unknown option names and lists the known ones', () => {
    expectOptionError(client({ hots: 'x' }), /unknown client option "hots" \(known: url, host, port/);
    expectOptionError(client({ database: 'a', user: 'x' }), /unknown client option "user"/);
  });

  it('rejects wrong types for string, boolean and integer options', () => {
    expectOptionError(client({ url: 1 }), /options\.url must be a string \(got number\)/);
    expectOptionError(client({ host: 1 }), /options\.host must be a string \(got number\)/);
    expectOptionError(client({ path: null }), /options\.path must be a string \(got null\)/);
    expectOptionError(client({ username: [] }), /options\.username must be a string \(got array\)/);
    expectOptionError(client({ db: 5 }), /options\.db must be a string \(got number\)/);
    expectOptionError(client({ ssl: 'yes' }), /options\.ssl must be a boolean \(got string\)/);
    expectOptionError(client({ allowInsecureAuth: 1 }), /options\.allowInsecureAuth must be a boolean \(got number\)/);
  });

  it('rejects an empty host and an empty unix socket path', () => {
    expectOptionError(client({ host: '' }), /options\.host must not be empty/);
    expectOptionError(client({ unixSocket: '' }), /options\.unixSocket must not be empty/);
  });

  it('rejects ports outside 1..65535 and non-integers', () => {
    expectOptionError(client({ port: 0 }), /options\.port must be an integer from 1 to 65535 \(got number 0\)/);
    expectOptionError(client({ port: 65536 }), /options\.port must be an integer from 1 to 65535 \(got number 65536\)/);
    expectOptionError(client({ port: 80.5 }), /options\.port must be an integer from 1 to 65535 \(got number 80\.5\)/);
    expectOptionError(client({ port: '8086' }), /options\.port must be an integer from 1 to 65535 \(got string "8086"\)/);
    expectOptionError(client({ port: Number.NaN }), /options\.port must be an integer from 1 to 65535 \(got number NaN\)/);
  });

  it('rejects timeouts and body limits out of range', () => {
    expectOptionError(client({ timeout: -1 }), /options\.timeout must be an integer from 0 to 2147483647 \(got number -1\)/);
    expectOptionError(client({ timeout: 2 ** 31 }), /options\.timeout must be an integer from 0 to 2147483647/);
    expectOptionError(client({ maxBodyBytes: 1023 }), /options\.maxBodyBytes must be an integer from 1024 to 2147483647 \(got number 1023\)/);
    expectOptionError(client({ maxBodyBytes: Infinity }), /options\.maxBodyBytes must be an integer from 1024 to 2147483647 \(got number Infinity\)/);
  });

  it('rejects bad tls options', () => {
    expectOptionError(client({ tls: true }), /options\.tls must be an object \(got boolean\)/);
    expectOptionError(client({ tls: { insecure: true } }), /unknown tls option "insecure" \(known: ca, cert, key, servername, rejectUnauthorized\)/);
    expectOptionError(client({ tls: { rejectUnauthorized: 'false' } }), /options\.tls\.rejectUnauthorized must be a boolean \(got string\)/);
    expectOptionError(client({ tls: { servername: 1 } }), /options\.tls\.servername must be a string \(got number\)/);
  });

  it('rejects password without username, and token with username', () => {
    expectOptionError(client({ password: 'p' }), /options\.password needs options\.username/);
    expectOptionError(client({ username: 'u', token: 't' }), /options\.token and options\.username cannot both be set/);
  });

  it('rejects db and database that disagree', () => {
    expectOptionError(client({ db: 'a', database: 'b' }), /options\.db and options\.database disagree: give one of them/);
  });

  it('rejects a bad precision', () => {
    expectOptionError(client({ precision: 'sec' }), /options\.precision must be one of n, u, ms, s, m, h \(got string "sec"\)/);
  });

  it('rejects bad headers and an Authorization header in any case', () => {
    expectOptionError(client({ headers: 'x' }), /options\.headers must be an object \(got string\)/);
    expectOptionError(client({ headers: { 'x-a': 1 } }), /options\.headers\.x-a must be a string \(got number\)/);
    expectOptionError(client({ headers: { Authorization: 'Basic eA==' } }), /options\.headers must not set Authorization: use username\/password or token/);
    expectOptionError(client({ headers: { AUTHORIZATION: 'x' } }), /options\.headers must not set Authorization/);
  });

  it('rejects a dispatcher without a request method', () => {
    expectOptionError(client({ dispatcher: {} }), /options\.dispatcher must be an undici Dispatcher/);
    expectOptionError(client({ dispatcher: 'pool' }), /options\.dispatcher must be an undici Dispatcher/);
  });
});

describe('resolvePrecision', () => {
  it('accepts the six precisions as they are', () => {
    for (const p of ['n', 'u', 'ms', 's', 'm', 'h'] as const) expect(resolvePrecision(p, 'x')).toBe(p);
  });

  it('maps the aliases ns → n, us → u, µ → u', () => {
    expect(resolvePrecision('ns', 'x')).toBe('n');
    expect(resolvePrecision('us', 'x')).toBe('u');
    expect(resolvePrecision('µ', 'x')).toBe('u');
  });

  it('names the option and shows the bad value', () => {
    expectOptionError(() => resolvePrecision('S', 'my.precision'), /^my\.precision must be one of n, u, ms, s, m, h \(got string "S"\)$/);
    expectOptionError(() => resolvePrecision('', 'p'), /p must be one of n, u, ms, s, m, h \(got string ""\)/);
    expectOptionError(() => resolvePrecision(1, 'p'), /p must be one of n, u, ms, s, m, h \(got number 1\)/);
    expectOptionError(() => resolvePrecision(null, 'p'), /p must be one of .* \(got null \)/);
    expectOptionError(() => resolvePrecision(undefined, 'p'), /\(got undefined \)/);
  });

  it('truncates a long bad value in the message', () => {
    const e = expectOptionError(() => resolvePrecision('x'.repeat(100), 'p'), /got string "x{40}…"/);
    expect(e.message).not.toContain('x'.repeat(41));
  });

  it('does not accept names of Object.prototype members as aliases', () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expectOptionError(() => resolvePrecision(name, 'p'), /p must be one of n, u, ms, s, m, h/);
    }
  });
});

describe('encoder and workers options', () => {
  it('default to auto and the available parallelism, and are validated', () => {
    const r = resolveClientOptions({});
    expect(r.encoder).toBe('auto');
    expect(r.workers).toBeUndefined();
    expect(resolveClientOptions({ encoder: 'wasm', workers: 2 })).toMatchObject({ encoder: 'wasm', workers: 2 });
    expectOptionError(() => resolveClientOptions({ encoder: 'gpu' as never }), /options\.encoder must be one of 'ts', 'wasm', 'auto' \(got "gpu"\)/);
    expectOptionError(() => resolveClientOptions({ workers: 0 }), /options\.workers must be an integer from 1 to 256 \(got number 0\)/);
    const w = resolveWriteOptions({ encoder: 'ts' }, { db: 'd', rp: undefined, precision: 'n' });
    expect(w.encoder).toBe('ts');
    expectOptionError(() => resolveWriteOptions({ encoder: 1 as never }, { db: 'd', rp: undefined, precision: 'n' }), /write options\.encoder must be one of 'ts', 'wasm', 'auto' \(got 1\)/);
  });
});
