/**
 * Everything `write()` accepts, turned into request bodies:
 * line-protocol strings and Buffers (sent as given), point objects, and iterables or async
 * iterables of those (mixed). The whole input is encoded before anything is sent, so one bad
 * point rejects the write with nothing on the wire.
 */
import { InvalidPointError } from '../errors.js';
import { BodyBuilder, LineTooLargeError, type EncodedBody } from './body-builder.js';
import { PointEncoder, type Point, type PointEncoderOptions } from './point-encoder.js';

/** One item of a write: a point, or line protocol as text or bytes. */
export type WriteItem = Point | string | Uint8Array;
export type WriteData = WriteItem | Iterable<WriteItem> | AsyncIterable<WriteItem>;

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

class InputEncoder {
  readonly builder: BodyBuilder;
  readonly #points: PointEncoder;
  #index = 0;
  constructor(options: PointEncoderOptions, maxBodyBytes: number) {
    this.builder = new BodyBuilder(maxBodyBytes);
    this.#points = new PointEncoder(options);
  }

  add(item: unknown): void {
    const index = this.#index++;
    try {
      if (typeof item === 'string') this.builder.addRaw(Buffer.from(item));
      else if (item instanceof Uint8Array) this.builder.addRaw(Buffer.isBuffer(item) ? item : Buffer.from(item.buffer, item.byteOffset, item.byteLength));
      else if (isIterable(item) || isAsyncIterable(item)) {
        throw new InvalidPointError(index, 'point', undefined, 'nested iterables are not accepted: flatten the input');
      } else this.builder.addLine(this.#points.encode(item as Point, index));
    } catch (e) {
      if (e instanceof LineTooLargeError) throw new InvalidPointError(index, 'point', undefined, e.message);
      throw e;
    }
  }
}

export function isAsyncInput(data: unknown): boolean {
  return isAsyncIterable(data);
}

/** Encodes a synchronous input (anything but an async iterable). */
export function encodeSync(data: unknown, options: PointEncoderOptions, maxBodyBytes: number): EncodedBody[] {
  const enc = new InputEncoder(options, maxBodyBytes);
  if (isIterable(data)) for (const item of data) enc.add(item);
  else enc.add(data);
  return enc.builder.finish();
}

/** Encodes any input, awaiting async iterables. */
export async function encodeAny(data: unknown, options: PointEncoderOptions, maxBodyBytes: number): Promise<EncodedBody[]> {
  if (!isAsyncIterable(data)) return encodeSync(data, options, maxBodyBytes);
  const enc = new InputEncoder(options, maxBodyBytes);
  for await (const item of data) enc.add(item);
  return enc.builder.finish();
}
