/**
 * What the server knows about a database's schema, for typed output: tag keys and values
 * (`getTagInfo`, as in aioinflux) and the field types and tag keys of measurements
 * (`SchemaCache`), so that column types come from the server and not from guessing at JSON
 * values (where a float `1.0` and an integer `1` look alike).
 *
 * What influxd 1.6.7 answers (measured):
 * - `SHOW TAG KEYS` / `SHOW FIELD KEYS` without FROM answer one series per measurement;
 *   `FROM "a","b"` limits that to the listed measurements, one request for any number of them.
 *   A measurement without data has no series at all.
 * - `SHOW TAG VALUES WITH KEY =~ /.*\/` (no FROM) answers every measurement's tag values in one
 *   statement: one series per measurement, columns `key`,`value`, rows sorted by key then value.
 * - `SHOW FIELD KEYS` lists a field once per type when its type differs between shards
 *   (`["v","float"],["v","integer"]`); SELECT then returns the values of the first type in
 *   float, integer, string, boolean order.
 * - A field and a tag may share a name; `SELECT *` then names the field `x` and the tag `x_1`.
 */
import type { QueryOptions } from '../../options/index.js';
import { quoteIdentifier } from '../influxql.js';
import type { QueryResponse, Series } from '../response.js';

/** Runs InfluxQL and resolves to the raw JSON answer (`client.query` in `raw` output). */
export type RunQuery = (q: string, options?: Pick<QueryOptions, 'db'>) => Promise<QueryResponse>;

export type InfluxFieldType = 'float' | 'integer' | 'string' | 'boolean';

/** The field types and tag keys of one measurement. */
export interface MeasurementSchema {
  fields: ReadonlyMap<string, InfluxFieldType>;
  tags: ReadonlySet<string>;
}

/** `{ measurement: { tagKey: [values] } }` (null-prototype objects: any name is a safe key). */
export type TagInfo = Record<string, Record<string, string[]>>;

const kFieldTypeOrder: readonly InfluxFieldType[] = ['float', 'integer', 'string', 'boolean'];

function isFieldType(t: unknown): t is InfluxFieldType {
  return t === 'float' || t === 'integer' || t === 'string' || t === 'boolean';
}

function seriesOf(resp: QueryResponse, statement: number): Series[] {
  return resp.results.find((r) => r.statement_id === statement)?.series ?? resp.results[statement]?.series ?? [];
}

function dict<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/**
 * aioinflux's `get_tag_info`: every tag key and value of every measurement of the database, as
 * `{ measurement: { tagKey: [values] } }`. One request with two statements (`SHOW TAG KEYS;
 * SHOW TAG VALUES WITH KEY =~ /.*\/`), whatever the number of measurements.
 */
export async function getTagInfo(run: RunQuery, db?: string): Promise<TagInfo> {
  const resp = await run('SHOW TAG KEYS; SHOW TAG VALUES WITH KEY =~ /.*/', db === undefined ? undefined : { db });
  const info = dict<Record<string, string[]>>();
  for (const s of seriesOf(resp, 0)) {
    if (s.name === undefined) continue;
    const keys = (info[s.name] ??= dict<string[]>());
    for (const row of s.values ?? []) if (typeof row[0] === 'string') keys[row[0]] ??= [];
  }
  for (const s of seriesOf(resp, 1)) {
    if (s.name === undefined) continue;
    const keys = (info[s.name] ??= dict<string[]>());
    const ki = s.columns.indexOf('key');
    const vi = s.columns.indexOf('value');
    for (const row of s.values ?? []) {
      const k = row[ki];
      const v = row[vi];
      if (typeof k === 'string' && typeof v === 'string') (keys[k] ??= []).push(v);
    }
  }
  return info;
}

/** Field types from a `SHOW FIELD KEYS` series; a field with several types gets the one SELECT returns. */
function fieldsFrom(series: Series | undefined): Map<string, InfluxFieldType> {
  const found = new Map<string, InfluxFieldType>();
  if (!series) return found;
  const ki = series.columns.indexOf('fieldKey');
  const ti = series.columns.indexOf('fieldType');
  for (const row of series.values ?? []) {
    const k = row[ki];
    const t = row[ti];
    if (typeof k !== 'string' || !isFieldType(t)) continue;
    const prev = found.get(k);
    if (prev === undefined || kFieldTypeOrder.indexOf(t) < kFieldTypeOrder.indexOf(prev)) found.set(k, t);
  }
  return found;
}

function tagsFrom(series: Series | undefined): Set<string> {
  const tags = new Set<string>();
  for (const row of series?.values ?? []) if (typeof row[0] === 'string') tags.add(row[0]);
  return tags;
}

export interface SchemaCacheOptions {
  /** Entries older than this are fetched again (default: kept until `invalidate()`). */
  maxAgeMs?: number;
  /** Measurements per request when many are missing at once (default 100). */
  batchSize?: number;
}

