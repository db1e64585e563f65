/**
 * Everything `write()` accepts, turned into request bodies:
 * line-protocol strings and Buffers, point objects, Arrow tables and record batches, and
 * iterables or async iterables of those. The whole input is encoded before anything is sent, so
 * one bad point rejects the write with nothing on the wire. Line protocol is sent as given, once
 * every line has passed influxd's own parser (line-protocol/parse.ts): a line influxd would
 * refuse is a bad point too, named by its line number and influxd's reason.
 */
import { InvalidPointError } from '../errors.js';
import { isAsyncIterable, isIterable as isAnyIterable } from '../guards.js';
import {
  encodeArrow, encodeArrowSync, isArrowInput, isArrowRecordBatch, isArrowTable,
  type ArrowEncodeOptions, type ArrowInput, type ArrowRecordBatch, type ArrowTable,
} from './arrow/index.js';
import { BodyBuilder, LineTooLargeError, UnparsableLineError, type EncodedBody } from './body-builder.js';
import { checkedLines, lineExcerpt, precisionSpec, type PrecisionSpec } from './line-protocol/parse.js';
import { lineEndAt, lineNumberAt } from './line-protocol/scan.js';
import { PointEncoder, type Point } from './point-encoder.js';

/** One item of a write: a point, or line protocol as text or bytes. */
export type WriteItem = Point | string | Uint8Array;
/** Everything `write()` takes. */
export type WriteData =
  | WriteItem | Iterable<WriteItem> | AsyncIterable<WriteItem>
  | ArrowTable | ArrowRecordBatch | Iterable<ArrowRecordBatch | ArrowTable> | AsyncIterable<ArrowRecordBatch | ArrowTable>;

export interface EncodedInput {
  bodies: EncodedBody[];
  /** Lines in the bodies. */
  lines: number;
  /** Points or rows left out by `invalidRows: 'skip'` (indices in the input). */
  skippedRows: number[];
  /**
   * The lane of each line, in body order, when the encoder knew them (columnar/lanes.ts): the
   * batch writer then routes lines without reading their keys. Valid until the next encode.
   */
  lanes?: Uint16Array;
}

export { isAsyncIterable };

/** An iterable of write items: guards.ts's `isIterable`, but bytes (a Uint8Array: line protocol) are one item. */
export function isIterable(x: unknown): x is Iterable<unknown> {
  return isAnyIterable(x) && !(x instanceof Uint8Array);
}

const isArrowItem = (x: unknown): boolean => isArrowRecordBatch(x) || isArrowTable(x);

/** Encodes points and line protocol into a BodyBuilder, item by item (the batch writer keeps one). */
export class InputEncoder {
  readonly builder: BodyBuilder;
  skipped: number[] = [];
  readonly #points: PointEncoder;
  readonly #precision: PrecisionSpec;
  #index = 0;
  constructor(options: ArrowEncodeOptions, maxBodyBytes: number) {
    this.builder = new BodyBuilder(maxBodyBytes);
    this.#points = new PointEncoder(options);
    this.#precision = precisionSpec(options.precision);
  }

  /** Forgets what was added (the builder keeps its buffer), so that the next input starts at index 0. */
  reset(): void {
    this.builder.reset();
    this.#index = 0;
    if (this.skipped.length > 0) this.skipped = [];
  }

  add(item: unknown): void {
    const index = this.#index++;
    try {
      if (typeof item === 'string') this.#addText(item, index);
      else if (item instanceof Uint8Array) this.#addRaw(Buffer.isBuffer(item) ? item : Buffer.from(item.buffer, item.byteOffset, item.byteLength), index);
      else if (isArrowItem(item)) {
        throw new InvalidPointError(index, 'point', undefined, 'Arrow data mixed with points: write tables and record batches on their own');
      } else if (isIterable(item) || isAsyncIterable(item)) {
        throw new InvalidPointError(index, 'point', undefined, 'nested iterables are not accepted: flatten the input');
      } else {
        const line = this.#points.encode(item as Point, index);
        if (line === undefined) this.skipped.push(index);
        else this.builder.addLine(line);
      }
    } catch (e) {
      if (e instanceof LineTooLargeError) throw new InvalidPointError(index, 'point', undefined, e.message);
      throw e;
    }
  }

