/**
 * Packs lines into request bodies of at most `maxBodyBytes` bytes each, cut only at line ends.
 * Lines are written straight into a growing Buffer (no array of strings, no final join). Raw
 * line protocol is cut where influxd cuts it and, when asked, checked line by line by the
 * line-protocol parser before it is taken (line-protocol/).
 */
import { checkLine, type PrecisionSpec } from './line-protocol/parse.js';
import { LineEnds, lineTextStart, trimCR } from './line-protocol/scan.js';

export interface EncodedBody {
  body: Buffer;
  /** Number of lines (points) in the body. */
  lines: number;
}

export class LineTooLargeError extends Error {
  /** `at`: where the line starts in the raw input given to `addRaw` (-1 for encoded lines). */
  constructor(readonly bytes: number, readonly limit: number, readonly at = -1) {
    super(`a line of ${bytes} bytes does not fit a request body of at most ${limit} bytes`);
  }
}

/** A line of raw input that influxd cannot parse: where it starts in the input, and influxd's reason. */
export class UnparsableLineError extends Error {
  constructor(readonly at: number, readonly reason: string) {
    super(reason);
  }
}

const kNoBodies: EncodedBody[] = [];

export class BodyBuilder {
  #limit: number;
  readonly #maxLines: number;
  #bodies: EncodedBody[] = [];
  #buf: Buffer;
  #len = 0;
  #lines = 0;
  /** addRaw's table of line ranges, reused. */
  #cuts = new Int32Array(1024);

  /**
   * `maxLines` also cuts a body after that many lines (the batch writer's `batchSize`);
   * `encode()` and `client.write()` cut by bytes only.
   */
  readonly #alloc: (bytes: number) => Buffer;

  /**
   * `alloc` gives the buffers bodies are built in (the batch writer's, which reuses acknowledged
   * bodies: a bulk load then allocates almost nothing, and the GC has no external memory to chase).
   */
  constructor(maxBodyBytes: number, initialBytes = 64 * 1024, maxLines = Infinity, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe) {
    this.#limit = maxBodyBytes;
    this.#maxLines = maxLines;
    this.#alloc = alloc;
    this.#buf = alloc(Math.min(initialBytes, maxBodyBytes));
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
   * itself ends a line (line-protocol/scan.ts). A `\r` before a line end is dropped (influxd
   * would refuse the line), and lines influxd skips (blank, whitespace, `#` comments) add nothing.
   * With `check`, every line is first parsed as influxd parses it: the first line influxd would
   * refuse throws UnparsableLineError and nothing of `data` is added. `wholeLines` >= 0: `data` is
   * that many lines, each ending in `\n`, none to skip or trim (see markChecked).
   */
  addRaw(data: Buffer, check?: PrecisionSpec, wholeLines = -1): void {
    const n = data.length;
    // Lines already cut and checked (markChecked): taken whole when they fit the open body.
    if (wholeLines >= 0 && this.#len + n <= this.#limit && this.#lines + wholeLines <= this.#maxLines) {
      this.#copyRun(data, 0, n);
      this.#lines += wholeLines;
      return;
    }
    // Pass 1: the lines to take, [start, stop) pairs, each checked (when asked) before any is taken.
    let cuts = this.#cuts;
    let k = 0;
    const ends = new LineEnds(data);
    for (let start = 0; start < n;) {
      const end = ends.at(start);
      const stop = trimCR(data, start, end);
      const text = lineTextStart(data, start, stop);
      if (text >= 0) {
        if (stop - start + 1 > this.#limit) throw new LineTooLargeError(stop - start + 1, this.#limit, start);
        if (check) {
          const reason = checkLine(data, text, stop, check);
          if (reason !== undefined) throw new UnparsableLineError(start, reason);
        }
        if (k + 2 > cuts.length) {
          const grown = new Int32Array(Math.max(2 * cuts.length, 1024));
          grown.set(cuts);
          this.#cuts = cuts = grown;
        }
        cuts[k++] = start;
        cuts[k++] = stop;
      }
      start = end + 1;
    }
    // Pass 2: copied into bodies, adjacent lines (ending in their own `\n`) in one copy.
    let rs = 0;
    let re = 0;
    for (let j = 0; j < k; j += 2) {
      const start = cuts[j]!;
      const stop = cuts[j + 1]!;
      const bytes = stop - start + 1;
      if (this.#len + (re - rs) + bytes > this.#limit || this.#lines >= this.#maxLines) {
        this.#copyRun(data, rs, re);
        rs = re = 0;
        this.#cut();
      }
      if (stop < n && data[stop] === 10) {
        if (start !== re || re === rs) {
          this.#copyRun(data, rs, re);
          rs = start;
        }
        re = stop + 1;
      } else {
        this.#copyRun(data, rs, re);
        rs = re = 0;
        this.#reserve(bytes);
        data.copy(this.#buf, this.#len, start, stop);
        this.#len += stop - start;
        this.#buf[this.#len++] = 10;
      }
      this.#lines++;
    }
    this.#copyRun(data, rs, re);
    if (cuts.length > 1 << 16) this.#cuts = new Int32Array(1024); // a large input's table is not kept
  }

  #copyRun(data: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#reserve(to - from);
    data.copy(this.#buf, this.#len, from, to);
    this.#len += to - from;
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

  /**
   * `lines` whole lines of `data` [start, end), each ending in `\n`, already checked (an
   * encoder's): copied into the open body in one piece, or, when they do not all fit, as many as
   * fit (found with indexOf, only then), the body cut, and the rest after it: bodies fill to the
   * line. A line larger than a whole body is refused as addRaw refuses it.
   */
  addLines(data: Buffer, start: number, end: number, lines: number): void {
    while (lines > 0) {
      const roomLines = this.#maxLines - this.#lines;
      const roomBytes = this.#limit - this.#len;
      if (lines <= roomLines && end - start <= roomBytes) {
        this.#copyRun(data, start, end);
        this.#lines += lines;
        return;
      }
      let k = 0;
      let p = start;
      while (k < lines && k < roomLines) {
        const q = k === lines - 1 ? end : data.indexOf(10, p) + 1;
        if (q <= p || q - start > roomBytes) break;
        p = q;
        k++;
      }
      if (k === 0) {
        if (this.#lines === 0) {
          this.addRaw(data.subarray(start, end)); // a line no body can hold: LineTooLargeError
          return;
        }
        this.#cut();
        continue;
      }
      this.#copyRun(data, start, p);
      this.#lines += k;
      this.#cut();
      start = p;
      lines -= k;
    }
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
    const next = this.#alloc(Math.min(Math.max(size, need), this.#limit));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  #cut(): void {
    if (this.#lines === 0) return;
    this.#bodies.push({ body: this.#buf.subarray(0, this.#len), lines: this.#lines });
    this.#buf = this.#alloc(Math.min(this.#buf.length, this.#limit));
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
