/**
 * NODE_DEBUG=fastinflux logs every request, and never a credential. Node reads NODE_DEBUG at
 * start-up, so this runs the built package (`dist/`, made by `npm test`) in a child process.
 * It also proves the package is importable by name from plain JavaScript.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startVariant, type LocalInfluxd } from '../helpers/server.js';

const run = promisify(execFile);
const PASSWORD = 'debug-log-secret-123';
let server: LocalInfluxd;

beforeAll(async () => {
  server = await startVariant({ auth: { username: 'admin', password: PASSWORD } });
});
afterAll(async () => {
  await server?.stop();
});

const script = `
import { InfluxDBClient } from 'fastinflux';
const c = new InfluxDBClient({ url: process.env.URL, username: 'admin', password: process.env.PW, db: 'dbg' });
await c.ping();
await c.createDatabase();
await c.write('m v=1 1');
await c.query("CREATE USER \\"other\\" WITH PASSWORD 'other-secret-456'");
await c.query('SHOW DATABASES');
await c.close();
console.log('done');
`;

it('logs method, endpoint, status and statement, with passwords and credentials redacted', async () => {
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    env: { ...process.env, NODE_DEBUG: 'fastinflux', URL: server.url, PW: PASSWORD },
  });
  expect(stdout.trim()).toBe('done');
  expect(stderr).toMatch(/FASTINFLUX \d+: GET http:\/\/127\.0\.0\.1:\d+\/ping -> 204/);
  expect(stderr).toMatch(/POST .*\/write\?db=dbg&precision=n -> 204 in [\d.]+ms \(1 lines, 8 bytes\)/);
  expect(stderr).toMatch(/POST .*\/query -> 200 .*\(SHOW DATABASES\)/);
  expect(stderr).toMatch(/CREATE USER "other" WITH PASSWORD '\*\*\*'/);
  expect(stderr).not.toContain('other-secret-456');
  expect(stderr).not.toContain(PASSWORD);
  expect(stderr).not.toContain(Buffer.from(`admin:${PASSWORD}`).toString('base64'));
});
