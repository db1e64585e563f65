/**
 * Unit tests of the blocking mode's options and plumbing, no server needed: `mode` validated
 * and defaulted (exact messages), what cannot be combined with it, the mode setter and
 * setMode(), the Node options given to the worker, and errors rebuilt across the thread
 * boundary as the same classes with the same properties.
 */
import { types } from 'node:util';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  InfluxDBClient, InfluxDBConnectionError, InfluxDBError, InfluxDBQueryError, InfluxDBWriteError, InvalidOptionError,
  InvalidPointError, WriteDeliveryError, BlockingWorkerError,
} from '../../../src/index.js';
import { resolveClientOptions, resolveMode, type ClientOptions } from '../../../src/options/index.js';
import { EncoderWorkerError } from '../../../src/errors.js';
import { rebuildError, serializeError } from '../../../src/blocking/errors.js';
import { workerExecArgv } from '../../../src/blocking/channel.js';

/** Runs `fn`, expects an InvalidOptionError with code FI_ERR_INVALID_OPTION and exactly `message`. */
function expectOptionError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidOptionError);
  expect((caught as InvalidOptionError).code).toBe('FI_ERR_INVALID_OPTION');
  expect((caught as InvalidOptionError).message).toBe(message);
}

const kDispatcherMessage = "options.dispatcher cannot be used with mode 'blocking': the blocking mode sends its requests from a worker thread, where a Dispatcher object cannot be passed";

describe('options.mode', () => {
  it('defaults to async and accepts async and blocking', () => {
    expect(resolveClientOptions(undefined).mode).toBe('async');
    expect(resolveClientOptions({}).mode).toBe('async');
    expect(resolveClientOptions('http://localhost:8086/db').mode).toBe('async');
    expect(resolveClientOptions({ mode: 'async' }).mode).toBe('async');
    expect(resolveClientOptions({ mode: 'blocking' }).mode).toBe('blocking');
    expect(resolveMode('blocking', 'mode')).toBe('blocking');
  });

  it('refuses anything else, saying what it got', () => {
    const bad = (mode: unknown) => () => resolveClientOptions({ mode } as ClientOptions);
    expectOptionError(bad('sync'), "options.mode must be one of 'async', 'blocking' (got \"sync\")");
    expectOptionError(bad('Blocking'), "options.mode must be one of 'async', 'blocking' (got \"Blocking\")");
    expectOptionError(bad(true), "options.mode must be one of 'async', 'blocking' (got true)");
    expectOptionError(bad(1), "options.mode must be one of 'async', 'blocking' (got 1)");
    expectOptionError(bad(null), "options.mode must be one of 'async', 'blocking' (got null)");
    expectOptionError(bad({}), "options.mode must be one of 'async', 'blocking' (got object)");
    expectOptionError(() => resolveMode('', 'mode'), "mode must be one of 'async', 'blocking' (got \"\")");
  });

  it('is a known option name', () => {
    expectOptionError(() => resolveClientOptions({ mdoe: 'blocking' } as ClientOptions),
      'unknown client option "mdoe" (known: url, host, port, path, ssl, tls, unixSocket, username, password, token, db, database, rp, precision, timeout, headers, dispatcher, maxBodyBytes, maxResponseBytes, allowInsecureAuth, output, encoder, workers, mode)');
  });

  it('cannot be blocking with a dispatcher (it cannot be passed to the worker thread)', async () => {
    const dispatcher = new Agent();
    expectOptionError(() => resolveClientOptions({ mode: 'blocking', dispatcher }), kDispatcherMessage);
    expect(resolveClientOptions({ mode: 'async', dispatcher }).dispatcher).toBe(dispatcher);
    const c = new InfluxDBClient({ dispatcher });
    expectOptionError(() => {
      c.mode = 'blocking';
    }, kDispatcherMessage);
    expectOptionError(() => c.setMode('blocking'), kDispatcherMessage);
    expect(c.mode).toBe('async');
    await c.close();
    await dispatcher.close();
  });
});

