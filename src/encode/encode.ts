/**
 * `encode()`: the bytes a write would send, without sending them, on the calling thread, with
 * the encoder the caller chooses (`encoder: 'ts' | 'wasm' | 'auto'`, routed by `route.ts`).
 */
import { resolveEncodeCall, type WriteOptions } from '../options/index.js';
import { InvalidOptionError } from '../errors.js';
import { isArrowBatchReader } from './arrow/index.js';
import { isAsyncIterable, isIterable, type WriteData } from './input.js';
import { encodeInThread } from './route.js';

/**
 * The write options that shape the bytes (everything but `db` and `rp`), and the encoder:
 * `ts` (the TypeScript encoders), `wasm` (the WebAssembly encoder, in the calling thread: the
 * same encoder `write()` runs on its worker pool) or `auto` (default: what `write()` would pick,
 * the pool aside). Every choice gives the same bytes and the same errors.
 */
export type EncodeOptions = Omit<WriteOptions, 'db' | 'rp'>;

/** Input that can only be read with `for await` (a sync RecordBatchReader defines both iterators). */
function isAsyncOnly(data: unknown): boolean {
  if (isArrowBatchReader(data)) return (data as unknown as { isAsync(): boolean }).isAsync();
  return isAsyncIterable(data) && !isIterable(data);
}

/**
 * Encodes points or Arrow tables (or passes line protocol through) exactly as `client.write()`
 * would, and returns one Buffer of newline-terminated lines. Async iterables are not accepted here.
 */
export function encode(data: WriteData, options: EncodeOptions = {}): Buffer {
  if (isAsyncOnly(data)) {
    throw new InvalidOptionError('encode() takes synchronous input; write() accepts async iterables');
  }
  const { options: resolved, encoder } = resolveEncodeCall(options);
  const { bodies } = encodeInThread(data, resolved, encoder, 2 ** 31 - 1);
  return bodies.length === 1 ? bodies[0]!.body : Buffer.concat(bodies.map((b) => b.body));
}
