import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../thresholds.js';
import { addDays, localMidnight } from './calendar.js';
import { classifyDrop, judgeMeter, type ReportPeriod } from './meter-anomalies.js';
import { DEFAULT_METER_REPORT_SETTINGS } from './settings.js';
import type { MeterDay, MeterFacts, MeterHistory } from './meter-model.js';

const TZ = 'Asia/Shanghai';
const period = (from: string, to: string): ReportPeriod => ({
  from,
  to,
  start: localMidnight(from, TZ),
  end: localMidnight(addDays(to, 1), TZ),
  timeZone: TZ,
});
const flat: MeterFacts = { id: 'wm', kind: 'water_meter', building: 'b', unit: 'u', vacant: false };

/** Days from `first` with these daily uses (null = no readings), counter from 100. */
function history(first: string, uses: (number | null)[], meter = flat): MeterHistory {
  let total = 100;
  const days: MeterDay[] = [];
  uses.forEach((u, i) => {
    const date = addDays(first, i);
    if (u === null) return;
    days.push({ date, start: localMidnight(date, TZ), count: 96, first: total, last: total + u, minFlow: 0 });
    total += u;
  });
  return { meter, days, drops: [], gaps: [], nights: [] };
}

const judge = (h: MeterHistory, p: ReportPeriod) => judgeMeter(h, p, DEFAULT_METER_REPORT_SETTINGS, DEFAULT_THRESHOLDS);

describe('classifyDrop', () => {
  it('a fall from near the span to near zero is a wrap; anything else winds back', () => {
    expect(classifyDrop({ ts: 0, before: 99_999.5, after: 0.3 }, undefined, 0.9)).toEqual({
      rollover: true,
      span: 100_000,
    });
    expect(classifyDrop({ ts: 0, before: 4_294_967.1, after: 0.2 }, 4_294_967.296, 0.9)).toEqual({
      rollover: true,
      span: 4_294_967.296,
    });
    expect(classifyDrop({ ts: 0, before: 2_500, after: 1_000 }, undefined, 0.9).rollover).toBe(false);
    // Near the top of a known span but landing far above zero: wound back, not wrapped.
    expect(classifyDrop({ ts: 0, before: 99_000, after: 50_000 }, 100_000, 0.9).rollover).toBe(false);
  });
});

describe('judgeMeter', () => {
  it('a spike is judged against usual days; days away from home do not lower the usual', () => {
    const uses = [...Array(20).fill(0.4), 0, 0, 0, 0, 0.45, 1.5];
    const r = judge(history('2026-11-01', uses), period('2026-11-20', '2026-11-26'));
    expect(r.anomalies.map((a) => a.kind)).toEqual(['consumption_spike']);
    expect(r.anomalies[0]!.values).toMatchObject({ use: 1.5, median: 0.4 });
  });

  it('no spike without two weeks of usual days', () => {
    const r = judge(
      history('2026-11-01', [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 3]),
      period('2026-11-01', '2026-11-10'),
    );
    expect(r.anomalies).toEqual([]);
  });

  it('stuck needs seven still days with readings, in an occupied unit', () => {
    const still = [...Array(10).fill(0.4), ...Array(7).fill(0)];
    expect(
      judge(history('2026-11-01', still), period('2026-11-01', '2026-11-17')).anomalies.map((a) => a.kind),
    ).toEqual(['stuck_meter']);
    expect(judge(history('2026-11-01', still.slice(0, 16)), period('2026-11-01', '2026-11-16')).anomalies).toEqual([]);
    const vacant = { ...flat, vacant: true };
    expect(
      judge(history('2026-11-01', Array(17).fill(0), vacant), period('2026-11-01', '2026-11-17')).anomalies,
    ).toEqual([]);
    // Days without readings break the run: that is a gap, not a stuck meter.
    const gappy = [...Array(10).fill(0.4), 0, 0, 0, null, 0, 0, 0, 0];
    expect(
      judge(history('2026-11-01', gappy), period('2026-11-01', '2026-11-18')).anomalies.map((a) => a.kind),
    ).not.toContain('stuck_meter');
  });

  it('a rollover counts the use across the wrap; a rollback counts none and is an anomaly', () => {
    const d = (i: number) => localMidnight(addDays('2026-11-01', i), TZ);
    const h: MeterHistory = {
      meter: { ...flat, span: 100_000 },
      days: [
        { date: '2026-11-01', start: d(0), count: 96, first: 99_999.0, last: 99_999.5 },
        { date: '2026-11-02', start: d(1), count: 96, first: 99_999.5, last: 0.3 },
        { date: '2026-11-03', start: d(2), count: 96, first: 0.3, last: 0.8 },
      ],
      drops: [{ ts: d(1) + 3_600_000, before: 99_999.8, after: 0.1 }],
      gaps: [],
      nights: [],
    };
    const r = judge(h, period('2026-11-01', '2026-11-03'));
    expect(r.rollovers).toEqual([{ meter: 'wm', ts: d(1) + 3_600_000, before: 99_999.8, after: 0.1, span: 100_000 }]);
    expect(r.anomalies).toEqual([]);
    expect(r.days.map((x) => x.use)).toEqual([0.5, 0.8, 0.5]);

    const back = history('2026-11-01', [0.5, 0.5, 0.5], { ...flat, kind: 'electricity_meter' });
    back.days[1] = { ...back.days[1]!, last: 60 };
    back.days[2] = { ...back.days[2]!, first: 60, last: 60.5 };
    back.drops.push({ ts: back.days[1]!.start + 7_200_000, before: 100.9, after: 60 });
    const rb = judge(back, period('2026-11-01', '2026-11-03'));
    expect(rb.anomalies.map((a) => a.kind)).toEqual(['counter_rollback']);
    expect(rb.days.map((d) => d.use)).toEqual([0.5, 0.4, 0.5]);
  });
});

describe('judgeMeter: gaps and days under way', () => {
  it('a meter with days only before the period is one gap, not two', () => {
    const h = history('2026-11-01', [0.4, 0.4, 0.4]);
    const p = period('2026-11-05', '2026-11-06');
    h.gaps.push({ from: p.start, to: p.end });
    expect(judge(h, p).anomalies.map((a) => [a.kind, a.from, a.to])).toEqual([['data_gap', p.start, p.end]]);
    const silent: MeterHistory = { meter: flat, days: [], drops: [], gaps: [], nights: [] };
    expect(judge(silent, p).anomalies.map((a) => [a.kind, a.from, a.to])).toEqual([['data_gap', p.start, p.end]]);
  });

  it('continuous flow is judged on whole days only', () => {
    const h = history('2026-11-01', [0.5, 0.5]);
    for (const d of h.days) d.minFlow = 0.02;
    const p = period('2026-11-01', '2026-11-02');
    expect(judge(h, p).anomalies.map((a) => a.kind)).toEqual(['continuous_flow']);
    expect(judge(h, p).anomalies[0]!.values.days).toBe(2);
    // Made at noon of the second day: only the first day is whole.
    const noon = { ...p, end: localMidnight('2026-11-02', TZ) + 12 * 3_600_000 };
    expect(judge(h, noon).anomalies[0]!.values.days).toBe(1);
  });
});
