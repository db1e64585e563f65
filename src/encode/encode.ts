/**
 * `encode()`: the bytes a write would send, without sending them, on the calling thread.
 */
import { resolveEncodeOptions, type WriteOptions } from '../options.js';
import { InvalidOptionError } from '../errors.js';
import { encodeSync, type WriteData } from './input.js';

/** The write options that shape the bytes (everything but `db` and `rp`). */
export type EncodeOptions = Omit<WriteOptions, 'db' | 'rp'>;

/**
 * Encodes points or Arrow tables (or passes line protocol through) exactly as `client.write()`
 * would, and returns one Buffer of newline-terminated lines. Async iterables are not accepted here.
 */
export function encode(data: WriteData, options: EncodeOptions = {}): Buffer {
  if (typeof data === 'object' && data !== null && Symbol.asyncIterator in data) {
    throw new InvalidOptionError('encode() takes synchronous input; write() accepts async iterables');
  }
  const { bodies } = encodeSync(data, resolveEncodeOptions(options), 2 ** 31 - 1);
  return bodies.length === 1 ? bodies[0]!.body : Buffer.concat(bodies.map((b) => b.body));
}
