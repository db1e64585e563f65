/**
 * The loader's input readers, one per format. Each reads its input incrementally and yields
 * chunks of at most `chunkRows` rows (record batches, point objects or line-protocol bytes) for
 * the batch writer; rows it cannot turn into points are reported through `reject` (the dead
 * letter) and left out.
 */
import { basename } from 'node:path';
import { UsageError } from '../errors.js';

export type InputFormat = 'arrow' | 'parquet' | 'csv' | 'ndjson' | 'lp';
export const INPUT_FORMATS: readonly InputFormat[] = ['arrow', 'parquet', 'csv', 'ndjson', 'lp'];
const kFormatAliases: Record<string, InputFormat> = {
  arrow: 'arrow', ipc: 'arrow', feather: 'arrow', arrows: 'arrow',
  parquet: 'parquet', pq: 'parquet',
  csv: 'csv', tsv: 'csv',
  ndjson: 'ndjson', jsonl: 'ndjson', json: 'ndjson',
  lp: 'lp', 'line-protocol': 'lp', line: 'lp', influx: 'lp',
};
const kExtensions: Record<string, InputFormat> = {
  arrow: 'arrow', arrows: 'arrow', ipc: 'arrow', feather: 'arrow',
  parquet: 'parquet', pq: 'parquet',
  csv: 'csv', tsv: 'csv',
  ndjson: 'ndjson', jsonl: 'ndjson',
  lp: 'lp', line: 'lp', influx: 'lp', txt: 'lp',
};

/** `--format`'s value, canonical. */
export function parseFormat(v: string): InputFormat {
  const f = Object.hasOwn(kFormatAliases, v.toLowerCase()) ? kFormatAliases[v.toLowerCase()] : undefined;
  if (!f) throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')} (got ${JSON.stringify(v)})`);
  return f;
}

export interface DetectedInput {
  format: InputFormat;
  /** The file is gzip-compressed (`.gz`). */
  gzip: boolean;
  /** Tab-separated (`.tsv`). */
  tabs: boolean;
  /** The file's name without directories and extensions: the default measurement. */
  stem: string;
}

/** The format of `path` from its extension (after a `.gz`), unless `forced`. */
export function detectInput(path: string, forced: InputFormat | undefined): DetectedInput {
  if (path === '-') {
    if (!forced) throw new UsageError('reading standard input (-) needs --format');
    return { format: forced, gzip: false, tabs: false, stem: '' };
  }
  let name = basename(path);
  let gzip = false;
  if (/\.gz$/i.test(name)) {
    gzip = true;
    name = name.slice(0, -3);
  }
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const format = forced ?? (Object.hasOwn(kExtensions, ext) ? kExtensions[ext] : undefined);
  if (!format) throw new UsageError(`cannot tell the format of ${path} from its extension: give --format (${INPUT_FORMATS.join(', ')})`);
  return { format, gzip, tabs: ext === 'tsv', stem };
}

// The readers' shared contract lives in reader.ts (a reader imports it, never this file, which
// opens the readers: no import circle).
export { clip, type InputReader, type ReaderChunk, type ReaderOptions } from './reader.js';
import type { InputReader, ReaderOptions } from './reader.js';

export async function openReader(format: InputFormat, o: ReaderOptions): Promise<InputReader> {
  switch (format) {
    case 'arrow':
      return (await import('./arrow.js')).openArrowReader(o);
    case 'parquet':
      return (await import('./parquet.js')).openParquetReader(o);
    case 'csv':
      return (await import('./csv.js')).openCsvReader(o);
    case 'ndjson':
      return (await import('./ndjson.js')).openNdjsonReader(o);
    case 'lp':
      return (await import('./line-protocol.js')).openLineProtocolReader(o);
  }
}
