import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { START, alarmsById, params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    "I1 a drill never hides a real event: an alarm is the drill's only when its device is in the running drill's scope, never outlives the drill on fresh readings nor into the next drill on the same device, and incidents never mix drill and real alarms",
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const w = play(acts, (w) => {
            // Once its device has reported since the drill ended, a firing alarm still held by the drill is only one clearing.
            for (const a of w.r.engine.active()) {
              const d = w.drills.find((x) => x.id === a.drill);
              if (!d || d.stoppedAt === undefined || a.status !== 'firing' || a.clearingSince !== undefined) continue;
              const reportedSince = w.r.readings.some((r) => r.deviceId === a.deviceId && r.ts > d.stoppedAt! + 1000);
              expect(reportedSince, `${a.id} still the drill's and firing, on readings taken after ${d.id} ended`).toBe(
                false,
              );
            }
            // Once the running drill has been evaluated, the devices it plays are its own: no other drill's alarm fires there.
            const running = w.drills.at(-1);
            if (running && running.stoppedAt === undefined && w.r.now > running.startedAt)
              for (const a of w.r.engine.active())
                if (a.status === 'firing' && running.scope.has(a.deviceId))
                  expect(a.drill ?? running.id, `${a.id} fires on a device ${running.id} plays`).toBe(running.id);
          });
          const seen = new Set<string>();
          w.r.alarmChanges.forEach((c, n) => {
            if (seen.has(c.alarm.id)) return;
            seen.add(c.alarm.id);
            const d = w.drillAt(n);
            expect(c.alarm.drill, `${c.alarm.id} raised at ${c.alarm.since - START} ms`).toBe(
              d && d.scope.has(c.alarm.deviceId) ? d.id : undefined,
            );
          });
          const drillOf = new Map([...alarmsById(w).values()].map((a) => [a.id, a.drill]));
          for (const inc of w.r.board.list())
            for (const a of inc.alarms) expect(drillOf.get(a.alarmId), `${inc.id} holds ${a.alarmId}`).toBe(inc.drill);
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
