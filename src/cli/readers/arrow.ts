/**
 * Arrow IPC input, file or stream format (told apart by the file's magic bytes). A file is
 * read through Arrow's random-access reader, one record batch at a time; standard input and
 * `.gz` files as a stream (an IPC *file* arriving that way is read whole by Arrow, since its
 * footer comes last: send the stream format through pipes).
 *
 * Damaged input gets one line naming the file and the damage (empty, not Arrow, truncated,
 * corrupt): the magic bytes and, for files on disk, the end of the file are checked before
 * Arrow's reader sees them, since its own errors on such input are internal ones
 * ("Cannot read properties of null (reading 'fieldsLength')").
 */
import * as A from 'apache-arrow';
import { CliError } from '../errors.js';
import { openByteSource, openCounting, type ByteSource, type CountingHandle } from './source.js';
import { batchChunks, type InputReader, type ReaderChunk, type ReaderOptions } from './reader.js';

const kFileMagic = Buffer.from('ARROW1');
/** A stream's end-of-stream marker: continuation, then a zero length. */
const kEos = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

type Kind = 'file' | 'stream' | 'legacy-stream';

/** What the first bytes say the input is; a CliError when they say it is not Arrow at all. */
function kindOf(head: Buffer, label: string, size: number | undefined): Kind {
  if (head.length === 0) throw new CliError(`${label} is empty: no Arrow IPC data`);
  if (head.subarray(0, 6).equals(kFileMagic)) return 'file';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xffffffff) return 'stream';
  // Streams written before Arrow 0.15 start with the schema's length, without the continuation.
  const len = head.length >= 4 ? head.readInt32LE(0) : -1;
  if (len > 0 && (size === undefined || 4 + len <= size)) return 'legacy-stream';
  if (kFileMagic.subarray(0, head.length).equals(head.subarray(0, 6))) throw new CliError(`${label} is truncated: it ends after ${head.length} bytes, inside the ARROW1 magic`);
  throw new CliError(`${label} is not Arrow IPC data: it starts with neither the file magic ARROW1 nor a stream message`);
}

/** Reads up to `n` bytes at `position` of a file on disk. */
async function readAt(h: CountingHandle, n: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  const { bytesRead } = await h.handle.read(buf, 0, n, position);
  return buf.subarray(0, bytesRead);
}

/** The first `n` bytes of a byte stream, and the stream again from its start. */
async function peek(chunks: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; chunks: AsyncIterable<Buffer> }> {
  const it = chunks[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let got = 0;
  let done = false;
  while (got < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(r.value);
    got += r.value.length;
  }
  const head = Buffer.concat(seen).subarray(0, n);
  return {
    head,
    chunks: (async function* () {
      yield* seen;
      if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })(),
  };
}

/** Arrow's errors as one line; "Expected to read N bytes … but only read M" means the data stops early. */
function detail(e: unknown): { text: string; short: boolean } {
  const text = (e instanceof Error ? e.message : String(e)).replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return { text, short: /Expected to read \d+ .*but only read \d+/.test(text) };
}

export async function openArrowReader(o: ReaderOptions): Promise<InputReader> {
  let file: CountingHandle | undefined;
  let source: ByteSource | undefined;
  let reader: A.AsyncRecordBatchFileReader | A.AsyncRecordBatchStreamReader | A.RecordBatchFileReader | A.RecordBatchStreamReader;
  let kind: Kind | undefined;
  // A stream file on disk that lacks its end-of-stream marker was cut: said once its rows are read.
  let missingEos = false;
  try {
    if (o.path !== '-' && !o.gzip) {
      file = await openCounting(o.path);
      const size = file.size;
      kind = kindOf(await readAt(file, 8, 0), o.label, size);
      if (kind === 'file') {
        if (size < 14) throw new CliError(`${o.label} is truncated: ${size} bytes, only the start of an Arrow IPC file; nothing was read`);
        // A file's footer and closing magic come last: without them no batch can be found.
        const tail = size >= 14 ? await readAt(file, 6, size - 6) : Buffer.alloc(0);
        if (!tail.equals(kFileMagic)) {
          throw new CliError(`${o.label} is truncated or corrupt: an Arrow IPC file ends with its footer and the ARROW1 magic, and this one (${size} bytes) does not; nothing was read`);
        }
      } else {
        const tail = await readAt(file, 8, Math.max(0, size - 8));
        missingEos = kind === 'stream' ? !tail.equals(kEos) : tail.length < 4 || tail.readInt32LE(tail.length - 4) !== 0;
      }
      reader = await A.RecordBatchReader.from(file.handle);
    } else {
      source = openByteSource(o.path, o.gzip);
      const peeked = await peek(source.chunks, 8);
      kind = kindOf(peeked.head, o.label, undefined);
      reader = await A.RecordBatchReader.from(peeked.chunks);
    }
    await reader.open();
  } catch (e) {
    await file?.close();
    source?.close();
    if (e instanceof CliError) throw e;
    const d = detail(e);
    const what = kind === 'file' ? "the Arrow IPC file's footer or schema cannot be read" : "the Arrow IPC stream's schema cannot be read";
    throw new CliError(`${o.label} is ${d.short ? 'truncated' : 'corrupt'}: ${what}; nothing was read (${d.text})`);
  }
  const r = reader;
  const format = r.isFile() ? 'Arrow IPC file' : 'Arrow IPC stream';
  const startRow = o.startRow ?? 0;
  let position = startRow;
  return {
    format,
    unit: 'row',
    totalBytes: file ? file.size : source?.totalBytes,
    bytesRead: () => (file ? file.position() : source!.bytesRead()),
    position: () => position,
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let first = 0;
      let batches = 0;
      try {
        for await (const batch of r as AsyncIterable<A.RecordBatch>) {
          // Resuming: batches before startRow are passed over, the first one after it sliced (no copy).
          for (const c of batchChunks(batch, first, startRow, o.chunkRows)) {
            position = c.end;
            yield c;
          }
          first += batch.numRows;
          batches++;
        }
        position = Math.max(position, first);
      } catch (e) {
        if (e instanceof CliError) throw e;
        const d = detail(e);
        throw new CliError(`${o.label} is ${d.short ? 'truncated' : 'corrupt'}: reading stopped in record batch ${batches + 1}, after row ${first} (the ${first} rows before it were read) (${d.text})`);
      }
      if (missingEos) {
        throw new CliError(`${o.label} is truncated: the Arrow IPC stream ends without its end-of-stream marker, after row ${first} (the ${first} rows before it were read)`);
      }
    },
    async close() {
      await Promise.resolve(r.cancel()).catch(() => {});
      await file?.close();
      source?.close();
    },
  };
}
