import { addDays, localMidnight, localTime } from '../../rules/reports/calendar.js';
import type { ReportPeriod } from '../../rules/reports/meter-anomalies.js';
import {
  METER_COUNTER,
  type MeterDay,
  type MeterFacts,
  type MeterHistory,
  type MeterKind,
} from '../../rules/reports/types.js';
import type { InfluxqlResult, InfluxqlSeries, StoreDriver } from '../store/types.js';

// The meter report's questions to InfluxDB (InfluxQL). The database aggregates: one scan per
// meter kind gives each meter's local days (GROUP BY time(1d) … tz()): first, last and count
// of the counter and, for water, the smallest flow; one small statement per night gives the
// night's smallest flow. A day that ends below its start, or starts below the day before,
// holds a drop, and a day with fewer readings than the meter's usual holds a gap: only for
// those few days are the readings (drops) or hourly counts (gaps) asked for. Node never
// receives the raw history. Each function costs InfluxDB 1.x a pass over the points, so the
// day query asks for no more than these (min and max would catch a wind-back smaller than the
// rest of that day's use too, at 1.5× the time; such a small one is missed). Identifiers come
// from the catalogue; building and device ids are bound parameters.

export interface HistoryQuery {
  driver: StoreDriver;
  kind: MeterKind;
  meters: MeterFacts[];
  period: ReportPeriod;
  building?: string;
  /** Days before the period whose use makes the spike and night baselines. */
  baselineDays: number;
  /** Night window, local hours. */
  nightStartH: number;
  nightEndH: number;
  /** Width of the buckets that must hold at least one reading (≥ 2 reading intervals), hours. */
  gapBucketH: number;
}

const HOUR = 3_600_000;
/** A day with fewer readings than this share of the meter's usual day is looked at hour by hour. */
const SHORT_DAY = 0.95;

function series(r: InfluxqlResult | undefined, what: string): InfluxqlSeries[] {
  if (!r) throw new Error(`InfluxDB returned no answer for the ${what} query`);
  if (r.error) throw new Error(`InfluxDB refused the ${what} query: ${r.error}`);
  return r.series ?? [];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[v.length >> 1]! : 0;
}

