/**
 * The demo (`npm run demo`): starts a throwaway local influxd (or uses INFLUX_URL), creates a
 * database, writes points, queries them back, prints them, and stops the server.
 */
import { InfluxDBClient } from '../index.js';
import { ensureInfluxd, startLocalInfluxd, type LocalInfluxd } from '../server/index.js';

async function main(): Promise<void> {
  let server: LocalInfluxd | undefined;
  let url = process.env.INFLUX_URL;
  if (!url) {
    const influxdPath = await ensureInfluxd();
    server = await startLocalInfluxd({ influxdPath });
    url = server.url;
    console.log(`started a throwaway influxd (pid ${server.pid}) at ${url}`);
  }
  const db = process.env.INFLUX_DB ?? 'fastinflux_demo';
  const client = new InfluxDBClient({ url, db });
  try {
    const { version, build, durationMs } = await client.ping();
    console.log(`ping: InfluxDB ${version} (${build}) in ${durationMs.toFixed(1)} ms`);
    await client.createDatabase();

    // The seed's TL;DR point, then a minute of telemetry for three hosts at nanosecond precision.
    await client.write({
      time: '2009-11-10T23:00:00Z',
      measurement: 'cpu_load_short',
      tags: { host: 'server01', region: 'us-west' },
      fields: { value: 0.64 },
    });
    const start = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z in ns
    const points = [];
    for (let s = 0; s < 60; s++) {
      for (const host of ['host-1', 'host-2', 'host-3']) {
        points.push({
          measurement: 'cpu',
          tags: { host, region: 'us-west' },
          time: start + BigInt(s) * 1_000_000_000n + 123_456_789n,
          fields: { usage_user: 20 + ((s * 7) % 50) / 3, requests: BigInt(1000 + s), status: s % 10 === 0 ? 'degraded' : 'ok' },
        });
      }
    }
    const t0 = performance.now();
    await client.write(points);
    console.log(`wrote ${points.length + 1} points in ${(performance.now() - t0).toFixed(1)} ms`);

    console.log('\nSELECT value FROM cpu_load_short');
    console.log(JSON.stringify(await client.query('SELECT value FROM cpu_load_short')));

    console.log('\nSELECT * FROM cpu WHERE host = $host LIMIT 3 (epoch=ns: exact bigint nanoseconds)');
    const r = await client.query('SELECT * FROM cpu WHERE host = $host LIMIT 3', { params: { host: 'host-2' }, epoch: 'n' });
    const series = r.results[0]?.series?.[0];
    console.log(series?.columns.join('\t'));
    for (const row of series?.values ?? []) console.log(row.map(String).join('\t'));

    console.log('\nSELECT mean(usage_user), sum(requests) FROM cpu GROUP BY host');
    const agg = await client.query('SELECT mean(usage_user), sum(requests) FROM cpu GROUP BY host');
    for (const s of agg.results[0]?.series ?? []) console.log(`${s.tags?.host}\tmean=${Number(s.values?.[0]?.[1]).toFixed(3)}\tsum=${s.values?.[0]?.[2]}`);

    console.log('\nSHOW TAG VALUES FROM "cpu" WITH KEY = "host"');
    console.log((await client.showTagValuesFrom('cpu', { key: 'host' })).results[0]?.series?.[0]?.values?.map((v) => v[1]).join(', '));

    console.log('\nchunked: SELECT * FROM cpu (chunk_size 50)');
    let chunks = 0;
    let rows = 0;
    for await (const chunk of await client.query('SELECT * FROM cpu', { chunked: true, chunkSize: 50 })) {
      chunks++;
      rows += chunk.results[0]?.series?.[0]?.values?.length ?? 0;
    }
    console.log(`${rows} rows in ${chunks} chunks`);
    if (server) await client.dropDatabase();
  } finally {
    await client.close();
    if (server) {
      await server.stop();
      console.log(`\nstopped influxd (pid ${server.pid})`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
