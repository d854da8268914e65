import { DEFAULT_THRESHOLDS } from '../../thresholds.js';
import { addDays, localMidnight } from '../calendar.js';
import { DEFAULT_METER_REPORT_SETTINGS, type MeterReportSettings } from '../settings.js';
import type { MeterDay, MeterFacts, MeterHistory, ReportPeriod } from '../meter-model.js';
import { meterCheckInput } from './daily-use.js';
import type { MeterCheck, MeterCheckInput } from './types.js';

// Hand-made histories for the checks' own tests, in a zone east of UTC so local days matter.

export const TZ = 'Asia/Shanghai';
export const dayStart = (date: string) => localMidnight(date, TZ);

export const period = (from: string, to: string): ReportPeriod => ({
  from,
  to,
  start: dayStart(from),
  end: dayStart(addDays(to, 1)),
  timeZone: TZ,
});

export const flat: MeterFacts = { id: 'wm', kind: 'water_meter', building: 'b', unit: 'u', vacant: false };

/** Days from `first` with these daily uses (null = no readings), counter from 100, flow stopping daily. */
export function history(first: string, uses: (number | null)[], meter = flat): MeterHistory {
  let total = 100;
  const days: MeterDay[] = [];
  uses.forEach((u, i) => {
    const date = addDays(first, i);
    if (u === null) return;
    days.push({ date, start: dayStart(date), count: 96, first: total, last: total + u, minFlow: 0 });
    total += u;
  });
  return { meter, days, drops: [], gaps: [], nights: [] };
}

export function inputOf(
  h: MeterHistory,
  p: ReportPeriod,
  settings: Partial<MeterReportSettings> = {},
): MeterCheckInput {
  return meterCheckInput(h, p, { ...DEFAULT_METER_REPORT_SETTINGS, ...settings }, DEFAULT_THRESHOLDS).input;
}

/** A check as the judgement runs it: nothing when it does not apply to the meter. */
export function run(check: MeterCheck, input: MeterCheckInput) {
  return check.applies(input.history.meter) ? check.check(input) : [];
}
