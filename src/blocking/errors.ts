/**
 * Errors across the thread boundary of the blocking mode. Structured clone keeps an Error's
 * message but not its class nor its own properties (`code`, `status`, `pointIndex` …), so the
 * worker sends a plain description and the calling thread rebuilds an instance of the same
 * class, with the same `code`, `message` and properties. Nothing here is specific to one class:
 * every own property that can be cloned goes across, nested errors (`cause`, `errors`) too.
 * @module
 */
import * as errors from '../errors.js';

/** An error as it crosses to the calling thread. */
export interface SerializedError {
  readonly $error: true;
  /** Constructor names from the error's own class up to `Error`: the first one known is rebuilt. */
  readonly classes: string[];
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties (code, name, status …), nested errors serialized. */
  readonly props: Record<string, unknown>;
  readonly cause?: unknown;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every class a rebuilt error can have: this package's errors (errors.ts holds every one), then JavaScript's own. */
const kClasses = new Map<string, ErrorClass>();
for (const v of Object.values(errors)) if (typeof v === 'function' && v.prototype instanceof Error) kClasses.set(v.name, v as ErrorClass);
for (const c of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]) kClasses.set(c.name, c);

function isError(v: unknown): v is Error {
  return v instanceof Error || (typeof v === 'object' && v !== null && typeof (v as Error).message === 'string' && typeof (v as Error).stack === 'string');
}

function cloneable(v: unknown): boolean {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')) return true;
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

/** Any value of an error property, errors inside made serializable; `undefined` when it cannot cross. */
function serializeValue(v: unknown, depth: number): unknown {
  if (isError(v)) return serializeError(v, depth + 1);
  if (Array.isArray(v) && v.some(isError)) return v.map((x) => serializeValue(x, depth));
  return cloneable(v) ? v : undefined;
}

/** The worker's side: a description of `err` that structured clone carries whole. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!isError(err)) {
    return { $error: true, classes: ['Error'], message: `non-error thrown: ${String(err)}`, stack: undefined, props: {} };
  }
  const classes: string[] = [];
  for (let p = Object.getPrototypeOf(err) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string') classes.push(name);
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    const v = serializeValue((err as unknown as Record<string, unknown>)[key], depth);
    if (v !== undefined) props[key] = v;
  }
  // Errors made by Node and undici often keep `code` and `name` on the prototype or as getters.
  if (props.name === undefined && err.name !== 'Error') props.name = err.name;
  const code = (err as { code?: unknown }).code;
  if (props.code === undefined && (typeof code === 'string' || typeof code === 'number')) props.code = code;
  const out: SerializedError = { $error: true, classes, message: String(err.message), stack: err.stack, props };
  if ('cause' in err && err.cause !== undefined && depth < 8) {
    const cause = serializeValue(err.cause, depth);
    if (cause !== undefined) return { ...out, cause };
  }
  return out;
}

export function isSerializedError(v: unknown): v is SerializedError {
  return typeof v === 'object' && v !== null && (v as SerializedError).$error === true && Array.isArray((v as SerializedError).classes);
}

function rebuildValue(v: unknown, callSite: string | undefined): unknown {
  if (isSerializedError(v)) return rebuildError(v, callSite);
  if (Array.isArray(v) && v.some(isSerializedError)) return v.map((x) => rebuildValue(x, callSite));
  return v;
}

/**
 * The calling thread's side: an instance of the same class (the first of `classes` known here).
 * `Reflect.construct(Error, …, Class)` makes a real Error (native stack, `util.types.isNativeError`)
 * whose prototype is the class's, without running the class's constructor (whose arguments
 * differ per class); the own properties are then copied as they were. The stack is the worker's,
 * followed by the frames of the blocking call that received it.
 */
export function rebuildError(s: SerializedError, callSite?: string): Error {
  const cls = s.classes.map((c) => kClasses.get(c)).find((c) => c !== undefined) ?? Error;
  const base = cls.prototype instanceof TypeError || cls === TypeError ? TypeError
    : cls.prototype instanceof RangeError || cls === RangeError ? RangeError : Error;
  const err = Reflect.construct(base, [s.message], cls) as Error;
  for (const [k, v] of Object.entries(s.props)) {
    Object.defineProperty(err, k, { value: rebuildValue(v, undefined), writable: true, enumerable: true, configurable: true });
  }
  if (s.cause !== undefined) {
    Object.defineProperty(err, 'cause', { value: rebuildValue(s.cause, undefined), writable: true, enumerable: false, configurable: true });
  }
  if (s.stack !== undefined) {
    const stack = callSite === undefined ? s.stack : `${s.stack}\n    --- in the blocking mode's worker thread, called from:\n${callSite}`;
    Object.defineProperty(err, 'stack', { value: stack, writable: true, enumerable: false, configurable: true });
  }
  return err;
}
