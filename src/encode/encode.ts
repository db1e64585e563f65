/**
 * `encode()`: the bytes a write would send, without sending them, on the calling thread, with
 * the encoder the caller chooses (`encoder: 'ts' | 'wasm' | 'auto'`, routed by `route.ts`).
 */
import { resolveEncodeOptions, typeName, type EncoderChoice, type WriteOptions } from '../options.js';
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

// `satisfies` keeps this list equal to EncoderChoice: a value added there fails to compile here.
const kChoices = { ts: true, wasm: true, auto: true } satisfies Record<EncoderChoice, true>;

function encoderOf(v: unknown): EncoderChoice {
  if (v === undefined) return 'auto';
  if (typeof v === 'string' && Object.hasOwn(kChoices, v)) return v as EncoderChoice;
  const got = typeof v === 'string' ? JSON.stringify(v) : typeName(v);
  throw new InvalidOptionError(`encode options.encoder must be one of 'ts', 'wasm', 'auto' (got ${got}); encode() runs in the calling thread, so there is no pool to choose`);
}

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
  // `encoder` is encode()'s own option; the rest (or a non-object, refused there) goes to resolveEncodeOptions.
  let rest: unknown = options;
  let choice: EncoderChoice = 'auto';
  if (typeof options === 'object' && options !== null && !Array.isArray(options) && 'encoder' in options) {
    const { encoder, ...others } = options;
    choice = encoderOf(encoder);
    rest = others;
  }
  const { bodies } = encodeInThread(data, resolveEncodeOptions(rest), choice, 2 ** 31 - 1);
  return bodies.length === 1 ? bodies[0]!.body : Buffer.concat(bodies.map((b) => b.body));
}
