/**
 * Query patterns as client methods: aioinflux's built-in pattern table, the methods bound to it
 * (`createDatabase()`, `showTagValuesFrom()` …), `setQueryPattern` and `renderQueryPattern`.
 * Patterns are compiled and rendered by patterns.ts; the client extends `PatternMethods` and
 * runs them (`queryPattern`, in its mode).
 */
import { InvalidOptionError, InvalidQueryError } from '../errors.js';
import { typeName, type ClientMode } from '../options/index.js';
import type { OutputOption } from './output/index.js';
import { compilePattern, renderPattern, type CompiledPattern, type PatternArgs } from './patterns.js';
import type { ModeResult, QueryResult } from './results.js';

/** Query patterns bound as methods: positional values, then optionally one object of named values. */
export type PatternMethod<O extends OutputOption = 'raw', M extends ClientMode = 'async'> = (...args: PatternArgs) => ModeResult<M, QueryResult<O>>;

// aioinflux's built-in patterns (aioinflux 0.3 and 0.9), camelCased. Optional FROM clauses get two forms.
const kBuiltinPatterns = {
  createDatabase: 'CREATE DATABASE {db}',
  dropDatabase: 'DROP DATABASE {db}',
  dropMeasurement: 'DROP MEASUREMENT {measurement}',
  showDatabases: 'SHOW DATABASES',
  showMeasurements: 'SHOW MEASUREMENTS',
  showUsers: 'SHOW USERS',
  showSeries: 'SHOW SERIES',
  showSeriesFrom: 'SHOW SERIES FROM {measurement}',
  showTagKeys: 'SHOW TAG KEYS',
  showTagKeysFrom: 'SHOW TAG KEYS FROM {measurement}',
  showFieldKeys: 'SHOW FIELD KEYS',
  showFieldKeysFrom: 'SHOW FIELD KEYS FROM {measurement}',
  showTagValues: 'SHOW TAG VALUES WITH KEY = {key}',
  showTagValuesFrom: 'SHOW TAG VALUES FROM {measurement} WITH KEY = {key}',
  showRetentionPolicies: 'SHOW RETENTION POLICIES ON {db}',
  showContinuousQueries: 'SHOW CONTINUOUS QUERIES',
} as const;

const kCompiledBuiltins = new Map<string, CompiledPattern>(
  Object.entries(kBuiltinPatterns).map(([name, source]) => [name, compilePattern(source)]),
);

/** The pattern methods of a client whose output format is `O` and mode `M`. */
export abstract class PatternMethods<O extends OutputOption, M extends ClientMode> {
  readonly #patterns = new Map<string, CompiledPattern>(kCompiledBuiltins);

  /** The database a pattern's `{db}` stands for when no value is given. */
  abstract get db(): string | undefined;

  /** Runs a registered pattern (built-in or added with `setQueryPattern`), in the client's output format. */
  abstract queryPattern(name: string, ...args: PatternArgs): ModeResult<M, QueryResult<O>>;

