import type { Thresholds } from '../../thresholds.js';
import type { MeterReportSettings } from '../settings.js';
import { addDays } from '../calendar.js';
import type { DailyUse, MeterDay, MeterDrop, MeterHistory, ReportPeriod, Rollover } from '../meter-model.js';
import { DAY_MS, round, type MeterCheckInput } from './types.js';

// The derived facts every check shares: what each drop of the counter was, the use per day
// corrected for wraps, and the days a gap touched.

/**
 * The value where the counter wraps: the meter's known span, else the power of ten just above
 * the last value (mechanical-style registers such as 99 999.999 m³). A drop is a rollover when
 * the counter was near that span and restarted near zero; anything else is a rollback.
 */
export function classifyDrop(
  drop: MeterDrop,
  span: number | undefined,
  share: number,
): { rollover: boolean; span: number } {
  const s = span ?? 10 ** Math.ceil(Math.log10(Math.max(drop.before, 1) * (1 + 1e-12)));
  const rollover = drop.before >= share * s && drop.before < s && drop.after <= (1 - share) * s;
  return { rollover, span: s };
}

export interface SortedDrops {
  rollovers: Rollover[];
  rollbacks: MeterDrop[];
  /** Per local date, what the drops that day add to its use. */
  correction: Map<string, number>;
}

/**
 * Wraps are corrected (the meter really counted span − before + after); rollbacks add nothing
 * (the counter restarts from its new value). A drop on no day the history knows is ignored.
 */
export function sortDrops(h: MeterHistory, settings: MeterReportSettings): SortedDrops {
  const out: SortedDrops = { rollovers: [], rollbacks: [], correction: new Map() };
  const dayOf = (ts: number) =>
    h.days.find((d, i) => ts >= d.start && (i + 1 >= h.days.length || ts < h.days[i + 1]!.start))?.date;
  for (const drop of h.drops) {
    const { rollover, span } = classifyDrop(drop, h.meter.span, settings.rollover_share);
    const date = dayOf(drop.ts);
    if (date === undefined) continue;
    out.correction.set(date, (out.correction.get(date) ?? 0) + (rollover ? span : drop.before - drop.after));
    if (rollover) out.rollovers.push({ meter: h.meter.id, ts: drop.ts, before: drop.before, after: drop.after, span });
    else out.rollbacks.push(drop);
  }
  return out;
}

/** Every date from the history's first day to the period's last. */
export function datesToEnd(h: MeterHistory, period: ReportPeriod): string[] {
  const dates: string[] = [];
  if (h.days.length > 0) {
    for (let d = h.days[0]!.date; d <= period.to; d = addDays(d, 1)) dates.push(d);
  }
  return dates;
}

/** Each day's last reading minus the day before's last, corrected for drops. */
export function dailyUses(
  dates: string[],
  byDate: ReadonlyMap<string, MeterDay>,
  correction: ReadonlyMap<string, number>,
): DailyUse[] {
  const uses: DailyUse[] = [];
  let prevLast: number | undefined;
  let prevDate: string | undefined;
  for (const date of dates) {
    const day = byDate.get(date);
    if (!day || day.count === 0 || day.last === undefined || day.first === undefined) {
      uses.push({ date, use: null });
      continue;
    }
    const base = prevLast ?? day.first;
    const use = Math.max(0, round(day.last - base + (correction.get(date) ?? 0), 6));
    const afterGap = prevDate !== undefined && prevDate !== addDays(date, -1);
    uses.push({ date, use, ...(afterGap ? { afterGap } : {}) });
    prevLast = day.last;
    prevDate = date;
  }
  return uses;
}

/** The days (with readings) that one of the history's gaps overlaps. */
export function gapDates(h: MeterHistory, dates: string[], byDate: ReadonlyMap<string, MeterDay>): Set<string> {
  const touched = new Set<string>();
  for (const g of h.gaps)
    for (const d of dates) {
      const day = byDate.get(d);
      if (day && g.from < day.start + DAY_MS && g.to > day.start) touched.add(d);
    }
  return touched;
}

/** What the checks read of one meter, derived once; the wraps are the report's, not any check's. */
export function meterCheckInput(
  history: MeterHistory,
  period: ReportPeriod,
  settings: MeterReportSettings,
  thresholds: Thresholds,
): { input: MeterCheckInput; rollovers: Rollover[] } {
  const drops = sortDrops(history, settings);
  const byDate = new Map(history.days.map((d) => [d.date, d]));
  const dates = datesToEnd(history, period);
  const input: MeterCheckInput = {
    history,
    period,
    settings,
    thresholds,
    byDate,
    uses: dailyUses(dates, byDate, drops.correction),
    gapDates: gapDates(history, dates, byDate),
    rollbacks: drops.rollbacks,
  };
  return { input, rollovers: drops.rollovers };
}
