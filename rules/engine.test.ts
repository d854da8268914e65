import { describe, expect, it } from 'vitest';
import type { AlarmKind } from './alarms/kinds.js';
import type { RunningDrill } from './alarms/drill.js';
import { RuleEngine, type AlarmChange } from './engine.js';
import type { FieldValue } from './model/reading.js';
import type { DeviceFacts, SiteFacts } from './site-facts.js';

// A small estate: building t1 with an incomer feeding a lift circuit (two lifts) and a pump
// circuit (booster and sump pumps), a sump level sensor, leak sensors, a vacant unit's
// meter; a boiler in c3. Time is virtual: `at(seconds)`.

const T0 = Date.parse('2026-11-22T10:00:00Z');
const at = (s: number) => T0 + s * 1000;

const dev = (d: Partial<DeviceFacts> & Pick<DeviceFacts, 'id' | 'kind'>): DeviceFacts => ({
  building: 't1',
  vacant: false,
  intervalS: 5,
  ...d,
});
const DEVICES: DeviceFacts[] = [
  dev({ id: 'inc', kind: 'electricity_meter', circuit: 'incomer', nominalVoltage: 220 }),
  dev({ id: 'lift-circ', kind: 'electricity_meter', circuit: 'sub_circuit', feeder: 'inc', nominalVoltage: 220 }),
  dev({ id: 'pump-circ', kind: 'electricity_meter', circuit: 'sub_circuit', feeder: 'inc', nominalVoltage: 220 }),
  dev({ id: 'lift-a', kind: 'lift', feeder: 'lift-circ', floorRange: { lowest: -2, highest: 18 } }),
  dev({ id: 'lift-b', kind: 'lift', feeder: 'lift-circ', floorRange: { lowest: -2, highest: 18 } }),
  dev({ id: 'booster', kind: 'pump', role: 'secondary_water', feeder: 'pump-circ' }),
  dev({ id: 'sump-pump', kind: 'pump', role: 'sump', feeder: 'pump-circ' }),
  dev({ id: 'sump', kind: 'level_sensor', drainPump: 'sump-pump', intervalS: 10 }),
  dev({ id: 'leak-1', kind: 'leak_sensor', intervalS: 60 }),
  dev({ id: 'leak-2', kind: 'leak_sensor', building: 'c3', intervalS: 60 }),
  dev({ id: 'wm-vacant', kind: 'water_meter', vacant: true, unit: 'u1', intervalS: 30 }),
  dev({ id: 'wm-main', kind: 'water_meter', intervalS: 30 }),
  dev({ id: 'em-vacant', kind: 'electricity_meter', vacant: true, building: 'c3', unit: 'u9', intervalS: 30 }),
  dev({ id: 'boiler', kind: 'boiler', building: 'c3', intervalS: 10 }),
];
const facts = (overrides?: SiteFacts['thresholds']): SiteFacts => ({
  site: 's',
  devices: new Map(DEVICES.map((d) => [d.id, d])),
  ...(overrides ? { thresholds: overrides } : {}),
});

const V3 = (v: number) => ({ voltage_l1_v: v, voltage_l2_v: v, voltage_l3_v: v });
const NORMAL: Record<string, Record<string, FieldValue>> = {
  inc: V3(221),
  'lift-circ': V3(220),
  'pump-circ': V3(220),
  'lift-a': {
    floor: 5,
    direction: 'stopped',
    in_door_zone: true,
    door: 'closed',
    occupied: false,
    alarm_button: false,
    mode: 'normal',
  },
  'lift-b': {
    floor: 9,
    direction: 'stopped',
    in_door_zone: true,
    door: 'closed',
    occupied: false,
    alarm_button: false,
    mode: 'normal',
  },
  booster: { running: true, run_command: true, fault: false },
  'sump-pump': { running: false, run_command: false, fault: false },
  sump: { level_pct: 30, high_float: false },
  'leak-1': { wet: false },
  'leak-2': { wet: false },
  'wm-vacant': { total_m3: 10, flow_m3h: 0 },
  'wm-main': { total_m3: 500, flow_m3h: 1.2 },
  'em-vacant': { ...V3(221), power_kw: 0, energy_kwh: 12 },
  boiler: { supply_temp_c: 70, return_temp_c: 50, setpoint_c: 70, pressure_kpa: 200, burner_on: true, fault: false },
};

