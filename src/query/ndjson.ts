/**
 * InfluxDB chunked (`chunked=true`) query responses: one JSON document per `\n`-terminated line,
 * as strings or parsed. The byte-level line splitting is the transport's (`transport/lines.ts`).
 */
import { splitLineBytes } from '../transport/lines.js';
import { parseExactJson } from './exact-json.js';

/**
 * Yield each complete, non-empty line of a UTF-8 byte stream as a string (see `splitLineBytes`).
 * Multi-byte characters split across chunks decode correctly (`\n` never occurs inside a
 * multi-byte UTF-8 sequence); malformed UTF-8 decodes to U+FFFD, as `Response.text()` would.
 */
export async function* splitLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const line of splitLineBytes(source)) yield decoder.decode(line);
}


/**
 * Parse a newline-delimited JSON stream (InfluxDB `chunked=true` query
 * responses) with {@link parseExactJson}: one document per non-blank line.
 */
export async function* parseNdjson(source: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  for await (const line of splitLines(source)) {
    if (isBlank(line)) continue;
    yield parseExactJson(line);
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
