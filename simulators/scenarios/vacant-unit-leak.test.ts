import { describe, expect, it } from 'vitest';
import { siteFacts } from '../../gateway/alarms/facts.js';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../../gateway/config/site.js';
import { buildReport } from '../../rules/incidents/report.js';
import { Replay } from '../../rules/incidents/replay.js';
import { Estate } from '../estate/estate.js';
import { loadScenarios } from './load.js';
import { ScenarioRun } from './runner.js';

// The vacant-unit-leak drill (issue 17, part 5) on the demo estate, with the real rule engine
// and the real incident board in virtual time. The tap runs until someone closes the flat's
// valve: left alone, the water never stops and the close_valve step is late and not met
// (before, the scenario closed the valve itself at 15:00 and the sensors scored the step met
// whatever the trainees did); with the valve closed through the meter's command, the flow
// stops and the step closes on the meter's own no-flow reading. The write over Modbus TCP to
// the simulated meter is in simulators/modbus/fleet.test.ts, the whole path from the
// incident page in test/incident-valve.test.ts.

const { config } = loadSite(DEFAULT_CONFIG, { DUTYROOM_DATA_DIR: '/nonexistent' });
const profiles = loadRegisterProfiles();
const playbooks = loadPlaybooks();
const scenario = loadScenarios().find((s) => s.scenario.name === 'vacant-unit-leak')!.scenario;
const METER = 't2-wm-0901';
/** 2026-11-22 10:00 in Shanghai. */
const START = Date.parse('2026-11-22T10:00:00+08:00');

interface Played {
  /** Every flow the meter reported after the tap, with its simulated time. */
  flows: { at: number; flow: number }[];
  replay: Replay;
  run: ScenarioRun;
  estate: Estate;
}

/** Plays the scenario to its end; `closeAt` (s from the start): the duty room closes the valve then. */
function play(closeAt?: number): Played {
  const estate = new Estate({ config, profiles, seed: 7, start: START });
  const replay = new Replay({ facts: siteFacts(config), playbooks, alertRoles: ['duty_manager'], start: START });
  const flows: Played['flows'] = [];
  const run = new ScenarioRun(scenario, estate, START);
  let tapAt: number | undefined;
  let closed = false;
  run.advance(START);
  while (!run.finished) {
    const now = estate.now() + 1000;
    for (const step of run.advance(now)) if (step.id === 'tap') tapAt = step.at;
    if (closeAt !== undefined && !closed && now >= START + closeAt * 1000) {
      // What the Modbus converter does when the gateway writes the valve's coil (fleet.ts).
      estate.command(METER, 'valve_open', false);
      closed = true;
    }
    replay.advanceTo(now);
    for (const o of estate.advance(now)) {
      if (!('fields' in o)) continue;
      replay.read(o.deviceId, o.fields);
      if (o.deviceId === METER && tapAt !== undefined) flows.push({ at: o.ts, flow: o.fields.flow_m3h as number });
    }
  }
  return { flows, replay, run, estate };
}

const incidentOf = (p: Played) => {
  const inc = p.replay.board.list().find((i) => i.playbook === 'vacant_unit_flow' && i.deviceId === METER);
  expect(inc, 'the vacant-unit alarm opened its incident').toBeDefined();
  return p.replay.board.get(inc!.id);
};

describe('vacant-unit-leak: a Modbus meter with a valve, running until someone closes it', () => {
  it("plays a vacant flat's Modbus meter whose profile lets the gateway write its valve", () => {
    const meter = config.devices.find((d) => d.id === METER)!;
    expect(meter.protocol).toBe('modbus');
    expect(meter.protocol === 'modbus' && profiles.get(meter.profile)?.fields.valve_open?.writable).toBe(true);
    expect(config.buildings.find((b) => b.id === 't2')!.units.find((u) => u.id === meter.place.unit)?.vacant).toBe(
      true,
    );
    expect(scenario.steps.every((s) => !s.clear)).toBe(true);
  });

  it('left alone, the water runs to the end of the drill and close_valve is not met', () => {
    const p = play();
    const afterAlarm = p.flows.filter((f) => f.at >= START + 120_000);
    expect(afterAlarm.length).toBeGreaterThan(30);
    expect(
      afterAlarm.every((f) => f.flow > 0.3),
      'the flow never stops by itself',
    ).toBe(true);
    expect(p.flows.at(-1)!.at).toBeGreaterThan(START + 19 * 60_000);

    const { incident, playbook } = incidentOf(p);
    expect(incident.steps.close_valve!.status).toBe('pending');
    expect(incident.steps.close_valve!.escalated).toBeGreaterThan(0);
    const step = buildReport(incident, playbook, p.replay.now).steps.find((s) => s.step === 'close_valve')!;
    expect(step.met).toBe(false);
  });

  it('once the valve is closed (05:00), the flow stops and close_valve closes on the meter reading no flow, in time', () => {
    const closeAt = 5 * 60;
    const p = play(closeAt);
    const before = p.flows.filter((f) => f.at < START + closeAt * 1000 && f.at >= START + 120_000);
    const after = p.flows.filter((f) => f.at >= START + closeAt * 1000);
    expect(before.every((f) => f.flow > 0.3)).toBe(true);
    expect(after.length).toBeGreaterThan(10);
    expect(
      after.every((f) => f.flow === 0),
      'no water through a closed valve, the running tap included',
    ).toBe(true);
    const meter = p.estate.observe(METER);
    expect('fields' in meter && meter.fields.valve_open).toBe(false);

    const { incident, playbook } = incidentOf(p);
    const st = incident.steps.close_valve!;
    expect(st.status).toBe('done');
    expect(st.by).toBe('sensor');
    // The meter's next report after the valve shut (30 s interval), then no flow held 30 s.
    expect(st.doneAt! - (START + closeAt * 1000)).toBeLessThanOrEqual(90_000);
    expect(buildReport(incident, playbook, p.replay.now).steps.find((s) => s.step === 'close_valve')!.met).toBe(true);
  });

  it('the drill leaves the estate as it found it: its end turns the tap off and opens the valve again', () => {
    const p = play(5 * 60);
    p.run.abort();
    expect(p.estate.faults(METER)).toEqual([]);
    const meter = p.estate.observe(METER);
    expect('fields' in meter && meter.fields.valve_open).toBe(true);
  });
});
