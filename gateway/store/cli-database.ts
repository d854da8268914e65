import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SiteConfig } from '../config/schema.js';
import { Influx1Driver, Influx2Driver, startInfluxd, type InfluxdProcess } from './index.js';
import type { StoreDriver } from './driver.js';

// The database for command-line tools that read or write history (`dutyroom report meters`,
// `dutyroom simulate history`): the URL given (--influx, INFLUX_URL or storage.url); else
// the local influxd of a running gateway (it leaves its address in <data_dir>/influxdb/url);
// else a local influxd started on the same data for as long as the command runs.

export interface CliDatabase {
  driver: StoreDriver;
  url: string;
  close(): Promise<void>;
}

/** The file where a gateway's local influxd leaves its URL. */
export function localUrlFile(config: SiteConfig, baseDir: string): string {
  return join(resolve(baseDir, config.data_dir), 'influxdb', 'url');
}

export async function writeLocalUrl(config: SiteConfig, baseDir: string, url: string): Promise<void> {
  await writeFile(localUrlFile(config, baseDir), url);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })).status === 204;
  } catch {
    return false;
  }
}

export async function openCliDatabase(config: SiteConfig, baseDir: string, url?: string): Promise<CliDatabase> {
  const s = config.storage;
  const driverFor = (u: string): StoreDriver =>
    s.driver === 'influxdb1'
      ? new Influx1Driver({
          url: u,
          database: s.database,
          ...(s.username ? { username: s.username } : {}),
          ...(s.password ? { password: s.password } : {}),
        })
      : new Influx2Driver({ url: u, org: s.org!, bucket: s.bucket!, token: s.token! });
  const given = url ?? s.url;
  if (given) return { driver: driverFor(given), url: given, close: async () => undefined };
  const file = localUrlFile(config, baseDir);
  const running = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (running && (await answers(running)))
    return { driver: driverFor(running), url: running, close: async () => undefined };
  const influxd: InfluxdProcess = await startInfluxd({ dataDir: resolve(baseDir, config.data_dir, 'influxdb') });
  return { driver: driverFor(influxd.url), url: influxd.url, close: () => influxd.stop() };
}
