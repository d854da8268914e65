import { expect, it } from 'vitest';
import { flat, history, inputOf, period, run } from './checks.testing.js';
import { stuckMeter } from './stuck-meter.js';

it('seven still days with readings in an occupied unit; a missing day breaks the run', () => {
  const still = [0.4, ...Array(7).fill(0)];
  const [f] = run(stuckMeter, inputOf(history('2026-11-01', still), period('2026-11-01', '2026-11-08')));
  expect(f).toMatchObject({ kind: 'stuck_meter', values: { days: 7, value: 100.4 } });
  expect(f!.severity).toBeUndefined();
  const broken = [0.4, 0, 0, 0, null, 0, 0, 0, 0];
  expect(run(stuckMeter, inputOf(history('2026-11-01', broken), period('2026-11-01', '2026-11-09')))).toEqual([]);
});

it('a month still is major; a vacant unit is never stuck', () => {
  const month = Array(30).fill(0);
  const p = period('2026-11-01', '2026-11-30');
  expect(run(stuckMeter, inputOf(history('2026-11-01', month), p))[0]!.severity).toBe('major');
  expect(run(stuckMeter, inputOf(history('2026-11-01', month, { ...flat, vacant: true }), p))).toEqual([]);
});