describe('the mode setter and setMode()', () => {
  it('switch at any time, validated, without starting anything', async () => {
    const c = new InfluxDBClient({ mode: 'blocking' });
    expect(c.mode).toBe('blocking');
    c.mode = 'async';
    expect(c.mode).toBe('async');
    expectOptionError(() => {
      c.mode = 'sync' as never;
    }, "mode must be one of 'async', 'blocking' (got \"sync\")");
    expectOptionError(() => c.setMode(undefined as never), "mode must be one of 'async', 'blocking' (got undefined)");
    expect(c.setMode('blocking')).toBe(c);
    expect(c.toJSON()).toMatchObject({ mode: 'blocking' });
    await c.close();
  });

  it('blocking calls check their options in the calling thread, with the async messages', async () => {
    const c = new InfluxDBClient({ mode: 'blocking' });
    const a = new InfluxDBClient();
    const messageOf = async (p: () => unknown) => {
      try {
        await p();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    for (const [blocking, async] of [
      [() => c.write('m v=1'), () => a.write('m v=1')],
      [() => c.write('m v=1', { db: 'x', bogus: 1 } as never), () => a.write('m v=1', { db: 'x', bogus: 1 } as never)],
      [() => c.query(''), () => a.query('')],
      [() => c.query('SELECT 1', { epoch: 'x' as never }), () => a.query('SELECT 1', { epoch: 'x' as never })],
      [() => c.query('SELECT 1', { chunkSize: 10 }), () => a.query('SELECT 1', { chunkSize: 10 })],
    ] as const) {
      expect(await messageOf(blocking)).toBe(await messageOf(async));
    }
    expect(await messageOf(() => c.query('SELECT 1', { chunked: true }))).toBe(
      "chunked queries are not available in blocking mode (a chunked answer is an async iterator that streams in while it is read): query without chunked, or switch to async mode (client.mode = 'async')",
    );
    expect(await messageOf(() => c.writer())).toBe(
      "client.writer() is not available in blocking mode (a batch writer sends in the background, with promises and timers): switch to async mode (client.mode = 'async') to use one",
    );
    c.close();
    await a.close();
  });
});

describe('the worker\'s Node options', () => {
  it('keep the process\'s options but not those about the main script', () => {
    expect(workerExecArgv([])).toEqual([]);
    expect(workerExecArgv(['--max-old-space-size=512', '--conditions', 'dev', '-r', 'x'])).toEqual(['--max-old-space-size=512', '--conditions', 'dev', '-r', 'x']);
    expect(workerExecArgv(['--input-type=module', '-e', 'code', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['--eval=code', '-p', '1+1', '-i', '--print', 'x', '--input-type', 'module'])).toEqual([]);
    expect(workerExecArgv(['-pe', 'code', '--watch', '--test', '--check'])).toEqual([]);
  });
});

describe('errors across the thread boundary', () => {
  /** What the calling thread gets for `err` thrown in the worker. */
  const roundTrip = (err: unknown): Error => rebuildError(structuredClone(serializeError(err)), '    at caller (x.js:1:1)');
  const own = (e: Error) => ({ ...e });

  it('same class, code, name, message and own properties', () => {
    const cases: Error[] = [
      new InvalidPointError(3, 'fields', 'v', 'NaN is not a valid float'),
      new InvalidOptionError('options.port must be an integer'),
      new InfluxDBQueryError('query failed in statement 1: bad', { status: 200, serverMessage: 'bad', endpoint: 'query', statementId: 1 }),
      new InfluxDBWriteError('write failed with HTTP 400: x', { status: 400, serverMessage: 'x', endpoint: 'write', rejectedLines: ['a b'], partial: true, linesWritten: 2, linesNotWritten: 1 }),
      new InfluxDBConnectionError('ping to x: refused', 'ECONNREFUSED', true),
      new EncoderWorkerError('worker died', 0, 9, 1),
      new BlockingWorkerError('gone'),
    ];
    for (const err of cases) {
      const back = roundTrip(err);
      expect(back.constructor).toBe(err.constructor);
      expect(back).toBeInstanceOf(InfluxDBError);
      expect(types.isNativeError(back)).toBe(true);
      expect(back.message).toBe(err.message);
      expect(back.name).toBe(err.name);
      expect(own(back)).toEqual(own(err));
      expect(back.stack).toContain(err.stack!.split('\n')[1]);
      expect(back.stack).toContain('at caller (x.js:1:1)');
    }
    const http = roundTrip(new InfluxDBQueryError('denied', { status: 401, serverMessage: 'denied', endpoint: 'query' })) as InfluxDBQueryError;
    expect(http.isAuthError).toBe(true);
    expect(http.retryable).toBe(false);
  });

  it('causes and nested errors, plain JavaScript errors and thrown non-errors', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const conn = roundTrip(new InfluxDBConnectionError('ping failed', 'ECONNREFUSED', true, { cause }));
    expect(conn.cause).toBeInstanceOf(Error);
    expect((conn.cause as Error).message).toBe('connect ECONNREFUSED');
    expect((conn.cause as { code?: string }).code).toBe('ECONNREFUSED');
    const delivery = roundTrip(new WriteDeliveryError('2 points not written', { rejected: 1, expired: 1, dropped: 0 }, ['a v=1', 'b v=2'], [new InvalidOptionError('x')]));
    expect(delivery).toBeInstanceOf(WriteDeliveryError);
    expect((delivery as WriteDeliveryError).errors[0]).toBeInstanceOf(InvalidOptionError);
    expect((delivery as WriteDeliveryError).lines).toEqual(['a v=1', 'b v=2']);
    expect(roundTrip(new TypeError('t'))).toBeInstanceOf(TypeError);
    expect(roundTrip(new RangeError('r'))).toBeInstanceOf(RangeError);
    const odd = roundTrip(Object.assign(new Error('with a function'), { fn: () => 1, n: 1n }));
    expect(odd).toMatchObject({ n: 1n });
    expect('fn' in odd).toBe(false);
    expect(roundTrip('a string').message).toBe('non-error thrown: a string');
  });
});
