import { describe, expect, it } from 'vitest';
import { siteFacts } from '../../gateway/alarms/facts.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import type { AlarmKind } from '../../rules/alarms/kinds.js';
import { RuleEngine } from '../../rules/engine.js';
import { Estate } from './estate.js';
import { localMs, testSiteConfig } from './test-site.testing.js';
import type { Fault } from './types.js';

// The simulated faults against the real detectors of DOMAIN.md §2 (rules/): each fault must
// be visible enough in the fields that its alarm fires, and a quiet estate must raise none.
// Virtual time: the estate and the rule engine are advanced together, second by second.

const config = testSiteConfig();
const facts = siteFacts(config);
const profiles = loadRegisterProfiles();
const MIN = 60_000;
const HOUR = 60 * MIN;

class Run {
  readonly estate: Estate;
  readonly engine: RuleEngine;
  /** Alarms that fired, as `kind@device`. */
  readonly fired: string[] = [];

  constructor(start = localMs('2026-11-22T10:00:00'), seed = 4) {
    this.estate = new Estate({ config, profiles, seed, start });
    this.engine = new RuleEngine({ facts, start });
  }

  /** Runs `ms` of estate and rules. */
  run(ms: number): this {
    const end = this.estate.now() + ms;
    while (this.estate.now() < end) {
      const now = Math.min(end, this.estate.now() + 1000);
      for (const o of this.estate.advance(now)) {
        if (!('fields' in o)) continue;
        const kind = facts.devices.get(o.deviceId)!.kind;
        this.engine.observe({ deviceId: o.deviceId, kind, ts: o.ts, fields: o.fields, quality: 'good' }, o.ts);
      }
      for (const c of this.engine.evaluate(now))
        if (c.event.type === 'firing') this.fired.push(`${c.alarm.kind}@${c.alarm.deviceId}`);
    }
    return this;
  }

  inject(id: string, fault: Fault): this {
    this.estate.inject(id, fault);
    return this;
  }

  /** Fired since `from` (an index into `fired`). */
  since(from: number): string[] {
    return this.fired.slice(from);
  }
}

const alarm = (kind: AlarmKind, device: string) => `${kind}@${device}`;

describe('simulated faults fire the duty-room detectors', () => {
  it('a quiet day of the estate raises no alarm', () => {
    const r = new Run(localMs('2026-11-22T00:00:00')).run(24 * HOUR);
    // abnormal_inflow compares each sump-pump run with the longest before it, with no margin:
    // ordinary runs differ by seconds, so a new longest one now and then raises it. Left to
    // the rules (a margin over the longest run); everything else must stay quiet.
    expect(r.fired.filter((a) => a !== alarm('abnormal_inflow', 'sump-level'))).toEqual([]);
  }, 60_000);

  it.each<[string, Fault, AlarmKind, number]>([
    ['leak-1', { type: 'leak' }, 'water_leak', 10_000],
    ['wm-0302', { type: 'flow', m3h: 0.3 }, 'vacant_unit_flow', MIN],
    ['wm-0301', { type: 'flow', m3h: 3 }, 'pipe_burst', 3 * MIN],
    ['main', { type: 'flow', m3h: 15 }, 'pipe_burst', 3 * MIN],
    ['inc', { type: 'power_cut' }, 'power_cut_external', 10_000],
    ['lift-circ', { type: 'power_cut' }, 'circuit_fault_internal', 10_000],
    ['inc', { type: 'phase_loss', phases: [2] }, 'phase_loss', 2 * MIN],
    ['lift-a', { type: 'lift_stuck', passengers: 2 }, 'lift_entrapment', MIN],
    ['lift-b', { type: 'lift_stuck', level: true, passengers: 1 }, 'lift_entrapment', MIN],
    ['lift-a', { type: 'lift_stuck', alarmButton: true }, 'lift_entrapment', 10_000],
    ['lift-a', { type: 'lift_stuck', passengers: 0 }, 'lift_stopped_out_of_zone', 2 * MIN],
    ['booster', { type: 'pump_fail' }, 'pump_failure', MIN],
    ['boiler', { type: 'boiler_fault' }, 'boiler_fault', MIN],
    ['boiler', { type: 'boiler_fault' }, 'heating_low', 45 * MIN],
    ['boiler', { type: 'hold', fields: { supply_temp_c: 112 } }, 'boiler_overheat', MIN],
    ['boiler', { type: 'hold', fields: { pressure_kpa: 420 } }, 'boiler_pressure', 2 * MIN],
    ['booster', { type: 'silent' }, 'device_offline', MIN],
    [
      'lift-a',
      { type: 'hold', fields: { door: 'open', direction: 'up', in_door_zone: false } },
      'lift_door_fault',
      10_000,
    ],
    ['lift-a', { type: 'hold', fields: { floor: 10, direction: 'up', in_door_zone: false } }, 'lift_overtravel', MIN],
  ])('%s %j → %s', (device, fault, kind, within) => {
    const r = new Run().run(5 * MIN);
    const from = r.fired.length;
    r.inject(device, fault).run(within);
    expect(r.since(from)).toContain(alarm(kind, device));
  });

  it('a failed sump pump with water coming in → sump_pump_failure and pump_failure', () => {
    const r = new Run().run(5 * MIN);
    r.inject('sump-pump', { type: 'pump_fail', alarmCode: 57 })
      .inject('sump-level', { type: 'inflow', pctPerMin: 4 })
      .run(30 * MIN);
    expect(r.fired).toEqual(
      expect.arrayContaining([alarm('sump_pump_failure', 'sump-level'), alarm('pump_failure', 'sump-pump')]),
    );
  });

  it('more water than usual keeps the sump pump running longer than ever → abnormal_inflow', () => {
    const r = new Run().run(10 * HOUR); // a few ordinary pump cycles to learn from
    const from = r.fired.length;
    r.inject('sump-level', { type: 'inflow', pctPerMin: 4.6 }).run(2 * HOUR);
    expect(r.since(from)).toContain(alarm('abnormal_inflow', 'sump-level'));
    expect(r.since(from)).not.toContain(alarm('sump_pump_failure', 'sump-level'));
  }, 30_000);

  it('a tripped breaker on a circuit that normally draws → breaker_tripped after ten minutes', () => {
    const r = new Run(localMs('2026-11-21T09:00:00')).run(25 * HOUR);
    const from = r.fired.length;
    r.inject('pump-circ', { type: 'breaker_trip' }).run(15 * MIN);
    expect(r.since(from)).toContain(alarm('breaker_tripped', 'pump-circ'));
  }, 60_000);

  it('a tap running for a day and more in a vacant flat → vacant_unit_flow, then continuous_flow', () => {
    const r = new Run(localMs('2026-11-22T00:00:00')).inject('wm-0302', { type: 'flow', m3h: 0.02 }).run(25 * HOUR);
    expect(r.fired).toEqual(
      expect.arrayContaining([alarm('vacant_unit_flow', 'wm-0302'), alarm('continuous_flow', 'wm-0302')]),
    );
  }, 60_000);

  it('a secondary-water pump that fails when power returns → pump_failure after the outage', () => {
    const r = new Run().inject('booster', { type: 'pump_fail', afterPowerReturn: true }).run(5 * MIN);
    expect(r.fired).toEqual([]);
    r.inject('inc', { type: 'power_cut' }).run(10 * MIN);
    r.estate.clear('inc');
    const from = r.fired.length;
    r.run(2 * MIN);
    expect(r.since(from)).toContain(alarm('pump_failure', 'booster'));
  });
});
