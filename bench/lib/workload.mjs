import * as A from 'apache-arrow';
import { prng } from './prng.mjs';

/**
 * The standard workload of shared/reference/perf.md, deterministic (seeded PRNG):
 * measurement `cpu`; tags host (host-0..host-999, uniform per point), region (10 values) and
 * rack (rack-0..rack-99), region and rack fixed per host (1000 series); fields usage_user and
 * usage_system (floats with 9 decimals in 0..100), requests (integer 0..99999), status
 * ('ok' 80% / 'degraded' / 'error'); nanosecond timestamps from 2024-01-01T00:00:00Z, 1 ms apart.
 */
export const START_NS = 1_704_067_200_000_000_000n;
export const REGIONS = ['us-west-1', 'us-west-2', 'us-west-3', 'us-east-1', 'us-east-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-1', 'sa-east-1'];
export const STATUSES = ['ok', 'degraded', 'error'];

export { prng } from './prng.mjs';

/** Columns of the workload as typed arrays. */
export function makeWorkload(n = 1_000_000, seed = 42) {
  const rand = prng(seed);
  const hostRegion = new Uint8Array(1000);
  const hostRack = new Uint8Array(1000);
  for (let h = 0; h < 1000; h++) {
    hostRegion[h] = Math.floor(rand() * REGIONS.length);
    hostRack[h] = Math.floor(rand() * 100);
  }
  const host = new Uint16Array(n);
  const usageUser = new Float64Array(n);
  const usageSystem = new Float64Array(n);
  const requests = new Int32Array(n);
  const status = new Uint8Array(n);
  const nine = (x) => Math.round(x * 1e11) / 1e9; // 9 decimals in 0..100
  for (let i = 0; i < n; i++) {
    host[i] = Math.floor(rand() * 1000);
    usageUser[i] = nine(rand());
    usageSystem[i] = nine(rand());
    requests[i] = Math.floor(rand() * 100000);
    const s = rand();
    status[i] = s < 0.8 ? 0 : s < 0.9 ? 1 : 2;
  }
  return { n, host, hostRegion, hostRack, usageUser, usageSystem, requests, status };
}

/** Nanosecond timestamp of row i as a bigint. */
export function timeNs(i) {
  return START_NS + BigInt(i) * 1_000_000n;
}

/** The workload as point objects (what a user of the point API holds). */
export function toPoints(w) {
  const points = new Array(w.n);
  for (let i = 0; i < w.n; i++) {
    const h = w.host[i];
    points[i] = {
      measurement: 'cpu',
      tags: { host: `host-${h}`, region: REGIONS[w.hostRegion[h]], rack: `rack-${w.hostRack[h]}` },
      fields: { usage_user: w.usageUser[i], usage_system: w.usageSystem[i], requests: BigInt(w.requests[i]), status: STATUSES[w.status[i]] },
      time: timeNs(i),
    };
  }
  return points;
}

/** The workload as line-protocol strings, one per body of `linesPerBody` lines. */
export function toLineProtocolBodies(w, linesPerBody = 5000) {
  const bodies = [];
  let lines = [];
  for (let i = 0; i < w.n; i++) {
    const h = w.host[i];
    lines.push(`cpu,host=host-${h},rack=rack-${w.hostRack[h]},region=${REGIONS[w.hostRegion[h]]} usage_user=${w.usageUser[i]},usage_system=${w.usageSystem[i]},requests=${w.requests[i]}i,status="${STATUSES[w.status[i]]}" ${timeNs(i)}`);
    if (lines.length === linesPerBody) {
      bodies.push(Buffer.from(lines.join('\n')));
      lines = [];
    }
  }
  if (lines.length) bodies.push(Buffer.from(lines.join('\n')));
  return bodies;
}

/** A Dictionary<Int32, Utf8> column from indices and the dictionary's strings. */
function dictionary(indices, values) {
  const dict = A.vectorFromArray(values, new A.Utf8());
  return A.makeVector(A.makeData({ type: new A.Dictionary(new A.Utf8(), new A.Int32()), length: indices.length, nullCount: 0, data: indices, dictionary: dict }));
}

/** The workload as an Arrow table: what a user reading Parquet/IPC holds. */
export function toArrowTable(w) {
  const n = w.n;
  const time = new BigInt64Array(n);
  for (let i = 0; i < n; i++) time[i] = START_NS + BigInt(i) * 1_000_000n;
  const host = Int32Array.from(w.host);
  const region = new Int32Array(n);
  const rack = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    region[i] = w.hostRegion[w.host[i]];
    rack[i] = w.hostRack[w.host[i]];
  }
  // status as plain Utf8 (offsets + bytes), not a dictionary: a string field.
  const enc = STATUSES.map((s) => Buffer.from(s));
  const offsets = new Int32Array(n + 1);
  let size = 0;
  for (let i = 0; i < n; i++) offsets[i + 1] = size += enc[w.status[i]].length;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < n; i++) bytes.set(enc[w.status[i]], offsets[i]);
  return new A.Table({
    time: A.makeVector({ type: new A.TimestampNanosecond(), data: time, length: n }),
    host: dictionary(host, Array.from({ length: 1000 }, (_, h) => `host-${h}`)),
    region: dictionary(region, REGIONS),
    rack: dictionary(rack, Array.from({ length: 100 }, (_, r) => `rack-${r}`)),
    usage_user: A.makeVector(w.usageUser),
    usage_system: A.makeVector(w.usageSystem),
    requests: A.makeVector(w.requests),
    status: A.makeVector(A.makeData({ type: new A.Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: bytes })),
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
