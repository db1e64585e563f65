/**
 * JSON for NDJSON input, exact: every integer literal (no fraction, no exponent) becomes a
 * `bigint`, whatever its size, and every other number a `number`. `JSON.parse` cannot tell `1`
 * from `1.0` nor keep 2^63 - 1, and the loader needs both: an integer literal is an int64
 * field, a literal with a fraction a float field.
 */

const C_QUOTE = 0x22;
const C_BACKSLASH = 0x5c;
const C_COMMA = 0x2c;
const C_COLON = 0x3a;
const C_LBRACE = 0x7b;
const C_RBRACE = 0x7d;
const C_LBRACKET = 0x5b;
const C_RBRACKET = 0x5d;
const C_MINUS = 0x2d;
const C_0 = 0x30;
const C_9 = 0x39;

export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | { [key: string]: JsonValue };

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what?: string): never {
    const t = this.text;
    if (what === undefined) what = this.pos >= t.length ? 'unexpected end of the line' : `unexpected ${JSON.stringify(t[this.pos])}`;
    throw new SyntaxError(`${what} at column ${this.pos + 1}`);
  }

  ws(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = t.charCodeAt(++this.pos);
  }

  value(depth: number): JsonValue {
    if (depth > 64) this.fail('nested too deeply');
    this.ws();
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === C_QUOTE) return this.string();
    if (c === C_LBRACE) return this.object(depth);
    if (c === C_LBRACKET) return this.array(depth);
    if (c === C_MINUS || (c >= C_0 && c <= C_9)) return this.number();
    if (t.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (t.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (t.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail();
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) {
        this.pos = i;
        this.fail('unterminated string');
      }
      if (c === C_QUOTE) break;
      if (c === C_BACKSLASH) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail('control character in a string');
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return t.slice(start + 1, i);
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid escape in a string');
    }
  }

  number(): number | bigint {
    const t = this.text;
    const start = this.pos;
    let i = start;
    if (t.charCodeAt(i) === C_MINUS) i++;
    const intStart = i;
    while (t.charCodeAt(i) >= C_0 && t.charCodeAt(i) <= C_9) i++;
    if (i === intStart || (t.charCodeAt(intStart) === C_0 && i - intStart > 1)) {
      this.pos = start;
      this.fail('invalid number');
    }
    let integer = true;
    if (t.charCodeAt(i) === 0x2e) {
      integer = false;
      const f = ++i;
      while (t.charCodeAt(i) >= C_0 && t.charCodeAt(i) <= C_9) i++;
      if (i === f) {
        this.pos = i;
        this.fail('invalid number');
      }
    }
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      if (t.charCodeAt(i) === 0x2b || t.charCodeAt(i) === C_MINUS) i++;
      const d = i;
      while (t.charCodeAt(i) >= C_0 && t.charCodeAt(i) <= C_9) i++;
      if (i === d) {
        this.pos = i;
        this.fail('invalid number');
      }
    }
    this.pos = i;
    const s = t.slice(start, i);
    return integer ? BigInt(s) : Number(s);
  }

  /** Whitespace, then `close` (consumed: true) or not (false). */
  endsAt(close: number): boolean {
    this.ws();
    if (this.text.charCodeAt(this.pos) !== close) return false;
    this.pos++;
    return true;
  }

  /** After a member or an element: `close` (true: the end) or `,` (false: another follows), consumed. */
  endsAfterItem(close: number, expected: string): boolean {
    if (this.endsAt(close)) return true;
    if (this.text.charCodeAt(this.pos) !== C_COMMA) this.fail(expected);
    this.pos++;
    return false;
  }

  object(depth: number): { [key: string]: JsonValue } {
    const t = this.text;
    this.pos++;
    const out: { [key: string]: JsonValue } = {};
    if (this.endsAt(C_RBRACE)) return out;
    do {
      this.ws();
      if (t.charCodeAt(this.pos) !== C_QUOTE) this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (t.charCodeAt(this.pos) !== C_COLON) this.fail('expected ":"');
      this.pos++;
      const v = this.value(depth + 1);
      // Own data property even for "__proto__" (as JSON.parse does).
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    } while (!this.endsAfterItem(C_RBRACE, 'expected "," or "}"'));
    return out;
  }

  array(depth: number): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    if (this.endsAt(C_RBRACKET)) return out;
    do out.push(this.value(depth + 1));
    while (!this.endsAfterItem(C_RBRACKET, 'expected "," or "]"'));
    return out;
  }
}

/** Parses one JSON text; integer literals become `bigint`s. Throws a SyntaxError naming the column. */
export function parseJsonExact(text: string): JsonValue {
  const p = new Parser(text);
  const v = p.value(0);
  p.ws();
  if (p.pos < text.length) p.fail();
  return v;
}

/** JSON text of a value in which bigints are written as integer literals (exact). */
export function stringifyJson(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyJson).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyJson(x)}`);
    return `{${parts.join(',')}}`;
  }
  return 'null';
}
