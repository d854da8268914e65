import { defineConfig } from 'vitest/config';

// Three projects. unit: the tests next to the code, with no server started for them (some
// open an in-process socket of their own: a broker, a fake HTTP peer), `npm run test:unit`.
// invariants: the emergency promises as properties over a thousand random worlds each
// (rules/incidents/invariants/): pure, but minutes of CPU, so the quick loop leaves them out.
// integration: test/, against a real influxd (one for the whole run, test/global-setup.ts;
// each test uses its own database), real brokers, Modbus over TCP and a real Chromium.
// `npm test` runs all three.
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
          exclude: ['rules/incidents/invariants/**'],
          globalSetup: ['test/temp-root.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'invariants',
          include: ['rules/incidents/invariants/**/*.test.ts'],
          globalSetup: ['test/temp-root.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
          globalSetup: ['test/temp-root.ts', 'test/global-setup.ts'],
        },
      },
    ],
  },
});