  /**
   * Adds a query pattern as a method of this client (aioinflux's `set_query_pattern`).
   * `{name}` fields are quoted for where they stand (see `patterns.ts`): no argument can
   * inject a statement.
   */
  setQueryPattern(name: string, pattern: string): PatternMethod<O, M> {
    if (typeof name !== 'string' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) throw new InvalidOptionError(`query pattern name must be a JavaScript identifier (got ${typeof name === 'string' ? JSON.stringify(name) : typeName(name)})`);
    const refused = patternNameRefusal(this, name, this.#patterns.has(name));
    if (refused !== undefined) throw new InvalidOptionError(`query pattern name "${name}" is refused: ${refused}`);
    const compiled = compilePattern(pattern);
    this.#patterns.set(name, compiled);
    const method: PatternMethod<O, M> = (...args) => this.queryPattern(name, ...args);
    Object.defineProperty(this, name, { value: method, configurable: true, enumerable: false, writable: false });
    return method;
  }

  /** Renders a registered pattern with the given values, without running it. */
  renderQueryPattern(name: string, ...args: PatternArgs): string {
    const p = this.#patterns.get(name);
    if (!p) throw new InvalidQueryError(`no query pattern named "${name}"`);
    return renderPattern(p, args, { db: this.db });
  }

  createDatabase(db?: string | { db?: string }): ModeResult<M, QueryResult<O>> { return this.queryPattern('createDatabase', db); }
  dropDatabase(db?: string | { db?: string }): ModeResult<M, QueryResult<O>> { return this.queryPattern('dropDatabase', db); }
  dropMeasurement(measurement: string | { measurement: string }): ModeResult<M, QueryResult<O>> { return this.queryPattern('dropMeasurement', measurement); }
  showDatabases(): ModeResult<M, QueryResult<O>> { return this.queryPattern('showDatabases'); }
  showMeasurements(): ModeResult<M, QueryResult<O>> { return this.queryPattern('showMeasurements'); }
  showUsers(): ModeResult<M, QueryResult<O>> { return this.queryPattern('showUsers'); }
  /** `SHOW SERIES`, or `SHOW SERIES FROM "measurement"`. */
  showSeries(measurement?: string | { measurement?: string }): ModeResult<M, QueryResult<O>> { return this.#optionalFrom('showSeries', measurement); }
  showTagKeys(measurement?: string | { measurement?: string }): ModeResult<M, QueryResult<O>> { return this.#optionalFrom('showTagKeys', measurement); }
  showFieldKeys(measurement?: string | { measurement?: string }): ModeResult<M, QueryResult<O>> { return this.#optionalFrom('showFieldKeys', measurement); }
  /** `SHOW TAG VALUES WITH KEY = "key"`. */
  showTagValues(key: string | { key: string }): ModeResult<M, QueryResult<O>> { return this.queryPattern('showTagValues', key); }
  /** `SHOW TAG VALUES FROM "measurement" WITH KEY = "key"`: `showTagValuesFrom('cpu', { key: 'host' })`. */
  showTagValuesFrom(...args: PatternArgs): ModeResult<M, QueryResult<O>> { return this.queryPattern('showTagValuesFrom', ...args); }
  showRetentionPolicies(db?: string | { db?: string }): ModeResult<M, QueryResult<O>> { return this.queryPattern('showRetentionPolicies', db); }
  showContinuousQueries(): ModeResult<M, QueryResult<O>> { return this.queryPattern('showContinuousQueries'); }

  #optionalFrom(base: string, measurement: string | { measurement?: string } | undefined): ModeResult<M, QueryResult<O>> {
    const m = typeof measurement === 'object' && measurement !== null ? measurement.measurement : measurement;
    return m === undefined ? this.queryPattern(base) : this.queryPattern(`${base}From`, m);
  }
}

/** Promise methods: a client with one of them as a pattern would be taken for a promise. */
const kPromiseProtocol = new Set(['then', 'catch', 'finally']);

/**
 * Why `name` cannot be a query pattern of `client`, or undefined. A pattern becomes an own
 * property of the client, so it must shadow none of its members (its class's methods and
 * accessors, Object.prototype's: `constructor`, `toString`, `__proto__` …) and must not make
 * the client a thenable (`then`: `await client`, or an async function returning the client,
 * would never settle). A pattern already registered (a built-in one) may be replaced.
 */
function patternNameRefusal(client: object, name: string, registered: boolean): string | undefined {
  if (kPromiseProtocol.has(name)) {
    return `a client with a "${name}" method would look like a promise (a thenable): awaiting it, or returning it from an async function, would never settle`;
  }
  if (registered) return undefined;
  for (let o: object | null = client; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const d = Object.getOwnPropertyDescriptor(o, name);
    if (d === undefined) continue;
    const kind = d.get !== undefined || d.set !== undefined ? 'property' : typeof d.value === 'function' ? 'method' : 'property';
    const owner = o === Object.prototype ? 'inherited from Object.prototype' : o === client ? 'of this client' : "of the client's class";
    return `it would hide a client ${kind} ("${name}", ${owner}); choose another name`;
  }
  return undefined;
}
