/**
 * Where the loader's bytes come from: a file (read in large sequential chunks) or standard
 * input (`-`), optionally gunzipped (`.gz`), counting the bytes read for the progress bar.
 */
import { createReadStream, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CliError } from '../errors.js';

export interface ByteSource {
  /** The (decompressed) bytes, in chunks. */
  readonly chunks: AsyncIterable<Buffer>;
  /** Size of the input on disk, when known (not for stdin). */
  readonly totalBytes: number | undefined;
  /** Input bytes read so far (compressed bytes for a `.gz` file). */
  bytesRead(): number;
  close(): void;
}

const kChunkBytes = 1 << 20;

/** Size of a regular file, or a clear error when it cannot be read. */
export function fileSize(path: string): number {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CliError(`${path} is a directory`);
    return st.isFile() ? st.size : NaN;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${path}: ${systemReason(e)}`);
  }
}

export function systemReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.message ?? String(e);
}

/**
 * Opens `path` (or stdin for `-`) as a stream of bytes; `gunzip` decompresses it on the way.
 * With `text` (the format's name), input holding a NUL byte in its first chunk is refused as
 * binary: a Parquet or Arrow file given as CSV is named as such, not read as rows of garbage.
 */
export function openByteSource(path: string, gunzip: boolean, text?: string, start = 0): ByteSource {
  let read = 0;
  let raw: Readable;
  let total: number | undefined;
  if (path === '-') {
    raw = process.stdin;
  } else {
    const size = fileSize(path);
    total = Number.isNaN(size) ? undefined : size;
    // Resuming: a plain file is read from `start` (counted as read); a .gz one is decompressed
    // from its beginning and the first `start` bytes of its data left out.
    const from = gunzip ? 0 : start;
    raw = createReadStream(path, { highWaterMark: kChunkBytes, start: from });
    read = from;
  }
  let skip = gunzip ? start : 0;
  raw.on('data', (c: Buffer) => {
    read += c.length;
  });
  let out: Readable = raw;
  if (gunzip) {
    const gz = createGunzip({ chunkSize: 256 * 1024 });
    // pipeline forwards errors and destroys both ends; the iteration below sees the error.
    pipeline(raw, gz, () => {});
    out = gz;
  }
  const name = path === '-' ? 'standard input' : path;
  const named = (e: unknown): Error => {
    if (e instanceof CliError) return e;
    const err = e as NodeJS.ErrnoException;
    // zlib says "unexpected end of file" when the compressed data stops early.
    if (err?.code === 'Z_BUF_ERROR' && read === 0) return new CliError(`${name} is empty: no gzip data`);
    if (err?.code === 'Z_BUF_ERROR') return new CliError(`${name} is truncated: its gzip data ends early, after ${read} compressed bytes (${err.message})`);
    if (err?.code === 'Z_DATA_ERROR') return new CliError(`${name} is corrupt: not valid gzip data (${err.message})`);
    return new CliError(`cannot read ${name}: ${systemReason(e)}`);
  };
  const chunks = (async function* () {
    let first = true;
    try {
      for await (const got of out) {
        let c = got as Buffer;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        if (first && text !== undefined) {
          const nul = (c as Buffer).indexOf(0);
          const bom = (c as Buffer).subarray(0, 2).toString('hex');
          if (bom === 'fffe' || bom === 'feff') throw new CliError(`${name} is UTF-16 text: ${text} is read as UTF-8 (convert it, e.g. with iconv)`);
          if (nul >= 0) throw new CliError(`${name} is not ${text}: it holds binary data (a NUL byte at byte ${nul}${gunzip ? ' after gunzip' : ''})`);
        }
        first = false;
        yield c as Buffer;
      }
    } catch (e) {
      throw named(e);
    }
  })();
  return {
    chunks,
    totalBytes: total,
    bytesRead: () => read,
    close: () => {
      // stdin too: a load stopped early must not keep the process waiting on it.
      raw.destroy();
      if (out !== raw) out.destroy();
    },
  };
}

/** A FileHandle for Arrow's random-access reader that counts how far into the file it has read. */
export interface CountingHandle {
  readonly handle: FileHandle;
  readonly size: number;
  /** Bytes read so far (Arrow reads the footer at the end first, then the batches in order). */
  position(): number;
  close(): Promise<void>;
}

export async function openCounting(path: string): Promise<CountingHandle> {
  const size = fileSize(path);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${systemReason(e)}`);
  }
  let read = 0;
  // Arrow's reader duck-types a FileHandle (fd, stat, read, close): wrap `read` to follow it.
  const wrapped = {
    fd: fh.fd,
    stat: () => fh.stat(),
    close: () => fh.close(),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const r = await fh.read(buffer, offset, length, position);
      read += r.bytesRead;
      return r;
    },
  } as unknown as FileHandle;
  let closed = false;
  return {
    handle: wrapped,
    size: Number.isNaN(size) ? 0 : size,
    position: () => Math.min(read, size),
    close: async () => {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => {});
    },
  };
}

/**
 * Splits a byte stream into lines (without `\n` or a final `\r`), decoding UTF-8 across chunk
 * boundaries; yields the lines of each chunk together (one await per chunk, not per line).
 * A line still unfinished after `maxLineBytes` (counted in UTF-16 units, at most its bytes)
 * stops the reading with an error naming where it starts (`label:LINE`): what was kept of it is
 * bounded.
 */
export async function* textLines(chunks: AsyncIterable<Buffer>, limit?: { maxLineBytes: number; label: string }): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let lineNo = 1; // of the line `rest` starts
  const strip = (s: string): string => (s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s);
  for await (const c of chunks) {
    const text = rest + decoder.decode(c, { stream: true });
    const lines: string[] = [];
    let start = 0;
    // `rest` has no newline: the search starts after it.
    for (let nl = text.indexOf('\n', rest.length); nl >= 0; nl = text.indexOf('\n', start)) {
      lines.push(strip(text.slice(start, nl)));
      start = nl + 1;
    }
    rest = text.slice(start);
    lineNo += lines.length;
    if (lines.length > 0) yield lines;
    if (limit && rest.length >= limit.maxLineBytes) {
      throw new CliError(`${limit.label}:${lineNo}: a line longer than ${limit.maxLineBytes} bytes (the longest a request can carry) does not end`);
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield [strip(rest)];
}
