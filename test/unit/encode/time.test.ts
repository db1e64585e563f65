/**
 * Exact timestamps (src/encode/time.ts and the time handling of the point encoder):
 * ISO parsing and formatting round trips, zones, local-time independence, and precision
 * conversion with floor semantics (also before 1970).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../../src/encode/encode.js';
import { daysFromCivil, floorDiv, formatNsAsIso, MAX_TIME_NS, MIN_TIME_NS, NS_PER, nowNs, parseIsoToNs } from '../../../src/encode/time.js';
import type { Precision } from '../../../src/options/index.js';

const PRECISIONS: Precision[] = ['n', 'u', 'ms', 's', 'm', 'h'];

/** The timestamp text `encode()` writes for `time` in `precision`. */
function encodedTime(time: Date | string | number | bigint, precision: Precision): string {
  const out = encode({ measurement: 'm', fields: { v: 1 }, time }, { precision }).toString();
  return /^m v=1 (-?\d+)\n$/.exec(out)![1]!;
}

function ns(text: string): bigint {
  const v = parseIsoToNs(text);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

/** Dates whose nanoseconds InfluxDB can store. */
const influxDate = fc.date({ min: new Date('1677-09-22T00:00:00Z'), max: new Date('2262-04-10T00:00:00Z'), noInvalidDate: true });
const influxNs = fc.bigInt(MIN_TIME_NS, MAX_TIME_NS);

describe('floorDiv and daysFromCivil', () => {
  it('floorDiv rounds toward minus infinity', () => {
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(-6n, 2n)).toBe(-3n);
    expect(floorDiv(7n, -2n)).toBe(-4n);
    expect(floorDiv(-1n, 1_000_000_000n)).toBe(-1n);
    expect(floorDiv(0n, 5n)).toBe(0n);
  });

  it('property: floorDiv(a, b) * b <= a < (floorDiv(a, b) + 1) * b for b > 0', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: 1n, max: 2n ** 45n }), (a, b) => {
        const q = floorDiv(a, b);
        expect(q * b <= a && a < (q + 1n) * b).toBe(true);
      }),
    );
  });

  it('property: daysFromCivil agrees with Date.UTC', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('-010000-01-01T00:00:00Z'), max: new Date('+010000-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(Math.floor(d.getTime() / 86_400_000));
      }),
    );
  });
});

describe('parseIsoToNs', () => {
  it('reads aioinflux\'s example and nanosecond fractions exactly', () => {
    expect(ns('2009-11-10T23:00:00Z')).toBe(1257894000000000000n);
    expect(ns('2009-11-10T23:00:00.123456789Z')).toBe(1257894000123456789n);
    expect(ns('2009-11-10T23:00:00.1Z')).toBe(1257894000100000000n);
    expect(ns('2009-11-10T23:00:00,5Z')).toBe(1257894000500000000n);
    expect(ns('1970-01-01T00:00:00Z')).toBe(0n);
  });

  it('reads dates without a time, minutes without seconds, a space separator and lower-case z', () => {
    expect(ns('2024-01-01')).toBe(1704067200000000000n);
    expect(ns('2024-01-01T00:00')).toBe(1704067200000000000n);
    expect(ns('2024-01-01 00:00:00z')).toBe(1704067200000000000n);
  });

  it('reads times before 1970 as negative', () => {
    expect(ns('1969-12-31T23:59:59.999999999Z')).toBe(-1n);
    expect(ns('1677-09-21T00:12:43.145224194Z')).toBe(MIN_TIME_NS);
    expect(ns('2262-04-11T23:47:16.854775806Z')).toBe(MAX_TIME_NS);
  });

  it('applies zone offsets: +05:30 and -08:00 give the same instant as Z', () => {
    const utc = ns('2024-01-01T00:00:00Z');
    expect(ns('2024-01-01T05:30:00+05:30')).toBe(utc);
    expect(ns('2023-12-31T16:00:00-08:00')).toBe(utc);
    expect(ns('2024-01-01T05:30:00+0530')).toBe(utc);
    expect(ns('2024-01-01T05:00:00+05')).toBe(utc);
    expect(ns('2024-01-01T00:00:00+00:00')).toBe(utc);
    expect(ns('2024-01-01T00:00:00-00:00')).toBe(utc);
  });

  it('handles leap years', () => {
    expect(ns('2024-02-29T00:00:00Z')).toBe(ns('2024-03-01T00:00:00Z') - 86_400_000_000_000n);
    expect(ns('2000-02-29')).toBe(BigInt(Date.UTC(2000, 1, 29)) * 1_000_000n);
    expect(parseIsoToNs('1900-02-29')).toMatch(/day 29 is out of range/);
    expect(parseIsoToNs('2100-02-29')).toMatch(/day 29 is out of range/);
  });

  it('returns a reason for text that is not a date', () => {
    for (const s of ['', 'now', '2024', '2024-1-1', '2024-01-01T', '01/02/2024', '2024-01-01T00:00:00ZZ', '1257894000', '2024-01-01T00:00:00.Z']) {
      expect(parseIsoToNs(s), s).toMatch(/is not an ISO 8601 date/);
    }
  });

  it('property: formatNsAsIso then parseIsoToNs is the identity over InfluxDB\'s range', () => {
    fc.assert(
      fc.property(influxNs, (t) => {
        const iso = formatNsAsIso(t);
        expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
        expect(ns(iso)).toBe(t);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: parseIsoToNs(d.toISOString()) === BigInt(d.getTime()) * 1000000n for any Date', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (d) => {
        expect(ns(d.toISOString())).toBe(BigInt(d.getTime()) * 1_000_000n);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a string with a zone offset denotes the UTC instant', () => {
    const offsetMinutes = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });
    fc.assert(
      fc.property(influxDate, offsetMinutes, fc.integer({ min: 0, max: 999_999 }), (d, off, subMs) => {
        // The wall clock at that offset, written with the offset suffix.
        const wall = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 23);
        const frac = String(subMs).padStart(6, '0');
        const sign = off < 0 ? '-' : '+';
        const abs = Math.abs(off);
        const suffix = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(ns(`${wall}${frac}${suffix}`)).toBe(BigInt(d.getTime()) * 1_000_000n + BigInt(subMs));
      }),
      { numRuns: 2000 },
    );
  });

  describe('with a local time zone that is not UTC', () => {
    const savedTz = process.env.TZ;
    afterEach(() => {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    });

    it('property: a zone-less string is UTC, exactly like the same string with Z', () => {
      process.env.TZ = 'America/New_York';
      // Proof that the zone took effect: New York is UTC-5 in January.
      expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(300);
      expect(ns('2024-01-01T00:00:00')).toBe(ns('2024-01-01T00:00:00Z'));
      expect(ns('2024-07-01 12:00')).toBe(ns('2024-07-01T12:00:00Z'));
      expect(encodedTime('2009-11-10T23:00:00', 'n')).toBe('1257894000000000000');
      fc.assert(
        fc.property(influxNs, (t) => {
          const withZ = formatNsAsIso(t);
          expect(ns(withZ.slice(0, -1))).toBe(ns(withZ));
        }),
        { numRuns: 2000 },
      );
    });
  });
});