class Harness {
  readonly engine: RuleEngine;
  readonly changes: AlarmChange[] = [];
  constructor(overrides?: SiteFacts['thresholds']) {
    this.engine = new RuleEngine({ facts: facts(overrides), start: T0 });
  }
  /** Every device reports its normal values, then `fields` for `id`, at second `s`; then the engine evaluates. */
  read(s: number, id: string, fields: Record<string, FieldValue>): this {
    this.engine.observe(
      { deviceId: id, kind: DEVICES.find((d) => d.id === id)!.kind, ts: at(s), fields, quality: 'good' },
      at(s),
    );
    return this.eval(s);
  }
  normal(s: number, except: string[] = []): this {
    for (const [id, fields] of Object.entries(NORMAL))
      if (!except.includes(id))
        this.engine.observe(
          { deviceId: id, kind: DEVICES.find((d) => d.id === id)!.kind, ts: at(s), fields, quality: 'good' },
          at(s),
        );
    return this.eval(s);
  }
  eval(s: number): this {
    this.changes.push(...this.engine.evaluate(at(s)));
    return this;
  }
  firing(kind?: AlarmKind) {
    return this.engine.active().filter((a) => a.status === 'firing' && (!kind || a.kind === kind));
  }
  raised(kind: AlarmKind) {
    return this.changes.filter((c) => c.event.type === 'firing' && c.alarm.kind === kind);
  }
}

describe('rule engine: water', () => {
  it('leak sensor: wet 4 s is nothing, wet 5 s raises water_leak with its evidence; dry 60 s clears it', () => {
    const h = new Harness().normal(0).read(1, 'leak-1', { wet: true }).eval(5.999);
    expect(h.firing('water_leak')).toHaveLength(0);
    h.eval(6);
    const [a] = h.firing('water_leak');
    expect(a).toMatchObject({ deviceId: 'leak-1', severity: 'critical', raisedAt: at(6) });
    expect(a!.evidence.text.en).toBe('leak sensor reads wet');
    expect(a!.evidence.readings).toEqual([{ deviceId: 'leak-1', field: 'wet', value: true, ts: at(1) }]);
    h.read(10, 'leak-1', { wet: false }).eval(69.999);
    expect(h.firing('water_leak')).toHaveLength(1);
    h.eval(70);
    expect(h.engine.active().find((x) => x.kind === 'water_leak')?.status).toBe('cleared');
  });

  it('a vacant unit with flow raises vacant_unit_flow; an occupied unit with flow does not', () => {
    const h = new Harness().normal(0).read(1, 'wm-main', { flow_m3h: 2 }).read(2, 'wm-vacant', { flow_m3h: 0.001 });
    expect(h.firing('vacant_unit_flow')).toHaveLength(0);
    h.read(3, 'wm-vacant', { flow_m3h: 0.002 });
    expect(h.firing('vacant_unit_flow').map((a) => a.deviceId)).toEqual(['wm-vacant']);
  });

  it('a vacant unit drawing power for 10 min raises vacant_unit_power; a fridge-sized standby or a brief load does not', () => {
    const h = new Harness().normal(0).read(1, 'em-vacant', { power_kw: 0.05 }).eval(2000);
    expect(h.firing('vacant_unit_power')).toHaveLength(0);
    h.read(2001, 'em-vacant', { power_kw: 1.5 }).read(2300, 'em-vacant', { power_kw: 0 }).eval(3000);
    expect(h.firing('vacant_unit_power')).toHaveLength(0);
    h.read(3001, 'em-vacant', { power_kw: 0.8 }).eval(3601);
    const [a] = h.firing('vacant_unit_power');
    expect(a).toMatchObject({ deviceId: 'em-vacant', severity: 'major' });
    expect(a!.evidence.text.en).toBe('meter in a vacant unit draws 0.8 kW (threshold 0.05 kW)');
  });

  it('burst: flow above 10 m³/h for 120 s, not 119 s', () => {
    const h = new Harness().normal(0).read(1, 'wm-main', { flow_m3h: 10 }).eval(200);
    expect(h.firing('pipe_burst')).toHaveLength(0);
    h.read(201, 'wm-main', { flow_m3h: 10.5 }).eval(320);
    expect(h.firing('pipe_burst')).toHaveLength(0);
    h.eval(321);
    expect(h.firing('pipe_burst')).toHaveLength(1);
  });

  it('sump pit high with its drain pump stopped for 30 s raises sump_pump_failure; the pump starting clears the condition', () => {
    const h = new Harness().normal(0).read(1, 'sump', { level_pct: 79.9 }).eval(60);
    expect(h.firing('sump_pump_failure')).toHaveLength(0);
    h.read(61, 'sump', { level_pct: 80 }).eval(90.999);
    expect(h.firing('sump_pump_failure')).toHaveLength(0);
    h.eval(91);
    const [a] = h.firing('sump_pump_failure');
    expect(a!.evidence.readings.map((r) => `${r.deviceId}.${r.field}`)).toEqual([
      'sump.high_float',
      'sump.level_pct',
      'sump-pump.running',
      'sump-pump.fault',
    ]);
    h.read(100, 'sump-pump', { running: true }).eval(160);
    expect(h.engine.active().find((x) => x.kind === 'sump_pump_failure')?.status).toBe('cleared');
  });
});