export async function queryMeterHistories(q: HistoryQuery): Promise<MeterHistory[]> {
  const { driver, period } = q;
  const influxql = driver.influxql?.bind(driver);
  if (!influxql)
    throw new Error(
      `meter reports need InfluxQL: the ${driver.name} driver has none (use InfluxDB 1.x, or 2.x through its 1.x-compatible /query API)`,
    );
  const tz = period.timeZone;
  const water = q.kind === 'water_meter';
  const m = `"${q.kind}"`;
  const f = `"${METER_COUNTER[q.kind].field}"`;
  const baseStart = localMidnight(addDays(period.from, -q.baselineDays), tz);
  const end = period.end;
  const building = q.building ? ' AND "building" = $building' : '';
  const params: Record<string, string> = q.building ? { building: q.building } : {};
  const range = (from: number, to: number) => `time >= ${from}ms AND time < ${to}ms${building}`;

  const daily = `SELECT first(${f}), last(${f}), count(${f})${water ? ', min("flow_m3h") AS min_flow' : ''} FROM ${m} WHERE ${range(baseStart, end)} GROUP BY time(1d), "device" fill(none) tz('${tz.replace(/'/g, '')}')`;
  const nights: { date: string; sql: string }[] = [];
  if (water) {
    for (let d = addDays(period.from, -q.baselineDays); d <= period.to; d = addDays(d, 1)) {
      const ns = localTime(d, q.nightStartH, tz);
      const ne = localTime(q.nightEndH > q.nightStartH ? d : addDays(d, 1), q.nightEndH, tz);
      if (ne > end) break;
      nights.push({
        date: d,
        sql: `SELECT min("flow_m3h") AS min_flow FROM ${m} WHERE ${range(ns, ne)} GROUP BY "device"`,
      });
    }
  }
  const [dailyR, nightsR] = await Promise.all([
    influxql([daily], params),
    nights.length
      ? influxql(
          nights.map((n) => n.sql),
          params,
        )
      : Promise.resolve([]),
  ]);

  const byId = new Map<string, MeterHistory>();
  for (const meter of q.meters) byId.set(meter.id, { meter, days: [], drops: [], gaps: [], nights: [] });
  const dates = new Map<number, string>();
  const dateOf = (ts: number) => {
    let d = dates.get(ts);
    if (d === undefined) {
      // tz() buckets start at local midnight: the date is the UTC date of that instant shifted by the zone's offset.
      d = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
        new Date(ts),
      );
      dates.set(ts, d);
    }
    return d;
  };

  for (const s of series(dailyR[0], 'daily meter')) {
    const h = s.tags?.device ? byId.get(s.tags.device) : undefined;
    if (!h) continue;
    const c = (name: string) => s.columns.indexOf(name);
    const [fi, la, co, mf] = [c('first'), c('last'), c('count'), c('min_flow')];
    for (const row of s.values) {
      const first = num(row[fi]);
      const last = num(row[la]);
      const count = num(row[co]) ?? 0;
      if (first === undefined || last === undefined || count === 0) continue;
      const start = row[0] as number;
      const day: MeterDay = { date: dateOf(start), start, count, first, last };
      const minFlow = mf >= 0 ? num(row[mf]) : undefined;
      if (minFlow !== undefined) day.minFlow = minFlow;
      h.days.push(day);
    }
  }
  nights.forEach((n, i) => {
    for (const s of series(nightsR[i], 'night flow')) {
      const h = s.tags?.device ? byId.get(s.tags.device) : undefined;
      const v = num(s.values[0]?.[s.columns.indexOf('min_flow')]);
      if (h) h.nights.push(v !== undefined ? { date: n.date, minFlow: v } : { date: n.date });
    }
  });

  // Suspect days: a drop (the day ends below its start or starts below the day before), or fewer
  // readings than the meter's usual day, or no readings at all where the period expects them.
  const dropDays: { h: MeterHistory; from: number; to: number }[] = [];
  const gapSpans: { h: MeterHistory; from: number; to: number }[] = [];
  for (const h of byId.values()) {
    h.days.sort((a, b) => a.start - b.start);
    const usual = median(h.days.map((d) => d.count));
    let prev: MeterDay | undefined;
    for (const day of h.days) {
      if (day.last! < day.first! || (prev && day.first! < prev.last!))
        dropDays.push({ h, from: prev ? prev.start : day.start, to: Math.min(day.start + 25 * HOUR, end) });
      prev = day;
    }
    if (h.days.length === 0) continue; // nothing at all: judged as one gap over the period
    const have = new Map(h.days.map((d) => [d.date, d]));
    for (let d = period.from; d <= period.to; d = addDays(d, 1)) {
      const from = localMidnight(d, tz);
      if (from >= end) break;
      const to = Math.min(localMidnight(addDays(d, 1), tz), end);
      const day = have.get(d);
      const expected = (usual * (to - from)) / (24 * HOUR);
      if (!day || day.count < SHORT_DAY * expected) {
        const last = gapSpans.at(-1);
        if (last && last.h === h && last.to === from) last.to = to;
        else gapSpans.push({ h, from, to });
      }
    }
  }

  const width = q.gapBucketH * HOUR;
  const statements = [
    ...dropDays.map(
      (s, i) => `SELECT ${f} FROM ${m} WHERE "device" = $d${i} AND time >= ${s.from}ms AND time < ${s.to}ms`,
    ),
    ...gapSpans.map(
      (s, i) =>
        `SELECT count(${f}) FROM ${m} WHERE "device" = $g${i} AND time >= ${s.from}ms AND time < ${s.to}ms GROUP BY time(${q.gapBucketH}h) fill(0)`,
    ),
  ];
  if (statements.length > 0) {
    const p = {
      ...Object.fromEntries(dropDays.map((s, i) => [`d${i}`, s.h.meter.id])),
      ...Object.fromEntries(gapSpans.map((s, i) => [`g${i}`, s.h.meter.id])),
    };
    const results = await influxql(statements, p);
    dropDays.forEach((s, i) => {
      const rows = series(results[i], 'readings around a drop')[0]?.values ?? [];
      for (let k = 1; k < rows.length; k++) {
        const before = rows[k - 1]![1];
        const after = rows[k]![1];
        const ts = rows[k]![0] as number;
        if (
          typeof before === 'number' &&
          typeof after === 'number' &&
          after < before &&
          !s.h.drops.some((d) => d.ts === ts)
        )
          s.h.drops.push({ ts, before, after });
      }
    });
    gapSpans.forEach((s, i) => {
      const found = series(results[dropDays.length + i], 'hourly readings')[0];
      // No series at all: not one reading in the span (fill() needs one to make buckets).
      const rows = found?.values ?? [[s.from, 0]];
      for (const row of rows) {
        if (row[1] !== 0) continue;
        const from = Math.max(row[0] as number, s.from);
        const to = Math.min((row[0] as number) + width, s.to);
        const last = s.h.gaps.at(-1);
        if (last && last.to >= from) last.to = Math.max(last.to, to);
        else s.h.gaps.push({ from, to });
      }
    });
  }
  for (const h of byId.values()) h.drops.sort((a, b) => a.ts - b.ts);
  return [...byId.values()];
}
