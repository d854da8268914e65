import { describe, expect, it } from 'vitest';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { Estate } from './estate.js';
import { LIFT_STOP_FAULT_CODE } from './models/lift.js';
import { SETPOINT_KPA } from './models/pump.js';
import { SUPPLY_SETPOINT_C } from './models/boiler.js';
import { localMs, testSiteConfig } from './test-site.testing.js';
import type { Fields, Observation } from './types.js';

const config = testSiteConfig();
const profiles = loadRegisterProfiles();
const MIN = 60_000;
const HOUR = 60 * MIN;

function estate(start = localMs('2026-11-22T10:00:00'), seed = 7): Estate {
  return new Estate({ config, profiles, seed, start });
}

/** Fields of a device's observations (dark ones left out). */
function fieldsOf(obs: Observation[], id: string): (Fields & { ts: number })[] {
  return obs
    .filter((o) => o.deviceId === id && 'fields' in o)
    .map((o) => ({ ...(o as { fields: Fields }).fields, ts: o.ts }));
}

function fields(e: Estate, id: string): Fields {
  const o = e.observe(id);
  if (!('fields' in o)) throw new Error(`${id} is dark (${o.why})`);
  return o.fields;
}

describe('the simulated estate', () => {
  it('is deterministic: the same seed gives the same observations, however it is advanced', () => {
    const a = estate();
    const inOneGo = a.advance(a.now() + 2 * HOUR);
    const b = estate();
    const inSteps: Observation[] = [];
    for (let t = b.now(); t < b.now() + 2 * HOUR;) {
      t += 7_777;
      inSteps.push(...b.advance(Math.min(t, localMs('2026-11-22T12:00:00'))));
    }
    expect(inSteps).toEqual(inOneGo);
    const other = new Estate({ config, profiles, seed: 8, start: localMs('2026-11-22T10:00:00') }).advance(
      localMs('2026-11-22T12:00:00'),
    );
    expect(other).not.toEqual(inOneGo);
  });

  it('reports every device at the start and then once per interval, in time order', () => {
    const e = estate();
    const start = e.now();
    const obs = e.advance(start + 10 * MIN);
    expect(
      obs
        .filter((o) => o.ts === start)
        .map((o) => o.deviceId)
        .sort(),
    ).toEqual(config.devices.map((d) => d.id).sort());
    for (let i = 1; i < obs.length; i++) expect(obs[i]!.ts).toBeGreaterThanOrEqual(obs[i - 1]!.ts);
    for (const [id, every] of [
      ['lift-a', 5_000],
      ['leak-1', 60_000],
      ['wm-0301', 30_000],
    ] as const) {
      // After the first report, on its own phase: not every device in the same second.
      const ts = obs.filter((o) => o.deviceId === id).map((o) => o.ts);
      expect(ts[1]! - ts[0]!, id).toBeLessThanOrEqual(every);
      for (let i = 2; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!, id).toBe(every);
      expect(ts.length, id).toBeGreaterThanOrEqual((10 * 60_000) / every);
    }
    const second = (id: string) => obs.filter((o) => o.deviceId === id)[1]!.ts;
    expect(new Set(['em-0301', 'wm-0301', 'em-0302', 'wm-0302'].map(second)).size).toBeGreaterThan(1);
    expect(e.advance(start)).toEqual([]); // never back
    expect(e.now()).toBe(start + 10 * MIN);
  });

  it('describes each device from the site file: place, phases, battery', () => {
    const e = estate();
    const info = (id: string) => e.devices().find((d) => d.id === id)!;
    expect(info('inc')).toMatchObject({
      kind: 'electricity_meter',
      circuit: 'incomer',
      phases: 3,
      nominalVoltage: 220,
      batteryBacked: false,
      floor: -1,
    });
    expect(info('em-0302')).toMatchObject({ phases: 1, vacant: true, unit: 'u0302', feeder: 'inc' }); // an SDM120
    expect(info('em-0301')).toMatchObject({ phases: 1 }); // a flat's MQTT meter
    expect(info('lift-a')).toMatchObject({
      floors: { lowest: -2, highest: 10 },
      batteryBacked: true,
      feeder: 'lift-circ',
    });
    expect(info('sump-level')).toMatchObject({ drainPump: 'sump-pump', room: 'sump', roomType: 'sump_pit', floor: -2 });
    expect(e.fedFrom('inc').sort()).toEqual([
      'boiler',
      'booster',
      'em-0301',
      'em-0302',
      'heat-pump',
      'lift-a',
      'lift-b',
      'lift-circ',
      'pump-circ',
      'sump-pump',
    ]);
  });

  describe('water and electricity use', () => {
    it('vacant units read zero all day; occupied ones count up, most at the evening peak, with zero-flow hours at night', () => {
      const e = estate(localMs('2026-11-22T00:00:00'));
      const obs = e.advance(e.now() + 24 * HOUR);
      const vacant = fieldsOf(obs, 'wm-0302');
      expect(vacant.every((f) => f.flow_m3h === 0)).toBe(true);
      expect(vacant.at(-1)!.total_m3).toBe(vacant[0]!.total_m3);
      expect(fieldsOf(obs, 'em-0302').every((f) => f.power_kw === 0 && f.current_l1_a === 0)).toBe(true);
      expect(fieldsOf(obs, 'em-0302').at(-1)!.voltage_l1_v).toBeGreaterThan(210); // connected, just unused

      const used = fieldsOf(obs, 'wm-0301');
      expect(Number(used.at(-1)!.total_m3) - Number(used[0]!.total_m3)).toBeGreaterThan(0.05);
      const inHours = (from: number, to: number) =>
        used.filter((f) => f.ts >= localMs(`2026-11-22T${from}:00:00`) && f.ts < localMs(`2026-11-22T${to}:00:00`));
      const volume = (rows: Fields[]) => rows.reduce((s, f) => s + Number(f.flow_m3h), 0);
      expect(volume(inHours(18, 22))).toBeGreaterThan(volume(inHours(1, 5)));
      const zeroHour = [0, 1, 2, 3, 4].some((h) => inHours(h, h + 1).every((f) => f.flow_m3h === 0));
      expect(zeroHour).toBe(true);
      expect(used.every((f) => f.leak === false && f.burst === false)).toBe(true);
      const power = fieldsOf(obs, 'em-0301');
      expect(Number(power.at(-1)!.energy_import_kwh)).toBeGreaterThan(Number(power[0]!.energy_import_kwh));
    });

    it('electricity meters sit near 220 V with small noise, three phases on an SDM630, and an incomer carries its sub-circuits', () => {
      const e = estate();
      const obs = e.advance(e.now() + HOUR);
      for (const f of fieldsOf(obs, 'inc')) {
        for (const p of [1, 2, 3]) {
          expect(Number(f[`voltage_l${p}_v`])).toBeGreaterThan(213);
          expect(Number(f[`voltage_l${p}_v`])).toBeLessThan(227);
        }
        expect(f.frequency_hz).toBeGreaterThan(49.8);
      }
      expect(new Set(fieldsOf(obs, 'inc').map((f) => f.voltage_l1_v)).size).toBeGreaterThan(3);
      expect(fields(e, 'em-0301')).not.toHaveProperty('voltage_l2_v');
      const [inc, lifts, pumps] = ['inc', 'lift-circ', 'pump-circ'].map((id) => Number(fields(e, id).power_kw));
      expect(inc!).toBeGreaterThan(lifts! + pumps!);
      expect(lifts!).toBeGreaterThan(0.5); // two lift controllers at least
    });

    it('a flow fault makes a vacant unit draw water, and a big one sets the burst flag', () => {
      const e = estate();
      e.advance(e.now() + MIN);
      e.inject('wm-0302', { type: 'flow', m3h: 0.3 });
      const before = Number(fields(e, 'wm-0302').total_m3);
      e.advance(e.now() + HOUR);
      expect(fields(e, 'wm-0302')).toMatchObject({ flow_m3h: 0.3, burst: false });
      expect(Number(fields(e, 'wm-0302').total_m3) - before).toBeCloseTo(0.3, 2);
      e.inject('wm-0302', { type: 'flow', m3h: 3 });
      e.advance(e.now() + MIN);
      expect(fields(e, 'wm-0302')).toMatchObject({ flow_m3h: 3, burst: true });
      expect(Number(fields(e, 'booster').flow_m3h)).toBeGreaterThan(3); // the building's booster pumps it too
    });

    it('a tap left running for a day sets the meter leak flag (no zero-flow moment in 24 h)', () => {
      const e = estate();
      e.inject('wm-0302', { type: 'flow', m3h: 0.05 });
      e.advance(e.now() + 23 * HOUR);
      expect(fields(e, 'wm-0302').leak).toBe(false);
      e.advance(e.now() + 2 * HOUR);
      expect(fields(e, 'wm-0302').leak).toBe(true);
    });

    it('the building main refills the break tank: steady in the day, hours of no flow at night, the building total over a day', () => {
      const e = estate(localMs('2026-11-22T00:00:00'));
      const main = fieldsOf(e.advance(e.now() + 24 * HOUR), 'main');
      const night = main.filter((f) => f.ts < localMs('2026-11-22T05:00:00'));
      expect(night.filter((f) => f.flow_m3h === 0).length / night.length).toBeGreaterThan(0.5);
      expect(main.some((f) => Number(f.flow_m3h) > 7)).toBe(true);
      const used = Number(main.at(-1)!.total_m3) - Number(main[0]!.total_m3);
      expect(used).toBeGreaterThan(10); // about 100 flats at ~0.35 m³ a day, give or take the tank
      expect(used).toBeLessThan(70);
    });
  });

  describe('lifts', () => {
    it('travel floor to floor, level before opening, carry passengers, and never open while moving', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      const lift = fieldsOf(e.advance(e.now() + HOUR), 'lift-a');
      expect(new Set(lift.map((f) => f.floor)).size).toBeGreaterThan(5);
      expect(lift.some((f) => f.direction === 'up')).toBe(true);
      expect(lift.some((f) => f.direction === 'down')).toBe(true);
      expect(lift.some((f) => f.door === 'open' && f.occupied)).toBe(true);
      expect(lift.some((f) => f.direction !== 'stopped' && f.occupied)).toBe(true);
      for (const f of lift) {
        expect(f.floor).not.toBe(0);
        if (f.door !== 'closed')
          expect(f, 'a door opens only when level and stopped').toMatchObject({
            direction: 'stopped',
            in_door_zone: true,
          });
        if (f.direction !== 'stopped') expect(f.in_door_zone).toBe(false);
      }
      // Not stuck: never occupied, closed and still for 20 s at a floor.
      let still = 0;
      for (const f of lift) {
        still = f.occupied && f.door === 'closed' && f.direction === 'stopped' ? still + 5 : 0;
        expect(still).toBeLessThan(20);
      }
    });

    it('lift_stuck stops the car between floors with people inside until cleared, then it levels and lets them out', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + 5 * MIN);
      e.inject('lift-a', { type: 'lift_stuck', passengers: 2, alarmButton: true });
      const during = fieldsOf(e.advance(e.now() + 5 * MIN), 'lift-a');
      expect(new Set(during.map((f) => f.floor)).size).toBe(1);
      for (const f of during) {
        expect(f).toMatchObject({
          direction: 'stopped',
          in_door_zone: false,
          door: 'closed',
          occupied: true,
          alarm_button: true,
          fault_code: LIFT_STOP_FAULT_CODE,
        });
      }
      e.clear('lift-a', 'lift_stuck');
      const after = fieldsOf(e.advance(e.now() + MIN), 'lift-a');
      const opened = after.find((f) => f.door === 'open');
      expect(opened).toMatchObject({ floor: during[0]!.floor, in_door_zone: true, occupied: false });
      expect(after.at(-1)).toMatchObject({ alarm_button: false, fault_code: 0 });
    });

    it('lift_stuck with level: true stops at a floor, in the door zone, door closed', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + 3 * MIN);
      e.inject('lift-b', { type: 'lift_stuck', level: true });
      e.advance(e.now() + MIN);
      expect(fields(e, 'lift-b')).toMatchObject({
        in_door_zone: true,
        door: 'closed',
        occupied: true,
        direction: 'stopped',
        alarm_button: false,
      });
    });

    it('go into maintenance for an hour every 15 days at 10:00', () => {
      // The same seed gives the lift the same maintenance day: try each of 15 mornings.
      const liftOnly = { ...config, devices: config.devices.filter((d) => d.id === 'lift-a') };
      const modes: string[] = [];
      for (let day = 0; day < 15; day++) {
        const e = new Estate({ config: liftOnly, seed: 7, start: localMs('2026-11-22T09:59:00') + day * 24 * HOUR });
        e.advance(e.now() + 31 * MIN);
        modes.push(String(fields(e, 'lift-a').mode));
        if (modes.at(-1) === 'maintenance') {
          e.advance(e.now() + 40 * MIN);
          expect(fields(e, 'lift-a').mode).toBe('normal');
        }
      }
      expect(modes.filter((m) => m === 'maintenance')).toHaveLength(1);
      expect(modes.filter((m) => m === 'normal')).toHaveLength(14);
    });
  });

  describe('power', () => {
    it('a power cut on the incomer: 0 V on every phase, everything it feeds dark except battery-backed lift terminals; restored, all come back', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + 5 * MIN);
      e.inject('inc', { type: 'power_cut' });
      const obs = e.advance(e.now() + 5 * MIN);
      expect(fields(e, 'inc')).toMatchObject({
        voltage_l1_v: 0,
        voltage_l2_v: 0,
        voltage_l3_v: 0,
        current_l1_a: 0,
        power_kw: 0,
        frequency_hz: 0,
      });
      for (const id of [
        'lift-circ',
        'pump-circ',
        'em-0301',
        'em-0302',
        'booster',
        'sump-pump',
        'boiler',
        'heat-pump',
      ]) {
        expect(e.observe(id), id).toMatchObject({ dark: true, why: 'unpowered' });
        expect(e.powered(id), id).toBe(false);
        expect(
          obs.filter((o) => o.deviceId === id && 'fields' in o && o.ts > e.now() - 4 * MIN),
          id,
        ).toEqual([]);
      }
      // Lifts stop where they are; their terminals report on battery.
      const lift = fieldsOf(obs, 'lift-a').filter((f) => f.ts > e.now() - 4 * MIN);
      expect(lift.length).toBeGreaterThan(40);
      expect(new Set(lift.map((f) => `${f.floor}/${f.in_door_zone}/${f.occupied}`)).size).toBe(1);
      expect(lift.every((f) => f.direction === 'stopped')).toBe(true);
      for (const id of ['wm-0301', 'main', 'leak-1', 'sump-level']) expect('fields' in e.observe(id), id).toBe(true);
      expect(e.powered('wm-0301')).toBe(true); // no feeder: not on this supply

      e.clear('inc');
      e.advance(e.now() + 2 * MIN);
      expect(Number(fields(e, 'inc').voltage_l2_v)).toBeGreaterThan(213);
      for (const id of ['lift-circ', 'pump-circ', 'em-0301', 'booster', 'boiler']) expect(e.powered(id), id).toBe(true);
      expect(fields(e, 'booster')).toMatchObject({ fault: false, running: true });
      expect(fields(e, 'heat-pump')).toMatchObject({ running: true });
      expect(
        fields(e, 'lift-a').occupied === false ||
          fields(e, 'lift-a').direction !== 'stopped' ||
          fields(e, 'lift-a').door !== 'closed',
      ).toBe(true);
    });

    it('a cut lower in the chain takes down only what hangs below it', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + MIN);
      e.inject('lift-circ', { type: 'power_cut' });
      e.advance(e.now() + MIN);
      expect(fields(e, 'lift-circ')).toMatchObject({ voltage_l1_v: 0, power_kw: 0 });
      expect(e.powered('lift-a')).toBe(false);
      expect(e.powered('booster')).toBe(true);
      expect(Number(fields(e, 'inc').voltage_l1_v)).toBeGreaterThan(213);
      expect(fields(e, 'booster')).toHaveProperty('running');
    });

    it('a tripped breaker keeps its voltage but carries no current, and what it feeds loses power', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + MIN);
      e.inject('pump-circ', { type: 'breaker_trip' });
      e.advance(e.now() + MIN);
      const f = fields(e, 'pump-circ');
      expect(Number(f.voltage_l1_v)).toBeGreaterThan(213);
      expect(f).toMatchObject({ current_l1_a: 0, current_l2_a: 0, current_l3_a: 0, power_kw: 0 });
      expect(e.observe('booster')).toMatchObject({ dark: true, why: 'unpowered' });
      expect(e.powered('pump-circ')).toBe(true);
    });

    it('a lost phase reads 0 V on that phase here and below, and trips the three-phase pumps (missing phase)', () => {
      const e = estate(localMs('2026-11-22T18:00:00'));
      e.advance(e.now() + MIN);
      e.inject('inc', { type: 'phase_loss', phases: [2] });
      e.advance(e.now() + MIN);
      expect(fields(e, 'inc')).toMatchObject({ voltage_l2_v: 0, current_l2_a: 0 });
      expect(Number(fields(e, 'inc').voltage_l1_v)).toBeGreaterThan(213);
      expect(fields(e, 'lift-circ').voltage_l2_v).toBe(0);
      expect(fields(e, 'booster')).toMatchObject({ running: false, fault: true, alarm_code: 2 });
    });

    it('pumps restart when power returns, except one set to fail on restart', () => {
      const e = estate(localMs('2026-11-22T19:00:00'));
      e.inject('booster', { type: 'pump_fail', afterPowerReturn: true });
      e.advance(e.now() + 5 * MIN);
      expect(fields(e, 'booster')).toMatchObject({ fault: false, running: true }); // not yet: it has not lost power
      e.inject('inc', { type: 'power_cut' });
      e.advance(e.now() + 10 * MIN);
      e.clear('inc', 'power_cut');
      const after = fieldsOf(e.advance(e.now() + 5 * MIN), 'booster');
      expect(after.at(-1)).toMatchObject({ running: false, fault: true, alarm_code: 51 });
      expect(Number(after.at(-1)!.pressure_kpa)).toBeLessThan(SETPOINT_KPA - 100);
      expect(fields(e, 'heat-pump').running).toBe(true);
      e.clear('booster');
      e.advance(e.now() + MIN);
      expect(fields(e, 'booster')).toMatchObject({ running: true, fault: false });
    });
  });

  describe('pumps and pits', () => {
    it('the sump pump cycles with its pit: level rises with seepage to 60 %, the pump pulls it down to 20 %', () => {
      const e = estate();
      const obs = e.advance(e.now() + 6 * HOUR);
      const levels = fieldsOf(obs, 'sump-level').map((f) => Number(f.level_pct));
      expect(Math.max(...levels)).toBeLessThan(65);
      expect(Math.min(...levels)).toBeGreaterThan(15);
      expect(fieldsOf(obs, 'sump-pump').some((f) => f.running)).toBe(true);
      expect(fieldsOf(obs, 'sump-pump').some((f) => !f.running)).toBe(true);
      expect(fieldsOf(obs, 'sump-level').every((f) => f.high_float === false)).toBe(true);
    });

    it('a failed sump pump and an inflow flood the pit: float high, run commanded, no feedback', () => {
      const e = estate();
      e.inject('sump-pump', { type: 'pump_fail', alarmCode: 57 });
      e.inject('sump-level', { type: 'inflow', pctPerMin: 4 });
      const obs = e.advance(e.now() + 30 * MIN);
      expect(fields(e, 'sump-level').high_float).toBe(true);
      expect(Number(fields(e, 'sump-level').level_pct)).toBeGreaterThanOrEqual(80);
      expect(fields(e, 'sump-pump')).toMatchObject({
        run_command: true,
        running: false,
        fault: true,
        alarm_code: 57,
        flow_m3h: 0,
      });
      // The float reports the moment it rises (the pit gains about 0.07 % a second), not on its next 10 s report.
      const rise = fieldsOf(obs, 'sump-level').find((f) => f.high_float)!;
      expect(Number(rise.level_pct)).toBeLessThan(80.2);
    });

    it('an inflow the pump can drain keeps the pit below the float', () => {
      const e = estate();
      e.inject('sump-level', { type: 'inflow', pctPerMin: 2 });
      const obs = e.advance(e.now() + HOUR);
      expect(fieldsOf(obs, 'sump-level').every((f) => f.high_float === false)).toBe(true);
    });

    it('the booster holds 450 kPa and sleeps at night, cycling on its pressure tank', () => {
      const e = estate(localMs('2026-11-22T02:00:00'));
      const pump = fieldsOf(e.advance(e.now() + 2 * HOUR), 'booster');
      expect(pump.some((f) => f.running)).toBe(true);
      expect(pump.some((f) => !f.running && f.fault === false)).toBe(true);
      for (const f of pump) {
        expect(Number(f.pressure_kpa)).toBeGreaterThan(380);
        expect(Number(f.pressure_kpa)).toBeLessThan(460);
      }
    });

    it('the heating circulation pump runs in the heating season only', () => {
      const winter = estate(localMs('2026-12-01T12:00:00'));
      winter.advance(winter.now() + MIN);
      expect(fields(winter, 'heat-pump').running).toBe(true);
      const summer = estate(localMs('2026-07-01T12:00:00'));
      summer.advance(summer.now() + MIN);
      expect(fields(summer, 'heat-pump').running).toBe(false);
    });
  });

  describe('boilers', () => {
    it('hold the supply near 70 °C with the burner cycling, and the return below it, in the heating season', () => {
      const e = estate(localMs('2026-11-22T03:00:00'));
      const rows = fieldsOf(e.advance(e.now() + 2 * HOUR), 'boiler');
      for (const f of rows) {
        expect(Math.abs(Number(f.supply_temp_c) - SUPPLY_SETPOINT_C)).toBeLessThan(4);
        expect(Number(f.supply_temp_c) - Number(f.return_temp_c)).toBeGreaterThan(8);
        expect(Number(f.pressure_kpa)).toBeGreaterThan(100);
        expect(Number(f.pressure_kpa)).toBeLessThan(350);
        expect(f.setpoint_c).toBe(SUPPLY_SETPOINT_C);
      }
      expect(rows.some((f) => f.burner_on)).toBe(true);
      expect(rows.some((f) => !f.burner_on)).toBe(true);
    });

    it('stand by outside the season (from 15 March)', () => {
      const e = estate(localMs('2026-03-16T12:00:00'));
      e.advance(e.now() + HOUR);
      expect(fields(e, 'boiler')).toMatchObject({ burner_on: false, setpoint_c: 0, fault: false });
      expect(Number(fields(e, 'boiler').supply_temp_c)).toBeLessThan(30);
    });

    it('a boiler fault stops the burner and the supply falls 10 °C under the setpoint within 20 minutes', () => {
      const e = estate(localMs('2026-11-22T03:00:00'));
      e.advance(e.now() + 10 * MIN);
      e.inject('boiler', { type: 'boiler_fault', faultCode: 7 });
      expect(fields(e, 'boiler')).toMatchObject({ fault: true, fault_code: 7, burner_on: false });
      e.advance(e.now() + 20 * MIN);
      expect(Number(fields(e, 'boiler').supply_temp_c)).toBeLessThan(SUPPLY_SETPOINT_C - 10);
    });
  });

  describe('leak sensors', () => {
    it('are dry, on a battery that drains about a point a week', () => {
      // Only the sensor, a minute a tick: 70 days in a few thousand steps.
      const e = new Estate({
        config: { ...config, devices: config.devices.filter((d) => d.id === 'leak-1') },
        seed: 7,
        start: localMs('2026-11-22T10:00:00'),
        tickMs: MIN,
      });
      const start = Number(fields(e, 'leak-1').battery_pct);
      e.advance(e.now() + 70 * 24 * HOUR);
      const f = fields(e, 'leak-1');
      expect(f.wet).toBe(false);
      expect(start - Number(f.battery_pct)).toBeGreaterThanOrEqual(8);
      expect(start - Number(f.battery_pct)).toBeLessThanOrEqual(12);
    });

    it('report wet at once, not on their next heartbeat, and dry again when cleared', () => {
      const e = estate();
      e.advance(e.now() + 61_000);
      e.inject('leak-1', { type: 'leak' });
      const obs = e.advance(e.now() + 2_000);
      expect(fieldsOf(obs, 'leak-1')).toEqual([expect.objectContaining({ wet: true })]);
      e.clear('leak-1');
      expect(fieldsOf(e.advance(e.now() + 1_000), 'leak-1')).toEqual([expect.objectContaining({ wet: false })]);
    });
  });

  describe('faults on any device', () => {
    it('silent makes a powered device dark; hold pins fields; clearAll restores everything', () => {
      const e = estate();
      e.inject('booster', { type: 'silent' });
      e.inject('leak-1', { type: 'hold', fields: { tamper: true, battery_pct: 5, battery_low: true } });
      e.inject('inc', { type: 'power_cut' });
      e.advance(e.now() + MIN);
      expect(e.observe('booster')).toMatchObject({ dark: true, why: 'unpowered' }); // the cut comes first
      e.clear('inc');
      expect(e.observe('booster')).toMatchObject({ dark: true, why: 'silent' });
      expect(e.powered('booster')).toBe(true);
      expect(fields(e, 'leak-1')).toMatchObject({ tamper: true, battery_pct: 5, battery_low: true, wet: false });
      expect(e.faults('leak-1')).toEqual([
        { type: 'hold', fields: { tamper: true, battery_pct: 5, battery_low: true } },
      ]);
      e.clearAll();
      expect(e.faults('leak-1')).toEqual([]);
      expect('fields' in e.observe('booster')).toBe(true);
      expect(fields(e, 'leak-1').tamper).toBe(false);
    });

    it('refuses unknown devices and faults that do not fit', () => {
      const e = estate();
      expect(() => e.inject('nope', { type: 'silent' })).toThrow(/no device "nope"/);
      expect(() => e.inject('wm-0301', { type: 'power_cut' })).toThrow(/water_meter.*power_cut.*does not fit/);
      expect(() => e.inject('lift-a', { type: 'leak' })).toThrow(/does not fit/);
      expect(() => e.inject('em-0302', { type: 'phase_loss', phases: [3] })).toThrow(/1…1/);
      expect(() => e.inject('leak-1', { type: 'hold', fields: { wet_floor: true } })).toThrow(/no field "wet_floor"/);
      expect(() => e.inject('lift-a', { type: 'hold', fields: { mode: 'party' } })).toThrow(/one of/);
      expect(() => e.inject('wm-0301', { type: 'flow', m3h: -1 })).toThrow(/negative/);
      expect(() => e.observe('nope')).toThrow();
    });

    it('a fault replaces one of the same type, and the injected object is copied', () => {
      const e = estate();
      const fault = { type: 'flow' as const, m3h: 1 };
      e.inject('wm-0302', fault);
      fault.m3h = 99;
      e.inject('wm-0302', { type: 'silent' });
      e.inject('wm-0302', { type: 'flow', m3h: 2 });
      expect(e.faults('wm-0302')).toEqual([{ type: 'flow', m3h: 2 }, { type: 'silent' }]);
      e.clear('wm-0302', 'silent');
      expect(e.faults('wm-0302')).toEqual([{ type: 'flow', m3h: 2 }]);
    });
  });
});
