/**
 * Point objects to layouts and to request bodies on top of the point builder, for callers that
 * take all the points at once: the layouts as they close (`pointsToLayouts`, for the pool), and
 * the bodies of the TypeScript columnar encoder (`encodePointsColumnar`, the reference path that
 * the tests compare with the point encoder's).
 * @module
 */
import type { EncodedBody } from '../body-builder.js';
import type { Point } from '../point-encoder.js';
import { PointColumnBuilder, type PointBuilderOptions, type PointLayout } from './point-builder.js';
import { ColumnarBodyWriter, encodeLayout } from './ts-encoder.js';

/**
 * The layouts of a sequence of points (indices from 0), as they close. When a point is
 * invalid, the layouts before it are yielded first, then the error is thrown: encode what you
 * were given before you report it (without `maxBodyBytes`, one of them may hold a line too large
 * for a body, which is the first error then). The builder is made at the first point, so an
 * empty input does not check the options' extra tags (as `encodeSync`).
 */
export function* pointsToLayouts(points: Iterable<Point>, options: PointBuilderOptions): Generator<PointLayout, void, undefined> {
  let b: PointColumnBuilder | undefined;
  let index = 0;
  for (const point of points) {
    b ??= new PointColumnBuilder(options);
    try {
      b.add(point, index++);
    } catch (e) {
      yield* b.flush();
      throw e;
    }
    if (b.hasReady) yield* b.takeReady();
  }
  if (b !== undefined) yield* b.flush();
}

export interface PointLayoutsEncoded {
  bodies: EncodedBody[];
  lines: number;
  /** Indices of the points left out by `invalidRows: 'skip'`. */
  skippedRows: number[];
}

/**
 * Point objects to request bodies through layouts and the TypeScript columnar encoder, in this
 * thread: what `encodeSync` gives for the same points (bodies, lines, skipped rows, first error).
 * Points only: line-protocol strings, bytes and Arrow data are not taken here.
 */
export function encodePointsColumnar(points: Iterable<Point>, options: PointBuilderOptions, maxBodyBytes: number): PointLayoutsEncoded {
  const writer = new ColumnarBodyWriter(maxBodyBytes);
  const skippedRows: number[] = [];
  for (const layout of pointsToLayouts(points, { ...options, maxBodyBytes })) {
    encodeLayout(layout, writer, {
      rowBase: layout.rowBase,
      nonFinite: options.nonFinite,
      invalidRows: options.invalidRows,
      allowNewlinesInStrings: options.allowNewlinesInStrings,
      skippedRows,
    });
  }
  const lines = writer.lineCount;
  return { bodies: writer.finish(), lines, skippedRows };
}
