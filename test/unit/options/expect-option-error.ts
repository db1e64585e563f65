/**
 * The options tests' one assertion on a refused option: an InvalidOptionError (an InfluxDBError,
 * code FI_ERR_INVALID_OPTION) whose message matches.
 */
import { expect } from 'vitest';
import { InfluxDBError, InvalidOptionError } from '../../../src/errors.js';

/** Runs `fn`, expects an InvalidOptionError with code FI_ERR_INVALID_OPTION whose message matches. */
export function expectOptionError(fn: () => unknown, message: RegExp): InvalidOptionError {
  expect(fn).toThrow(InvalidOptionError);
  expect(fn).toThrow(message);
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InfluxDBError);
    expect((e as InvalidOptionError).code).toBe('FI_ERR_INVALID_OPTION');
    expect((e as InvalidOptionError).name).toBe('InvalidOptionError');
    return e as InvalidOptionError;
  }
  throw new Error('unreachable');
}
