import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    'I8 drills end clean: by the next tick after a drill ends, none of its incidents stays open and none of its alarms waits cleared on the board',
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          play(acts, (w) => {
            const running = w.r.runningDrill?.id;
            // The gateway notices a drill's end on its next one-second tick.
            const over = (drill: string) =>
              w.drills.some((d) => d.id === drill && d.stoppedAt !== undefined && w.r.now - d.stoppedAt >= 1000);
            for (const inc of w.r.board.list({ status: 'open' }))
              if (inc.drill !== undefined && inc.drill !== running && over(inc.drill))
                expect.fail(`${inc.id} open after its drill ${inc.drill} ended`);
            for (const a of w.r.engine.active())
              if (a.drill !== undefined && a.drill !== running && over(a.drill))
                expect(a.status, `${a.id}: a cleared alarm of an ended drill still on the board`).not.toBe('cleared');
          });
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
