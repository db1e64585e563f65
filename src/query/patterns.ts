/**
 * Query patterns, as in aioinflux: query strings with `{name}` replacement fields, filled from
 * positional and named arguments (`client.showTagValuesFrom('cpu', { key: 'host' })`).
 *
 * Unlike aioinflux, every value is quoted for where it stands, so no argument can inject a statement:
 * - `{name}` or `{name:ident}`: a double-quoted identifier (`"cpu"`);
 * - inside double quotes (`"{name}"`, `"cpu_{name}"`: aioinflux's style): escaped as an identifier;
 * - inside single quotes (`'{name}'`, `'host-{name}'`): escaped as a string literal;
 * - inside a regex literal (`/^{name}$/`): refused, as no escaping makes user text safe there;
 * - `{name:literal}`: a literal chosen by type (string quoted, number, boolean, Date);
 * - `{name:string}`, `{name:number}`, `{name:duration}`: a literal of that kind only.
 * `{{` and `}}` stand for literal braces.
 */
import { InvalidQueryError } from '../errors.js';
import { checkDuration, escapeIdentifier, escapeString, formatNumberLiteral, quoteLiteral } from './influxql.js';

export type PatternValue = string | number | bigint | boolean | Date;
export type PatternArgs = Array<PatternValue | Record<string, PatternValue | undefined> | undefined>;

type Kind = 'ident' | 'ident-inner' | 'string-inner' | 'literal' | 'string' | 'number' | 'duration';
const kKinds = new Set(['ident', 'literal', 'string', 'number', 'duration']);

type Part = string | { name: string; kind: Kind };

export interface CompiledPattern {
  readonly source: string;
  readonly parts: readonly Part[];
  /** Field names in order of first appearance: the order positional arguments fill them. */
  readonly fields: readonly string[];
}

/** Where the scanner of a pattern's text stands: outside quotes, or inside one kind of them. */
type Context = 'outside' | 'single' | 'double' | 'regex';

/**
 * A `/` opens a regex literal in InfluxQL only after `=~`, `!~`, `FROM` or a comma in a FROM list;
 * elsewhere it divides. Conservative: any `/` after those tokens counts as a regex.
 */
function opensRegex(text: string): boolean {
  const t = text.trimEnd();
  return /(=~|!~|,)$/.test(t) || /\bFROM$/i.test(t);
}

export function compilePattern(source: string): CompiledPattern {
  if (typeof source !== 'string') throw new InvalidQueryError(`a query pattern must be a string (got ${typeof source})`);
  const bad = (why: string): never => {
    throw new InvalidQueryError(`query pattern ${JSON.stringify(source)}: ${why}`);
  };
  const parts: Part[] = [];
  const fields: string[] = [];
  // All literal text so far (for the regex rule) and the text of the current part.
  let all = '';
  let text = '';
  let ctx: Context = 'outside';
  let i = 0;
  const emit = (s: string): void => {
    text += s;
    all += s;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '{' && source[i + 1] === '{') {
      emit('{');
      i += 2;
      continue;
    }
    if (c === '}' && source[i + 1] === '}') {
      emit('}');
      i += 2;
      continue;
    }
    if (c === '}') bad(`unmatched "}" at ${i} (write }} for a literal brace)`);
    if (c !== '{') {
      // Track quoting so that a field is escaped for the context it stands in, wherever in it.
      if (ctx !== 'outside' && c === '\\') {
        emit(source.slice(i, i + 2));
        i += 2;
        continue;
      }
      if (ctx === 'outside') {
        if (c === "'") ctx = 'single';
        else if (c === '"') ctx = 'double';
        else if (c === '/' && opensRegex(all)) ctx = 'regex';
      } else if ((ctx === 'single' && c === "'") || (ctx === 'double' && c === '"') || (ctx === 'regex' && c === '/')) {
        ctx = 'outside';
      }
      emit(c);
      i++;
      continue;
    }
    const end = source.indexOf('}', i);
    if (end === -1) bad(`unclosed "{" at ${i}`);
    const spec = source.slice(i + 1, end);
    const [name, kindText, ...rest] = spec.split(':') as [string, string | undefined, ...string[]];
    if (rest.length > 0) bad(`bad field {${spec}} (one ":kind" at most)`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) bad(`bad field name ${JSON.stringify(name)}`);
    if (kindText !== undefined && !kKinds.has(kindText)) bad(`unknown field kind ${JSON.stringify(kindText)} (use ${[...kKinds].join(', ')})`);
    let kind: Kind;
    if (ctx === 'regex') return bad(`field {${name}} stands inside a regex literal, which cannot be quoted safely: match with {${name}:literal} and = instead`);
    if (ctx === 'single' || ctx === 'double') {
      if (kindText !== undefined) bad(`field {${spec}} stands inside quotes: drop the ":${kindText}" (its quoting comes from the quotes)`);
      kind = ctx === 'single' ? 'string-inner' : 'ident-inner';
    } else {
      kind = (kindText as Kind | undefined) ?? 'ident';
    }
    if (text) parts.push(text);
    text = '';
    all += '\0';
    parts.push({ name, kind });
    if (!fields.includes(name)) fields.push(name);
    i = end + 1;
  }
  if (ctx !== 'outside') bad(`unclosed ${ctx === 'regex' ? 'regex' : 'quote'}`);
  if (text) parts.push(text);
  return { source, parts, fields };
}

