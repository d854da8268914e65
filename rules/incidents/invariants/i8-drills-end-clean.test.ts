import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { params, play, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it('I8 drills end clean: once a drill ends, none of its incidents stays open and none of its alarms waits cleared on the board', () => {
    fc.assert(
      fc.property(world, (acts) => {
        play(acts, (w) => {
          const running = w.r.runningDrill?.id;
          for (const inc of w.r.board.list({ status: 'open' })) expect(inc.drill, `${inc.id} open after its drill ended`).toBe(inc.drill === undefined ? undefined : running);
          for (const a of w.r.engine.active()) if (a.drill !== undefined && a.drill !== running) expect(a.status, `${a.id}: a cleared alarm of an ended drill still on the board`).not.toBe('cleared');
        });
      }),
      params,
    );
  });
});
