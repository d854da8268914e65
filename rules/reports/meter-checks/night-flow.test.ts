import { expect, it } from 'vitest';
import { addDays } from '../calendar.js';
import { history, inputOf, period, run } from './checks.testing.js';
import { nightFlowHigh } from './night-flow.js';

const withNights = (flows: number[]) => {
  const h = history('2026-11-01', Array(flows.length).fill(0.4));
  h.nights = flows.map((minFlow, i) => ({ date: addDays('2026-11-01', i), minFlow }));
  return h;
};

it('nights in a row well above the usual night minimum, against the nights before them', () => {
  const h = withNights([0.01, 0.01, 0.01, 0.01, 0.3, 0.25, 0.01]);
  const [f, ...rest] = run(nightFlowHigh, inputOf(h, period('2026-11-01', '2026-11-07')));
  expect(rest).toEqual([]);
  expect(f).toMatchObject({
    kind: 'night_flow_high',
    from: h.days[4]!.start,
    to: h.days[5]!.start + 86_400_000,
    values: { nights: 2, least_flow_m3h: 0.25, baseline_m3h: 0.01 },
  });
});

it('one high night is not enough; a week of them is major', () => {
  const p = period('2026-11-01', '2026-11-12');
  expect(run(nightFlowHigh, inputOf(withNights([0.01, 0.01, 0.01, 0.3, 0.01]), p))).toEqual([]);
  const week = withNights([0.01, 0.01, 0.01, ...Array(7).fill(0.3)]);
  expect(run(nightFlowHigh, inputOf(week, p))[0]!.severity).toBe('major');
});
