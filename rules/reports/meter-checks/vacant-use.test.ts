import { expect, it } from 'vitest';
import { flat, history, inputOf, period, run } from './checks.testing.js';
import { vacantUse } from './vacant-use.js';

const vacant = { ...flat, vacant: true };

it('water in a vacant unit: the days above the limit, one finding over them', () => {
  const h = history('2026-11-01', [0, 0.002, 0.3, 0, 0.2], vacant);
  const [f, ...rest] = run(vacantUse, inputOf(h, period('2026-11-01', '2026-11-05')));
  expect(rest).toEqual([]);
  expect(f).toMatchObject({ kind: 'vacant_unit_flow', from: h.days[2]!.start, values: { days: 2, total: 0.5 } });
  expect(f!.to).toBe(h.days[4]!.start + 86_400_000);
});

it('electricity is vacant_unit_power; an occupied unit is not judged', () => {
  const power = history('2026-11-01', [1], { ...vacant, kind: 'electricity_meter' });
  expect(run(vacantUse, inputOf(power, period('2026-11-01', '2026-11-01'))).map((f) => f.kind)).toEqual([
    'vacant_unit_power',
  ]);
  expect(run(vacantUse, inputOf(history('2026-11-01', [1]), period('2026-11-01', '2026-11-01')))).toEqual([]);
});
