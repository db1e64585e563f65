/**
 * vitest globalSetup: makes sure the machine has what the suite needs, then provides
 * `influxUrl` to all test files.
 *
 * `npm test` is the whole recipe on a fresh machine (the README's Quick start): influxd
 * (Debian `influxdb`), VictoriaMetrics (Debian `victoria-metrics`, the second engine) and
 * `openssl` (the HTTPS variant's certificate) are installed here with apt-get when missing
 * and the process runs as root; otherwise the run stops at once with one line naming what to
 * install. The packaged VictoriaMetrics service that the install may start is stopped again
 * (`ensureVictoriaMetrics`): the tests start their own instances on free ports.
 *
 * With INFLUX_URL set, that server is used as is. Otherwise a shared local influxd (no auth)
 * is started and stopped again on teardown.
 */
import type { TestProject } from 'vitest/node';
import './context.js';
import { ensureInfluxd, ensureVictoriaMetrics, startLocalInfluxd, type LocalInfluxd } from '../../src/server/index.js';
import { ensureBinary, findBinary } from '../../src/server/process-util.js';

const log = (msg: string): void => console.log(`[test setup] ${msg}`);

/** Installs (as root) or names (otherwise) every missing tool, in one message when not root. */
async function ensureTools(): Promise<string> {
  const missing: string[] = [];
  const tryEnsure = async (what: string, ensure: () => Promise<string>): Promise<string | undefined> => {
    try {
      return await ensure();
    } catch (err) {
      if (process.getuid?.() === 0) throw err; // the install itself failed: its own message says why
      missing.push(what);
      return undefined;
    }
  };
  const influxd = await tryEnsure('influxdb', () => ensureInfluxd({ log }));
  await tryEnsure('victoria-metrics', () => ensureVictoriaMetrics({ log }));
  await tryEnsure('openssl', () =>
    ensureBinary({
      find: () => findBinary('openssl', 'OPENSSL_PATH', ['/usr/bin/openssl']),
      notFoundMessage: 'openssl was not found',
      aptGetSteps: [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', 'openssl']],
      stillMissingMessage: 'apt-get install openssl succeeded but openssl is still not found',
      log,
    }),
  );
  if (missing.length > 0) {
    throw new Error(
      `the tests need Debian packages that are missing: run \`sudo apt-get install -y ${missing.join(' ')}\` ` +
        '(or run `npm test` as root, which installs them)',
    );
  }
  return influxd!;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const influxdPath = await ensureTools();
  const external = process.env.INFLUX_URL;
  if (external) {
    project.provide('influxUrl', external.replace(/\/+$/, ''));
    return async () => {};
  }
  const server: LocalInfluxd = await startLocalInfluxd({ influxdPath });
  project.provide('influxUrl', server.url);
  return async () => {
    await server.stop();
  };
}
