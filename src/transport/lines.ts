/**
 * A response body read as lines, without ever holding it whole: the framing of chunked `/query`
 * answers (one JSON document per line), bounded per line. The query path parses what it yields.
 */

const LF = 0x0a;
const CR = 0x0d;

/**
 * Yield each complete, non-empty line of a byte stream as bytes (without its `\n`, and without
 * a trailing `\r`). A final line without a trailing `\n` is yielded too. Bytes are kept as bytes
 * until a line is complete, and memory is bounded by the longest line plus one chunk: the body
 * is never concatenated as a whole. A UTF-8 BOM at the very start of the stream is skipped.
 * With `bound`, a line longer than `bound.maxLineBytes` throws `bound.tooLong()` as soon as it is.
 * A yielded line may be a view into a chunk of the source: use it before asking for the next.
 */
export async function* splitLineBytes(source: AsyncIterable<Uint8Array>, bound?: LineBound): AsyncGenerator<Uint8Array> {
  const maxLine = bound?.maxLineBytes ?? Infinity;
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  let firstLine = true;

  /** Join `pending` + `last`, stripping a trailing CR (and a BOM on the first line). */
  const takeLine = (last: Uint8Array | undefined): Uint8Array => {
    let bytes: Uint8Array;
    if (pending.length === 0) {
      bytes = last ?? EMPTY;
    } else if (pending.length === 1 && (last === undefined || last.length === 0)) {
      bytes = pending[0]!;
    } else {
      bytes = new Uint8Array(pendingLength + (last?.length ?? 0));
      let off = 0;
      for (const piece of pending) {
        bytes.set(piece, off);
        off += piece.length;
      }
      if (last !== undefined) bytes.set(last, off);
    }
    pending = [];
    pendingLength = 0;
    let begin = 0;
    if (firstLine) {
      firstLine = false;
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) begin = 3;
    }
    let end = bytes.length;
    if (end > begin && bytes[end - 1] === CR) end--;
    if (end <= begin) return EMPTY;
    return begin === 0 && end === bytes.length ? bytes : bytes.subarray(begin, end);
  };

  for await (const chunk of source) {
    const n = chunk.length;
    let start = 0;
    for (;;) {
      const nl = start < n ? chunk.indexOf(LF, start) : -1;
      if (nl < 0) {
        if (start < n) {
          pending.push(start === 0 ? chunk : chunk.slice(start));
          pendingLength += n - start;
          // A line without end must not take the process's memory (a trailing CR is allowed for).
          if (pendingLength > maxLine + 1) throw bound!.tooLong();
        }
        break;
      }
      if (pendingLength + (nl - start) > maxLine + 1) throw bound!.tooLong();
      const line = takeLine(chunk.subarray(start, nl));
      if (line.length > 0) yield line;
      start = nl + 1;
    }
  }
  if (pending.length > 0) {
    const line = takeLine(undefined);
    if (line.length > 0) yield line;
  }
}

/** Longest line taken (bytes, without its `\n`), and the error thrown for a longer one. */
export interface LineBound {
  maxLineBytes: number;
  tooLong: () => Error;
}

const EMPTY = new Uint8Array(0);
