/**
 * Type guards on user input (what `write()` and the encoders are given), shared by the encoders,
 * the encoder pool and the blocking mode.
 * @module
 */

/** A non-null object (an array too; not a function). */
export function isObject(x: unknown): x is Record<PropertyKey, unknown> {
  return typeof x === 'object' && x !== null;
}

/** An object with `Symbol.iterator` (strings are not objects, so never; a Uint8Array is). */
export function isIterable(x: unknown): x is Iterable<unknown> {
  return isObject(x) && typeof x[Symbol.iterator] === 'function';
}

/** An object with `Symbol.asyncIterator`. */
export function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return isObject(x) && typeof x[Symbol.asyncIterator] === 'function';
}
