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

const kNoBodies: EncodedBody[] = [];

export class BodyBuilder {
  #limit: number;
  readonly #maxLines: number;
  #bodies: EncodedBody[] = [];
  #buf: Buffer;
  #len = 0;
  #lines = 0;

  /**
   * `maxLines` also cuts a body after that many lines (the batch writer's `batchSize`);
   * `encode()` and `client.write()` cut by bytes only.
   */
  constructor(maxBodyBytes: number, initialBytes = 64 * 1024, maxLines = Infinity) {
    this.#limit = maxBodyBytes;
    this.#maxLines = maxLines;
    this.#buf = Buffer.allocUnsafe(Math.min(initialBytes, maxBodyBytes));
  }

  /** The byte limit of the bodies to come (the writer lowers it after a 413). */
  get limit(): number {
    return this.#limit;
  }
  set limit(bytes: number) {
    this.#limit = bytes;
    if (this.#len > bytes) this.#cut();
  }

  /** Adds one line (without its newline). Throws LineTooLargeError when it cannot fit any body. */
  addLine(line: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: only measure exactly when that bound is tight.
    const max = line.length * 3 + 1;
    let bytes = -1;
    if (this.#lines >= this.#maxLines) this.#cut();
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
        if (this.#len + bytes > this.#limit || this.#lines >= this.#maxLines) this.#cut();
        this.#reserve(bytes);
        data.copy(this.#buf, this.#len, start, stop);
        this.#len += stop - start;
        this.#buf[this.#len++] = 10;
        this.#lines++;
      }
      start = end + 1;
    }
  }

  /**
   * Adds lines already encoded (each ending in `\n`, as the encoders produce them). A body at
   * least half full on its own, arriving while nothing is pending, becomes a body as it is (no
   * copy); smaller ones are packed with their neighbours. Bodies over either limit are cut at
   * line ends.
   */
  addBody(body: Buffer, lines: number, owned = true): void {
    if (lines === 0) return;
    if (lines > this.#maxLines || body.length > this.#limit) {
      this.addRaw(body);
      return;
    }
    if (this.#lines + lines > this.#maxLines || this.#len + body.length > this.#limit) this.#cut();
    // Only a body the caller gives away may be kept as it is; others are copied.
    if (owned && this.#lines === 0 && (2 * lines >= this.#maxLines || 2 * body.length >= this.#limit)) {
      this.#bodies.push({ body, lines });
      return;
    }
    this.#reserve(body.length);
    body.copy(this.#buf, this.#len);
    this.#len += body.length;
    this.#lines += lines;
  }

  /** Lines and bytes of the body being filled (not yet cut). */
  get openLines(): number {
    return this.#lines;
  }
  get openBytes(): number {
    return this.#len;
  }

  /** Ends the body being filled, so that `drain()` returns it. */
  cut(): void {
    this.#cut();
  }

  /**
   * Moves everything added into `target` (as `addBody` would take it) and empties this builder,
   * which keeps its buffer for the next input.
   */
  moveTo(target: BodyBuilder): void {
    for (const b of this.#bodies) target.addBody(b.body, b.lines, true);
    if (this.#lines > 0) target.addBody(this.#buf.subarray(0, this.#len), this.#lines, false);
    this.reset();
  }

  /** Drops everything added; the buffer is kept. */
  reset(): void {
    if (this.#bodies.length > 0) this.#bodies = [];
    this.#len = 0;
    this.#lines = 0;
  }

  /** Takes the bodies completed so far, leaving the builder usable. */
  drain(): EncodedBody[] {
    if (this.#bodies.length === 0) return kNoBodies;
    const out = this.#bodies;
    this.#bodies = [];
    return out;
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
    this.#buf = Buffer.allocUnsafe(Math.min(this.#buf.length, this.#limit));
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
