/**
 * Where the batch writer sends: the client's own server through its transport, and the spread
 * and failover servers with transports of their own. Knows the two write APIs' paths and parameters.
 */
import type { Precision, ResolvedClientOptions, ResolvedWriterOptions } from '../options/index.js';
import { HttpTransport } from '../transport/http-transport.js';

/** v2 names the precisions differently and has no minutes or hours (checked in options.ts). */
const kV2Precision: Partial<Record<Precision, string>> = { n: 'ns', u: 'us', ms: 'ms', s: 's' };

export interface WriteTarget {
  transport: HttpTransport;
  /** The writer created the transport and closes it; the client's own is left to the client. */
  owned: boolean;
  /** The server, without credentials, for messages. */
  describe: string;
  endpoint: string;
  /** The URL query (db, rp, precision / org, bucket, precision), encoded once. */
  queryString: string;
}

/** The group written to at once (the client's own server and `spread`), and the `failover` servers. */
export function makeTargets(main: HttpTransport, o: ResolvedWriterOptions): { group: WriteTarget[]; standby: WriteTarget[] } {
  const w = o.write;
  let endpoint: string;
  let query: Record<string, string | undefined>;
  if (o.api === 'v2') {
    endpoint = 'api/v2/write';
    // The v1-compatible bucket name of InfluxDB 2.x maps "db/rp" to a DBRP mapping.
    const bucket = o.bucket ?? (w.rp ? `${w.db}/${w.rp}` : w.db);
    query = { org: o.org, bucket, precision: kV2Precision[w.precision] };
  } else {
    endpoint = 'write';
    // "ns", not "n": influxd reads both as nanoseconds, but VictoriaMetrics' /write reads an
    // unknown "n" as seconds (probed on 1.79.5), which would shift every point by 10^9.
    query = { db: w.db, rp: w.rp, precision: w.precision === 'n' ? 'ns' : w.precision };
  }
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, v);
  const queryString = qs.toString();
  const target = (transport: HttpTransport, owned: boolean): WriteTarget => ({ transport, owned, describe: transport.describe, endpoint, queryString });
  const own = (c: ResolvedClientOptions): WriteTarget => target(new HttpTransport(c), true);
  return { group: [target(main, false), ...o.spread.map(own)], standby: o.failover.map(own) };
}