  /** A string of line protocol: a lone surrogate would reach the wire as U+FFFD, silently. */
  #addText(text: string, index: number): void {
    if (!text.isWellFormed()) {
      let at = 0;
      for (; at < text.length; at++) {
        const c = text.charCodeAt(at);
        if (c >= 0xd800 && c <= 0xdbff) {
          const d = text.charCodeAt(at + 1);
          if (!(d >= 0xdc00 && d <= 0xdfff)) break;
          at++;
        } else if (c >= 0xdc00 && c <= 0xdfff) break;
      }
      const line = 1 + (text.slice(0, at).match(/\n/g)?.length ?? 0);
      throw new InvalidPointError(index, 'line', undefined, `a lone UTF-16 surrogate at character ${at} (it would be sent as U+FFFD)`, line);
    }
    this.#addRaw(Buffer.from(text), index);
  }

  /** Raw line protocol: every line parsed as influxd parses it before any is taken. */
  #addRaw(data: Buffer, index: number): void {
    try {
      const known = checkedLines(data, this.#precision);
      this.builder.addRaw(data, known === undefined ? this.#precision : undefined, known);
    } catch (e) {
      if ((e instanceof UnparsableLineError || e instanceof LineTooLargeError) && e.at >= 0) {
        const reason = e instanceof UnparsableLineError ? e.reason : e.message;
        throw new InvalidPointError(index, 'line', undefined, reason, lineNumberAt(data, e.at), lineExcerpt(data, e.at, lineEndAt(data, e.at)));
      }
      throw e;
    }
  }

  finish(): EncodedInput {
    const lines = this.builder.lineCount;
    return { bodies: this.builder.finish(), lines, skippedRows: this.skipped };
  }
}

function* prepend<T>(first: T, rest: Iterator<T>): Generator<T> {
  yield first;
  for (let r = rest.next(); !r.done; r = rest.next()) yield r.value;
}

async function* prependAsync<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** Encodes a synchronous input (anything but an async iterable). */
export function encodeSync(data: unknown, options: ArrowEncodeOptions, maxBodyBytes: number): EncodedInput {
  if (isArrowInput(data) && !isAsyncIterable(data)) return encodeArrowSync(data as ArrowTable, options, maxBodyBytes);
  if (isIterable(data)) {
    // An iterable of record batches goes to the Arrow encoder: look at its first item to know.
    const it = data[Symbol.iterator]();
    const first = it.next();
    if (first.done) return { bodies: [], lines: 0, skippedRows: [] };
    const all = prepend(first.value, it);
    if (isArrowItem(first.value)) return encodeArrowSync(all as Iterable<ArrowRecordBatch>, options, maxBodyBytes);
    const enc = new InputEncoder(options, maxBodyBytes);
    for (const item of all) enc.add(item);
    return enc.finish();
  }
  const enc = new InputEncoder(options, maxBodyBytes);
  enc.add(data);
  return enc.finish();
}

/** Encodes any input, awaiting async iterables. */
export async function encodeAny(data: unknown, options: ArrowEncodeOptions, maxBodyBytes: number): Promise<EncodedInput> {
  if (!isAsyncIterable(data)) return encodeSync(data, options, maxBodyBytes);
  if (isArrowInput(data)) return encodeArrow(data as ArrowInput, options, maxBodyBytes);
  const it = data[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return { bodies: [], lines: 0, skippedRows: [] };
  const all = prependAsync(first.value, it);
  if (isArrowItem(first.value)) return encodeArrow(all as AsyncIterable<ArrowRecordBatch>, options, maxBodyBytes);
  const enc = new InputEncoder(options, maxBodyBytes);
  for await (const item of all) enc.add(item);
  return enc.finish();
}
