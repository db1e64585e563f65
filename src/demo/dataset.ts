/**
 * A realistic telemetry dataset for the main job: a fleet of hosts reporting every 10 seconds,
 * written as an Arrow IPC file (dictionary-encoded tags, nanosecond timestamps, int64 counters).
 * Deterministic (seeded): the same options give the same bytes, so that the aggregates the demo
 * prints are the same on every run, and the generator also returns them, computed exactly from
 * the rows, for the demo to check what the server answers.
 *
 *   node dist/demo/dataset.js FILE [ROWS]     writes a file (default 1,000,000 rows)
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as A from 'apache-arrow';

export interface DatasetOptions {
  rows: number;
  /** Hosts in the fleet (each reports once per interval; default 1000). */
  hosts?: number;
  /** Rows per record batch in the file (default 100,000). */
  batchRows?: number;
  /** First timestamp, ns since the epoch (default 2024-01-01T00:00:00Z). */
  startNs?: bigint;
  /** IPC file format (default: random access, with a footer) or stream format. */
  ipcFormat?: 'file' | 'stream';
  /** Seed of the generator (default 20240101). */
  seed?: number;
}

/** Aggregates of one region, exact (the demo compares them with the server's). */
export interface RegionSummary {
  count: number;
  /** Sum of usage_user (for the mean). */
  sumUsageUser: number;
  maxTemperature: number;
  maxRequests: bigint;
}

export interface DatasetSummary {
  rows: number;
  hosts: number;
  batches: number;
  firstTimeNs: bigint;
  lastTimeNs: bigint;
  regions: Record<string, RegionSummary>;
}

export const REGIONS: readonly string[] = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1'];
const kStatus = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'degraded', 'error'];
/** The schema's column names, in order. */
export const COLUMNS: readonly string[] = ['host', 'region', 'rack', 'time', 'usage_user', 'usage_system', 'temperature', 'requests', 'status'];
/** 2^53 + … : the counters pass 2^53 from the second tick on, so int64 must survive exactly. */
const kRequestsBase = 9_007_199_254_739_000n;

/** xorshift32: small, fast, and the same numbers on every platform. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * A dictionary column over `dict`. Every batch shares the same dictionary vector: the IPC file
 * format cannot replace a dictionary between batches.
 */
function dictionary(type: A.Dictionary<A.Utf8, A.Int32>, dict: A.Vector<A.Utf8>, indices: Int32Array): A.Vector<A.Dictionary<A.Utf8, A.Int32>> {
  return A.makeVector({ type, data: indices, dictionary: dict } as never) as A.Vector<A.Dictionary<A.Utf8, A.Int32>>;
}

/**
 * Writes the dataset to `path`, batch by batch (never the whole table in memory), and returns
 * its summary: row count, time range and the exact aggregates per region.
 */
