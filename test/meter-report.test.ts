import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runMeterReport } from '../gateway/reports/run-meter-report.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';
import { addDays, localDate, localMidnight } from '../rules/reports/calendar.js';
import type { MeterReport } from '../rules/reports/meter-report.js';
import { ANOMALY_KIND_NAMES } from '../rules/reports/meter-model.js';
import { backfillSite } from '../app/history.js';
import type { GroundTruth } from '../simulators/history/plan.js';
import { influxql, uniqueDb } from './store-support.js';

// The meter-anomaly report on backfilled history of the demo estate (about 170 meters, 40
// days, 15-minute readings) in the run's real influxd: every planted anomaly found, few
// clean meters flagged, per kind.

const url = inject('influxUrl');
const database = uniqueDb('meter_report');
const { config } = loadSite(DEFAULT_CONFIG, { ...process.env, DUTYROOM_DATA_DIR: '/tmp' });
const tz = config.site.timezone;
const driver = new Influx1Driver({ url, database });
const DAY = 86_400_000;
// History up to a local midnight, so the report's first day is whole.
const end = localMidnight('2026-11-20', tz);
let truth: GroundTruth;
let report: MeterReport;

beforeAll(async () => {
  const done = await backfillSite({ config, driver, days: 40, end, seed: 7, perKind: 3 });
  truth = done.truth;
  expect(done.points).toBeGreaterThan(170 * 40 * 90);
  report = await runMeterReport({
    config,
    driver,
    from: localDate(truth.start, tz),
    to: addDays('2026-11-20', -1),
    now: end,
  });
}, 120_000);

afterAll(async () => {
  await influxql(url, database, `DROP DATABASE "${database}"`).catch(() => undefined);
});

describe('meter-anomaly report on planted history', () => {
  it('plants every kind', () => {
    const kinds = new Set(truth.planted.map((p) => p.kind));
    for (const k of ANOMALY_KIND_NAMES) expect(kinds, k).toContain(k);
    expect(kinds).toContain('counter_rollover');
  });

  it('finds every planted anomaly (recall 100 %)', () => {
    const missed = truth.planted
      .filter((p) => p.kind !== 'counter_rollover')
      .filter(
        (p) =>
          !report.anomalies.some(
            (a) => a.meter === p.meter && a.kind === p.kind && a.from < p.to + DAY && a.to > p.from - DAY,
          ),
      );
    expect(missed).toEqual([]);
  });

  it('flags at most 2 % of clean meters, per kind', () => {
    const planted = new Set(truth.planted.filter((p) => p.kind !== 'counter_rollover').map((p) => p.meter));
    const clean = truth.meters.filter((m) => !planted.has(m));
    expect(clean.length).toBeGreaterThan(100);
    for (const kind of ANOMALY_KIND_NAMES) {
      const flagged = new Set(
        report.anomalies.filter((a) => a.kind === kind && !planted.has(a.meter)).map((a) => a.meter),
      );
      expect(flagged.size / clean.length, `${kind}: ${[...flagged].join(', ')}`).toBeLessThanOrEqual(0.02);
    }
  });

  it('tells a counter wrap (rollover) from a rollback', () => {
    const wraps = truth.planted.filter((p) => p.kind === 'counter_rollover');
    for (const w of wraps) {
      const row = report.meters.find((m) => m.id === w.meter)!;
      expect(row.rollovers.length, w.meter).toBe(1);
      expect(report.anomalies.filter((a) => a.meter === w.meter)).toEqual([]);
      // The wrap is counted as use: the day's total is ordinary, not negative or a spike.
      expect(row.days.every((d) => d.use === null || d.use < 50)).toBe(true);
    }
    for (const b of truth.planted.filter((p) => p.kind === 'counter_rollback')) {
      const a = report.anomalies.find((x) => x.meter === b.meter && x.kind === 'counter_rollback')!;
      expect(a.values.after).toBeLessThan(a.values.before as number);
      expect(report.meters.find((m) => m.id === b.meter)!.rollovers).toEqual([]);
    }
  });

  it('tells an offline gap from zero use', () => {
    for (const g of truth.planted.filter((p) => p.kind === 'data_gap')) {
      const found = report.anomalies.filter((a) => a.meter === g.meter && a.kind === 'data_gap');
      expect(found.length).toBe(1);
      // To the hour: the gap's buckets are whole hours around the missing readings.
      expect(Math.abs(found[0]!.from - g.from)).toBeLessThan(3_600_000);
      expect(Math.abs(found[0]!.to - g.to)).toBeLessThan(3_600_000);
      expect(report.anomalies.some((a) => a.meter === g.meter && a.kind === 'stuck_meter')).toBe(false);
    }
    for (const s of truth.planted.filter((p) => p.kind === 'stuck_meter')) {
      expect(report.anomalies.some((a) => a.meter === s.meter && a.kind === 'data_gap')).toBe(false);
    }
  });

  it('totals per building and kind add up the meters', () => {
    for (const t of report.totals) {
      const rows = report.meters.filter((m) => m.building === t.building && m.kind === t.meterKind);
      expect(t.meters).toBe(rows.length);
      expect(t.total).toBeCloseTo(
        rows.reduce((s, m) => s + (m.total ?? 0), 0),
        1,
      );
    }
    expect(report.totals.map((t) => t.building)).toEqual(expect.arrayContaining(['t1', 't2', 'c3']));
  });
});
