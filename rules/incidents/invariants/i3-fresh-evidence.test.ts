import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../incident.js';
import { START, claimed, heldOnFreshReadings, params, play, playbooks, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    'I3 nothing is called safe on stale evidence: every sensor claim rests on fresh readings that showed it without a break for the hold time',
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          const w = play(acts, () => undefined);
          for (const [n, rec] of w.r.records.entries()) {
            const e = rec.event;
            const sensorClaim =
              ((e.type === 'step_done' || e.type === 'task_done') && e.by === 'sensor') || e.type === 'evidence_seen';
            if (!sensorClaim) continue;
            // The incident as it stood when the claim was made (alarms may join later in the same ms).
            const whole = w.r.board.get(rec.incidentId).incident;
            const inc = fold(whole.timeline.slice(0, whole.timeline.indexOf(e)), playbooks.byId.get(whole.playbook)!);
            const { condition, devices } = claimed(inc, e);
            for (const d of devices)
              expect(
                heldOnFreshReadings(w.r.readings.slice(0, w.r.readingsBefore[n]), condition, d, e.at),
                `${rec.incidentId} ${e.type} ${'task' in e ? e.task : 'step' in e ? e.step : ''} at ${e.at - START} ms: ${d.id} did not show ${condition.id} on fresh readings for ${condition.hold_s} s`,
              ).toBe(true);
            expect(devices.length, `${rec.incidentId} ${e.type}: a claim on no device`).toBeGreaterThan(0);
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
