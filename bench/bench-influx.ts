import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../gateway/store/influxd.js';

/** The InfluxDB a bench writes to, and how to let it go. */
export interface BenchInflux {
  url: string;
  stop(): Promise<void>;
}

/**
 * INFLUX_URL's InfluxDB when it is set (left running), else a private influxd whose data
 * folder goes with it: a bench stores millions of readings, and the folders each run left
 * behind filled /tmp with gigabytes.
 */
export async function benchInflux(): Promise<BenchInflux> {
  const external = process.env.INFLUX_URL;
  if (external) return { url: external.replace(/\/+$/, ''), stop: async () => undefined };
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-influx-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  let influxd: Awaited<ReturnType<typeof startInfluxd>>;
  try {
    influxd = await startInfluxd({ dataDir });
  } catch (err) {
    removeData();
    throw err;
  }
  return {
    url: influxd.url,
    stop: async () => {
      try {
        await influxd.stop();
      } finally {
        removeData();
      }
    },
  };
}