describe('precision conversion (floor)', () => {
  it('a Date in each precision', () => {
    const d = new Date('2009-11-10T23:59:59.999Z');
    expect(encodedTime(d, 'n')).toBe('1257897599999000000');
    expect(encodedTime(d, 'u')).toBe('1257897599999000');
    expect(encodedTime(d, 'ms')).toBe('1257897599999');
    expect(encodedTime(d, 's')).toBe('1257897599');
    expect(encodedTime(d, 'm')).toBe('20964959');
    expect(encodedTime(d, 'h')).toBe('349415');
  });

  it('an ISO string in each precision keeps nanoseconds and floors', () => {
    const s = '2009-11-10T23:59:59.999999999Z';
    expect(encodedTime(s, 'n')).toBe('1257897599999999999');
    expect(encodedTime(s, 'u')).toBe('1257897599999999');
    expect(encodedTime(s, 'ms')).toBe('1257897599999');
    expect(encodedTime(s, 's')).toBe('1257897599');
    expect(encodedTime(s, 'm')).toBe('20964959');
    expect(encodedTime(s, 'h')).toBe('349415');
  });

  it('times before 1970 floor toward the past, not toward zero', () => {
    const s = '1969-12-31T23:59:59.999999999Z';
    for (const p of PRECISIONS) expect(encodedTime(s, p), p).toBe('-1');
    const d = new Date(-1);
    expect(encodedTime(d, 'n')).toBe('-1000000');
    expect(encodedTime(d, 'u')).toBe('-1000');
    for (const p of ['ms', 's', 'm', 'h'] as const) expect(encodedTime(d, p), p).toBe('-1');
    expect(encodedTime(new Date(-1000), 's')).toBe('-1');
    expect(encodedTime(new Date(-1001), 's')).toBe('-2');
    expect(encodedTime(new Date(-3_600_000), 'h')).toBe('-1');
    expect(encodedTime(new Date(-3_600_001), 'h')).toBe('-2');
  });

  it('the epoch is 0 in every precision', () => {
    for (const p of PRECISIONS) {
      expect(encodedTime(new Date(0), p)).toBe('0');
      expect(encodedTime('1970-01-01T00:00:00Z', p)).toBe('0');
    }
  });

  it('property: a Date in any precision is floor(ms * 1e6 / unit)', () => {
    fc.assert(
      fc.property(influxDate, fc.constantFrom(...PRECISIONS), (d, p) => {
        expect(encodedTime(d, p)).toBe(floorDiv(BigInt(d.getTime()) * 1_000_000n, NS_PER[p]).toString());
      }),
      { numRuns: 3000 },
    );
  });

  it('property: an ISO string in any precision is floor(ns / unit)', () => {
    fc.assert(
      fc.property(influxNs, fc.constantFrom(...PRECISIONS), (t, p) => {
        expect(encodedTime(formatNsAsIso(t), p)).toBe(floorDiv(t, NS_PER[p]).toString());
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts the ends of InfluxDB\'s range and refuses one nanosecond beyond', () => {
    expect(encodedTime(formatNsAsIso(MAX_TIME_NS), 'n')).toBe(MAX_TIME_NS.toString());
    expect(encodedTime(formatNsAsIso(MIN_TIME_NS), 'n')).toBe(MIN_TIME_NS.toString());
    expect(encodedTime(MAX_TIME_NS, 'n')).toBe(MAX_TIME_NS.toString());
    expect(() => encodedTime(formatNsAsIso(MAX_TIME_NS + 1n), 'n')).toThrow(/outside InfluxDB's time range/);
    expect(() => encodedTime(MIN_TIME_NS - 1n, 'n')).toThrow(/outside InfluxDB's time range/);
  });
});

describe('nowNs', () => {
  it('is close to Date.now() and strictly increasing', () => {
    const before = BigInt(Date.now() - 5) * 1_000_000n;
    let prev = nowNs();
    expect(prev >= before).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      const t = nowNs();
      expect(t > prev).toBe(true);
      prev = t;
    }
    expect(prev <= BigInt(Date.now() + 5) * 1_000_000n).toBe(true);
  });
});
