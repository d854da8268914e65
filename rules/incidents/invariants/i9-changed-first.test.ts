import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../engine.js';
import { params, play, TIMEOUT_MS, world } from './world.testing.js';

// The gateway checks the devices a reading changed at once, before the rest of a busy turn of
// its event loop, and everything else after (gateway/alarms/runtime.ts): an alarm is announced
// sooner, and must be the same alarm, raised at the same moment, as if all were checked together.

const moment = (c: AlarmChange) =>
  `${c.event.at} ${c.alarm.id} ${c.event.type} ${c.alarm.status} ${c.alarm.severity} ${c.alarm.drill ?? ''}`;

describe('emergency invariants over random orders of events', () => {
  it(
    'I9 changed first: checking the changed devices first raises, clears and closes exactly what checking everything together does, at the same moments',
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const together = play(acts, () => undefined, { changedFirst: false });
          const first = play(acts, () => undefined, { changedFirst: true });
          // Within one moment the order may differ (the changed devices come first); across moments it may not.
          const byMoment = (cs: AlarmChange[]) => cs.map(moment).sort();
          expect(byMoment(first.r.alarmChanges)).toEqual(byMoment(together.r.alarmChanges));
          // A firing alarm's evidence is the latest that holds (rules/alarms/lifecycle.ts), refreshed
          // by every check: one more check in the moment it fired may refresh it once more. It is
          // not journaled; the alarm's state, its moments and its changes must be the same.
          const state = (w: typeof first) => w.r.engine.active().map(({ evidence: _e, ...a }) => a);
          expect(state(first)).toEqual(state(together));
          const records = (w: typeof first) => w.r.records.map((r) => JSON.stringify(r)).sort();
          expect(records(first)).toEqual(records(together));
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
