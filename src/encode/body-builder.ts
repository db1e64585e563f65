/**
 * Packs lines into request bodies of at most `maxBodyBytes` bytes each, cut only at line ends.
 * Lines are written straight into a growing Buffer (no array of strings, no final join).
 */

export interface EncodedBody {
  body: Buffer;
  /** Number of lines (points) in the body. */
  lines: number;
}

export class LineTooLargeError extends Error {
  constructor(readonly bytes: number, readonly limit: number) {
    super(`a line of ${bytes} bytes does not fit a request body of at most ${limit} bytes`);
  }
}

/**
 * Index of the `\n` that ends the line starting at `i` (or `buf.length`), as influxd reads it:
 * backslash escapes skip a byte, and after the first space, a `"` that follows a `=` toggles a
 * quoted string in which newlines do not end the line.
 */
export function lineEnd(buf: Uint8Array, i: number): number {
  let quoted = false;
  let fields = false;
  let equals = 0;
  const n = buf.length;
  while (i < n) {
    const c = buf[i]!;
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === 32) fields = true;
    if (fields) {
      if (!quoted && c === 61 /* = */) {
        i++;
        equals++;
        continue;
      } else if (c === 34 /* " */ && equals > 0) {
        quoted = !quoted;
      }
    }
    if (c === 10 && !quoted) return i;
    i++;
  }
  return n;
}

export class BodyBuilder {
  readonly #limit: number;
  readonly #bodies: EncodedBody[] = [];
  #buf: Buffer;
  #len = 0;
  #lines = 0;

  constructor(maxBodyBytes: number, initialBytes = 64 * 1024) {
    this.#limit = maxBodyBytes;
    this.#buf = Buffer.allocUnsafe(Math.min(initialBytes, maxBodyBytes));
  }

  /** Adds one line (without its newline). Throws LineTooLargeError when it cannot fit any body. */
  addLine(line: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: only measure exactly when that bound is tight.
    const max = line.length * 3 + 1;
    let bytes = -1;
    if (this.#len + max > this.#limit) {
      bytes = Buffer.byteLength(line) + 1;
      if (bytes > this.#limit) throw new LineTooLargeError(bytes, this.#limit);
      if (this.#len + bytes > this.#limit) this.#cut();
    }
    this.#reserve(bytes > 0 ? bytes : max);
    this.#len += this.#buf.write(line, this.#len);
    this.#buf[this.#len++] = 10;
    this.#lines++;
  }

  /**
   * Adds raw line protocol (one or more lines, as given by the caller), cutting only where influxd
   * itself ends a line: at a `\n` outside a quoted string field (a port of `scanLine` in
   * influxdb's models/points.go). A `\r` before a line end is dropped (influxd would refuse the
   * line), and blank lines add nothing (influxd answers an empty body oddly).
   */
  addRaw(data: Buffer): void {
    const n = data.length;
    let start = 0;
    while (start < n) {
      const end = lineEnd(data, start);
      let stop = end;
      if (stop > start && data[stop - 1] === 13) stop--;
      // Skip blank and whitespace-only lines.
      let blank = true;
      for (let i = start; i < stop; i++) {
        const c = data[i]!;
        if (c !== 32 && c !== 9 && c !== 13) {
          blank = false;
          break;
        }
      }
      if (!blank) {
        const bytes = stop - start + 1;
        if (bytes > this.#limit) throw new LineTooLargeError(bytes, this.#limit);
        if (this.#len + bytes > this.#limit) this.#cut();
        this.#reserve(bytes);
        data.copy(this.#buf, this.#len, start, stop);
        this.#len += stop - start;
        this.#buf[this.#len++] = 10;
        this.#lines++;
      }
      start = end + 1;
    }
  }

  #reserve(bytes: number): void {
    const need = this.#len + bytes;
    if (need <= this.#buf.length) return;
    // Double, capped at the body limit: small writes stay small, big ones copy O(log n) times.
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(Math.min(Math.max(size, need), this.#limit));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  #cut(): void {
    if (this.#lines === 0) return;
    this.#bodies.push({ body: this.#buf.subarray(0, this.#len), lines: this.#lines });
    this.#buf = Buffer.allocUnsafe(this.#buf.length);
    this.#len = 0;
    this.#lines = 0;
  }

  /** Number of lines added so far. */
  get lineCount(): number {
    let n = this.#lines;
    for (const b of this.#bodies) n += b.lines;
    return n;
  }

  /** The bodies, in input order. The builder must not be used afterwards. */
  finish(): EncodedBody[] {
    this.#cut();
    return this.#bodies;
  }
}
