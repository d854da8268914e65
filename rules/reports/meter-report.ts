import { severityRank } from '../alarms/kinds.js';
import type { Thresholds } from '../thresholds.js';
import { judgeMeter, type MeterJudgement, type ReportPeriod } from './meter-anomalies.js';
import type { MeterReportSettings } from './settings.js';
import {
  ANOMALY_KIND_NAMES,
  METER_COUNTER,
  type AnomalyKind,
  type DailyUse,
  type MeterAnomaly,
  type MeterFacts,
  type MeterHistory,
  type MeterKind,
  type Rollover,
  type Text,
} from './meter-model.js';

// The whole meter-anomaly report for a period: totals per building and meter kind, the
// anomalies with their evidence, and each meter's daily use (the small charts). A report
// whose period overlaps a drill says so: drill readings are simulated events.

export interface ReportDrill {
  id: string;
  scenario: string;
  title?: Text;
  from: number;
  to?: number;
}

export interface MeterRow extends Omit<MeterFacts, 'span'> {
  total: number | null;
  days: DailyUse[];
  rollovers: Rollover[];
  anomalies: number;
}

export interface BuildingTotal {
  building: string;
  buildingName?: Text;
  meterKind: MeterKind;
  unit: string;
  meters: number;
  /** Meters that sent at least one reading in the period. */
  reporting: number;
  total: number;
  anomalies: number;
}

export interface MeterReport {
  site: string;
  siteName?: Text;
  timeZone: string;
  from: string;
  to: string;
  /** Epoch ms covered: local midnight of `from` to the end of `to`, or to the time the report was made. */
  start: number;
  end: number;
  building?: string;
  generatedAt: number;
  drills: ReportDrill[];
  totals: BuildingTotal[];
  counts: Record<AnomalyKind, number>;
  anomalies: MeterAnomaly[];
  meters: MeterRow[];
}

export interface BuildReportInput {
  site: string;
  siteName?: Text;
  buildingNames?: Record<string, Text>;
  period: ReportPeriod;
  building?: string;
  histories: MeterHistory[];
  settings: MeterReportSettings;
  thresholds: (meterId: string) => Thresholds;
  drills: ReportDrill[];
  generatedAt: number;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function buildMeterReport(input: BuildReportInput): MeterReport {
  const { period } = input;
  const meters: MeterRow[] = [];
  const anomalies: MeterAnomaly[] = [];
  const totals = new Map<string, BuildingTotal>();
  for (const h of input.histories) {
    const j = judgeMeter(h, period, input.settings, input.thresholds(h.meter.id));
    anomalies.push(...j.anomalies);
    const m = h.meter;
    meters.push({
      id: m.id,
      kind: m.kind,
      building: m.building,
      ...(m.unit ? { unit: m.unit } : {}),
      vacant: m.vacant,
      ...(m.name ? { name: m.name } : {}),
      total: j.total,
      days: j.days,
      rollovers: j.rollovers,
      anomalies: j.anomalies.length,
    });
    addToTotal(totals, m, j, input.buildingNames);
  }
  anomalies.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      a.building.localeCompare(b.building) ||
      a.meter.localeCompare(b.meter) ||
      a.from - b.from,
  );
  const counts = Object.fromEntries(ANOMALY_KIND_NAMES.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  for (const a of anomalies) counts[a.kind]++;
  return {
    site: input.site,
    ...(input.siteName ? { siteName: input.siteName } : {}),
    timeZone: period.timeZone,
    from: period.from,
    to: period.to,
    start: period.start,
    end: period.end,
    ...(input.building ? { building: input.building } : {}),
    generatedAt: input.generatedAt,
    drills: input.drills.filter((d) => d.from < period.end && (d.to ?? Infinity) > period.start),
    totals: [...totals.values()].sort(
      (a, b) => a.building.localeCompare(b.building) || a.meterKind.localeCompare(b.meterKind),
    ),
    counts,
    anomalies,
    meters: meters.sort((a, b) => a.building.localeCompare(b.building) || a.id.localeCompare(b.id)),
  };
}

/** Adds one judged meter to its building's total for its kind. */
function addToTotal(
  totals: Map<string, BuildingTotal>,
  m: MeterFacts,
  j: MeterJudgement,
  buildingNames: Record<string, Text> | undefined,
): void {
  const key = `${m.building}\u0000${m.kind}`;
  const t = totals.get(key) ?? {
    building: m.building,
    ...(buildingNames?.[m.building] ? { buildingName: buildingNames[m.building] } : {}),
    meterKind: m.kind,
    unit: METER_COUNTER[m.kind].unit,
    meters: 0,
    reporting: 0,
    total: 0,
    anomalies: 0,
  };
  t.meters++;
  if (j.total !== null) {
    t.reporting++;
    t.total = round(t.total + j.total);
  }
  t.anomalies += j.anomalies.length;
  totals.set(key, t);
}
