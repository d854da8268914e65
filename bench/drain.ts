// Outage recovery: a spool left full by a database outage (N readings of 1,000 water meters,
// as the pipeline writes them) is drained into InfluxDB by the store's writer, as after a
// restart: read back from disk, line protocol, batches, cursor commits. Time from opening the
// store to the last confirmation, and the count InfluxDB holds afterwards.
//   node dist/bench/drain.js [--quick]      (INFLUX_URL to use a running InfluxDB)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '../gateway/metrics.js';
import { createStore, Influx1Driver, Spool, type Point } from '../gateway/store/index.js';
import { pointLine } from '../gateway/store/line-protocol.js';
import { countInInflux } from './influx-count.js';
import { profileWindow } from './profile.js';
import { until } from './publisher-run.js';

export interface DrainResult {
  readings: number;
  /** Bytes of spool files the outage left. */
  spoolBytes: number;
  seconds: number;
  readingsPerS: number;
  inInflux: number;
}

async function fillSpool(dir: string, readings: number): Promise<number> {
  const spool = new Spool({ dir, maxBytes: 4 * 2 ** 30 });
  await spool.open();
  const base = (Date.now() - 3_600_000) * 1000;
  const chunk = 10_000;
  for (let n = 0; n < readings; n += chunk) {
    const points: Point[] = [];
    for (let i = n; i < Math.min(readings, n + chunk); i++) {
      const d = i % 1000;
      points.push({
        measurement: 'water_meter',
        tags: { site: 'drain', building: `b${d % 3}`, floor: String(d % 18), unit: `u${d}`, device: `m${d}` },
        fields: { total_m3: 100 + i / 1e4, flow_m3h: (i % 7) / 10 },
        tsUs: base + Math.floor(i / 1000) * 1000,
      });
    }
    await spool.append(points.map(pointLine));
  }
  const bytes = spool.bytes;
  await spool.close();
  return bytes;
}

export async function benchDrain(influxUrl: string, readings: number): Promise<DrainResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-drain-'));
  try {
    const spoolBytes = await fillSpool(dir, readings);
    const database = `drain_${Date.now()}`;
    const metrics = new Metrics();
    const store = createStore({
      driver: new Influx1Driver({ url: influxUrl, database }),
      spool: { dir, maxBytes: 4 * 2 ** 30 },
      metrics,
      writer: { batchSize: 5000 },
    });
    const stopProfile = await profileWindow('drain');
    const start = performance.now();
    await store.open();
    const end = await until(() => store.spool.depth === 0, 600_000);
    await stopProfile();
    await store.close();
    const seconds = (end - start) / 1000;
    return {
      readings,
      spoolBytes,
      seconds: Math.round(seconds * 10) / 10,
      readingsPerS: Math.round(readings / seconds),
      inInflux: await countInInflux(influxUrl, database, 'water_meter', 'total_m3'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('drain.js')) {
  const influx = await (await import('./bench-influx.js')).benchInflux();
  try {
    console.log(JSON.stringify(await benchDrain(influx.url, process.argv.includes('--quick') ? 100_000 : 1_000_000)));
  } finally {
    await influx.stop();
  }
}
