import { expect, it } from 'vitest';
import { consumptionSpike } from './consumption-spike.js';
import { history, inputOf, period, run } from './checks.testing.js';

it('a day far above the median of usual days; days away from home do not lower the usual', () => {
  const uses = [...Array(20).fill(0.4), 0, 0, 0, 0, 0.45, 1.5];
  const [f, ...rest] = run(consumptionSpike, inputOf(history('2026-11-01', uses), period('2026-11-20', '2026-11-26')));
  expect(rest).toEqual([]);
  expect(f).toMatchObject({ kind: 'consumption_spike', values: { use: 1.5, median: 0.4, ratio: 3.8 } });
  expect(f!.severity).toBeUndefined();
});

it('twice the factor is major; too few usual days judge nothing', () => {
  const p = period('2026-11-15', '2026-11-15');
  expect(run(consumptionSpike, inputOf(history('2026-11-01', [...Array(14).fill(0.4), 3]), p))[0]!.severity).toBe(
    'major',
  );
  expect(
    run(
      consumptionSpike,
      inputOf(history('2026-11-01', [...Array(14).fill(0.4), 3]), p, { spike_min_baseline_days: 15 }),
    ),
  ).toEqual([]);
});

it('a day after a gap carries the missed days: not a spike', () => {
  const uses = [...Array(14).fill(0.4), null, 3];
  expect(run(consumptionSpike, inputOf(history('2026-11-01', uses), period('2026-11-16', '2026-11-16')))).toEqual([]);
});
