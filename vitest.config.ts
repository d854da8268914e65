import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{gateway,broker,rules,simulators,dashboard,test,bench}/**/*.test.ts'],
    // One real influxd for the whole run (test/global-setup.ts); tests use their own databases.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most integration tests wait on sockets, influxd, Chromium or simulated time, not the CPU:
    // vitest's default (CPUs − 1: one worker on a two-core CI machine) ran them one by one.
    maxWorkers: 2,
  },
});
