/**
 * NDJSON input: one JSON object per line, either
 *
 * - a point object `{"measurement"?, "time"?, "tags"?, "fields"}` (the client's own shape), or
 * - a flat record `{"time": …, "host": "a", "usage": 0.5}`: `--tag-columns` name its tags,
 *   `--time-column` (default `time`) its time, every other key is a field.
 *
 * Numbers are read exactly: an integer literal (`42`) is an int64 field (any size, as bigint),
 * a literal with a fraction or an exponent (`42.0`) a float field. A field key keeps the type of
 * its first values (integers and floats together make a float field); a later value of another
 * type rejects its line, with the reason. A time is an ISO 8601 string or an integer epoch in
 * `--precision`, made exact nanoseconds here (the writer's precision is n).
 */
import type { FieldType } from '../../types.js';
import type { FieldValue, Point, TagValue } from '../../encode/point-encoder.js';
import { CliError } from '../errors.js';
import { parseJsonExact, type JsonValue } from './json.js';
import { openByteSource, textLines } from './source.js';
import { clip, type InputReader, type ReaderChunk, type ReaderOptions } from './reader.js';
import { epochToNs, isoToNs } from './values.js';

type Obj = { [key: string]: JsonValue };
const kPointKeys = new Set(['measurement', 'time', 'tags', 'fields']);

function isObj(v: JsonValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: JsonValue): FieldType | 'nested' | undefined {
  if (v === null) return undefined;
  switch (typeof v) {
    case 'bigint':
      return 'integer';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      return 'nested';
  }
}

class Reject extends Error {}

/** The --field-types type of a key: its own entry only (a field named `constructor` is not typed `Object`). */
function declaredType(o: ReaderOptions, k: string): FieldType | undefined {
  return Object.hasOwn(o.fieldTypes, k) ? o.fieldTypes[k] : undefined;
}

