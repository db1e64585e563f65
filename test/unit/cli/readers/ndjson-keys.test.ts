/**
 * The loader's NDJSON reader: every key of a record is data. "__proto__" (an own key of the parsed
 * JSON) becomes a tag or field like any other, rather than vanishing into the prototype of the
 * object it was copied to; a field named like an Object.prototype member ("constructor",
 * "toString") is typed from its values, not by Object.prototype's member; only own properties
 * reach the line protocol, with Object.prototype polluted or not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openNdjsonReader } from '../../../../src/cli/readers/ndjson.js';
import type { ReaderOptions } from '../../../../src/cli/readers/index.js';
import { encode } from '../../../../src/encode/encode.js';
import type { Point } from '../../../../src/encode/point-encoder.js';

const dir = mkdtempSync(join(tmpdir(), 'fi-ndjson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Reads `text` as an NDJSON file; the points, as line protocol, and the rejects. */
async function load(text: string, o: Partial<ReaderOptions> = {}): Promise<{ lines: string[]; rejects: string[] }> {
  const path = join(dir, `in${n++}.ndjson`);
  writeFileSync(path, text);
  const rejects: string[] = [];
  const reader = openNdjsonReader({
    path, label: 'in', gzip: false, tabs: false, chunkRows: 1000, maxLineBytes: 1 << 20, precision: 'n',
    measurement: 'm', tagColumns: [], timeColumn: undefined, fieldTypes: {}, reject: (where, reason) => rejects.push(`${where}: ${reason}`), ...o,
  });
  const points: Point[] = [];
  for await (const c of reader.chunks()) if (c.kind === 'points') points.push(...c.points);
  await reader.close();
  const lines = points.length === 0 ? [] : encode(points, { precision: 'n', encoder: 'ts' }).toString().split('\n').filter(Boolean);
  return { lines, rejects };
}

describe('NDJSON keys that name Object.prototype members', () => {
  it('"__proto__" is a field and a tag like any other (flat records and point objects)', async () => {
    const { lines, rejects } = await load([
      '{"time": 1, "__proto__": 5, "v": 1}',
      '{"measurement": "p", "time": 2, "tags": {"__proto__": "t"}, "fields": {"__proto__": "s", "v": 2}}',
    ].join('\n'), {});
    expect(rejects).toEqual([]);
    expect(lines).toEqual(['m __proto__=5i,v=1i 1', 'p,__proto__=t __proto__="s",v=2i 2']);
  });

  it('fields named constructor or toString are typed from their values', async () => {
    const { lines, rejects } = await load('{"time": 1, "constructor": 1.5, "toString": "x", "valueOf": true}\n');
    expect(rejects).toEqual([]);
    expect(lines).toEqual(['m constructor=1.5,toString="x",valueOf=true 1']);
  });

  it('a polluted Object.prototype adds nothing to the points', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = 'evil';
    let out: Awaited<ReturnType<typeof load>> | undefined;
    try {
      out = await load('{"time": 1, "host": "a", "v": 1}\n{"measurement": "p", "time": 2, "tags": {"host": "b"}, "fields": {"v": 2}}\n', { tagColumns: ['host'] });
    } finally {
      delete proto.injected;
    }
    expect(out?.rejects).toEqual([]);
    expect(out?.lines).toEqual(["m,host=a v=1i 1", "p,host=b v=2i 2"]);
  });
});
