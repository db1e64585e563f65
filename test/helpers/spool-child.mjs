/**
 * A writer with a durable spool, as its own process, for the spool's crash test
 * (test/integration/writer-spool.test.ts): writes slices [from, slices) of `size` point objects
 * (series `s<i % 100>`, value i, time i: every point distinct) through
 * `client.writer({ spool: { dir } })`, and prints `acked <k>` once write() of slice k resolved
 * (its points are on disk), then `done` after close(). The parent kills it with SIGKILL.
 *   node spool-child.mjs URL DB DIR FROM SLICES SIZE
 */
import { InfluxDBClient } from '../../dist/index.js';

const [url, db, dir, fromArg, slicesArg, sizeArg] = process.argv.slice(2);
const from = Number(fromArg);
const slices = Number(slicesArg);
const size = Number(sizeArg);
const client = new InfluxDBClient({ url, db });
const w = client.writer({ spool: { dir }, retryInitialDelayMs: 20, retryMaxDelayMs: 200, deliveryTimeoutMs: 600_000 });
process.stdout.write(`started ${process.pid}\n`);
for (let k = from; k < slices; k++) {
  const points = new Array(size);
  for (let j = 0; j < size; j++) {
    const i = k * size + j;
    points[j] = { measurement: 'sp', tags: { s: `s${i % 100}` }, fields: { v: i }, time: 1_700_000_000_000_000_000n + BigInt(i) };
  }
  await w.write(points);
  process.stdout.write(`acked ${k}\n`);
}
await w.close();
await client.close();
process.stdout.write('done\n');
