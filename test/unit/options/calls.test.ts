/**
 * Unit tests of src/options/calls.ts: the options of write(), encode() and query(), what they
 * take from the client, and every validation message. No server needed.
 */
import { describe, expect, it } from 'vitest';
import {
  resolveQueryOptions,
  resolveWriteOptions,
  type Precision,
  type QueryOptions,
  type WriteOptions,
} from '../../../src/options/index.js';
import { expectOptionError } from './expect-option-error.js';

describe('resolveWriteOptions', () => {
  const c = { db: 'clientdb', rp: 'clientrp', precision: 'ms' as Precision };
  const write = (o: unknown, cl: { db: string | undefined; rp: string | undefined; precision: Precision } = c) => () => resolveWriteOptions(o as WriteOptions, cl);

  it('inherits db, rp and precision from the client', () => {
    expect(resolveWriteOptions(undefined, c)).toEqual({
      measurement: undefined, db: 'clientdb', rp: 'clientrp', precision: 'ms', tags: undefined, fieldTypes: undefined, allowNewlinesInStrings: false, nonFinite: 'error', invalidRows: 'error', timeColumn: undefined, tagColumns: undefined,
    });
  });

  it('call options override the client', () => {
    const r = resolveWriteOptions({
      db: 'd', rp: 'r', precision: 's', measurement: 'cpu', tags: { host: 'a' }, fieldTypes: { n: 'integer' }, allowNewlinesInStrings: true,
      nonFinite: 'skipField', invalidRows: 'skip', timeColumn: 'ts', tagColumns: ['host'],
    }, c);
    expect(r).toEqual({
      measurement: 'cpu', db: 'd', rp: 'r', precision: 's', tags: { host: 'a' }, fieldTypes: { n: 'integer' }, allowNewlinesInStrings: true,
      nonFinite: 'skipField', invalidRows: 'skip', timeColumn: 'ts', tagColumns: ['host'],
    });
  });

  it('validates the Arrow and skipping options', () => {
    expectOptionError(write({ nonFinite: 'drop' as never }), /write options\.nonFinite must be one of 'error', 'skipField' \(got "drop"\)/);
    expectOptionError(write({ invalidRows: true as never }), /write options\.invalidRows must be one of 'error', 'skip' \(got true\)/);
    expectOptionError(write({ timeColumn: 5 as never }), /write options\.timeColumn must be a string \(got number\)/);
    expectOptionError(write({ tagColumns: 'host' as never }), /write options\.tagColumns must be an array of column names \(got string\)/);
    expectOptionError(write({ tagColumns: ['a', 1] as never }), /write options\.tagColumns must be an array of column names/);
  });

  it('accepts precision aliases', () => {
    expect(resolveWriteOptions({ precision: 'ns' as Precision }, c).precision).toBe('n');
    expect(resolveWriteOptions({ precision: 'us' as Precision }, c).precision).toBe('u');
  });

  it('treats an empty tags object as no tags', () => {
    expect(resolveWriteOptions({ tags: {} }, c).tags).toBeUndefined();
  });

  it('rejects a non-object', () => {
    expectOptionError(write('db'), /write options must be an object \(got string\)/);
    expectOptionError(write([]), /write options must be an object \(got array\)/);
  });

  it('rejects unknown option names', () => {
    expectOptionError(write({ database: 'x' }), /unknown write option "database" \(known: measurement, precision, tags, fieldTypes, allowNewlinesInStrings, nonFinite, invalidRows, timeColumn, tagColumns, db, rp, encoder\)/);
  });

  it('rejects wrong types', () => {
    expectOptionError(write({ measurement: 1 }), /write options\.measurement must be a string \(got number\)/);
    expectOptionError(write({ db: true }), /write options\.db must be a string \(got boolean\)/);
    expectOptionError(write({ rp: {} }), /write options\.rp must be a string \(got object\)/);
    expectOptionError(write({ allowNewlinesInStrings: 'yes' }), /write options\.allowNewlinesInStrings must be a boolean \(got string\)/);
  });

  it('needs a database from the call or the client', () => {
    expectOptionError(write({}, { db: undefined, rp: undefined, precision: 'n' }), /no database: set db on the client .* or pass \{ db \} to write\(\)/);
    expectOptionError(write({ db: '' }, { db: undefined, rp: undefined, precision: 'n' }), /no database/);
  });

  it('rejects a bad precision', () => {
    expectOptionError(write({ precision: 'd' }), /write options\.precision must be one of n, u, ms, s, m, h \(got string "d"\)/);
  });

  it('rejects bad tags', () => {
    expectOptionError(write({ tags: 'host=a' }), /write options\.tags must be an object \(got string\)/);
    expectOptionError(write({ tags: { host: 1 } }), /write options\.tags\.host must be a string \(got number\)/);
    expectOptionError(write({ tags: { host: null } }), /write options\.tags\.host must be a string \(got null\)/);
  });

  it('rejects bad fieldTypes', () => {
    expectOptionError(write({ fieldTypes: ['integer'] }), /write options\.fieldTypes must be an object \(got array\)/);
    expectOptionError(write({ fieldTypes: { n: 'int' } }), /write options\.fieldTypes\.n must be one of float, integer, string, boolean \(got "int"\)/);
    expectOptionError(write({ fieldTypes: { n: 5 } }), /write options\.fieldTypes\.n must be one of float, integer, string, boolean \(got 5\)/);
    expectOptionError(write({ fieldTypes: { n: {} } }), /write options\.fieldTypes\.n must be one of .* \(got object\)/);
  });
});

