/**
 * CSV text (RFC 4180: quoted fields, `""` escapes, newlines inside quotes, CRLF; `.tsv` is
 * tab-separated): the streaming record parser (`CsvParser`) and the way back (`csvQuote`,
 * `csvJoin`, for the dead letter and `fastinflux query`'s CSV output). What the records mean
 * (header, types, Arrow batches) is csv.ts.
 */
import { CliError } from '../errors.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** A record the parser cannot finish; `line` is where it starts. */
export class CsvSyntaxError extends CliError {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

/** Streaming RFC 4180 record parser. */
export class CsvParser {
  #pending = '';
  #line = 1;
  readonly #delim: number;
  readonly #maxRecord: number;
  /**
   * The pending record stopped in a quoted value: where that value's opening quote is, and how
   * far the search for its closing quote got (offsets in `#pending`), so that the next chunk
   * goes on from there instead of scanning the value again.
   */
  #resumeQuote = -1;
  #resumeAt = 0;

  /** `maxRecord`: a record still unfinished at this many characters stops the parsing (an error). */
  constructor(delimiter: string, maxRecord = Infinity) {
    this.#delim = delimiter.charCodeAt(0);
    this.#maxRecord = maxRecord;
  }

  /** Parses the complete records of what was pending plus `text`; `final` at the end of input. */
  push(text: string, final: boolean, out: string[][], lines: number[]): void {
    const s = this.#pending.length > 0 ? this.#pending + text : text;
    const n = s.length;
    const d = this.#delim;
    let pos = 0;
    let line = this.#line;
    const resumeQuote = this.#resumeQuote;
    this.#resumeQuote = -1;
    while (pos < n) {
      const recStart = pos;
      const recLine = line;
      const fields: string[] = [];
      let quotedAny = false;
      for (;;) {
        let c = s.charCodeAt(pos);
        // The quoted part of a value (none when it does not start with a quote)...
        let v = '';
        if (c === QUOTE) {
          quotedAny = true;
          let j = pos + 1;
          let escaped = false;
          if (pos === resumeQuote && recStart === 0 && this.#resumeAt > j) {
            // Scanned in an earlier chunk up to #resumeAt (doubled quotes included).
            j = this.#resumeAt;
            escaped = true;
          }
          let q: number;
          for (;;) {
            q = s.indexOf('"', j);
            if (q < 0 || (q === n - 1 && !final)) {
              // The closing quote is not here yet (or a doubled quote may follow it).
              if (!final) {
                this.#keep(s, recStart, recLine);
                this.#resumeQuote = pos - recStart;
                this.#resumeAt = (q < 0 ? n : q) - recStart;
                return;
              }
              if (q < 0) throw new CsvSyntaxError(recLine, 'a quoted value is not closed before the end of the input');
            }
            if (s.charCodeAt(q + 1) === QUOTE) {
              escaped = true;
              j = q + 2;
              continue;
            }
            break;
          }
          v = s.slice(pos + 1, q);
          for (let k = v.indexOf('\n'); k >= 0; k = v.indexOf('\n', k + 1)) line++;
          if (escaped) v = v.replaceAll('""', '"');
          pos = q + 1;
        }
        // ...then the text up to the separator or the line's end (lenient: after a closing
        // quote, those characters belong to the value too).
        let e = pos;
        while (e < n) {
          c = s.charCodeAt(e);
          if (c === d || c === LF || c === CR) break;
          e++;
        }
        if (e >= n && !final) {
          this.#keep(s, recStart, recLine);
          return;
        }
        fields.push(e > pos ? v + s.slice(pos, e) : v);
        pos = e;
        if (pos >= n) break;
        c = s.charCodeAt(pos);
        if (c === d) {
          pos++;
          if (pos >= n && !final) {
            this.#keep(s, recStart, recLine);
            return;
          }
          continue;
        }
        // End of the record: LF, CR or CRLF.
        pos++;
        if (c === CR) {
          if (pos >= n && !final) {
            this.#keep(s, recStart, recLine);
            return;
          }
          if (s.charCodeAt(pos) === LF) pos++;
        }
        line++;
        break;
      }
      if (fields.length === 1 && fields[0] === '' && !quotedAny) continue; // a blank line
      out.push(fields);
      lines.push(recLine);
    }
    this.#pending = '';
    this.#line = line;
  }

  #keep(s: string, from: number, line: number): void {
    if (s.length - from >= this.#maxRecord) {
      throw new CsvSyntaxError(line, `a record longer than ${this.#maxRecord} bytes (the longest line a request can carry) does not end: is a quote not closed?`);
    }
    this.#pending = s.slice(from);
    this.#line = line;
  }
}

/** A CSV value: quoted when it holds the delimiter, a quote or a line break (RFC 4180). */
export function csvQuote(v: string, delimiter = ','): string {
  return v.includes(delimiter) || /["\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** A row as one CSV record. */
export function csvJoin(row: readonly string[], delimiter: string): string {
  return row.map((v) => csvQuote(v, delimiter)).join(delimiter);
}
