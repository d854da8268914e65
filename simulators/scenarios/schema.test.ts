import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../gateway/config/load.js';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import { FAKE_DEVICES, SMALL_SCENARIO } from './fake-estate.js';
import { fitProblems, loadScenarios, parseScenarioFile } from './load.js';
import { formatOffset, parseOffset, type ScenarioSite } from './schema.js';

const playbooks = loadPlaybooks();
const SITE: ScenarioSite = {
  id: 'huayuan',
  devices: FAKE_DEVICES,
  playbooks: { ids: new Set(playbooks.byId.keys()), forKind: (k) => playbooks.forKind(k)?.id },
};

/** The problems of a scenario text (as file small-outage.yaml), or [] when it parses. */
function problems(text: string, site?: ScenarioSite): ConfigProblem[] {
  try {
    parseScenarioFile(text, 'small-outage.yaml', site);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

/** Line (1-based) of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string, from = 0) =>
  text.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;

describe('scenario time offsets', () => {
  it('reads seconds, mm:ss and h:mm:ss; writes mm:ss', () => {
    expect([
      parseOffset(90),
      parseOffset('01:30'),
      parseOffset('90:00'),
      parseOffset('1:02:03'),
      parseOffset(' 00:05 '),
    ]).toEqual([90, 90, 5400, 3723, 5]);
    expect([
      parseOffset('1:5'),
      parseOffset('01:60'),
      parseOffset('1:60:00'),
      parseOffset(-1),
      parseOffset('soon'),
    ]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([formatOffset(0), formatOffset(90), formatOffset(3723)]).toEqual(['00:00', '01:30', '1:02:03']);
  });
});

describe('scenario files', () => {
  it('parse into steps in seconds, faults in the estate contract, expectations tied to their cause step', () => {
    const s = parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml', SITE);
    expect(s.duration).toBe(600);
    expect(s.steps.map((st) => st.at)).toEqual([0, 60, 60, 330]);
    expect(s.steps[2]!.inject).toEqual({
      device: 't1-lift-a',
      fault: { type: 'lift_stuck', passengers: 2, alarmButton: true },
    });
    // Default cause: the first step injecting into the same device; `after` names another.
    expect(s.expects.alarms.map((a) => a.afterStep)).toEqual([1, 1, 1]);
    expect(s.expects.readings[0]!.afterStep).toBe(3);
    expect(s.expects.alarms[2]).toMatchObject({ kind: 'device_offline', inhibited: true, within: 60 });
  });

  it('report every problem of shape and timeline with its path and line', () => {
    const text = SMALL_SCENARIO.replace(
      'at: "01:00"\n    inject: { device: t1-incomer',
      'at: "1:5"\n    inject: { device: t1-incomer',
    )
      .replace('type: lift_stuck, passengers: 2', 'type: lift_stuck, passengers: -2')
      .replace('clear: { device: t1-incomer, type: power_cut }', 'clear: { device: t1-incomer, type: leak }')
      .replace(
        '{ kind: lift_entrapment, device: t1-lift-a, after: cut',
        '{ kind: lift_trapped, device: t1-lift-a, after: cutt',
      )
      .replace('description: { zh: 测试用, en: For tests }', 'description: { zh: 测试用 }\ncolour: red');
    const got = problems(text);
    const at = (needle: string) => lineOf(text, needle);
    expect(got).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'description.en',
          line: at('description:'),
          message: expect.stringMatching(/expected string/),
        }),
        expect.objectContaining({ path: 'colour', line: at('colour'), message: 'unknown key "colour"' }),
        expect.objectContaining({
          path: 'steps[1].at',
          line: at('"1:5"'),
          message: 'must be seconds from the start (90) or "mm:ss" ("01:30", "1:02:00")',
        }),
        expect.objectContaining({ path: 'steps[2].inject.fault.passengers', line: at('passengers: -2') }),
        expect.objectContaining({
          path: 'expects.alarms[1].kind',
          line: at('lift_trapped'),
          message: expect.stringMatching(/^must be an alarm kind of DOMAIN.md §2 \(water_leak, /),
        }),
      ]),
    );
    for (const p of got) expect(p.line, p.path).toBeGreaterThan(0);
  });

  it('check the timeline once the shape is right: order, the end, what a clear clears, what an expectation hangs on', () => {
    const text = SMALL_SCENARIO.replace('id: restore\n    at: "05:30"', 'id: restore\n    at: "00:30"')
      .replace('clear: { device: t1-incomer, type: power_cut }', 'clear: { device: t1-incomer, type: breaker_trip }')
      .replace('after: cut, within: "01:00"', 'after: cutt, within: "01:00"')
      .replace(
        '{ kind: power_cut_external, device: t1-incomer, within: 30 }',
        '{ kind: power_cut_external, device: t1-incomer, within: "09:30", inhibited: true }',
      )
      .replace('  readings:\n', '  readings:\n    - { device: t1-wm-0701, field: flow_m3h, above: 1, within: 10 }\n');
    const got = problems(text).map((p) => `${p.line} ${p.path}: ${p.message}`);
    expect(got).toEqual([
      `${lineOf(text, 'at: "00:30"')} steps[3].at: steps must be in time order: this one is at 00:30, the one before at 01:00`,
      `${lineOf(text, 'type: breaker_trip')} steps[3].clear: nothing to clear: no earlier step injects breaker_trip into t1-incomer`,
      `${lineOf(text, 'power_cut_external')} expects.alarms[0].within: due at 10:30, after the scenario ends (10:00): the drill would be over before it shows`,
      `${lineOf(text, 'power_cut_external')} expects.alarms[0].inhibited: power_cut_external is never inhibited (only phase_loss, circuit_fault_internal, breaker_tripped, pump_failure, device_offline are)`,
      `${lineOf(text, 'after: cutt')} expects.alarms[1].after: no step with id "cutt"`,
      `${lineOf(text, 't1-wm-0701')} expects.readings[0]: no step injects into t1-wm-0701: say which step causes it (after: <step id>)`,
    ]);
  });

  it('against a site: unknown devices, faults and alarms that do not fit, fields the kind lacks, playbooks that do not follow', () => {
    const text = SMALL_SCENARIO.replace('site: huayuan', 'site: elsewhere')
      .replace(
        'inject: { device: t1-incomer, fault: { type: power_cut } }',
        'inject: { device: t1-incomer, fault: { type: leak } }',
      )
      .replace('clear: { device: t1-incomer, type: power_cut }', 'clear: { device: t1-incomer }')
      .replace(
        '{ device: t1-lift-a, fault: { type: lift_stuck, passengers: 2, alarm_button: true } }',
        '{ device: t1-lift-z, fault: { type: lift_stuck } }',
      )
      .replace(
        'after: cut, within: "01:00" }',
        'after: cut, within: "01:00" }\n    - { kind: vacant_unit_flow, device: t1-wm-0701, after: cut, within: 60 }',
      )
      .replace('field: voltage_l1_v', 'field: voltage_l4_v')
      .replace('playbooks: [power_cut, trapped_lift]', 'playbooks: [power_cut, water_leak, fire_drill]');
    const got = problems(text, SITE).map((p) => `${p.line} ${p.path}: ${p.message}`);
    expect(got).toEqual([
      `${lineOf(text, 'site:')} site: written for site "elsewhere", this is site "huayuan"`,
      `${lineOf(text, 'type: leak')} steps[1].inject.fault.type: t1-incomer (electricity_meter): a leak fault does not fit it (it takes power_cut, phase_loss, breaker_trip, silent, hold)`,
      `${lineOf(text, 't1-lift-z')} steps[2].inject.device: no device "t1-lift-z" in site huayuan`,
      `${lineOf(text, 'vacant_unit_flow')} expects.alarms[2].kind: no rule raises vacant_unit_flow on t1-wm-0701 (water_meter, not in a vacant unit)`,
      `${lineOf(text, 'playbooks:')} expects.playbooks: lift_entrapment opens playbook trapped_lift: list it`,
      `${lineOf(text, 'playbooks:')} expects.playbooks: vacant_unit_flow opens playbook vacant_unit_flow: list it`,
      `${lineOf(text, 'playbooks:')} expects.playbooks[1]: none of the expected alarms opens playbook water_leak`,
      `${lineOf(text, 'playbooks:')} expects.playbooks[2]: no playbook "fire_drill" (have gateway_fault, heating_outage, lift_fault, power_cut, pump_failure, trapped_lift, vacant_unit_flow, vacant_unit_power, water_leak)`,
      `${lineOf(text, 'voltage_l4_v')} expects.readings[0].field: electricity_meter has no field "voltage_l4_v" (it has voltage_l1_v, voltage_l2_v, voltage_l3_v, current_l1_a, current_l2_a, current_l3_a, power_kw, energy_import_kwh, energy_export_kwh, frequency_hz)`,
    ]);
  });

  it('check fault parameters against the device: phases it has, fields of its kind, a feeder for after-power-return', () => {
    const text = SMALL_SCENARIO.replace(
      '  - id: restore',
      `  - at: "02:00"
    inject: { device: t2-em-0201, fault: { type: phase_loss, phases: [2, 3] } }
  - at: "02:00"
    inject: { device: t1-leak-sump, fault: { type: hold, fields: { wet: "yes", colour: red } } }
  - at: "02:00"
    inject: { device: t1-sump-pump, fault: { type: pump_fail, after_power_return: true } }
  - id: restore`,
    );
    const got = problems(text, SITE).map((p) => `${p.path}: ${p.message}`);
    expect(got).toEqual([
      'steps[3].inject.fault.phases: t2-em-0201 is a 1-phase meter: no phase 2, 3',
      'steps[4].inject.fault.fields.wet: wet is a boolean',
      'steps[4].inject.fault.fields.colour: leak_sensor has no field "colour" (it has wet, battery_pct, battery_low, tamper)',
    ]);
  });

  it('name the file after the scenario, and the loader refuses a folder with a bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'small-outage.yaml'), SMALL_SCENARIO);
    expect(loadScenarios(dir).map((l) => l.scenario.name)).toEqual(['small-outage']);
    writeFileSync(join(dir, 'other-name.yaml'), SMALL_SCENARIO);
    let err: unknown;
    try {
      loadScenarios(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toBe(
      `${join(dir, 'other-name.yaml')}: 1 problem:\n  ${join(dir, 'other-name.yaml')}:1:7  name: the file is other-name.yaml: name it "other-name" (or rename the file)`,
    );
  });

  it('a scenario that does not fit a site is located but not fatal (fitProblems)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'small-outage.yaml'), SMALL_SCENARIO.replace('t1-lift-a, fault', 't1-lift-q, fault'));
    const [loaded] = loadScenarios(dir);
    expect(fitProblems(loaded!, SITE).map((p) => `${p.line} ${p.path}`)).toEqual([
      `${lineOf(SMALL_SCENARIO, 't1-lift-a, fault')} steps[2].inject.device`,
    ]);
    expect(fitProblems(loaded!, { devices: [...FAKE_DEVICES, { ...FAKE_DEVICES[3]!, id: 't1-lift-q' }] })).toEqual([]);
  });
});