export function openNdjsonReader(o: ReaderOptions): InputReader {
  const source = openByteSource(o.path, o.gzip, 'NDJSON');
  // Field types by measurement and key, fixed by the first values seen (or --field-types).
  const types = new Map<string, FieldType>();
  const timeKey = o.timeColumn ?? 'time';
  const tagKeys = new Set(o.tagColumns);

  /** A parsed line as measurement, tags, time and raw fields (before typing). */
  interface Raw {
    line: number;
    text: string;
    measurement: string | undefined;
    time: JsonValue | undefined;
    tags: Record<string, TagValue>;
    fields: Obj;
  }

  const parseLine = (text: string, line: number): Raw => {
    let v: JsonValue;
    try {
      v = parseJsonExact(text);
    } catch (e) {
      throw new Reject(`not valid JSON: ${(e as Error).message}`);
    }
    if (!isObj(v)) throw new Reject(`a line must hold a JSON object (got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v})`);
    // Without a prototype: a key "__proto__" (an own key of the parsed JSON) is a tag or field like any other.
    const tags = Object.create(null) as Record<string, TagValue>;
    const tag = (k: string, x: JsonValue): void => {
      if (x === null) return;
      if (typeof x === 'object') throw new Reject(`tag ${JSON.stringify(k)}: a tag value must be a string, number or boolean`);
      tags[k] = String(x);
    };
    if (isObj(v.fields)) {
      // A point object.
      for (const k of Object.keys(v)) if (!kPointKeys.has(k)) throw new Reject(`unexpected key ${JSON.stringify(k)} in a point object (expected measurement, time, tags, fields)`);
      const m = v.measurement;
      if (m !== undefined && m !== null && typeof m !== 'string') throw new Reject('"measurement" must be a string');
      if (v.tags !== undefined && v.tags !== null) {
        if (!isObj(v.tags)) throw new Reject('"tags" must be an object');
        for (const [k, x] of Object.entries(v.tags)) tag(k, x);
      }
      return { line, text, measurement: typeof m === 'string' ? m : undefined, time: v.time ?? undefined, tags, fields: v.fields };
    }
    // A flat record.
    const fields = Object.create(null) as Obj;
    let time: JsonValue | undefined;
    for (const [k, x] of Object.entries(v)) {
      if (k === timeKey) time = x ?? undefined;
      else if (tagKeys.has(k)) tag(k, x);
      else fields[k] = x;
    }
    return { line, text, measurement: undefined, time, tags, fields };
  };

  const toPoint = (r: Raw, defaultMeasurement: string | undefined): Point => {
    const measurement = r.measurement ?? defaultMeasurement;
    if (measurement === undefined) throw new Reject('no measurement: give the point one, or pass --measurement');
    const fields = Object.create(null) as Record<string, FieldValue>;
    for (const [k, x] of Object.entries(r.fields)) {
      if (x === null) continue;
      const want = types.get(`${measurement}\0${k}`);
      const got = kindOf(x);
      if (got === 'nested') throw new Reject(`field ${JSON.stringify(k)}: nested objects and arrays cannot be fields`);
      if (want === got || want === undefined) {
        fields[k] = x as FieldValue;
      } else if (want === 'float' && got === 'integer') {
        const n = Number(x as bigint);
        if (!Number.isSafeInteger(n)) throw new Reject(`field ${JSON.stringify(k)}: the integer ${String(x)} is too large for a float field`);
        fields[k] = n;
      } else if (want === 'integer' && got === 'float' && Number.isSafeInteger(x)) {
        fields[k] = BigInt(x as number);
      } else {
        throw new Reject(`field ${JSON.stringify(k)}: ${clip(JSON.stringify(typeof x === 'bigint' ? Number(x) : x), 60)} is ${got === 'integer' ? 'an integer' : `a ${got}`}, but the field is ${want === 'integer' ? 'an integer' : `a ${want}`}${declaredType(o, k) ? '' : ' (typed from its first values; --field-types sets it)'}`);
      }
    }
    const p: Point = { measurement, fields };
    if (Object.keys(r.tags).length > 0) p.tags = r.tags;
    // Exact nanoseconds (the writer's precision is n): an ISO string keeps its fraction, an
    // integer epoch is read in --precision.
    const t = r.time;
    if (t !== undefined) {
      let ns: bigint | string;
      if (typeof t === 'string') ns = isoToNs(t);
      else if (typeof t === 'bigint') ns = epochToNs(t, o.precision);
      else if (typeof t === 'number' && Number.isSafeInteger(t)) ns = epochToNs(BigInt(t), o.precision);
      else throw new Reject(`"${timeKey}" must be an ISO 8601 string or an integer epoch in --precision (${o.precision})`);
      if (typeof ns === 'string') throw new Reject(`"${timeKey}": ${ns}`);
      p.time = ns;
    }
    return p;
  };

  /** Types first seen in these lines: from all of their values (integers and floats: float). */
  const learnTypes = (raws: Raw[]): void => {
    const seen = new Map<string, FieldType>();
    for (const r of raws) {
      const m = r.measurement ?? o.measurement;
      if (m === undefined) continue;
      for (const [k, x] of Object.entries(r.fields)) {
        const key = `${m}\0${k}`;
        if (types.has(key)) continue;
        const got = kindOf(x);
        if (got === undefined || got === 'nested') continue;
        const before = seen.get(key);
        if (before === undefined) seen.set(key, declaredType(o, k) ?? got);
        else if (before === 'integer' && got === 'float' && declaredType(o, k) === undefined) seen.set(key, 'float');
      }
    }
    for (const [k, t] of seen) types.set(k, t);
  };

  const startRow = o.startRow ?? 0;
  let lineNo = 0;
  // How far (in lines) the chunks given out go.
  let position = startRow;
  return {
    format: 'NDJSON',
    unit: 'row',
    totalBytes: source.totalBytes,
    bytesRead: () => source.bytesRead(),
    position: () => position,
    async *chunks(): AsyncGenerator<ReaderChunk> {
      let raws: Raw[] = [];
      const label = o.label;
      // Resuming: `raws` holds lines before startRow, read for their types only.
      let resuming = startRow > 0;
      const flush = (): ReaderChunk | undefined => {
        if (resuming) {
          // The input ends (or breaks) before startRow: nothing of it is loaded again.
          raws = [];
          return undefined;
        }
        learnTypes(raws);
        const points: Point[] = [];
        const lines: number[] = [];
        const texts: string[] = [];
        for (const r of raws) {
          try {
            points.push(toPoint(r, o.measurement));
            lines.push(r.line);
            texts.push(r.text);
          } catch (e) {
            if (!(e instanceof Reject)) throw e;
            o.reject(`${label}:${r.line}`, e.message, r.text);
          }
        }
        raws = [];
        position = lineNo;
        if (points.length === 0) return undefined;
        return { kind: 'points', points, where: (row) => `${label}:${lines[row]}`, text: (row) => texts[row], end: lineNo };
      };
      const lineBatches = textLines(source.chunks, { maxLineBytes: o.maxLineBytes, label });
      for (;;) {
        let nextBatch: IteratorResult<string[]>;
        try {
          nextBatch = await lineBatches.next();
        } catch (e) {
          // Reading stopped (a line that does not end, a read error): the lines before go out first.
          const c = flush();
          if (c) yield c;
          throw e;
        }
        if (nextBatch.done) break;
        const batch = nextBatch.value;
        for (const text of batch) {
          lineNo++;
          if (text.trim() === '') continue;
          if (lineNo <= startRow) {
            // Resuming: a line loaded before is only read for the types its fields gave the
            // first run (grouped as that run's chunks were); its rejection was reported then.
            try {
              raws.push(parseLine(text, lineNo));
            } catch (e) {
              if (!(e instanceof Reject)) throw new CliError(`${label}:${lineNo}: ${(e as Error).message}`);
            }
            if (raws.length >= o.chunkRows) {
              learnTypes(raws);
              raws = [];
            }
            continue;
          }
          if (resuming) {
            learnTypes(raws);
            raws = [];
            resuming = false;
          }
          try {
            raws.push(parseLine(text, lineNo));
          } catch (e) {
            if (!(e instanceof Reject)) throw new CliError(`${label}:${lineNo}: ${(e as Error).message}`);
            o.reject(`${label}:${lineNo}`, e.message, text);
            continue;
          }
          if (raws.length >= o.chunkRows) {
            const c = flush();
            if (c) yield c;
          }
        }
        // A pipe may be a live feed: what has arrived goes out now, not when a chunk is full.
        if (o.path === '-' && raws.length > 0) {
          const c = flush();
          if (c) yield c;
        }
      }
      const c = flush();
      if (c) yield c;
      position = Math.max(position, lineNo);
      // An empty file is a mistake worth a word (a pipe may legitimately carry nothing).
      if (o.path !== '-' && lineNo === 0) throw new CliError(`${label} is empty: no NDJSON records`);
    },
    async close() {
      source.close();
    },
  };
}
