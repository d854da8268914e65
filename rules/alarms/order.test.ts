import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEVERITIES } from './kinds.js';
import { boardOrder, type BoardAlarm } from './order.js';

const alarm: fc.Arbitrary<BoardAlarm> = fc.record(
  {
    kind: fc.constantFrom('lift_entrapment', 'water_leak', 'power_cut_external', 'device_offline'),
    severity: fc.constantFrom(...SEVERITIES),
    status: fc.constantFrom('firing', 'cleared'),
    since: fc.integer({ min: 0, max: 1e6 }),
    raisedAt: fc.integer({ min: 0, max: 1e6 }),
    drill: fc.constantFrom('drill-1', 'drill-2'),
  },
  { requiredKeys: ['kind', 'severity', 'status', 'since'] },
);

describe('the alarm board order', () => {
  it('I8: no drill alarm, firing or cleared, ever sorts above a real firing alarm; critical before the rest among the real ones', () => {
    fc.assert(
      fc.property(fc.array(alarm, { maxLength: 30 }), (list) => {
        const sorted = [...list].sort(boardOrder);
        const firstDrill = sorted.findIndex((a) => a.drill !== undefined);
        const lastRealFiring = sorted.findLastIndex((a) => a.drill === undefined && a.status === 'firing');
        if (firstDrill !== -1 && lastRealFiring !== -1) expect(firstDrill).toBeGreaterThan(lastRealFiring);
        const real = sorted.filter((a) => a.drill === undefined).map((a) => a.severity === 'critical');
        expect(real.indexOf(false) === -1 || real.lastIndexOf(true) < real.indexOf(false)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('puts a trapped lift first among the critical ones, firing before cleared, then the oldest', () => {
    const a = (kind: string, status: string, raisedAt: number): BoardAlarm => ({
      kind,
      severity: 'critical',
      status,
      since: raisedAt,
      raisedAt,
    });
    const list = [
      a('water_leak', 'firing', 1),
      a('lift_entrapment', 'cleared', 5),
      a('water_leak', 'firing', 0),
      a('lift_entrapment', 'firing', 9),
    ];
    expect(list.sort(boardOrder).map((x) => `${x.kind}/${x.status}/${x.raisedAt}`)).toEqual([
      'lift_entrapment/firing/9',
      'lift_entrapment/cleared/5',
      'water_leak/firing/0',
      'water_leak/firing/1',
    ]);
  });
});
