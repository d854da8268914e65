import type { Thresholds } from '../thresholds.js';
import { meterCheckInput } from './meter-checks/daily-use.js';
import { METER_CHECKS } from './meter-checks/index.js';
import { inPeriod, round, type Finding } from './meter-checks/types.js';
import type { MeterReportSettings } from './settings.js';
import {
  ANOMALY_KINDS,
  type DailyUse,
  type MeterAnomaly,
  type MeterFacts,
  type MeterHistory,
  type ReportPeriod,
  type Rollover,
} from './meter-model.js';

// Judges one meter's aggregated history (DOMAIN.md §5, utility VEE practice). Pure: the
// database did the aggregating, the caller passes the period, the zone and the settings.
// Each anomaly is one check in meter-checks/; this file derives what they share and runs them.

export { classifyDrop } from './meter-checks/daily-use.js';
export type { ReportPeriod } from './meter-model.js';

export interface MeterJudgement {
  anomalies: MeterAnomaly[];
  rollovers: Rollover[];
  /** Use per day of the period (the chart and the totals). */
  days: DailyUse[];
  /** Use over the period; null when no reading arrived in it. */
  total: number | null;
}

export function judgeMeter(
  h: MeterHistory,
  period: ReportPeriod,
  settings: MeterReportSettings,
  thresholds: Thresholds,
): MeterJudgement {
  const { input, rollovers } = meterCheckInput(h, period, settings, thresholds);
  const anomalies = METER_CHECKS.filter((c) => c.applies(h.meter))
    .flatMap((c) => c.check(input))
    .map((f) => anomaly(h.meter, period, f));
  // Stable: anomalies starting together keep the checks' order.
  anomalies.sort((a, b) => a.from - b.from);
  const days = input.uses.filter((u) => inPeriod(period, u.date));
  const counted = days.filter((u) => u.use !== null);
  const total = counted.length ? round(counted.reduce((s, u) => s + u.use!, 0)) : null;
  return { anomalies, rollovers, days, total };
}

function anomaly(m: MeterFacts, period: ReportPeriod, f: Finding): MeterAnomaly {
  return {
    meter: m.id,
    meterKind: m.kind,
    building: m.building,
    ...(m.unit ? { unit: m.unit } : {}),
    kind: f.kind,
    severity: f.severity ?? ANOMALY_KINDS[f.kind].severity,
    from: f.from,
    to: Math.min(f.to, period.end),
    evidence: { zh: f.evidence.zh, en: f.evidence.en },
    values: f.values,
  };
}
