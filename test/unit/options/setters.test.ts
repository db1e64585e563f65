/**
 * Unit tests of the client's setters (`client.db = …`, `output`, `mode`, `encoder`, `rp`,
 * `precision`): each refuses what the constructor refuses, through the same check of
 * src/options/, with the same message less the constructor's `options.` prefix. No server needed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxDBClient } from '../../../src/index.js';
import { resolveClientOptions, type ClientOptions } from '../../../src/options/index.js';
import { expectOptionError } from './expect-option-error.js';

/** The constructor's message for `{ [key]: value }`, without its `options.` prefix. */
function constructorMessage(key: string, value: unknown): string {
  try {
    resolveClientOptions({ [key]: value } as ClientOptions);
  } catch (e) {
    return (e as Error).message.replace(/^options\./, '');
  }
  throw new Error(`the constructor accepted ${key}: ${String(value)}`);
}

const exactly = (s: string) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('the client setters validate as the constructor does', () => {
  const c = new InfluxDBClient();
  afterAll(() => c.close());

  const cases: Array<[keyof InfluxDBClient & string, unknown[]]> = [
    ['db', [5, null, {}]],
    ['rp', [true, []]],
    ['precision', ['sec', 1]],
    ['output', ['pandas', 3, null]],
    ['mode', ['sync', true, {}]],
    ['encoder', ['gpu', 1, {}]],
  ];
  for (const [key, values] of cases) {
    it(`${key}`, () => {
      for (const value of values) {
        expectOptionError(() => {
          (c as unknown as Record<string, unknown>)[key] = value;
        }, exactly(constructorMessage(key, value)));
      }
    });
  }

  it('database (the alias of db) too, and a valid value goes in', () => {
    expectOptionError(() => {
      c.database = 7 as never;
    }, exactly(constructorMessage('db', 7)));
    c.database = 'x';
    c.rp = undefined;
    c.encoder = 'ts';
    c.precision = 'ms';
    c.output = 'dataframe';
    expect([c.db, c.rp, c.encoder, c.precision, c.output]).toEqual(['x', undefined, 'ts', 'ms', 'arrow']);
  });
});