describe('resolveQueryOptions', () => {
  const c = { db: 'clientdb', rp: undefined, output: 'raw' as const };
  const query = (o: unknown) => () => resolveQueryOptions(o as QueryOptions, c);

  it('inherits db and rp; no epoch, not chunked by default', () => {
    expect(resolveQueryOptions(undefined, c)).toEqual({
      db: 'clientdb', rp: undefined, epoch: undefined, params: undefined, chunked: false, chunkSize: undefined, output: 'raw', parser: undefined, columnTypes: undefined,
    });
  });

  it('accepts all options, epoch aliases and every param type', () => {
    const params = { s: 'x', n: 1.5, b: 2n, t: true };
    const r = resolveQueryOptions({ db: 'd', rp: 'r', epoch: 'ns' as Precision, params, chunked: true, chunkSize: 100 }, c);
    expect(r).toEqual({ db: 'd', rp: 'r', epoch: 'n', params, chunked: true, chunkSize: 100, output: 'raw', parser: undefined, columnTypes: undefined });
    expect(resolveQueryOptions({ epoch: 'ms' }, c).epoch).toBe('ms');
  });

  it('rejects a non-object', () => {
    expectOptionError(query(5), /query options must be an object \(got number\)/);
  });

  it('rejects unknown option names', () => {
    expectOptionError(query({ precision: 'n' }), /unknown query option "precision" \(known: db, rp, epoch, params, chunked, chunkSize, maxResponseBytes, output, parser, columnTypes\)/);
  });

  it('rejects wrong types', () => {
    expectOptionError(query({ db: 1 }), /query options\.db must be a string \(got number\)/);
    expectOptionError(query({ rp: 1 }), /query options\.rp must be a string \(got number\)/);
    expectOptionError(query({ chunked: 'true' }), /query options\.chunked must be a boolean \(got string\)/);
  });

  it('rejects a bad epoch', () => {
    expectOptionError(query({ epoch: 'rfc3339' }), /query options\.epoch must be one of n, u, ms, s, m, h \(got string "rfc3339"\)/);
  });

  it('rejects bad params', () => {
    expectOptionError(query({ params: [] }), /query options\.params must be an object \(got array\)/);
    expectOptionError(query({ params: { a: null } }), /query options\.params\.a must be a string, number, bigint or boolean \(got null\)/);
    expectOptionError(query({ params: { a: { x: 1 } } }), /query options\.params\.a must be a string, number, bigint or boolean \(got object\)/);
    expectOptionError(query({ params: { a: Number.NaN } }), /query options\.params\.a must be finite \(got NaN\)/);
    expectOptionError(query({ params: { a: -Infinity } }), /query options\.params\.a must be finite \(got -Infinity\)/);
  });

  it('rejects chunkSize out of range or without chunked', () => {
    expectOptionError(query({ chunked: true, chunkSize: 0 }), /query options\.chunkSize must be an integer from 1 to 2147483647 \(got number 0\)/);
    expectOptionError(query({ chunked: true, chunkSize: 1.5 }), /query options\.chunkSize must be an integer from 1 to 2147483647/);
    expectOptionError(query({ chunkSize: 10 }), /query options\.chunkSize needs chunked: true/);
  });
});

describe('encode() options', () => {
  it('validates like write options, without db and rp', async () => {
    const { encode } = await import('../../../src/encode/encode.js');
    const { resolveEncodeOptions } = await import('../../../src/options/index.js');
    expect(resolveEncodeOptions(undefined)).toEqual({ measurement: undefined, precision: 'n', tags: undefined, fieldTypes: undefined, allowNewlinesInStrings: false, nonFinite: 'error', invalidRows: 'error', timeColumn: undefined, tagColumns: undefined });
    expect(() => encode({ fields: { v: 1 } }, { db: 'x' } as never)).toThrow(/unknown encode option "db"/);
    expect(() => encode({ fields: { v: 1 } }, { tags: { t: {} } } as never)).toThrow(/encode options\.tags\.t must be a string \(got object\)/);
    expect(() => encode({ fields: { v: 1 } }, { precision: 'x' } as never)).toThrow(/encode options\.precision must be one of n, u, ms, s, m, h/);
    expect(() => encode({ fields: { v: 1 } }, 'ms' as never)).toThrow(/encode options must be an object \(got string\)/);
    expect(encode({ fields: { v: 1 }, time: 5 }, { measurement: 'm', precision: 's' }).toString()).toBe('m v=1 5\n');
  });
});
