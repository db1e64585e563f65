/**
 * vitest globalSetup: provides `influxUrl` to all test files.
 *
 * With INFLUX_URL set, that server is used as is. Otherwise a shared local
 * influxd (no auth) is started (installing the Debian package first when
 * missing and running as root) and stopped again on teardown.
 */
import type { TestProject } from 'vitest/node';
import './context.js';
import { ensureInfluxd, startLocalInfluxd, type LocalInfluxd } from '../../src/server/index.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.INFLUX_URL;
  if (external) {
    project.provide('influxUrl', external.replace(/\/+$/, ''));
    return async () => {};
  }
  const influxdPath = await ensureInfluxd();
  const server: LocalInfluxd = await startLocalInfluxd({ influxdPath });
  project.provide('influxUrl', server.url);
  return async () => {
    await server.stop();
  };
}
