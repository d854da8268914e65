import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { START, alarmsById, params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it('I1 drill isolation: an alarm is the drill\'s only when its device is in the running drill\'s scope; incidents never mix drill and real alarms', () => {
    fc.assert(
      fc.property(world, (acts) => {
        const w = play(acts, () => undefined);
        const seen = new Set<string>();
        w.r.alarmChanges.forEach((c, n) => {
          if (seen.has(c.alarm.id)) return;
          seen.add(c.alarm.id);
          const d = w.drillAt(n);
          expect(c.alarm.drill, `${c.alarm.id} raised at ${c.alarm.since - START} ms`).toBe(d && d.scope.has(c.alarm.deviceId) ? d.id : undefined);
        });
        const drillOf = new Map([...alarmsById(w).values()].map((a) => [a.id, a.drill]));
        for (const inc of w.r.board.list()) for (const a of inc.alarms) expect(drillOf.get(a.alarmId), `${inc.id} holds ${a.alarmId}`).toBe(inc.drill);
      }),
      params,
    );
  }, TIMEOUT_MS);
});
