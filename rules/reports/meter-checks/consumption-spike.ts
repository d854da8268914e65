import { METER_COUNTER, type DailyUse } from '../meter-model.js';
import { DAY_MS, inPeriod, median, round, type Finding, type MeterCheck, type MeterCheckInput } from './types.js';

/** 用量突增: a day far above the median of the days before it. */
export const consumptionSpike: MeterCheck = {
  kinds: ['consumption_spike'],
  applies: (meter) => !meter.vacant,
  check: (input) => {
    const findings: Finding[] = [];
    input.uses.forEach((u, i) => {
      const f = spikeOn(input, u, i);
      if (f) findings.push(f);
    });
    return findings;
  },
};

/** The usual days before day `i`: days without use (the family away) say nothing about a usual day. */
function baseline({ history, settings, uses, gapDates }: MeterCheckInput, i: number): number[] {
  const res = METER_COUNTER[history.meter.kind].resolution;
  return uses
    .slice(Math.max(0, i - settings.spike_baseline_days), i)
    .filter((b) => b.use !== null && b.use >= res && !b.afterGap && !gapDates.has(b.date))
    .map((b) => b.use!);
}

function spikeOn(input: MeterCheckInput, u: DailyUse, i: number): Finding | undefined {
  const { history, period, settings, byDate, gapDates } = input;
  if (!inPeriod(period, u.date) || u.use === null || u.afterGap || gapDates.has(u.date)) return undefined;
  const before = baseline(input, i);
  if (before.length < settings.spike_min_baseline_days) return undefined;
  const water = history.meter.kind === 'water_meter';
  const excess = water ? settings.spike_min_excess_m3 : settings.spike_min_excess_kwh;
  const med = median(before);
  if (!(u.use > settings.spike_factor * med && u.use - med >= excess)) return undefined;
  const ratio = med > 0 ? round(u.use / med, 1) : Infinity;
  const start = byDate.get(u.date)!.start;
  const unit = METER_COUNTER[history.meter.kind].unit;
  return {
    kind: 'consumption_spike',
    from: start,
    to: start + DAY_MS,
    evidence: {
      zh: `${u.date} 用量 ${round(u.use)} ${unit}，为前 ${before.length} 天中位数 ${round(med)} 的 ${ratio} 倍`,
      en: `${u.date} used ${round(u.use)} ${unit}, ${ratio}× the median ${round(med)} of the ${before.length} days before`,
    },
    values: { use: round(u.use), median: round(med), ratio: Number.isFinite(ratio) ? ratio : 'inf' },
    ...(ratio >= 2 * settings.spike_factor ? { severity: 'major' } : {}),
  };
}
