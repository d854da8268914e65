import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PEOPLE, params, play, playbooks, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    "I7 sensors never impersonate people: what sensors close carries their evidence and needs no person's record, and stays theirs when people add records",
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const w = play(acts, () => undefined);
          for (const rec of w.r.records) {
            const e = rec.event;
            if (e.type !== 'step_done' && e.type !== 'task_done') continue;
            const bySensor = e.by === 'sensor';
            expect(bySensor, `${rec.incidentId} ${e.type}: evidence iff by the sensors`).toBe(e.evidence !== undefined);
            expect(PEOPLE.includes(e.by) || bySensor, `${rec.incidentId}: recorded under "${e.by}"`).toBe(true);
            if (e.type === 'step_done' && bySensor) {
              const inc = w.r.board.get(rec.incidentId).incident;
              const step = playbooks.byId.get(inc.playbook)!.steps.find((s) => s.id === e.step)!;
              const personal = step.record
                .filter((f) => f.required && !step.evidence!.fills.includes(f.name))
                .map((f) => f.name);
              expect(personal, `${rec.incidentId}: sensors closed ${e.step}, whose record needs a person`).toEqual([]);
              expect(
                inc.steps[e.step],
                `${rec.incidentId}: ${e.step} no longer shows the sensors closed it`,
              ).toMatchObject({ by: 'sensor', doneAt: e.at });
            }
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
