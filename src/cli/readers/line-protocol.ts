/**
 * Line-protocol input: sent as it is, in chunks of whole lines, never decoded. Comment lines
 * (`#`) and blank lines are left out; a line longer than a request can carry is rejected here.
 * The server checks the rest: the lines it refuses come back through the writer's onRejected.
 */
import { openByteSource } from './source.js';
import type { InputReader, ReaderChunk, ReaderOptions } from './index.js';

export function openLineProtocolReader(o: ReaderOptions): InputReader {
  const source = openByteSource(o.path, o.gzip);
  return {
    format: 'line protocol',
    totalBytes: source.totalBytes,
    bytesRead: () => source.bytesRead(),
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let rest: Buffer | undefined;
      let lineNo = 0;
      // Ranges [start, end) of the lines kept for the chunk being built, in `buf`.
      let parts: Buffer[] = [];
      let lines = 0;
      const take = (): ReaderChunk => {
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        const chunk: ReaderChunk = { kind: 'lines', data, lines };
        parts = [];
        lines = 0;
        return chunk;
      };
      const out: ReaderChunk[] = [];
      const scan = (buf: Buffer, final: boolean): number => {
        // Returns where the unfinished last line starts.
        let start = 0;
        let runStart = 0; // start of the run of kept lines not yet pushed to parts
        const n = buf.length;
        while (start < n) {
          let nl = buf.indexOf(10, start);
          if (nl < 0) {
            if (!final) break;
            nl = n;
          }
          lineNo++;
          let s = start;
          while (s < nl && (buf[s] === 32 || buf[s] === 9)) s++;
          const blank = s >= nl || (s === nl - 1 && buf[s] === 13);
          const comment = !blank && buf[s] === 35;
          const tooLong = !blank && !comment && nl - start + 1 > o.maxLineBytes;
          if (blank || comment || tooLong) {
            if (start > runStart) parts.push(buf.subarray(runStart, start));
            if (tooLong) o.reject(`${o.label}:${lineNo}`, `the line is ${nl - start + 1} bytes, more than a request can carry (${o.maxLineBytes})`, buf.toString('utf8', start, Math.min(nl, start + 200)));
            runStart = Math.min(n, nl + 1);
          } else {
            lines++;
          }
          start = nl + 1;
          if (lines >= o.chunkRows) {
            const end = Math.min(n, start);
            if (end > runStart) parts.push(buf.subarray(runStart, end));
            // A final line without a newline gets one: every chunk ends with a complete line.
            if (end === n && buf[n - 1] !== 10) parts.push(Buffer.from('\n'));
            runStart = end;
            out.push(take());
          }
        }
        const end = Math.min(start, n);
        if (end > runStart) parts.push(buf.subarray(runStart, end));
        if (final && end === n && n > 0 && buf[n - 1] !== 10 && lines > 0) parts.push(Buffer.from('\n'));
        return start;
      };
      for await (const c of source.chunks) {
        const buf = rest && rest.length > 0 ? Buffer.concat([rest, c]) : c;
        const at = scan(buf, false);
        // Copy the unfinished line: the chunk's buffer may be reused by the stream.
        rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
        for (const ch of out.splice(0)) yield ch;
        // A pipe may be a live feed: what has arrived goes out now, not when a chunk is full.
        if (o.path === '-' && lines > 0) yield take();
      }
      if (rest && rest.length > 0) scan(rest, true);
      for (const ch of out.splice(0)) yield ch;
      if (lines > 0) yield take();
    },
    async close() {
      source.close();
    },
  };
}
