/**
 * Arrow IPC input, file or stream format (told apart by the file's magic bytes). A file is
 * read through Arrow's random-access reader, one record batch at a time; standard input and
 * `.gz` files as a stream (an IPC *file* arriving that way is read whole by Arrow, since its
 * footer comes last: send the stream format through pipes).
 */
import * as A from 'apache-arrow';
import { CliError } from '../errors.js';
import { openByteSource, openCounting, type ByteSource, type CountingHandle } from './source.js';
import type { InputReader, ReaderChunk, ReaderOptions } from './index.js';

export async function openArrowReader(o: ReaderOptions): Promise<InputReader> {
  let file: CountingHandle | undefined;
  let source: ByteSource | undefined;
  let reader: A.AsyncRecordBatchFileReader | A.AsyncRecordBatchStreamReader | A.RecordBatchFileReader | A.RecordBatchStreamReader;
  try {
    if (o.path !== '-' && !o.gzip) {
      file = await openCounting(o.path);
      reader = await A.RecordBatchReader.from(file.handle);
    } else {
      source = openByteSource(o.path, o.gzip);
      reader = await A.RecordBatchReader.from(source.chunks);
    }
    await reader.open();
  } catch (e) {
    await file?.close();
    source?.close();
    if (e instanceof CliError) throw e;
    throw new CliError(`${o.label} is not Arrow IPC data: ${(e as Error).message}`);
  }
  const r = reader;
  const format = r.isFile() ? 'Arrow IPC file' : 'Arrow IPC stream';
  return {
    format,
    totalBytes: file ? file.size : source?.totalBytes,
    bytesRead: () => (file ? file.position() : source!.bytesRead()),
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let first = 0;
      try {
        for await (const batch of r as AsyncIterable<A.RecordBatch>) {
          const n = batch.numRows;
          for (let i = 0; i < n; i += o.chunkRows) {
            const part = i === 0 && n <= o.chunkRows ? batch : batch.slice(i, Math.min(n, i + o.chunkRows));
            const base = first + i;
            yield { kind: 'arrow', batch: part, where: (row) => `row ${base + row}` };
          }
          first += n;
        }
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError(`${o.label}: cannot read the Arrow data after row ${first}: ${(e as Error).message}`);
      }
    },
    async close() {
      await Promise.resolve(r.cancel()).catch(() => {});
      await file?.close();
      source?.close();
    },
  };
}
