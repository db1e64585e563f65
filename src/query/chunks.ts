/**
 * Reading a chunked (`chunked=true`) query answer, for every output: its lines come from the
 * transport (each bounded by maxResponseBytes, each with its own deadline); here, the check that
 * the answer is complete, and the parsing of each line for the raw and iterable outputs.
 */
import { InfluxDBError, InfluxDBResponseError } from '../errors.js';
import { parseExactJson } from './exact-json.js';
import { checkQueryResponse, type QueryResponse } from './response.js';

/**
 * Whether a chunk's line ends a result (or a series) marked `"partial":true`: more chunks were
 * announced. influxd writes `partial` last in its object, so in valid JSON that tail can only be
 * that key (a string cannot end the line). Read from the bytes: Arrow output never parses to objects.
 */
export function endsPartial(line: Uint8Array): boolean {
  const tail = new TextDecoder().decode(line.subarray(Math.max(0, line.length - 64)));
  return /"partial"\s*:\s*true\s*\}(?:\s*\]\s*\})+\s*$/.test(tail);
}

/**
 * The lines of a chunked answer, unchanged; an answer whose last chunk announced more (a clean
 * end of stream after `partial: true`) was cut short: InfluxDBResponseError, reason 'truncated'.
 */
export async function* completeChunkLines(lines: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<Uint8Array> {
  let partial = false;
  for await (const line of lines) {
    // Checked before the yield: the line may be a view the next read overwrites.
    partial = endsPartial(line);
    yield line;
  }
  if (partial) {
    throw new InfluxDBResponseError(`${where}: the chunked answer ended after a chunk marked partial: it was cut short (influxd's last chunk is never partial)`, { reason: 'truncated' });
  }
}

/** The parsed chunks (raw and iterable outputs): errors inside a chunk throw, as does invalid JSON. */
export async function* parseChunks(lines: AsyncIterable<Uint8Array>, status: number, where: string): AsyncGenerator<QueryResponse> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const line of completeChunkLines(lines, where)) {
    let doc: unknown;
    try {
      doc = parseExactJson(decoder.decode(line));
    } catch (err) {
      if (err instanceof InfluxDBError) throw err;
      throw new InfluxDBResponseError(`${where}: a chunk of the query answer is not valid JSON: ${(err as Error).message}`, { reason: 'invalid', status, cause: err });
    }
    yield checkQueryResponse(doc, status);
  }
}
