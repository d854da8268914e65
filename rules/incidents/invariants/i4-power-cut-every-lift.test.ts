import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feeds } from '../topology.js';
import { LIFTS, checkRecheckedAfterSecondLoss, facts, params, play, TIMEOUT_MS, world } from './world.testing.js';

describe('emergency invariants over random orders of events', () => {
  it(
    "I4 power cut → every lift: whatever came first, each lost supply's lifts have a check, trapped lifts on it are attached, and a second loss re-opens checks done before it",
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          play(acts, (w) => {
            const active = w.r.engine.active();
            for (const inc of w.r.board.list({ status: 'open' }).filter((i) => i.playbook === 'power_cut')) {
              const supplies = inc.alarms.filter(
                (a) => a.kind === 'power_cut_external' || a.kind === 'circuit_fault_internal',
              );
              const manual = inc.raisedBy !== undefined && supplies.length === 0;
              const fedByIncident = (lift: string) =>
                manual
                  ? inc.building === undefined || facts.devices.get(lift)!.building === inc.building
                  : supplies.some((s) => feeds(facts, s.deviceId!, lift));
              for (const lift of LIFTS) {
                const fed =
                  supplies.some((s) => feeds(facts, s.deviceId!, lift)) ||
                  (inc.raisedBy !== undefined &&
                    (inc.building === undefined || facts.devices.get(lift)!.building === inc.building));
                if (fed) expect(inc.tasks[`check_lift:${lift}`], `${inc.id}: no check of ${lift}`).toBeDefined();
              }
              for (const a of active) {
                if (
                  a.kind !== 'lift_entrapment' ||
                  a.status !== 'firing' ||
                  (a.drill ?? null) !== (inc.drill ?? null) ||
                  !fedByIncident(a.deviceId)
                )
                  continue;
                expect(
                  inc.alarms.map((x) => x.alarmId),
                  `${inc.id}: trapped ${a.deviceId} not attached`,
                ).toContain(a.id);
              }
              checkRecheckedAfterSecondLoss(inc);
            }
          });
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
