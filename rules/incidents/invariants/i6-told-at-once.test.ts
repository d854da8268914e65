import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IncidentEvent } from '../incident.js';
import { ALERT_ROLES, START, params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    "I6 told at once: an incident alerts the site's roles the moment it becomes critical, once",
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const w = play(acts, () => undefined);
          for (const inc of w.r.board.list()) {
            const first = inc.timeline[0]!;
            const becameCritical =
              first.type === 'raised' && first.severity === 'critical'
                ? first.at
                : inc.timeline.find((e) => e.type === 'alarm_attached' && e.severity === 'critical')?.at;
            const alerts = inc.timeline.filter(
              (e): e is Extract<IncidentEvent, { type: 'alerted' }> => e.type === 'alerted',
            );
            if (becameCritical === undefined) {
              expect(alerts, `${inc.id} never critical but alerted`).toEqual([]);
              continue;
            }
            expect(
              alerts.map((a) => [a.at, a.to]),
              `${inc.id} became critical at ${becameCritical - START} ms`,
            ).toEqual([[becameCritical, [...ALERT_ROLES]]]);
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
