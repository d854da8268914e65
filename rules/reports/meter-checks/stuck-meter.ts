import { METER_COUNTER, type DailyUse } from '../meter-model.js';
import { daysSpan, inPeriod, type Finding, type MeterCheck, type MeterCheckInput } from './types.js';

/** 表具停走: readings keep coming but the counter does not move, day after day, where someone lives. */
export const stuckMeter: MeterCheck = {
  kinds: ['stuck_meter'],
  applies: (meter) => !meter.vacant,
  check: (input) => {
    const still = METER_COUNTER[input.history.meter.kind].resolution / 2;
    const findings: Finding[] = [];
    let run: DailyUse[] = [];
    const flush = () => {
      const f = stuckRun(input, run);
      if (f) findings.push(f);
      run = [];
    };
    for (const u of input.uses) {
      if (u.use !== null && u.use < still && !u.afterGap) run.push(u);
      else flush();
    }
    flush();
    return findings;
  },
};

function stuckRun({ history, period, settings, byDate }: MeterCheckInput, run: DailyUse[]): Finding | undefined {
  if (run.length < settings.stuck_days || !run.some((u) => inPeriod(period, u.date))) return undefined;
  const first = run[0]!.date;
  const last = run.at(-1)!.date;
  const value = byDate.get(last)!.last!;
  const unit = METER_COUNTER[history.meter.kind].unit;
  return {
    kind: 'stuck_meter',
    ...daysSpan(byDate, first, last),
    evidence: {
      zh: `${first} 至 ${last} 连续 ${run.length} 天读数不变（${value} ${unit}），住户在住`,
      en: `reading unchanged at ${value} ${unit} for ${run.length} days (${first} to ${last}) in an occupied unit`,
    },
    values: { days: run.length, value },
    ...(run.length >= 30 ? { severity: 'major' } : {}),
  };
}
