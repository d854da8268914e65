import { describe, expect, it } from 'vitest';
import { DEFAULT_METER_REPORT_SETTINGS } from '../settings.js';
import { flat, history, inputOf, period } from './checks.testing.js';
import { classifyDrop, sortDrops } from './daily-use.js';

describe('classifyDrop', () => {
  it('a fall from near the span to near zero is a wrap; anything else winds back', () => {
    expect(classifyDrop({ ts: 0, before: 99_999.5, after: 0.3 }, undefined, 0.9)).toEqual({
      rollover: true,
      span: 100_000,
    });
    expect(classifyDrop({ ts: 0, before: 2_500, after: 1_000 }, undefined, 0.9).rollover).toBe(false);
  });
});

describe('daily use', () => {
  it('a day after days without readings carries their use and says so', () => {
    const input = inputOf(history('2026-11-01', [0.4, null, null, 0.4]), period('2026-11-01', '2026-11-04'));
    expect(input.uses).toEqual([
      { date: '2026-11-01', use: 0.4 },
      { date: '2026-11-02', use: null },
      { date: '2026-11-03', use: null },
      { date: '2026-11-04', use: 0.4, afterGap: true },
    ]);
  });

  it('runs to the end of the period, and marks the days a gap touched', () => {
    const h = history('2026-11-01', [0.4, 0.4]);
    h.gaps.push({ from: h.days[1]!.start + 3_600_000, to: h.days[1]!.start + 7_200_000 });
    const input = inputOf(h, period('2026-11-01', '2026-11-03'));
    expect(input.uses.map((u) => u.use)).toEqual([0.4, 0.4, null]);
    expect([...input.gapDates]).toEqual(['2026-11-02']);
  });

  it('a drop on no known day is neither a wrap nor a rollback', () => {
    const h = history('2026-11-05', [0.4]);
    h.drops.push({ ts: h.days[0]!.start - 3_600_000, before: 500, after: 400 });
    expect(sortDrops({ ...h, meter: flat }, DEFAULT_METER_REPORT_SETTINGS)).toEqual({
      rollovers: [],
      rollbacks: [],
      correction: new Map(),
    });
  });
});