interface Entry {
  at: number;
  schema: Promise<MeasurementSchema>;
}

const kEmptySchema: MeasurementSchema = Object.freeze({ fields: new Map(), tags: new Set() }) as MeasurementSchema;

/**
 * Field types and tag keys per (database, measurement), fetched on first use
 * (`SHOW FIELD KEYS FROM ...; SHOW TAG KEYS FROM ...`, all missing measurements in one request)
 * and kept until `invalidate()` (or `maxAgeMs`). Concurrent lookups share one request; a failed
 * request is not cached.
 */
export class SchemaCache {
  readonly #run: RunQuery;
  readonly #maxAgeMs: number;
  readonly #batchSize: number;
  readonly #entries = new Map<string, Map<string, Entry>>();

  constructor(run: RunQuery, options: SchemaCacheOptions = {}) {
    this.#run = run;
    this.#maxAgeMs = options.maxAgeMs ?? Infinity;
    this.#batchSize = Math.max(1, options.batchSize ?? 100);
  }

  #dbEntries(db: string | undefined): Map<string, Entry> {
    const key = db ?? '';
    let m = this.#entries.get(key);
    if (m === undefined) this.#entries.set(key, (m = new Map()));
    return m;
  }

  #fresh(entry: Entry | undefined): entry is Entry {
    return entry !== undefined && (this.#maxAgeMs === Infinity || performance.now() - entry.at <= this.#maxAgeMs);
  }

  /** The schemas of these measurements, fetching the missing ones in as few requests as possible. */
  async load(measurements: Iterable<string>, db?: string): Promise<Map<string, MeasurementSchema>> {
    const entries = this.#dbEntries(db);
    const missing: string[] = [];
    const wanted = new Set(measurements);
    for (const m of wanted) if (!this.#fresh(entries.get(m))) missing.push(m);
    for (let i = 0; i < missing.length; i += this.#batchSize) {
      const batch = missing.slice(i, i + this.#batchSize);
      const fetched = this.#fetch(batch, db);
      const at = performance.now();
      for (const m of batch) {
        const entry: Entry = { at, schema: fetched.then((all) => all.get(m) ?? kEmptySchema) };
        entries.set(m, entry);
        // Forget failures, so that the next lookup asks again.
        entry.schema.catch(() => {
          if (entries.get(m) === entry) entries.delete(m);
        });
      }
    }
    // Take every promise before the first await: a failure or invalidate() may drop entries meanwhile.
    const pending = [...wanted].map((m) => [m, entries.get(m)!.schema] as const);
    const out = new Map<string, MeasurementSchema>();
    for (const [m, schema] of pending) out.set(m, await schema);
    return out;
  }

  /** The schema of one measurement (empty when the measurement has no data). */
  async get(measurement: string, db?: string): Promise<MeasurementSchema> {
    return (await this.load([measurement], db)).get(measurement)!;
  }

  /**
   * Loads the schemas of every measurement a response's SELECT series name and returns a
   * synchronous lookup for `responseToArrow`. Series without a `time` column (SHOW statements)
   * are skipped: they are not measurements.
   */
  async lookupFor(resp: QueryResponse, db?: string): Promise<(measurement: string) => MeasurementSchema | undefined> {
    const names = new Set<string>();
    for (const st of resp.results) {
      for (const s of st.series ?? []) if (s.name !== undefined && s.columns[0] === 'time') names.add(s.name);
    }
    const schemas = names.size === 0 ? new Map<string, MeasurementSchema>() : await this.load(names, db);
    return (m) => schemas.get(m);
  }

  /** Forgets everything, one database, or one measurement of one database. */
  invalidate(db?: string, measurement?: string): void {
    if (db === undefined && measurement === undefined) {
      this.#entries.clear();
      return;
    }
    const key = db ?? '';
    if (measurement === undefined) this.#entries.delete(key);
    else this.#entries.get(key)?.delete(measurement);
  }

  async #fetch(measurements: string[], db: string | undefined): Promise<Map<string, MeasurementSchema>> {
    const from = measurements.map(quoteIdentifier).join(', ');
    const resp = await this.#run(`SHOW FIELD KEYS FROM ${from}; SHOW TAG KEYS FROM ${from}`, db === undefined ? undefined : { db });
    const fieldSeries = new Map<string, Series>();
    const tagSeries = new Map<string, Series>();
    for (const s of seriesOf(resp, 0)) if (s.name !== undefined) fieldSeries.set(s.name, s);
    for (const s of seriesOf(resp, 1)) if (s.name !== undefined) tagSeries.set(s.name, s);
    const out = new Map<string, MeasurementSchema>();
    for (const m of measurements) out.set(m, { fields: fieldsFrom(fieldSeries.get(m)), tags: tagsFrom(tagSeries.get(m)) });
    return out;
  }
}
