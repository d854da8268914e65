import { addDays, localDate, localMidnight, localTime } from '../../rules/reports/calendar.js';
import type { ReportPeriod } from '../../rules/reports/meter-anomalies.js';
import {
  METER_COUNTER,
  type MeterDay,
  type MeterFacts,
  type MeterHistory,
  type MeterKind,
} from '../../rules/reports/meter-model.js';
import type { InfluxqlResult, InfluxqlSeries, StoreDriver } from '../store/driver.js';

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

type InfluxQL = NonNullable<StoreDriver['influxql']>;

/** The parts every statement of one report shares: measurement, counter field, time range and building filter. */
interface Statements {
  q: HistoryQuery;
  /** The measurement and the counter field, quoted. */
  m: string;
  f: string;
  params: Record<string, string>;
  range(from: number, to: number): string;
}

/** A span of one meter's readings asked for again: around a drop, or hour by hour for a gap. */
interface Span {
  h: MeterHistory;
  from: number;
  to: number;
}

export async function queryMeterHistories(q: HistoryQuery): Promise<MeterHistory[]> {
  const influxql = influxqlOf(q.driver);
  const st = statements(q);
  const daily = dailyStatement(st);
  const nights = nightStatements(st);
  const [dailyR, nightsR] = await Promise.all([
    influxql([daily], st.params),
    nights.length
      ? influxql(
          nights.map((n) => n.sql),
          st.params,
        )
      : Promise.resolve([]),
  ]);
  const byId = new Map<string, MeterHistory>();
  for (const meter of q.meters) byId.set(meter.id, { meter, days: [], drops: [], gaps: [], nights: [] });
  addMeterDays(byId, series(dailyR[0], 'daily meter'), q.period.timeZone);
  nights.forEach((n, i) => addNights(byId, n.date, series(nightsR[i], 'night flow')));
  const dropDays: Span[] = [];
  const gapSpans: Span[] = [];
  for (const h of byId.values()) {
    h.days.sort((a, b) => a.start - b.start);
    dropDays.push(...dropSpans(h, q.period.end));
    gapSpans.push(...shortSpans(h, q.period));
  }
  await lookCloser(influxql, st, dropDays, gapSpans);
  for (const h of byId.values()) h.drops.sort((a, b) => a.ts - b.ts);
  return [...byId.values()];
}

function influxqlOf(driver: StoreDriver): InfluxQL {
  const influxql = driver.influxql?.bind(driver);
  if (!influxql)
    throw new Error(
      `meter reports need InfluxQL: the ${driver.name} driver has none (use InfluxDB 1.x, or 2.x through its 1.x-compatible /query API)`,
    );
  return influxql;
}

function statements(q: HistoryQuery): Statements {
  const building = q.building ? ' AND "building" = $building' : '';
  return {
    q,
    m: `"${q.kind}"`,
    f: `"${METER_COUNTER[q.kind].field}"`,
    params: q.building ? { building: q.building } : {},
    range: (from, to) => `time >= ${from}ms AND time < ${to}ms${building}`,
  };
}

/** Each meter's local days, baseline included: first, last and count of the counter, and for water the least flow. */
function dailyStatement({ q, m, f, range }: Statements): string {
  const tz = q.period.timeZone;
  const baseStart = localMidnight(addDays(q.period.from, -q.baselineDays), tz);
  const minFlow = q.kind === 'water_meter' ? ', min("flow_m3h") AS min_flow' : '';
  return `SELECT first(${f}), last(${f}), count(${f})${minFlow} FROM ${m} WHERE ${range(baseStart, q.period.end)} GROUP BY time(1d), "device" fill(none) tz('${tz.replace(/'/g, '')}')`;
}

/** Water meters: one statement per whole night, baseline included, for its least flow. */
function nightStatements({ q, m, range }: Statements): { date: string; sql: string }[] {
  const nights: { date: string; sql: string }[] = [];
  if (q.kind !== 'water_meter') return nights;
  const tz = q.period.timeZone;
  for (let d = addDays(q.period.from, -q.baselineDays); d <= q.period.to; d = addDays(d, 1)) {
    const ns = localTime(d, q.nightStartH, tz);
    const ne = localTime(q.nightEndH > q.nightStartH ? d : addDays(d, 1), q.nightEndH, tz);
    if (ne > q.period.end) break;
    nights.push({
      date: d,
      sql: `SELECT min("flow_m3h") AS min_flow FROM ${m} WHERE ${range(ns, ne)} GROUP BY "device"`,
    });
  }
  return nights;
}