describe('rule engine: power', () => {
  it('phase loss: L2 at 171 V (77.7 %) for 60 s raises; 172 V (78.2 %) does not; it clears only above 85 % (187 V)', () => {
    const h = new Harness().normal(0).read(1, 'inc', { voltage_l2_v: 172 }).eval(100);
    expect(h.firing('phase_loss')).toHaveLength(0);
    h.read(101, 'inc', { voltage_l2_v: 171 }).eval(160.999);
    expect(h.firing('phase_loss')).toHaveLength(0);
    h.eval(161);
    expect(h.firing('phase_loss')[0]!.evidence.text.en).toMatch(/^phase L2 lost \(171 V/);
    h.read(170, 'inc', { voltage_l2_v: 186 });
    expect(h.firing('phase_loss')).toHaveLength(1); // between 78 % and 85 %: still lost
    h.read(171, 'inc', { voltage_l2_v: 188 });
    expect(h.firing('phase_loss')).toHaveLength(0);
  });

  it('grid outage: one power_cut_external for the building, offline alarms below it inhibited, trapped lift still raised', () => {
    const h = new Harness().normal(0);
    // The incomer loses every phase; sub-circuit meters read 0 V too; the pumps go dark.
    h.read(10, 'inc', V3(0)).read(10, 'lift-circ', V3(0)).read(10, 'pump-circ', V3(0));
    // Lift A stops between floors with people inside; its terminal is on battery and keeps reporting.
    for (let s = 10; s <= 120; s += 5) {
      h.read(s, 'lift-a', { floor: 7, direction: 'stopped', in_door_zone: false, door: 'closed', occupied: true });
      h.read(s, 'lift-b', {});
      for (const id of ['leak-1', 'wm-vacant', 'wm-main', 'sump', 'boiler', 'em-vacant']) h.read(s, id, {});
    }
    expect(h.raised('power_cut_external').map((c) => c.alarm.deviceId)).toEqual(['inc']);
    expect(h.raised('circuit_fault_internal')).toHaveLength(0); // the grid explains the dead sub-circuits
    expect(h.raised('phase_loss')).toHaveLength(0);
    const trapped = h.firing('lift_entrapment');
    expect(trapped.map((a) => a.deviceId)).toEqual(['lift-a']);
    expect(trapped[0]!.inhibitedBy).toBeUndefined();
    // Pumps and meters that went silent: offline, but inhibited by the cut, not a flood of alarms for the board.
    const offline = h.firing('device_offline');
    expect(offline.map((a) => a.deviceId).sort()).toEqual(['booster', 'inc', 'lift-circ', 'pump-circ', 'sump-pump']);
    const cut = h.firing('power_cut_external')[0]!;
    for (const a of offline.filter((x) => x.deviceId !== 'inc'))
      expect(a.inhibitedBy, a.deviceId).toEqual({ alarmId: cut.id, kind: 'power_cut_external', deviceId: 'inc' });
    const uninhibited = h.engine.active().filter((a) => a.status === 'firing' && !a.inhibitedBy);
    expect(uninhibited.map((a) => a.kind).sort()).toEqual(['device_offline', 'lift_entrapment', 'power_cut_external']);
  });

  it('power restored: all phases back for 30 s clears the cut', () => {
    const h = new Harness().normal(0).read(10, 'inc', V3(0));
    expect(h.firing('power_cut_external')).toHaveLength(1);
    for (let s = 100; s < 130; s += 5) h.normal(s);
    h.eval(129);
    expect(h.firing('power_cut_external')).toHaveLength(1);
    h.eval(130);
    expect(h.engine.active().find((a) => a.kind === 'power_cut_external')?.status).toBe('cleared');
  });

  it('power restored: a booster pump that fails to restart is not muted by the cleared, unacknowledged cut', () => {
    const h = new Harness().normal(0).read(10, 'inc', V3(0)).read(10, 'pump-circ', V3(0));
    for (let s = 100; s <= 130; s += 5) h.normal(s, ['booster']);
    h.read(130, 'booster', { running: false, run_command: true, fault: true });
    h.eval(145);
    expect(h.engine.active().find((a) => a.kind === 'power_cut_external')?.status).toBe('cleared');
    const failed = h.firing('pump_failure').find((a) => a.deviceId === 'booster');
    expect(failed).toBeDefined();
    expect(failed!.inhibitedBy).toBeUndefined();
  });

  it('all-phase loss on a meter outside the feeder tree is a phase loss of every phase', () => {
    const loose = new RuleEngine({
      facts: {
        site: 's',
        devices: new Map([['em', dev({ id: 'em', kind: 'electricity_meter', nominalVoltage: 220 })]]),
      },
      start: T0,
    });
    loose.observe({ deviceId: 'em', kind: 'electricity_meter', ts: at(0), fields: V3(0), quality: 'good' }, at(0));
    loose.evaluate(at(0));
    loose.evaluate(at(60));
    expect(
      loose
        .active()
        .filter((a) => a.kind !== 'device_offline')
        .map((a) => `${a.kind}: ${a.evidence.text.en}`),
    ).toEqual(['phase_loss: phase L1, L2, L3 lost (0 V / 0 V / 0 V, below 78 % of 220 V)']);
  });

  it('internal circuit fault: the incomer is normal and one sub-circuit has no voltage', () => {
    const h = new Harness().normal(0).read(10, 'pump-circ', V3(0));
    expect(h.firing('circuit_fault_internal').map((a) => a.deviceId)).toEqual(['pump-circ']);
    expect(h.firing('power_cut_external')).toHaveLength(0);
  });
});

describe('rule engine: history-based rules', () => {
  it('a building whose incomer and most mains devices go silent together is a power cut, even with no last reading of 0 V', () => {
    const h = new Harness().normal(0);
    for (let s = 5; s <= 20; s += 5) h.normal(s, ['inc', 'lift-circ', 'pump-circ', 'booster', 'sump-pump']);
    expect(h.firing('power_cut_external')).toHaveLength(1);
    expect(h.firing('power_cut_external')[0]!.evidence.text.en).toMatch(
      /incomer of building t1 and 4 of its 4 mains-powered devices went silent together/,
    );
  });

  it('continuous flow: water in every one of 24 hours raises; one zero-flow reading starts the hour that clears it', () => {
    const h = new Harness().normal(0);
    h.read(0, 'wm-main', { flow_m3h: 0.04 });
    for (let s = 1800; s < 23 * 3600; s += 1800) h.read(s, 'wm-main', { flow_m3h: 0.05 });
    expect(h.firing('continuous_flow')).toHaveLength(0); // 23 hours
    h.read(23 * 3600 + 1800, 'wm-main', { flow_m3h: 0.05 }); // the 24th hour
    expect(h.firing('continuous_flow')[0]!.evidence.text.en).toBe(
      'water has flowed in every hour of the last 24 h (lowest 0.04 m³/h): suspected leak',
    );
    h.read(24 * 3600 + 60, 'wm-main', { flow_m3h: 0 }).eval(25 * 3600 + 59);
    expect(h.firing('continuous_flow')).toHaveLength(1);
    h.eval(25 * 3600 + 60);
    expect(h.firing('continuous_flow')).toHaveLength(0);
  });

  it('night flow: a night minimum far above the usual nights raises, in the site time zone', () => {
    // Asia/Shanghai 02:00–05:00 is 18:00–21:00 UTC the day before.
    const night = (day: number, flow: number) => {
      const base = Date.parse(`2026-11-${String(10 + day).padStart(2, '0')}T18:00:00Z`);
      return [0, 1, 2].map((h) => ({ ts: base + h * 3_600_000 + 60_000, flow }));
    };
    const engine = new RuleEngine({
      facts: { ...facts(), timezone: 'Asia/Shanghai' },
      start: Date.parse('2026-11-10T00:00:00Z'),
    });
    const feed = (points: { ts: number; flow: number }[]) => {
      for (const p of points)
        engine.observe(
          { deviceId: 'wm-main', kind: 'water_meter', ts: p.ts, fields: { flow_m3h: p.flow }, quality: 'good' },
          p.ts,
        );
    };
    for (let d = 0; d < 4; d++) feed(night(d, 0.02));
    feed(night(4, 0.5));
    const during = Date.parse('2026-11-14T20:30:00Z'); // 04:30 local: the night is not over
    expect(engine.evaluate(during).filter((c) => c.alarm.kind === 'night_flow_high')).toEqual([]);
    const after = Date.parse('2026-11-14T21:00:00Z'); // 05:00 local
    feed([{ ts: after, flow: 0.3 }]);
    const raised = engine
      .evaluate(after)
      .filter((c) => c.alarm.kind === 'night_flow_high' && c.event.type === 'firing');
    expect(raised.map((c) => c.alarm.evidence.text.en)).toEqual([
      'night of 2026-11-15: minimum flow 0.5 m³/h between 2:00–5:00, above its baseline 0.02 m³/h',
    ]);
  });

  it('abnormal inflow: the sump pump running longer than ever before', () => {
    const h = new Harness().normal(0);
    for (const [on, off] of [
      [10, 310],
      [400, 700],
      [800, 1000],
    ] as const)
      h.read(on, 'sump-pump', { running: true }).read(off, 'sump-pump', { running: false });
    h.read(2000, 'sump-pump', { running: true }).read(2450, 'sump', {});
    expect(h.firing('abnormal_inflow')).toHaveLength(0); // 450 s: 1.5 × the longest run (300 s), not beyond
    h.read(2451, 'sump', {});
    expect(h.firing('abnormal_inflow')[0]!.evidence.text.en).toMatch(
      /drain pump sump-pump has run 8 min without stopping, longer than ever before \(5 min\)/,
    );
  });

  it('breaker tripped: voltage normal, no power, on a circuit that drew power in 20 of the last 24 hours, for 10 minutes', () => {
    const h = new Harness().normal(0);
    for (let s = 0; s < 24 * 3600; s += 1800) h.read(s, 'pump-circ', { power_kw: 2.5 });
    const t = 24 * 3600;
    for (let s = t; s <= t + 600; s += 5) h.normal(s, ['pump-circ']).read(s, 'pump-circ', { ...V3(221), power_kw: 0 });
    expect(h.firing('breaker_tripped').map((a) => a.deviceId)).toEqual(['pump-circ']);
  });
});

describe('rule engine: lifts', () => {
  const trapped = { floor: 7, direction: 'stopped', in_door_zone: false, door: 'closed', occupied: true };

  it('trapped between floors: 19 s is nothing, 20 s raises lift_entrapment', () => {
    const h = new Harness().normal(0).read(1, 'lift-a', trapped).eval(20.999);
    expect(h.firing('lift_entrapment')).toHaveLength(0);
    h.eval(21);
    expect(h.firing('lift_entrapment')[0]!.evidence.text.en).toMatch(/between floors near 7/);
  });

  it('trapped at a floor: level, occupied, door closed, not moving for 20 s', () => {
    const h = new Harness().normal(0).read(1, 'lift-b', { occupied: true }).eval(21);
    expect(h.firing('lift_entrapment')[0]!.evidence.text.en).toMatch(/level at floor 9 but the door stays closed/);
  });

  it('the alarm button while stopped raises at once', () => {
    const h = new Harness().normal(0).read(1, 'lift-a', { alarm_button: true });
    expect(h.firing('lift_entrapment')).toHaveLength(1);
  });

  it('inspection and maintenance mode silence the lift rules', () => {
    const h = new Harness()
      .normal(0)
      .read(1, 'lift-a', { ...trapped, mode: 'inspection', alarm_button: true })
      .eval(100);
    expect(h.firing('lift_entrapment')).toHaveLength(0);
  });

  it('empty car stopped out of zone for 45 s; door open while moving at once; over-travel at the top after 20 s', () => {
    const h = new Harness().normal(0).read(1, 'lift-a', { in_door_zone: false }).eval(45.999);
    expect(h.firing('lift_stopped_out_of_zone')).toHaveLength(0);
    h.eval(46);
    expect(h.firing('lift_stopped_out_of_zone')).toHaveLength(1);
    h.read(50, 'lift-b', { direction: 'up', door: 'open', in_door_zone: false });
    expect(h.firing('lift_door_fault').map((a) => a.deviceId)).toEqual(['lift-b']);
    h.read(60, 'lift-b', { floor: 18, direction: 'up', door: 'closed', in_door_zone: false }).eval(80);
    expect(h.firing('lift_overtravel').map((a) => a.deviceId)).toEqual(['lift-b']);
  });
});

describe('rule engine: heating and pumps', () => {
  it('supply more than 10 °C below setpoint for 15 min; overheat at 110 °C; pressure out of range for 60 s; fault at once', () => {
    const h = new Harness().normal(0).read(1, 'boiler', { supply_temp_c: 60 }).eval(2000);
    expect(h.firing('heating_low')).toHaveLength(0);
    h.read(2001, 'boiler', { supply_temp_c: 59.9 }).eval(2900.999);
    expect(h.firing('heating_low')).toHaveLength(0);
    h.eval(2901);
    expect(h.firing('heating_low')).toHaveLength(1);
    h.read(3000, 'boiler', { supply_temp_c: 110, pressure_kpa: 351, fault: true, fault_code: 12 }).eval(3059);
    // (the boiler's silences between these readings also make it offline: not what this test is about)
    const boilerKinds = () =>
      h
        .firing()
        .filter((a) => a.deviceId === 'boiler' && a.kind !== 'device_offline')
        .map((a) => a.kind)
        .sort();
    expect(boilerKinds()).toEqual(['boiler_fault', 'boiler_overheat', 'heating_low']);
    h.eval(3060);
    expect(h.firing('boiler_pressure')).toHaveLength(1);
    expect(h.firing('boiler_fault')[0]!.evidence.text.zh).toBe('锅炉报故障（代码 12）');
  });

  it('a pump commanded without feedback for 10 s fails; critical for a secondary-water pump', () => {
    const h = new Harness().normal(0).read(1, 'booster', { running: false }).eval(10.999);
    expect(h.firing('pump_failure')).toHaveLength(0);
    h.eval(11);
    expect(h.firing('pump_failure')[0]).toMatchObject({ deviceId: 'booster', severity: 'critical' });
  });
});

describe('rule engine: offline, thresholds, acknowledgement, restart', () => {
  it('a device silent for 3 intervals goes offline, back when it speaks', () => {
    const h = new Harness().normal(0);
    h.normal(15, ['leak-1']); // leak sensor: 60 s interval, others 5–30 s
    expect(h.firing('device_offline')).toHaveLength(0);
    h.normal(180, ['leak-1']);
    expect(h.firing('device_offline')).toHaveLength(0); // exactly 3 × 60 s: not yet
    h.normal(181, ['leak-1']);
    expect(h.firing('device_offline').map((a) => a.deviceId)).toEqual(['leak-1']);
    expect(h.firing('device_offline')[0]!.evidence.text.en).toBe('no reading for 181 s (expected every 60 s)');
    h.read(182, 'leak-1', { wet: false });
    expect(h.firing('device_offline')).toHaveLength(0);
  });

  it('takes overrides: a device threshold beats the building, the kind and the site', () => {
    const h = new Harness({
      site: { leak_wet_s: 30 },
      kinds: { leak_sensor: { leak_wet_s: 20 } },
      buildings: { t1: { leak_wet_s: 10 } },
      devices: { 'leak-1': { leak_wet_s: 2 } },
    });
    h.normal(0).read(1, 'leak-1', { wet: true }).eval(3);
    expect(h.firing('water_leak')).toHaveLength(1);
  });

  it('acknowledges by id with who, when and a comment', () => {
    const h = new Harness().normal(0).read(1, 'lift-a', { alarm_button: true });
    const [a] = h.firing('lift_entrapment');
    const changes = h.engine.acknowledge(a!.id, 'duty', '已通知维保 maintenance called', at(30));
    expect(changes.map((c) => c.event.type)).toEqual(['acknowledged']);
    expect(h.firing('lift_entrapment')[0]!.ack).toEqual({
      by: 'duty',
      at: at(30),
      comment: '已通知维保 maintenance called',
    });
    expect(() => h.engine.acknowledge('nope', 'duty', undefined, at(31))).toThrow(/no alarm "nope"/);
  });

  it('restored after a restart: the same alarms, no duplicate raised, acknowledgement kept', () => {
    const h = new Harness().normal(0).read(1, 'leak-1', { wet: true }).eval(6);
    const [a] = h.firing('water_leak');
    h.engine.acknowledge(a!.id, 'duty', undefined, at(7));
    const before = h.engine.active();
    const again = new Harness();
    again.engine.restore(before);
    again.normal(8).read(8, 'leak-1', { wet: true }).eval(20);
    expect(again.changes.filter((c) => c.alarm.kind === 'water_leak')).toEqual([]);
    const summary = (list: typeof before) =>
      list
        .filter((x) => x.kind === 'water_leak')
        .map(({ id, status, since, raisedAt, ack }) => ({ id, status, since, raisedAt, ack }));
    expect(summary(again.engine.active())).toEqual(summary(before));
    expect(summary(before)[0]).toMatchObject({ status: 'firing', ack: { by: 'duty' } });
  });

  it('when the power returns, the incomer reading back before a sub-circuit does is no internal fault', () => {
    const h = new Harness().normal(0);
    h.read(10, 'inc', V3(0)).read(10, 'lift-circ', V3(0)).read(15, 'inc', V3(0)).read(15, 'lift-circ', V3(0));
    // Power back: the incomer's first good reading comes in while the sub-circuit's last one (taken in the cut) still reads 0 V.
    h.read(20, 'inc', V3(221));
    h.eval(22);
    h.read(24, 'lift-circ', V3(220));
    expect(h.raised('circuit_fault_internal')).toHaveLength(0);
    // A sub-circuit that then reads dead under a healthy incomer is an internal fault.
    h.read(40, 'lift-circ', V3(0));
    expect(h.raised('circuit_fault_internal').map((c) => c.alarm.deviceId)).toEqual(['lift-circ']);
  });

  it('tags the alarms a drill raises on the devices it plays, and only those (I1)', () => {
    const h = new Harness().normal(0);
    const drill = { id: 'drill-3', scope: new Set(['lift-a']) };
    h.engine.observe(
      { deviceId: 'lift-a', kind: 'lift', ts: at(1), fields: { alarm_button: true }, quality: 'good' },
      at(1),
    );
    h.engine.observe(
      { deviceId: 'lift-b', kind: 'lift', ts: at(1), fields: { alarm_button: true }, quality: 'good' },
      at(1),
    );
    h.engine.evaluate(at(1), drill);
    const firing = h.firing('lift_entrapment');
    expect(firing.find((a) => a.deviceId === 'lift-a')!.drill).toBe('drill-3');
    expect(firing.find((a) => a.deviceId === 'lift-b')!.drill).toBeUndefined();
  });

  it("a drill started on the heels of another takes over the devices it plays: the first one's alarm there ends, its own is raised (I1)", () => {
    const first = { id: 'drill-5', scope: new Set(['booster', 'sump-pump']) };
    const next = { id: 'drill-6', scope: new Set(['booster']) };
    const h = new Harness().normal(0);
    // Both pumps go dark under the first drill and stay dark: they never report between the drills.
    const quietly = (s: number, drill?: RunningDrill) => {
      for (const [id, fields] of Object.entries(NORMAL))
        if (id !== 'booster' && id !== 'sump-pump')
          h.engine.observe(
            { deviceId: id, kind: DEVICES.find((d) => d.id === id)!.kind, ts: at(s), fields, quality: 'good' },
            at(s),
          );
      h.changes.push(...h.engine.evaluate(at(s), drill));
    };
    for (let s = 5; s <= 60; s += 5) quietly(s, first);
    const firstAlarms = h.firing('device_offline');
    expect(firstAlarms.map((a) => [a.deviceId, a.drill])).toEqual([
      ['booster', 'drill-5'],
      ['sump-pump', 'drill-5'],
    ]);
    quietly(65);
    // Between drills nothing says the pumps' silence is real: it stays the first drill's.
    expect(h.firing('device_offline').map((a) => a.drill)).toEqual(['drill-5', 'drill-5']);
    for (let s = 70; s <= 90; s += 5) quietly(s, next);
    const now = h.firing('device_offline');
    expect(now.map((a) => [a.deviceId, a.drill])).toEqual([
      ['booster', 'drill-6'],
      ['sump-pump', 'drill-5'],
    ]);
    expect(h.changes.filter((c) => c.alarm.id === firstAlarms[0]!.id).map((c) => [c.event.type, c.event.at])).toEqual([
      ['pending', at(20)],
      ['firing', at(20)],
      ['closed', at(70)],
    ]);
    expect(now[0]!.since).toBe(at(70));
  });

  it('a drill stopped and the next started within one millisecond: the hand-over gives the new alarm an id of its own', () => {
    const h = new Harness().normal(0);
    h.engine.observe({ deviceId: 'inc', kind: 'electricity_meter', ts: at(1), fields: V3(0), quality: 'good' }, at(1));
    const changes = [
      ...h.engine.evaluate(at(1), { id: 'drill-7', scope: new Set(['inc']) }),
      ...h.engine.evaluate(at(1)),
      ...h.engine.evaluate(at(1), { id: 'drill-8', scope: new Set(['inc']) }),
    ].filter((c) => c.alarm.kind === 'power_cut_external');
    const id = `power_cut_external:inc:${at(1)}`;
    expect(changes.map((c) => [c.event.type, c.event.alarmId, c.alarm.drill])).toEqual([
      ['pending', id, 'drill-7'],
      ['firing', id, 'drill-7'],
      ['closed', id, 'drill-7'],
      ['pending', `${id}:1`, 'drill-8'],
      ['firing', `${id}:1`, 'drill-8'],
    ]);
  });

  it('a drill alarm that clears after its drill ended closes without an acknowledgement; a real one waits for it (I8)', () => {
    const h = new Harness().normal(0);
    const drill = { id: 'drill-4', scope: new Set(['leak-1']) };
    h.engine.observe(
      { deviceId: 'leak-1', kind: 'leak_sensor', ts: at(1), fields: { wet: true }, quality: 'good' },
      at(1),
    );
    h.engine.observe(
      { deviceId: 'leak-2', kind: 'leak_sensor', ts: at(1), fields: { wet: true }, quality: 'good' },
      at(1),
    );
    h.engine.evaluate(at(1), drill);
    h.engine.evaluate(at(7), drill);
    for (const id of ['leak-1', 'leak-2'])
      h.engine.observe(
        { deviceId: id, kind: 'leak_sensor', ts: at(8), fields: { wet: false }, quality: 'good' },
        at(8),
      );
    h.engine.evaluate(at(8));
    h.engine.evaluate(at(70));
    const left = h.engine.active().filter((a) => a.kind === 'water_leak');
    expect(left.map((a) => [a.deviceId, a.status, a.drill ?? 'real'])).toEqual([['leak-2', 'cleared', 'real']]);
    expect(h.engine.findById(`water_leak:leak-1:${at(1)}`)).toMatchObject({ status: 'closed', drill: 'drill-4' });
  });
});

describe('rule engine: every live detector raises, holds through its hysteresis, and clears', () => {
  // [kind, device, fields that raise it, fields that end it, seconds it must hold, seconds of hysteresis]
  const CASES: [AlarmKind, string, Record<string, FieldValue>, Record<string, FieldValue>, number, number][] = [
    ['water_leak', 'leak-1', { wet: true }, { wet: false }, 5, 60],
    ['vacant_unit_flow', 'wm-vacant', { flow_m3h: 0.2 }, { flow_m3h: 0 }, 0, 900],
    ['pipe_burst', 'wm-main', { flow_m3h: 30 }, { flow_m3h: 1 }, 120, 60],
    ['vacant_unit_power', 'em-vacant', { power_kw: 0.4 }, { power_kw: 0 }, 600, 900],
    ['sump_pump_failure', 'sump', { level_pct: 90 }, { level_pct: 30 }, 30, 60],
    ['phase_loss', 'inc', { voltage_l3_v: 100 }, { voltage_l3_v: 220 }, 60, 0],
    ['power_cut_external', 'inc', V3(0), V3(220), 0, 30],
    ['circuit_fault_internal', 'pump-circ', V3(0), V3(220), 0, 30],
    // Three variants raise a trapped lift; it clears on the slowest one's hysteresis (the alarm button's 30 s).
    [
      'lift_entrapment',
      'lift-a',
      { occupied: true, in_door_zone: false },
      { occupied: false, in_door_zone: true, door: 'open' },
      20,
      30,
    ],
    ['lift_stopped_out_of_zone', 'lift-a', { in_door_zone: false }, { in_door_zone: true }, 45, 10],
    [
      'lift_door_fault',
      'lift-b',
      { direction: 'up', door: 'open', in_door_zone: false },
      { direction: 'stopped', door: 'closed', in_door_zone: true },
      0,
      30,
    ],
    [
      'lift_overtravel',
      'lift-b',
      { floor: 18, direction: 'up', in_door_zone: false },
      { floor: 18, direction: 'stopped', in_door_zone: true },
      20,
      10,
    ],
    ['heating_low', 'boiler', { supply_temp_c: 50 }, { supply_temp_c: 70 }, 900, 300],
    ['boiler_overheat', 'boiler', { supply_temp_c: 112 }, { supply_temp_c: 70 }, 0, 60],
    ['boiler_pressure', 'boiler', { pressure_kpa: 400 }, { pressure_kpa: 200 }, 60, 60],
    ['boiler_fault', 'boiler', { fault: true }, { fault: false }, 0, 60],
    ['pump_failure', 'booster', { running: false }, { running: true }, 10, 30],
  ];

  for (const [kind, id, raise, end, forS, clearS] of CASES) {
    it(`${kind} on ${id}: held ${forS} s, cleared after ${clearS} s back to normal`, () => {
      const h = new Harness().normal(0);
      const keep = (s: number, fields: Record<string, FieldValue>) => {
        h.normal(s, [id]);
        h.read(s, id, { ...NORMAL[id], ...fields });
      };
      keep(10, raise);
      if (forS > 0) {
        keep(10 + forS - 1, raise);
        expect(
          h.firing(kind).map((a) => a.deviceId),
          'not yet',
        ).not.toContain(id);
      }
      keep(10 + forS, raise);
      expect(
        h.firing(kind).map((a) => a.deviceId),
        'raised',
      ).toContain(id);
      const back = 10 + forS + 5;
      keep(back, end);
      if (clearS > 0) {
        keep(back + clearS - 1, end);
        expect(
          h.firing(kind).map((a) => a.deviceId),
          'still firing within its hysteresis',
        ).toContain(id);
      }
      keep(back + clearS, end);
      const a = h.engine.active().find((x) => x.kind === kind && x.deviceId === id);
      expect(a === undefined || a.status === 'cleared', `cleared (got ${a?.status})`).toBe(true);
    });
  }
});
