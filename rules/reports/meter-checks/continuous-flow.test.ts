import { expect, it } from 'vitest';
import { localMidnight } from '../calendar.js';
import { flat, history, inputOf, period, run, TZ } from './checks.testing.js';
import { continuousFlow } from './continuous-flow.js';

it('whole days whose flow never stopped, one finding per run of them', () => {
  const h = history('2026-11-01', [0.5, 0.5, 0.5, 0.5]);
  for (const d of h.days) d.minFlow = 0.02;
  h.days[2]!.minFlow = 0;
  const found = run(continuousFlow, inputOf(h, period('2026-11-01', '2026-11-04')));
  expect(found.map((f) => f.values)).toEqual([
    { days: 2, least_flow_m3h: 0.02 },
    { days: 1, least_flow_m3h: 0.02 },
  ]);
});

it('a day under way is not judged; a building main (no unit) never is', () => {
  const h = history('2026-11-01', [0.5, 0.5]);
  for (const d of h.days) d.minFlow = 0.02;
  const noon = { ...period('2026-11-01', '2026-11-02'), end: localMidnight('2026-11-02', TZ) + 12 * 3_600_000 };
  expect(run(continuousFlow, inputOf(h, noon))[0]!.values.days).toBe(1);
  const main = { ...h, meter: { ...flat, unit: undefined } };
  expect(run(continuousFlow, inputOf(main, period('2026-11-01', '2026-11-02')))).toEqual([]);
});