/** The daily rows into each meter's days (days without readings left out). */
function addMeterDays(byId: Map<string, MeterHistory>, found: InfluxqlSeries[], tz: string): void {
  const dateOf = localDates(tz);
  for (const s of found) {
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
}

/** The local date of a bucket's start, remembered: there are few distinct days and many meters. */
function localDates(tz: string): (ts: number) => string {
  const dates = new Map<number, string>();
  return (ts) => {
    let d = dates.get(ts);
    if (d === undefined) {
      d = localDate(ts, tz);
      dates.set(ts, d);
    }
    return d;
  };
}

function addNights(byId: Map<string, MeterHistory>, date: string, found: InfluxqlSeries[]): void {
  for (const s of found) {
    const h = s.tags?.device ? byId.get(s.tags.device) : undefined;
    const v = num(s.values[0]?.[s.columns.indexOf('min_flow')]);
    if (h) h.nights.push(v !== undefined ? { date, minFlow: v } : { date });
  }
}

/** Days holding a drop: the day ends below its start, or starts below the day before (days sorted). */
function dropSpans(h: MeterHistory, end: number): Span[] {
  const spans: Span[] = [];
  let prev: MeterDay | undefined;
  for (const day of h.days) {
    if (day.last! < day.first! || (prev && day.first! < prev.last!))
      spans.push({ h, from: prev ? prev.start : day.start, to: Math.min(day.start + 25 * HOUR, end) });
    prev = day;
  }
  return spans;
}

/**
 * Days of the period with fewer readings than the meter's usual day, or none, joined where
 * they follow each other. A meter with no day at all is left out: it is judged as one gap.
 */
function shortSpans(h: MeterHistory, period: ReportPeriod): Span[] {
  const spans: Span[] = [];
  if (h.days.length === 0) return spans;
  const tz = period.timeZone;
  const usual = median(h.days.map((d) => d.count));
  const have = new Map(h.days.map((d) => [d.date, d]));
  for (let d = period.from; d <= period.to; d = addDays(d, 1)) {
    const from = localMidnight(d, tz);
    if (from >= period.end) break;
    const to = Math.min(localMidnight(addDays(d, 1), tz), period.end);
    const day = have.get(d);
    const expected = (usual * (to - from)) / (24 * HOUR);
    if (!day || day.count < SHORT_DAY * expected) {
      const last = spans.at(-1);
      if (last && last.to === from) last.to = to;
      else spans.push({ h, from, to });
    }
  }
  return spans;
}

/** Asks, in one request, for the readings around each drop and the hourly counts of each short span. */
async function lookCloser(influxql: InfluxQL, st: Statements, dropDays: Span[], gapSpans: Span[]): Promise<void> {
  const { q, m, f } = st;
  const sql = [
    ...dropDays.map(
      (s, i) => `SELECT ${f} FROM ${m} WHERE "device" = $d${i} AND time >= ${s.from}ms AND time < ${s.to}ms`,
    ),
    ...gapSpans.map(
      (s, i) =>
        `SELECT count(${f}) FROM ${m} WHERE "device" = $g${i} AND time >= ${s.from}ms AND time < ${s.to}ms GROUP BY time(${q.gapBucketH}h) fill(0)`,
    ),
  ];
  if (sql.length === 0) return;
  const params = {
    ...Object.fromEntries(dropDays.map((s, i) => [`d${i}`, s.h.meter.id])),
    ...Object.fromEntries(gapSpans.map((s, i) => [`g${i}`, s.h.meter.id])),
  };
  const results = await influxql(sql, params);
  dropDays.forEach((s, i) => addDrops(s, series(results[i], 'readings around a drop')[0]?.values ?? []));
  gapSpans.forEach((s, i) =>
    addGaps(s, series(results[dropDays.length + i], 'hourly readings')[0], q.gapBucketH * HOUR),
  );
}

/** Each fall of the counter between two readings (once, should two spans overlap). */
function addDrops(s: Span, rows: InfluxqlSeries['values']): void {
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
}

/** The empty buckets of a span, joined into gaps. */
function addGaps(s: Span, found: InfluxqlSeries | undefined, width: number): void {
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
}
