import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real influxd processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // dev-workers.ts: the JavaScript copy of src/ that worker threads run under vitest.
    globalSetup: ['test/helpers/dev-workers.ts', 'test/helpers/global-setup.ts'],
  },
});
