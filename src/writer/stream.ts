/**
 * The batch writer as a Node `Writable` in object mode, for `pipeline(source, writer.stream())`.
 * Each chunk is anything `write()` takes; the stream's own backpressure follows the writer's
 * (a chunk's callback runs once the writer accepted it), and 'finish' comes after a flush, so
 * `pipeline` resolves when everything piped is written (or rejects with the delivery error).
 */
import { Writable } from 'node:stream';
import type { WriterInput } from './intake.js';

export interface WriterStreamOptions {
  /** Chunks the stream holds before `write()` returns false (default 16). */
  highWaterMark?: number;
  /** Close the writer when the stream finishes (default false: flush only). */
  closeOnFinish?: boolean;
}

interface StreamTarget {
  write(data: WriterInput): Promise<unknown>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function writerStream(writer: StreamTarget, options: WriterStreamOptions = {}): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: options.highWaterMark ?? 16,
    write(chunk: WriterInput, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      (options.closeOnFinish ? writer.close() : writer.flush()).then(() => callback(), callback);
    },
  });
}
