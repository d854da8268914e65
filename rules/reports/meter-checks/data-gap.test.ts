import { expect, it } from 'vitest';
import { flat, history, inputOf, period, run } from './checks.testing.js';
import { dataGap } from './data-gap.js';

it('a gap is cut to the period; a day or more is major, shorter than the limit is nothing', () => {
  const h = history('2026-11-01', [0.4, 0.4, 0.4]);
  const p = period('2026-11-02', '2026-11-03');
  h.gaps.push({ from: p.start - 3_600_000, to: p.start + 25 * 3_600_000 });
  h.gaps.push({ from: p.start + 30 * 3_600_000, to: p.start + 30 * 3_600_000 + 1_800_000 });
  expect(run(dataGap, inputOf(h, p))).toMatchObject([
    { kind: 'data_gap', from: p.start, to: p.start + 25 * 3_600_000, values: { hours: 25 }, severity: 'major' },
  ]);
});

it('a meter with no day at all is silent over the whole period', () => {
  const p = period('2026-11-01', '2026-11-01');
  const [f] = run(dataGap, inputOf({ meter: flat, days: [], drops: [], gaps: [], nights: [] }, p));
  expect(f).toMatchObject({ from: p.start, to: p.end, values: { hours: 24 } });
});
