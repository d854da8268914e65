import type { Severity } from '../alarms/kinds.js';

// The meter-anomaly report as data (DOMAIN.md §5). The database aggregates the readings
// (gateway/reports/queries.ts); the rules here judge the aggregates; the gateway renders
// the result as JSON, CSV and a printable page, so every format says the same.

export type Text = { zh: string; en: string };

export const METER_KINDS = ['water_meter', 'electricity_meter'] as const;
export type MeterKind = (typeof METER_KINDS)[number];

/** The counter each meter kind is judged by, and its unit. */
export const METER_COUNTER: Record<MeterKind, { field: string; unit: string; resolution: number }> = {
  water_meter: { field: 'total_m3', unit: 'm³', resolution: 0.001 },
  electricity_meter: { field: 'energy_import_kwh', unit: 'kWh', resolution: 0.01 },
};

export const ANOMALY_KINDS = {
  stuck_meter: { severity: 'minor', title: { zh: '表具停走', en: 'Stuck meter' } },
  vacant_unit_flow: { severity: 'major', title: { zh: '空置房走水', en: 'Water used in a vacant unit' } },
  vacant_unit_power: { severity: 'minor', title: { zh: '空置房走电', en: 'Electricity used in a vacant unit' } },
  consumption_spike: { severity: 'minor', title: { zh: '用量突增', en: 'Consumption spike' } },
  counter_rollback: {
    severity: 'major',
    title: { zh: '读数倒退（回拨/篡改）', en: 'Counter went back (rollback or tamper)' },
  },
  data_gap: { severity: 'minor', title: { zh: '数据缺失/离线', en: 'Missing readings (offline)' } },
  continuous_flow: {
    severity: 'major',
    title: { zh: '疑似漏水（24小时持续用水）', en: 'Continuous flow for 24 h (suspected leak)' },
  },
  night_flow_high: { severity: 'minor', title: { zh: '夜间流量偏高', en: 'High night flow' } },
} as const satisfies Record<string, { severity: Severity; title: Text }>;

export type AnomalyKind = keyof typeof ANOMALY_KINDS;
export const ANOMALY_KIND_NAMES = Object.keys(ANOMALY_KINDS) as AnomalyKind[];

/** What the report knows of a meter (from the site file). */
export interface MeterFacts {
  id: string;
  kind: MeterKind;
  building: string;
  unit?: string;
  vacant: boolean;
  name?: Text;
  /** The value at which the counter wraps to 0, when known (profile register width, or the site file). */
  span?: number;
}

/** One local calendar day of a meter, aggregated by the database. */
export interface MeterDay {
  /** Local date YYYY-MM-DD (site time zone). */
  date: string;
  /** Epoch ms of local midnight. */
  start: number;
  count: number;
  first?: number;
  last?: number;
  /** Water meters: the smallest flow reading that day (m³/h); above zero all day = continuous flow. */
  minFlow?: number;
}

/** A counter that went down between two readings. */
export interface MeterDrop {
  /** Epoch ms of the reading after the drop. */
  ts: number;
  before: number;
  after: number;
}

/** Readings missing from `from` to `to` (epoch ms). */
export interface MeterGap {
  from: number;
  to: number;
}

/** The smallest flow reading inside one night window (local night_start_h–night_end_h of `date`), m³/h. */
export interface MeterNight {
  date: string;
  minFlow?: number;
}

/** Everything the database said about one meter for the report period and the baseline days before it. */
export interface MeterHistory {
  meter: MeterFacts;
  /** Oldest first; days without readings may be absent. */
  days: MeterDay[];
  drops: MeterDrop[];
  gaps: MeterGap[];
  nights: MeterNight[];
}

export interface ReportPeriod {
  /** Local dates, both inclusive. */
  from: string;
  to: string;
  /** Epoch ms: local midnight of `from`, and the end of `to` or now, whichever is first. */
  start: number;
  end: number;
  timeZone: string;
}

export interface MeterAnomaly {
  meter: string;
  meterKind: MeterKind;
  building: string;
  unit?: string;
  kind: AnomalyKind;
  severity: Severity;
  /** Epoch ms: when it began and ended (or the period's end, if it still goes on). */
  from: number;
  to: number;
  /** What a reader checks: the numbers, in both languages. */
  evidence: Text;
  /** The same numbers as data (CSV columns, charts). */
  values: Record<string, number | string>;
}

/** A counter wrap: not an anomaly, but listed, so nobody mistakes the drop for one. */
export interface Rollover {
  meter: string;
  ts: number;
  before: number;
  after: number;
  span: number;
}

export interface DailyUse {
  date: string;
  /** Use that day; null without readings. */
  use: number | null;
  /** The day's use includes readings missed on earlier days (after a gap): not judged for spikes. */
  afterGap?: boolean;
}
