// Meter-anomaly report at scale (issue 8): 1,000 meters (500 flats, a water and an
// electricity meter each) with 15-minute readings for 30 days (2.88 million points) written
// by the history backfill, then the 30-day report over all of them, three times (the first
// with InfluxDB's caches cold). Also checks the report against the planted ground truth.
//   node dist/bench/meter-report.js [--quick]   (alone), or as part of npm run bench
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { siteConfig, type SiteConfig } from '../gateway/config/schema.js';
import { runMeterReport } from '../gateway/reports/run-meter-report.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import { startInfluxd } from '../gateway/store/influxd.js';
import { addDays, localDate, localMidnight } from '../rules/reports/calendar.js';
import { backfillSite } from '../app/history.js';

export interface MeterReportBench {
  meters: number;
  days: number;
  points: number;
  backfillS: number;
  backfillPointsPerS: number;
  /** Wall time of each 30-day report, ms (the first one cold). */
  reportMs: number[];
  anomalies: number;
  planted: number;
  found: number;
  /** Clean meters flagged, any kind, and per anomaly kind. */
  falsePositives: number;
  falsePositivesByKind: Record<string, number>;
  /** Clean meters (no planted anomaly). */
  cleanMeters: number;
}

/** A site of `flats` flats in buildings of 50, each flat with a water and an electricity meter; 5 % vacant. */
export function benchSite(flats: number): SiteConfig {
  const buildings = [];
  const devices = [];
  for (let b = 0; b * 50 < flats; b++) {
    const units = [];
    for (let u = 0; u < 50 && b * 50 + u < flats; u++) {
      const id = `b${b}-u${u}`;
      units.push({ id, floor: String(1 + Math.floor(u / 4)), vacant: u % 20 === 7 });
      devices.push({
        id: `wm-${id}`,
        kind: 'water_meter',
        protocol: 'mqtt',
        publish_interval_s: 900,
        place: { building: `b${b}`, unit: id },
      });
      devices.push({
        id: `em-${id}`,
        kind: 'electricity_meter',
        protocol: 'mqtt',
        publish_interval_s: 900,
        place: { building: `b${b}`, unit: id },
      });
    }
    buildings.push({ id: `b${b}`, name: `Block ${b}`, floors: { lowest: 1, highest: 13 }, units });
  }
  return siteConfig.parse({
    site: { id: 'bench', name: 'Bench estate', timezone: 'Asia/Shanghai' },
    storage: { database: 'bench_reports' },
    buildings,
    devices,
  });
}

export async function benchMeterReport(influxUrl: string, quick: boolean): Promise<MeterReportBench> {
  const flats = quick ? 50 : 500;
  const days = quick ? 20 : 30;
  const config = benchSite(flats);
  const tz = config.site.timezone;
  const driver = new Influx1Driver({ url: influxUrl, database: `bench_reports_${Date.now()}` });
  const lastDay = '2026-11-29';
  const end = localMidnight(addDays(lastDay, 1), tz);
  const fill = await backfillSite({ config, driver, days, end, seed: 11 });
  const reportMs: number[] = [];
  let report;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    report = await runMeterReport({ config, driver, from: localDate(fill.truth.start, tz), to: lastDay, now: end });
    reportMs.push(Math.round(performance.now() - t));
  }
  const r = report!;
  const planted = fill.truth.planted.filter((p) => p.kind !== 'counter_rollover');
  const found = planted.filter((p) =>
    r.anomalies.some(
      (a) => a.meter === p.meter && a.kind === p.kind && a.from < p.to + 86_400_000 && a.to > p.from - 86_400_000,
    ),
  ).length;
  const dirty = new Set(planted.map((p) => p.meter));
  const wrong = r.anomalies.filter((a) => !dirty.has(a.meter));
  const falsePositives = new Set(wrong.map((a) => a.meter)).size;
  const falsePositivesByKind: Record<string, number> = {};
  for (const a of wrong) falsePositivesByKind[a.kind] = (falsePositivesByKind[a.kind] ?? 0) + 1;
  if (process.env.BENCH_VERBOSE) for (const a of wrong) console.error(a.meter, a.kind, a.evidence.en);
  return {
    meters: fill.truth.meters.length,
    days,
    points: fill.points,
    backfillS: Math.round(fill.ms) / 1000,
    backfillPointsPerS: Math.round(fill.points / (fill.ms / 1000)),
    reportMs,
    anomalies: r.anomalies.length,
    planted: planted.length,
    found,
    falsePositives,
    falsePositivesByKind,
    cleanMeters: fill.truth.meters.length - dirty.size,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const influx = process.env.INFLUX_URL
    ? { url: process.env.INFLUX_URL, stop: async () => undefined }
    : await startInfluxd({ dataDir: mkdtempSync(join(tmpdir(), 'bench-reports-')) });
  try {
    console.log(JSON.stringify(await benchMeterReport(influx.url, quick), null, 1));
  } finally {
    await influx.stop();
  }
}
