/**
 * The time column from Arrow: Timestamp (s, ms, us, ns; a time zone changes nothing: Arrow
 * timestamps are UTC instants), Date (day, millisecond), integers (already in the write's
 * precision) and Utf8 (ISO 8601), converted to the write's precision exactly, in BigInt (floor
 * division toward the past, as `floorDiv`); a null time, or no time column, is "now". Times
 * outside InfluxDB's range are marked, with their reason, for the encoder to refuse.
 * @module
 */
import type { Precision } from '../../types.js';
import type { Bitmap } from '../columnar/layout.js';
import { MAX_TIME_NS, MIN_TIME_NS, NS_PER, floorDiv, nowNs, parseIsoToNs } from '../time.js';
import { forEachUtf8, isValid, kFatalUtf8, validityOf, words64, type TypedArray } from './buffers.js';
import { Type, kDateUnitDay, kTimeUnitNs, notATimeError, type ArrowData } from './schema.js';

/**
 * The times of a batch's `rows` rows in precision `p`, from the time column `name` (`d`; none:
 * every row gets the time of the write), with the rows whose time cannot be written and why.
 */
export function timeColumn(name: string | undefined, d: ArrowData | undefined, rows: number, rowBase: number, p: Precision): { time: BigInt64Array; timeInvalid: Bitmap; timeReasons: Map<number, string> } {
  const dst = NS_PER[p];
  const reasons = new Map<number, string>();
  if (d === undefined) {
    const time = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) time[i] = floorDiv(nowNs(), dst);
    return { time, timeInvalid: null, timeReasons: reasons };
  }
  const type = d.type;
  const validity = validityOf(d);
  let invalid: Uint8Array | null = null;
  const refuse = (i: number, reason: string) => {
    invalid ??= new Uint8Array((rows + 7) >> 3);
    invalid[i >> 3]! |= 1 << (i & 7);
    reasons.set(i, reason);
  };
  // A time t in the precision is written when t * NS_PER[p] is in range (the point encoder's rule for bigint times).
  const tMin = -floorDiv(-MIN_TIME_NS, dst);
  const tMax = floorDiv(MAX_TIME_NS, dst);
  const outOfRange = (t: bigint) => `${t} (${p}) is outside InfluxDB's time range`;

  if (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) {
    const time = new BigInt64Array(rows);
    let i = 0;
    forEachUtf8(d, () => `column ${JSON.stringify(name)}`, (bytes) => {
      if (bytes === null) time[i] = floorDiv(nowNs(), dst);
      else {
        let text: string | undefined;
        try {
          text = kFatalUtf8.decode(bytes);
        } catch {
          refuse(i, 'the time text is not valid UTF-8');
        }
        if (text !== undefined) {
          const ns = parseIsoToNs(text);
          if (typeof ns === 'string') refuse(i, ns);
          else if (ns > MAX_TIME_NS || ns < MIN_TIME_NS) refuse(i, `${text} is outside InfluxDB's time range (1677-09-21 to 2262-04-11)`);
          else time[i] = p === 'n' ? ns : floorDiv(ns, dst);
        }
      }
      i++;
    });
    return { time, timeInvalid: invalid, timeReasons: reasons };
  }

  let src: bigint; // nanoseconds per unit of the column's values
  if (type.typeId === Type.Timestamp) src = kTimeUnitNs[type.unit ?? 1] ?? 1_000_000n;
  else if (type.typeId === Type.Date) src = type.unit === kDateUnitDay ? 86_400_000_000_000n : 1_000_000n;
  else if (type.typeId === Type.Int) src = dst;
  else throw notATimeError(rowBase, name, type);
  const v = d.values as TypedArray;
  if (v instanceof BigInt64Array && src === dst && validity === null) {
    // Zero copy: already in the precision; only the range is checked (two words per row, no BigInt).
    const w = words64(v);
    const approxMax = Number(tMax) * (1 - 1e-12);
    for (let i = 0; i < rows; i++) {
      const approx = w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
      if (approx < approxMax && approx > -approxMax) continue;
      const t = v[i]!;
      if (t < tMin || t > tMax) refuse(i, outOfRange(t));
    }
    return { time: v, timeInvalid: invalid, timeReasons: reasons };
  }
  const time = new BigInt64Array(rows);
  const up = src >= dst && src % dst === 0n ? src / dst : 0n; // multiply by
  const down = src < dst && dst % src === 0n ? dst / src : 0n; // floor-divide by
  for (let i = 0; i < rows; i++) {
    if (!isValid(validity, i)) {
      time[i] = floorDiv(nowNs(), dst);
      continue;
    }
    const raw = v[i]!;
    const x = typeof raw === 'bigint' ? raw : BigInt(raw);
    const t = up === 1n ? x : up !== 0n ? x * up : down !== 0n ? floorDiv(x, down) : floorDiv(x * src, dst);
    if (t < tMin || t > tMax) refuse(i, outOfRange(t));
    else time[i] = t;
  }
  return { time, timeInvalid: invalid, timeReasons: reasons };
}
