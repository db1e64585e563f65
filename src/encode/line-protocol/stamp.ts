/**
 * Timestamps for lines that have none, given the time they were accepted: with a durable spool a
 * batch may be sent again after a crash, and a line without a time would then be stored as a new
 * point (the server's clock) instead of overwriting the first. Lines are read by the one parser
 * (parse.ts); a line it refuses is left as it is (the server refuses it the same way).
 */
import { precisionSpec, readPoint } from './parse.js';
import { cutLines } from './scan.js';
import type { Precision } from '../../types.js';

/**
 * `body` with ` <time>` appended to each point line that has no timestamp (`time`: the text of
 * the acceptance time in the write's precision); the same Buffer when every line has one.
 */
export function stampMissingTimes(body: Buffer, time: string, precision: Precision): Buffer {
  const lines = cutLines(body);
  const spec = precisionSpec(precision);
  let missing: number[] | undefined;
  for (let i = 0; i < lines.start.length; i++) {
    const r = readPoint(body, lines.text[i]!, lines.end[i]!, spec);
    if (r.ok && r.line.timeNs === undefined) (missing ??= []).push(i);
  }
  if (missing === undefined) return body;
  const stamp = Buffer.from(` ${time}`);
  const parts: Buffer[] = [];
  let from = 0;
  for (const i of missing) {
    // Before any trailing spaces or a CR the line may end with: influxd trims them before the time.
    let end = lines.end[i]!;
    while (end > lines.text[i]! && (body[end - 1] === 32 || body[end - 1] === 13 || body[end - 1] === 9)) end--;
    parts.push(body.subarray(from, end), stamp);
    from = end;
  }
  parts.push(body.subarray(from));
  return Buffer.concat(parts);
}
