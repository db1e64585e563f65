/**
 * Line-protocol input: sent as it is, in chunks of whole lines, never decoded. Lines end where
 * influxd ends them (encode/line-protocol/scan.ts, a port of its `scanLine`): a `\n` inside a
 * quoted string field or after a backslash does not end a line. Comment lines (`#`) and blank
 * lines are left out. Every other line is parsed as influxd parses it (line-protocol/parse.ts):
 * a line influxd would refuse, or one longer than a request can carry, is rejected here with
 * its line number and reason (the dead letter) and never sent; one that does not end within that
 * length (an unclosed quote, no newline) stops the load. The server's own refusals (type
 * conflicts, `time` keys, retention) come back through the writer's onRejected.
 */
import { checkLine, lineExcerpt, markChecked, precisionSpec } from '../../encode/line-protocol/parse.js';
import { LineEnds, NL, lineTextStart, trimCR } from '../../encode/line-protocol/scan.js';
import { CliError } from '../errors.js';
import { openByteSource } from './source.js';
import type { InputReader, ReaderChunk, ReaderOptions } from './reader.js';

export function openLineProtocolReader(o: ReaderOptions): InputReader {
  const start = o.startByte ?? 0;
  const source = openByteSource(o.path, o.gzip, undefined, start);
  // Byte offset (of the decompressed input) after the lines given out so far.
  let position = start;
  return {
    format: 'line protocol',
    unit: 'byte',
    totalBytes: source.totalBytes,
    bytesRead: () => source.bytesRead(),
    position: () => position,
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let rest: Buffer | undefined;
      // Byte offset of the input where `rest` (and so the next buffer scanned) starts.
      let restAt = start;
      // Physical line (1-based) where the next line to scan starts.
      let lineNo = o.startLine ?? 1;
      // Ranges [start, end) of the lines kept for the chunk being built, in `buf`.
      let parts: Buffer[] = [];
      let lines = 0;
      let crlf = false;
      /** The chunk of the lines kept so far; `end`: the input's offset after its last line. */
      const take = (end: number): ReaderChunk => {
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        // Every line was parsed here: the writer does not parse them again, and takes the chunk
        // whole unless a line ends in \r\n (the writer drops the \r).
        markChecked(data, spec, crlf ? -1 : lines);
        position = end;
        const chunk: ReaderChunk = { kind: 'lines', data, lines, end, endLine: lineNo };
        parts = [];
        lines = 0;
        crlf = false;
        return chunk;
      };
      const out: ReaderChunk[] = [];
      const spec = precisionSpec(o.precision);
      /** `base`: the input's offset of buf[0]. */
      const scan = (buf: Buffer, final: boolean, base: number): number => {
        // Returns where the unfinished last line starts.
        let start = 0;
        let runStart = 0; // start of the run of kept lines not yet pushed to parts
        const n = buf.length;
        const ends = new LineEnds(buf);
        while (start < n) {
          let nl = ends.at(start);
          if (nl >= n) {
            if (!final) break;
            nl = n;
          }
          // Newlines inside the line (in strings), for the line numbers of what follows.
          let inner = 0;
          if (ends.firstNewline < nl) for (let i = ends.firstNewline; i >= 0 && i < nl; i = buf.indexOf(NL, i + 1)) inner++;
          const at = lineNo;
          lineNo += 1 + inner;
          // The line as the writer sends it: a `\r` before the newline is dropped (CRLF files).
          const stop = trimCR(buf, start, nl);
          const text = lineTextStart(buf, start, stop);
          let bad: string | undefined;
          if (text >= 0) {
            bad = stop - start + 1 > o.maxLineBytes
              ? `the line is ${stop - start + 1} bytes, more than a request can carry (${o.maxLineBytes})`
              : checkLine(buf, text, stop, spec);
          }
          if (text < 0 || bad !== undefined) {
            if (start > runStart) parts.push(buf.subarray(runStart, start));
            // The dead letter keeps the line as text (invalid UTF-8 shows as U+FFFD), a long one cut.
            if (bad !== undefined) o.reject(`${o.label}:${at}`, bad, stop - start > 64 * 1024 ? lineExcerpt(buf, start, stop, 200) : buf.toString('utf8', start, stop));
            runStart = Math.min(n, nl + 1);
          } else {
            if (stop !== nl) crlf = true;
            lines++;
          }
          start = nl + 1;
          if (lines >= o.chunkRows) {
            const end = Math.min(n, start);
            if (end > runStart) parts.push(buf.subarray(runStart, end));
            // A final line without a newline gets one: every chunk ends with a complete line.
            if (end === n && buf[n - 1] !== NL) parts.push(Buffer.from('\n'));
            runStart = end;
            out.push(take(base + end));
          }
        }
        const end = Math.min(start, n);
        if (end > runStart) parts.push(buf.subarray(runStart, end));
        if (final && end === n && n > 0 && buf[n - 1] !== NL && lines > 0) parts.push(Buffer.from('\n'));
        return start;
      };
      for await (const c of source.chunks) {
        const buf = rest && rest.length > 0 ? Buffer.concat([rest, c]) : c;
        const base = restAt;
        const at = scan(buf, false, base);
        restAt = base + at;
        for (const ch of out.splice(0)) yield ch;
        // An unfinished line as long as a request can carry can never be sent, and an unclosed
        // quote would take the rest of the input into it: the lines before it go out, then stop.
        if (buf.length - at >= o.maxLineBytes) {
          if (lines > 0) yield take(restAt);
          throw new CliError(`${o.label}:${lineNo}: a line longer than ${o.maxLineBytes} bytes (the longest a request can carry) does not end within that length: too long to send, or a quote not closed`);
        }
        // Copy the unfinished line: the chunk's buffer may be reused by the stream.
        rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
        // A pipe may be a live feed: what has arrived goes out now, not when a chunk is full.
        if (o.path === '-' && lines > 0) yield take(restAt);
      }
      const end = restAt + (rest?.length ?? 0);
      if (rest && rest.length > 0) scan(rest, true, restAt);
      for (const ch of out.splice(0)) yield ch;
      if (lines > 0) yield take(end);
      position = end;
    },
    async close() {
      source.close();
    },
  };
}
