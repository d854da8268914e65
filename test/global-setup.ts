import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findInfluxd, startInfluxd } from '../gateway/store/influxd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One InfluxDB 1.x for the whole run; every test uses its own database in it. */
    influxUrl: string;
  }
}

/** One real influxd for the test run: INFLUX_URL when set, else a private one in a temp dir. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.INFLUX_URL;
  if (external) {
    project.provide('influxUrl', external.replace(/\/+$/, ''));
    return async () => undefined;
  }
  if (!findInfluxd()) {
    throw new Error(
      'the tests need InfluxDB 1.x (influxd) and it is not installed: run `npm run setup` (or set INFLUX_URL to an existing InfluxDB 1.x)',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'dutyroom-test-influxd-'));
  const influxd = await startInfluxd({ dataDir: dir });
  project.provide('influxUrl', influxd.url);
  return async () => {
    await influxd.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
