import type { Severity } from '../../alarms/kinds.js';
import type { Thresholds } from '../../thresholds.js';
import { localStamp } from '../calendar.js';
import type { MeterReportSettings } from '../settings.js';
import type {
  AnomalyKind,
  DailyUse,
  MeterDay,
  MeterDrop,
  MeterFacts,
  MeterHistory,
  ReportPeriod,
  Text,
} from '../meter-model.js';

// What every meter check reads: the database's aggregates of one meter plus the daily use the
// judgement derived from them once (rollovers corrected, gaps found), so no check redoes that.

export interface MeterCheckInput {
  history: MeterHistory;
  period: ReportPeriod;
  settings: MeterReportSettings;
  thresholds: Thresholds;
  /** The history's days by local date. */
  byDate: ReadonlyMap<string, MeterDay>;
  /** Use per day, from the first day with readings (baseline included) to the period's last. */
  uses: DailyUse[];
  /** Days that lost readings to a gap: their use says little about a usual day. */
  gapDates: ReadonlySet<string>;
  /** Drops that were not wraps, on a day the history knows. */
  rollbacks: MeterDrop[];
}

/** One anomaly as a check sees it; the judgement adds the meter and clamps `to` to the period. */
export interface Finding {
  kind: AnomalyKind;
  from: number;
  to: number;
  evidence: Text;
  values: Record<string, number | string>;
  /** When the anomaly is graver than its kind's usual severity. */
  severity?: Severity;
}

/** One anomaly rule of DOMAIN.md §5, as rules/detectors/ holds one live rule each. */
export interface MeterCheck {
  kinds: readonly AnomalyKind[];
  applies(meter: MeterFacts): boolean;
  check(input: MeterCheckInput): Finding[];
}

export const DAY_MS = 86_400_000;

export const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export const inPeriod = (period: ReportPeriod, date: string) => date >= period.from && date <= period.to;

/** Local time as the evidence prints it. */
export const stamp = (period: ReportPeriod, ts: number) => localStamp(ts, period.timeZone);

/** Local midnight of the first date to local midnight after the last (dates the history knows). */
export function daysSpan(byDate: ReadonlyMap<string, MeterDay>, first: string, last: string) {
  return { from: byDate.get(first)!.start, to: byDate.get(last)!.start + DAY_MS };
}
