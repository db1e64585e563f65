/**
 * `encode()`: the bytes a write would send, without sending them, on the calling thread.
 */
import { resolveEncodeOptions, type FieldType, type Precision } from '../options.js';
import { InvalidOptionError } from '../errors.js';
import { encodeSync, type WriteData } from './input.js';

export interface EncodeOptions {
  precision?: Precision;
  measurement?: string;
  tags?: Record<string, string>;
  fieldTypes?: Record<string, FieldType>;
  allowNewlinesInStrings?: boolean;
}

/**
 * Encodes points (or passes line protocol through) exactly as `client.write()` would, and
 * returns one Buffer of newline-terminated lines. Async iterables are not accepted here.
 */
export function encode(data: WriteData, options: EncodeOptions = {}): Buffer {
  if (typeof data === 'object' && data !== null && Symbol.asyncIterator in data) {
    throw new InvalidOptionError('encode() takes synchronous input; write() accepts async iterables');
  }
  const bodies = encodeSync(data, resolveEncodeOptions(options), 2 ** 31 - 1);
  return bodies.length === 1 ? bodies[0]!.body : Buffer.concat(bodies.map((b) => b.body));
}