function isNamedArgs(x: unknown): x is Record<string, PatternValue | undefined> {
  return typeof x === 'object' && x !== null && !(x instanceof Date);
}

function render(value: PatternValue, kind: Kind, name: string): string {
  const what = `query pattern field {${name}}`;
  switch (kind) {
    case 'ident':
    case 'ident-inner': {
      if (typeof value !== 'string') throw new InvalidQueryError(`${what} is a name and must be a string (got ${typeof value})`);
      const inner = escapeIdentifier(value);
      return kind === 'ident' ? `"${inner}"` : inner;
    }
    case 'string-inner':
      if (typeof value !== 'string') throw new InvalidQueryError(`${what} must be a string (got ${typeof value})`);
      return escapeString(value);
    case 'string':
      if (typeof value !== 'string') throw new InvalidQueryError(`${what} must be a string (got ${typeof value})`);
      return quoteLiteral(value);
    case 'number':
      if (typeof value !== 'number' && typeof value !== 'bigint') throw new InvalidQueryError(`${what} must be a number (got ${typeof value})`);
      return formatNumberLiteral(value);
    case 'duration':
      if (typeof value !== 'string' && typeof value !== 'number') throw new InvalidQueryError(`${what} must be a duration (got ${typeof value})`);
      return checkDuration(value);
    case 'literal':
      return quoteLiteral(value);
  }
}

/**
 * Fills a pattern. The last argument, when it is a plain object, holds named values; the other
 * arguments fill the remaining fields in order. `defaults` supplies values for fields left
 * unset (the client's current `db`).
 */
export function renderPattern(p: CompiledPattern, args: PatternArgs, defaults: Record<string, PatternValue | undefined> = {}): string {
  let positional = args;
  let named: Record<string, PatternValue | undefined> = {};
  const last = args[args.length - 1];
  if (args.length > 0 && isNamedArgs(last)) {
    named = last;
    positional = args.slice(0, -1);
  }
  for (const key of Object.keys(named)) {
    if (!p.fields.includes(key)) throw new InvalidQueryError(`query pattern ${JSON.stringify(p.source)} has no field {${key}}`);
  }
  const values = new Map<string, PatternValue>();
  for (const [k, v] of Object.entries(named)) if (v !== undefined) values.set(k, v);
  let next = 0;
  for (const name of p.fields) {
    if (values.has(name)) continue;
    if (next < positional.length) {
      const v = positional[next++];
      if (isNamedArgs(v)) throw new InvalidQueryError('named values must come last, in one object');
      if (v !== undefined) values.set(name, v);
    }
  }
  if (next < positional.length) {
    throw new InvalidQueryError(`query pattern ${JSON.stringify(p.source)} takes ${p.fields.length} value(s), got ${positional.length} positional`);
  }
  let out = '';
  for (const part of p.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = values.get(part.name) ?? (Object.hasOwn(defaults, part.name) ? defaults[part.name] : undefined);
    if (v === undefined) throw new InvalidQueryError(`query pattern ${JSON.stringify(p.source)}: no value for {${part.name}}`);
    out += render(v, part.kind, part.name);
  }
  return out;
}
