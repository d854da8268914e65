import { expect, it } from 'vitest';
import { flat, history, inputOf, period, run } from './checks.testing.js';
import { counterRollback } from './counter-rollback.js';

it('a counter wound back is a rollback, a wrap at the register end is not', () => {
  const h = history('2026-11-01', [0.5, 0.5, 0.5], { ...flat, kind: 'electricity_meter' });
  const at = h.days[1]!.start + 7_200_000;
  h.drops.push({ ts: at, before: 100.9, after: 60 });
  h.drops.push({ ts: at + 1, before: 99_999.8, after: 0.1 });
  const [f, ...rest] = run(counterRollback, inputOf(h, period('2026-11-01', '2026-11-03')));
  expect(rest).toEqual([]);
  expect(f).toMatchObject({
    kind: 'counter_rollback',
    from: at,
    to: at,
    values: { before: 100.9, after: 60, fell: 40.9 },
  });
  expect(f!.evidence.en).toContain('from 100.9 to 60 kWh');
});

it('a rollback before the period is not reported in it', () => {
  const h = history('2026-11-01', [0.5, 0.5, 0.5]);
  h.drops.push({ ts: h.days[0]!.start + 1, before: 100.4, after: 90 });
  expect(run(counterRollback, inputOf(h, period('2026-11-02', '2026-11-03')))).toEqual([]);
});
