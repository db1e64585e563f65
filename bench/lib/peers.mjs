/**
 * The peers' line-protocol encoders on the standard workload, for comparison in the same run:
 * `@influxdata/influxdb-client` (`new Point()…toLineProtocol()`, the official JS client) and
 * node-influx (`writePoints` with its HTTP pool stubbed to hand back the body).
 * Each returns an array of Buffers, one per body of `linesPerBody` lines.
 */
import { Point } from '@influxdata/influxdb-client';
import Influx from 'influx';
import { REGIONS, STATUSES, timeNs } from './workload.mjs';
// The node-influx schema and points, shared with the writer bench's node-influx runner.
import { nodeInfluxPointsOf, nodeInfluxSchema } from './writer-runners.mjs';

/** Official client: builds a Point per row (as its users do), then toLineProtocol(). */
export function encodeOfficial(w, linesPerBody = 5000) {
  const bodies = [];
  let lines = [];
  for (let i = 0; i < w.n; i++) {
    const h = w.host[i];
    const p = new Point('cpu')
      .tag('host', `host-${h}`).tag('region', REGIONS[w.hostRegion[h]]).tag('rack', `rack-${w.hostRack[h]}`)
      .floatField('usage_user', w.usageUser[i]).floatField('usage_system', w.usageSystem[i])
      .intField('requests', w.requests[i]).stringField('status', STATUSES[w.status[i]])
      .timestamp(timeNs(i).toString());
    lines.push(p.toLineProtocol());
    if (lines.length === linesPerBody) {
      bodies.push(Buffer.from(lines.join('\n')));
      lines = [];
    }
  }
  if (lines.length) bodies.push(Buffer.from(lines.join('\n')));
  return bodies;
}

/** node-influx: writePoints with a schema (so requests is an integer), the HTTP pool stubbed. */
export function makeNodeInflux() {
  const influx = new Influx.InfluxDB({
    database: 'bench',
    schema: nodeInfluxSchema(Influx),
  });
  // writePoints builds the body, then hands it to the pool: keep the body instead of sending it.
  influx['_pool'].discard = (req) => Promise.resolve(Buffer.from(req.body));
  return influx;
}

export async function encodeNodeInflux(influx, w, linesPerBody = 5000) {
  const bodies = [];
  for (let start = 0; start < w.n; start += linesPerBody) {
    const points = nodeInfluxPointsOf(w, start, Math.min(w.n, start + linesPerBody));
    bodies.push(await influx.writePoints(points, { precision: 'n' }));
  }
  return bodies;
}
