import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { START, params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    'I2 each episode is acknowledged: a reopened alarm carries no earlier acknowledgement, and a critical or major one closes only when someone acknowledged this episode',
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const w = play(acts, () => undefined);
          const lastFire = new Map<string, number>();
          for (const [n, c] of w.r.alarmChanges.entries()) {
            const { type, at } = c.event;
            if (type === 'firing' || type === 'reopened') {
              lastFire.set(c.alarm.id, at);
              if (type === 'reopened')
                expect(
                  c.alarm.ack === undefined || c.alarm.ack.at >= at,
                  `${c.alarm.id} reopened at ${at - START} still acknowledged from before`,
                ).toBe(true);
            }
            if (
              type === 'closed' &&
              (c.alarm.severity === 'critical' || c.alarm.severity === 'major') &&
              lastFire.has(c.alarm.id)
            ) {
              const drillOver = c.alarm.drill !== undefined && w.drillAt(n)?.id !== c.alarm.drill;
              const ackedThisEpisode = c.alarm.ack !== undefined && c.alarm.ack.at >= lastFire.get(c.alarm.id)!;
              expect(
                ackedThisEpisode || drillOver,
                `${c.alarm.id} closed at ${at - START} without an acknowledgement of its last episode`,
              ).toBe(true);
            }
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
