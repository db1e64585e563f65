/**
 * Query speed (issue 3): 1,000,000 points of the standard workload queried back with
 * `SELECT *` (plain and chunked) into 'raw' and 'arrow', next to the server's own time to
 * produce the same JSON (body read and discarded) and a plain JSON.parse of it (which rounds
 * the nanoseconds). Starts its own throwaway influxd; prints a table of medians.
 *
 *   npm run build && node bench/query.bench.mjs            (N=1000000 REPS=3 by default)
 */
import { request } from 'undici';
import { InfluxDBClient } from '../dist/index.js';
import { ensureInfluxd, startLocalInfluxd } from '../dist/server/index.js';
import { makeWorkload, median, toLineProtocolBodies } from './lib/workload.mjs';

const N = Number(process.env.N ?? 1_000_000);
const REPS = Number(process.env.REPS ?? 3);
const Q = 'SELECT * FROM cpu';

function cpuSeconds(start) {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

async function measure(name, fn) {
  const walls = [];
  const cpus = [];
  let rows = 0;
  for (let r = 0; r < REPS; r++) {
    global.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    rows = await fn();
    walls.push((performance.now() - t0) / 1000);
    cpus.push(cpuSeconds(c0));
  }
  const row = { name, rows, wall: median(walls), cpu: median(cpus), wallMin: Math.min(...walls), wallMax: Math.max(...walls) };
  console.error(`${name}: ${row.wall.toFixed(2)} s wall, ${row.cpu.toFixed(2)} s CPU, ${rows} rows`);
  return row;
}

async function main() {
  const server = await startLocalInfluxd({ influxdPath: await ensureInfluxd() });
  const db = 'bench';
  const client = new InfluxDBClient({ url: server.url, db, timeout: 0 });
  try {
    await client.createDatabase();
    const w = makeWorkload(N);
    const bodies = toLineProtocolBodies(w, 5000);
    console.error(`loading ${N} points in ${bodies.length} bodies…`);
    const t0 = performance.now();
    // Two requests in flight: the server's best ingest rate on this machine (perf.md §3).
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < bodies.length) {
        const b = bodies[next++];
        const res = await request(`${server.url}/write?db=${db}&precision=n`, { method: 'POST', body: b });
        if (res.statusCode !== 204) throw new Error(`load failed: ${res.statusCode} ${await res.body.text()}`);
        await res.body.dump();
      }
    }));
    console.error(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const form = (extra) => new URLSearchParams({ q: Q, db, epoch: 'ns', ...extra }).toString();
    const post = (extra) => request(`${server.url}/query`, {
      method: 'POST', body: form(extra), headers: { 'content-type': 'application/x-www-form-urlencoded' }, bodyTimeout: 0, headersTimeout: 0,
    });
    const results = [];
    results.push(await measure('server alone (body read, discarded)', async () => {
      const res = await post({});
      for await (const _ of res.body);
      return N;
    }));
    results.push(await measure('server alone, chunked 10000', async () => {
      const res = await post({ chunked: 'true', chunk_size: '10000' });
      for await (const _ of res.body);
      return N;
    }));
    results.push(await measure('JSON.parse (rounds ns times)', async () => {
      const res = await post({});
      const doc = JSON.parse(await res.body.text());
      return doc.results[0].series[0].values.length;
    }));
    results.push(await measure("client 'raw' (exact)", async () => {
      const r = await client.query(Q, { output: 'raw', epoch: 'n' });
      return r.results[0].series[0].values.length;
    }));
    results.push(await measure("client 'raw' chunked 10000", async () => {
      let rows = 0;
      for await (const c of await client.query(Q, { output: 'raw', epoch: 'n', chunked: true, chunkSize: 10000 })) rows += c.results[0].series[0].values.length;
      return rows;
    }));
    results.push(await measure("client 'arrow'", async () => {
      const t = /** @type {import('apache-arrow').Table} */ (await client.query(Q, { output: 'arrow' }));
      return t.numRows;
    }));
    results.push(await measure("client 'arrow' chunked 10000", async () => {
      let rows = 0;
      for await (const b of await client.query(Q, { output: 'arrow', chunked: true, chunkSize: 10000 })) rows += b.numRows;
      return rows;
    }));

    const base = results[0].wall;
    const baseChunked = results[1].wall;
    console.log(`\nQuery ${N.toLocaleString('en')} rows of the standard workload (SELECT *, epoch=ns); median of ${REPS}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`);
    console.log('| what | wall s | client CPU s | CPU s per 1M rows | wall vs server alone |');
    console.log('|---|---|---|---|---|');
    for (const r of results) {
      const ref = r.name.includes('chunked') ? baseChunked : base;
      console.log(`| ${r.name} | ${r.wall.toFixed(2)} (${r.wallMin.toFixed(2)}–${r.wallMax.toFixed(2)}) | ${r.cpu.toFixed(2)} | ${(r.cpu * 1e6 / N).toFixed(2)} | ${(r.wall / ref).toFixed(2)}x |`);
    }
  } finally {
    await client.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
