/**
 * Parquet input through parquet-wasm (the Rust `parquet` crate compiled to WebAssembly): the
 * file is opened as a Blob (`fs.openAsBlob`, read by ranges, never whole), streamed as record
 * batches of `chunkRows` rows, and each batch crosses into Arrow JS as an IPC message.
 *
 * Damaged files get one line naming the file and the damage (empty, not Parquet, truncated,
 * corrupt footer, corrupt data after row N): the magic bytes at both ends and the footer's length
 * are checked before parquet-wasm reads the footer, whose own errors do not say which it is.
 */
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import * as A from 'apache-arrow';
import { CliError, UsageError } from '../errors.js';
import { fileSize, systemReason } from './source.js';
import { batchChunks, type InputReader, type ReaderChunk, type ReaderOptions } from './reader.js';

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
  await checkFrame(o.path, o.label, size);
  let file: WasmFile;
  let totalRows: number;
  const startRow = o.startRow ?? 0;
  // Resuming: the row groups wholly before startRow are not read; `rows` starts at the first one read.
  let skipGroups = 0;
  let skippedRows = 0;
  let groups = 0;
  try {
    file = await guardPanics(P.ParquetFile.fromFile(await openAsBlob(o.path)));
    const meta = file.metadata();
    totalRows = meta.fileMetadata().numRows();
    groups = meta.numRowGroups();
    for (let g = 0; g < groups && startRow > 0; g++) {
      const rg = meta.rowGroup(g);
      const n = rg.numRows();
      rg.free();
      if (skippedRows + n > startRow) break;
      skippedRows += n;
      skipGroups++;
    }
    meta.free();
  } catch (e) {
    throw new CliError(`${o.label} is corrupt: its footer (the file's metadata) cannot be read; nothing was read (${errorText(e)})`);
  }
  let rows = skippedRows;
  let position = Math.max(startRow, skippedRows);
  let closed = false;
  return {
    format: 'Parquet',
    unit: 'row',
    position: () => position,
    totalBytes: size,
    // Parquet is read by row groups and column chunks, not front to back: estimate by rows.
    bytesRead: () => (totalRows > 0 ? Math.round((size * rows) / totalRows) : 0),
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let stream: AsyncIterable<WasmBatch>;
      if (skipGroups > 0 && skipGroups >= groups) {
        position = Math.max(position, rows);
        return;
      }
      const rowGroups = skipGroups > 0 ? Array.from({ length: groups - skipGroups }, (_, i) => skipGroups + i) : undefined;
      try {
        stream = (await guardPanics(file.stream({ batchSize: o.chunkRows, ...(rowGroups ? { rowGroups } : {}) }))) as unknown as AsyncIterable<WasmBatch>;
      } catch (e) {
        throw new CliError(`${o.label} is corrupt: its data cannot be read; nothing was read (${errorText(e)})`);
      }
      let it: AsyncIterator<WasmBatch> | undefined;
      try {
        it = stream[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<WasmBatch>;
          let table: A.Table;
          try {
            next = await guardPanics(it.next());
            if (next.done) break;
            table = A.tableFromIPC(next.value.intoIPCStream());
          } catch (e) {
            throw new CliError(`${o.label} is corrupt: reading stopped after row ${rows} (the ${rows} rows before it were read) (${errorText(e)})`);
          }
          for (const batch of table.batches) {
            // Resuming inside a row group: its rows before startRow are sliced off (no copy).
            for (const c of batchChunks(batch, rows, startRow, o.chunkRows)) {
              position = c.end;
              yield c;
            }
            rows += batch.numRows;
          }
        }
        position = Math.max(position, rows);
      } finally {
        // After a panic the module is unusable: its cleanup may throw, or never settle.
        if (!panicked) await Promise.race([it?.return?.(), Promise.resolve()]).catch(() => {});
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        file.free();
      } catch {
        // A module that panicked cannot free: the process ends soon anyway.
      }
    },
  };
}

let panicked = false;

/**
 * A panic inside parquet-wasm's async reader (corrupt page data) is thrown as a
 * `WebAssembly.RuntimeError` from a task of its own, outside any promise: it would end the
 * process with a wasm stack trace, and the pending read would never settle. While a read is
 * pending such an error rejects it instead; any other uncaught error is thrown again as before.
 */
function guardPanics<T>(p: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onUncaught = (err: unknown): void => {
      process.off('uncaughtException', onUncaught);
      if (err instanceof WebAssembly.RuntimeError) {
        panicked = true;
        reject(new Error(`the Parquet reader failed on the file's data (${err.message})`));
      } else {
        process.nextTick(() => {
          throw err;
        });
      }
    };
    process.on('uncaughtException', onUncaught);
    p.then(
      (v) => {
        process.off('uncaughtException', onUncaught);
        resolve(v);
      },
      (e: unknown) => {
        process.off('uncaughtException', onUncaught);
        reject(e);
      },
    );
  });
}

/** parquet-wasm's errors (strings or Errors), as one line. */
function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

const kMagic = Buffer.from('PAR1');

/**
 * A Parquet file is PAR1, the data, the footer, the footer's length (4 bytes) and PAR1 again.
 * Checks that frame, so that a cut or foreign file is named as such.
 */
async function checkFrame(path: string, label: string, size: number): Promise<void> {
  if (size === 0) throw new CliError(`${label} is empty: no Parquet data`);
  const head = Buffer.alloc(4);
  const tail = Buffer.alloc(8);
  try {
    const fh = await open(path, 'r');
    try {
      await fh.read(head, 0, 4, 0);
      if (size >= 12) await fh.read(tail, 0, 8, size - 8);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${systemReason(e)}`);
  }
  const known = head.subarray(0, Math.min(4, size));
  if (head.toString('latin1') === 'PARE') throw new CliError(`${label} is an encrypted Parquet file: not supported`);
  if (!known.equals(kMagic.subarray(0, known.length))) throw new CliError(`${label} is not a Parquet file: it does not start with the PAR1 magic`);
  if (size < 12) throw new CliError(`${label} is truncated: ${size} bytes, less than a Parquet file's magic bytes and footer length`);
  if (!tail.subarray(4).equals(kMagic)) {
    throw new CliError(`${label} is truncated or corrupt: a Parquet file ends with its footer and the PAR1 magic, and this one (${size} bytes) does not; nothing was read`);
  }
  const footer = tail.readUInt32LE(0);
  if (footer > size - 12) {
    throw new CliError(`${label} is truncated or corrupt: its footer length says ${footer} bytes, more than the file holds (${size} bytes); nothing was read`);
  }
}