export async function writeTelemetryFile(path: string, o: DatasetOptions): Promise<DatasetSummary> {
  if (!Number.isSafeInteger(o.rows) || o.rows < 0) throw new RangeError(`rows must be a non-negative integer (got ${o.rows})`);
  const hosts = o.hosts ?? 1000;
  const batchRows = o.batchRows ?? 100_000;
  if (!Number.isSafeInteger(hosts) || hosts < 1) throw new RangeError(`hosts must be a positive integer (got ${hosts})`);
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new RangeError(`batchRows must be a positive integer (got ${batchRows})`);
  const start = o.startNs ?? 1_704_067_200_000_000_000n;
  const hostNames = Array.from({ length: hosts }, (_, i) => `host-${String(i).padStart(4, '0')}`);
  const rackNames = Array.from({ length: 50 }, (_, i) => `rack-${i}`);
  // Region and rack are properties of the host: the data has `hosts` series.
  const hostRegion = Int32Array.from(hostNames, (_, i) => i % REGIONS.length);
  const hostRack = Int32Array.from(hostNames, (_, i) => (i * 7) % rackNames.length);
  const random = rng(o.seed ?? 20240101);
  const load = Float64Array.from(hostNames, () => 10 + random() * 60);
  const dictType = (id: number): A.Dictionary<A.Utf8, A.Int32> => new A.Dictionary(new A.Utf8(), new A.Int32(), id);
  const hostType = dictType(0);
  const regionType = dictType(1);
  const rackType = dictType(2);
  const hostDict = A.vectorFromArray(hostNames, new A.Utf8());
  const regionDict = A.vectorFromArray([...REGIONS], new A.Utf8());
  const rackDict = A.vectorFromArray(rackNames, new A.Utf8());
  const statusDict = kStatus.map((s) => s);

  const regions: Record<string, RegionSummary> = {};
  for (const r of REGIONS) regions[r] = { count: 0, sumUsageUser: 0, maxTemperature: -Infinity, maxRequests: -(2n ** 63n) };
  const perRegion = REGIONS.map((r) => regions[r]!);

  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => {});
  const writer = o.ipcFormat === 'stream' ? new A.RecordBatchStreamWriter() : new A.RecordBatchFileWriter();
  writer.pipe(out);
  let batches = 0;
  let firstTimeNs = 0n;
  let lastTimeNs = 0n;
  for (let first = 0; first < o.rows; first += batchRows) {
    const n = Math.min(batchRows, o.rows - first);
    const host = new Int32Array(n);
    const region = new Int32Array(n);
    const rack = new Int32Array(n);
    const status: string[] = new Array<string>(n);
    const time = new BigInt64Array(n);
    const usageUser = new Float64Array(n);
    const usageSystem = new Float64Array(n);
    const temperature = new Float64Array(n);
    const requests = new BigInt64Array(n);
    for (let k = 0; k < n; k++) {
      const row = first + k;
      const h = row % hosts;
      const tick = Math.floor(row / hosts);
      host[k] = h;
      region[k] = hostRegion[h]!;
      rack[k] = hostRack[h]!;
      // Every 10 s per host, plus a per-host offset in nanoseconds: timestamps are exact to the ns.
      time[k] = start + BigInt(tick) * 10_000_000_000n + BigInt(h) * 1_000_003n;
      load[h] = Math.min(100, Math.max(0, load[h]! + (random() - 0.5) * 4));
      usageUser[k] = Math.round(load[h]! * 1e6) / 1e6;
      usageSystem[k] = Math.round(load[h]! * 0.3 * random() * 1e6) / 1e6;
      temperature[k] = Math.round((40 + load[h]! * 0.4 + random() * 2) * 100) / 100;
      requests[k] = kRequestsBase + BigInt(tick) * 1_000n + BigInt(h);
      status[k] = statusDict[Math.floor(random() * kStatus.length)]!;
      const s = perRegion[region[k]!]!;
      s.count++;
      s.sumUsageUser += usageUser[k]!;
      if (temperature[k]! > s.maxTemperature) s.maxTemperature = temperature[k]!;
      if (requests[k]! > s.maxRequests) s.maxRequests = requests[k]!;
    }
    if (first === 0) firstTimeNs = time[0]!;
    for (let k = 0; k < n; k++) if (time[k]! > lastTimeNs) lastTimeNs = time[k]!;
    const batch = new A.Table({
      host: dictionary(hostType, hostDict, host),
      region: dictionary(regionType, regionDict, region),
      rack: dictionary(rackType, rackDict, rack),
      time: A.makeVector({ type: new A.TimestampNanosecond(), data: time } as never),
      usage_user: A.makeVector(usageUser),
      usage_system: A.makeVector(usageSystem),
      temperature: A.makeVector(temperature),
      requests: A.makeVector(requests),
      // A plain string column: a string field (dictionary columns are tags).
      status: A.vectorFromArray(status, new A.Utf8()),
    });
    for (const b of batch.batches) {
      writer.write(b);
      batches++;
    }
    // Let the file stream drain between batches: memory stays at about one batch.
    if (out.writableLength > 16 * 1024 * 1024) await Promise.race([once(out, 'drain'), failed]);
  }
  writer.finish();
  await Promise.race([once(out, 'finish'), failed]);
  for (const r of REGIONS) if (regions[r]!.count === 0) delete regions[r];
  return { rows: o.rows, hosts, batches, firstTimeNs, lastTimeNs, regions };
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const [path, rows] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: node dist/demo/dataset.js FILE [ROWS]\n');
    process.exitCode = 2;
  } else {
    writeTelemetryFile(path, { rows: rows === undefined ? 1_000_000 : Number(rows) }).then(
      (s) => process.stdout.write(`wrote ${s.rows} rows (${s.hosts} hosts, ${s.batches} record batches) to ${path}\n`),
      (e: unknown) => {
        process.stderr.write(`dataset: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
