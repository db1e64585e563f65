/**
 * Parquet input through parquet-wasm (the Rust `parquet` crate compiled to WebAssembly): the
 * file is opened as a Blob (`fs.openAsBlob`, read by ranges, never whole), streamed as record
 * batches of `chunkRows` rows, and each batch crosses into Arrow JS as an IPC message.
 */
import { openAsBlob } from 'node:fs';
import * as A from 'apache-arrow';
import { CliError, UsageError } from '../errors.js';
import { fileSize } from './source.js';
import type { InputReader, ReaderChunk, ReaderOptions } from './index.js';

type ParquetWasm = typeof import('parquet-wasm');
type WasmFile = import('parquet-wasm').ParquetFile;
type WasmBatch = import('parquet-wasm').RecordBatch;

export async function openParquetReader(o: ReaderOptions): Promise<InputReader> {
  if (o.path === '-') throw new UsageError('Parquet cannot be read from standard input (its metadata is at the end of the file): give a file');
  if (o.gzip) throw new UsageError('Parquet files are compressed inside: give the .parquet file, not a .gz');
  const size = fileSize(o.path);
  let P: ParquetWasm;
  try {
    P = await import('parquet-wasm');
  } catch (e) {
    throw new CliError(`reading Parquet needs the parquet-wasm package: ${(e as Error).message}`);
  }
  let file: WasmFile;
  let totalRows: number;
  try {
    file = await P.ParquetFile.fromFile(await openAsBlob(o.path));
    const meta = file.metadata();
    totalRows = meta.fileMetadata().numRows();
    meta.free();
  } catch (e) {
    throw new CliError(`${o.label} is not a Parquet file: ${errorText(e)}`);
  }
  let rows = 0;
  let closed = false;
  return {
    format: 'Parquet',
    totalBytes: size,
    // Parquet is read by row groups and column chunks, not front to back: estimate by rows.
    bytesRead: () => (totalRows > 0 ? Math.round((size * rows) / totalRows) : 0),
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let stream: AsyncIterable<WasmBatch>;
      try {
        stream = (await file.stream({ batchSize: o.chunkRows })) as unknown as AsyncIterable<WasmBatch>;
      } catch (e) {
        throw new CliError(`${o.label}: cannot read the Parquet data: ${errorText(e)}`);
      }
      let it: AsyncIterator<WasmBatch> | undefined;
      try {
        it = stream[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<WasmBatch>;
          let table: A.Table;
          try {
            next = await it.next();
            if (next.done) break;
            table = A.tableFromIPC(next.value.intoIPCStream());
          } catch (e) {
            throw new CliError(`${o.label}: cannot read the Parquet data after row ${rows}: ${errorText(e)}`);
          }
          for (const batch of table.batches) {
            const n = batch.numRows;
            for (let i = 0; i < n; i += o.chunkRows) {
              const part = n <= o.chunkRows ? batch : batch.slice(i, Math.min(n, i + o.chunkRows));
              const base = rows + i;
              yield { kind: 'arrow', batch: part, where: (row) => `row ${base + row}` };
            }
            rows += n;
          }
        }
      } finally {
        await it?.return?.().catch(() => {});
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      file.free();
    },
  };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
