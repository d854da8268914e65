import type { MeterDay } from '../meter-model.js';
import { DAY_MS, daysSpan, inPeriod, round, type Finding, type MeterCheck, type MeterCheckInput } from './types.js';

/**
 * 疑似漏水: a whole day whose flow never fell to zero (Kamstrup LEAK logic, 24 h). Only a unit's
 * meter: a building main always flows; its leaks show as a higher night minimum.
 */
export const continuousFlow: MeterCheck = {
  kinds: ['continuous_flow'],
  applies: (meter) => meter.kind === 'water_meter' && meter.unit !== undefined,
  check: (input) => {
    const findings: Finding[] = [];
    let run: string[] = [];
    const flush = () => {
      if (run.length > 0) findings.push(flowRun(input, run));
      run = [];
    };
    for (const day of input.history.days) {
      if (inPeriod(input.period, day.date) && wholeDay(input, day) && day.minFlow! > 0) run.push(day.date);
      else flush();
    }
    flush();
    return findings;
  },
};

/** A day still under way (a report made at noon) is not judged: its flow may yet stop. */
function wholeDay({ period, gapDates }: MeterCheckInput, day: MeterDay): boolean {
  return day.count > 0 && !gapDates.has(day.date) && day.minFlow !== undefined && day.start + DAY_MS <= period.end;
}

function flowRun({ byDate }: MeterCheckInput, run: string[]): Finding {
  const least = round(Math.min(...run.map((d) => byDate.get(d)!.minFlow!)));
  return {
    kind: 'continuous_flow',
    ...daysSpan(byDate, run[0]!, run.at(-1)!),
    evidence: {
      zh: `${run[0]} 至 ${run.at(-1)} 共 ${run.length} 天流量从未归零（最小 ${least} m³/h），疑似漏水`,
      en: `flow never fell to zero on ${run.length} day(s), ${run[0]} to ${run.at(-1)} (least: ${least} m³/h): suspected leak`,
    },
    values: { days: run.length, least_flow_m3h: least },
  };
}
