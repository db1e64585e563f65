/** `--timeout` and `--delivery-timeout`: seconds on the command line, milliseconds in the options. */
import { describe, expect, it } from 'vitest';
import { connectionClientOptions, parseSeconds } from '../../../src/cli/common.js';
import { UsageError } from '../../../src/cli/errors.js';

describe('seconds on the command line', () => {
  it('reads whole and fractional seconds as milliseconds; 0 is no limit; absent is undefined', () => {
    expect(parseSeconds('10', '--timeout')).toBe(10_000);
    expect(parseSeconds('0.5', '--timeout')).toBe(500);
    expect(parseSeconds('0.0001', '--timeout')).toBe(1);
    expect(parseSeconds('0', '--timeout')).toBe(0);
    expect(parseSeconds(undefined, '--timeout')).toBeUndefined();
  });

  it.each(['abc', '-1', '1e3', '', '5s', '.5'])('refuses %j with a usage line naming the flag', (v) => {
    expect(() => parseSeconds(v, '--delivery-timeout')).toThrow(UsageError);
    expect(() => parseSeconds(v, '--delivery-timeout')).toThrow(/^--delivery-timeout takes seconds/);
  });

  it('--timeout becomes the client timeout', () => {
    expect(connectionClientOptions({ url: 'http://127.0.0.1:8086', timeout: '2.5' }).options.timeout).toBe(2500);
    expect(connectionClientOptions({ url: 'http://127.0.0.1:8086' }).options.timeout).toBeUndefined();
  });
});
