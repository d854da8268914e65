import { defineConfig } from 'vitest/config';

// Two projects. unit: the tests next to the code, run with no server started for them (some
// open an in-process socket of their own: a broker, a fake HTTP peer), in seconds, with
// `npm run test:unit`. integration: test/, against a real influxd (one for the whole run,
// test/global-setup.ts; each test uses its own database), real brokers, Modbus over TCP and a
// real Chromium. `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most integration tests wait on sockets, influxd, Chromium or simulated time, not the CPU:
    // vitest's default (CPUs − 1: one worker on a two-core CI machine) ran them one by one.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{app,gateway,broker,rules,simulators,dashboard}/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
