import type { DeviceKind } from '../../rules/model/fields.js';
import type { FieldValue } from '../../rules/model/reading.js';

// Plain device behaviour for the demo estate: enough to look alive (day/night water use,
// vacant units at zero, lifts travelling). The drill simulators replace this with scripted,
// fault-injecting models.

export interface SimDevice {
  id: string;
  kind: DeviceKind;
  vacant: boolean;
  floors: { lowest: number; highest: number };
  nominalVoltage: number;
  /** Electricity meters: 3 = a three-phase meter (L2 and L3 too); default 1. */
  phases?: 1 | 3;
}

export type State = Record<string, FieldValue>;

/** Share of the peak water/electricity demand by hour of day (night low, morning/evening peaks). */
const DEMAND = [0.05, 0.03, 0.02, 0.02, 0.03, 0.1, 0.45, 0.8, 0.6, 0.4, 0.35, 0.45, 0.55, 0.4, 0.3, 0.3, 0.35, 0.5, 0.85, 1, 0.8, 0.6, 0.35, 0.15];

export function initialState(d: SimDevice, rnd: () => number): State {
  switch (d.kind) {
    case 'water_meter':
      return { total_m3: round(100 + rnd() * 900, 3), flow_m3h: 0 };
    case 'electricity_meter':
      return { ...phaseValues(d, 0, () => 0.5), power_kw: 0, energy_import_kwh: round(1000 + rnd() * 9000, 2), frequency_hz: 50 };
    case 'lift':
      return { floor: 1, direction: 'stopped', in_door_zone: true, door: 'closed', occupied: false, alarm_button: false, mode: 'normal' };
    case 'level_sensor':
      return { level_pct: round(20 + rnd() * 15, 1), high_float: false };
    case 'leak_sensor':
      return { wet: false, battery_pct: Math.round(70 + rnd() * 30), battery_low: false, tamper: false };
    case 'pump':
      return { running: false, run_command: false, fault: false, pressure_kpa: 300, flow_m3h: 0, current_a: 0 };
    case 'boiler':
      return { supply_temp_c: 70, return_temp_c: 50, setpoint_c: 70, pressure_kpa: 200, burner_on: true, fault: false };
  }
}

/** Advances a device by `dtS` simulated seconds at local hour `hour`. */
export function step(d: SimDevice, s: State, dtS: number, hour: number, rnd: () => number): State {
  const demand = (DEMAND[Math.floor(hour) % 24] ?? 0.3) * (0.7 + rnd() * 0.6);
  switch (d.kind) {
    case 'water_meter': {
      const flow = d.vacant ? 0 : round(demand * 0.6 * (rnd() < 0.7 ? 1 : 0), 3);
      return { total_m3: round(Number(s.total_m3) + (flow * dtS) / 3600, 3), flow_m3h: flow };
    }
    case 'electricity_meter': {
      const kw = d.vacant ? 0 : round((0.2 + demand * 4) * (d.phases ?? 1), 3);
      return { ...phaseValues(d, kw, rnd), power_kw: kw, energy_import_kwh: round(Number(s.energy_import_kwh) + (kw * dtS) / 3600, 3), frequency_hz: round(50 + (rnd() - 0.5) * 0.04, 2) };
    }
    case 'lift': {
      let floor = Number(s.floor);
      if (s.direction === 'stopped') {
        // Doors cycle at a floor, then the car leaves for another floor with or without people.
        if (s.door === 'closed' && rnd() < 0.5) return { ...s, door: 'open', occupied: rnd() < 0.6 };
        if (s.door === 'open') return { ...s, door: 'closed' };
        const target = Math.round(d.floors.lowest + rnd() * (d.floors.highest - d.floors.lowest)) || 1;
        if (target === floor) return s;
        return { ...s, direction: target > floor ? 'up' : 'down', in_door_zone: false, target_floor: target } as State;
      }
      const target = Number((s as State & { target_floor?: number }).target_floor ?? floor);
      const move = Math.min(Math.abs(target - floor), Math.max(1, Math.round(dtS)));
      floor += s.direction === 'up' ? move : -move;
      if (floor === 0) floor = s.direction === 'up' ? 1 : -1;
      const arrived = floor === target;
      return { ...s, floor, direction: arrived ? 'stopped' : String(s.direction), in_door_zone: arrived, ...(arrived ? { target_floor: floor } : {}) };
    }
    case 'level_sensor': {
      const level = Math.min(60, Math.max(5, Number(s.level_pct) + (rnd() - 0.5) * 2));
      return { level_pct: round(level, 1), high_float: false };
    }
    case 'leak_sensor':
      return { ...s, battery_pct: Math.max(0, Number(s.battery_pct) - (rnd() < 0.01 ? 1 : 0)) };
    case 'pump': {
      const running = demand > 0.3;
      return { ...s, running, run_command: running, flow_m3h: running ? round(demand * 20, 1) : 0, current_a: running ? round(8 + rnd(), 1) : 0 };
    }
    case 'boiler':
      return { ...s, supply_temp_c: round(70 + (rnd() - 0.5), 1), return_temp_c: round(50 + (rnd() - 0.5), 1) };
  }
}

/** Phase voltages with a little noise, and the load shared evenly between the phases. */
function phaseValues(d: SimDevice, kw: number, rnd: () => number): State {
  const out: State = {};
  const phases = d.phases ?? 1;
  for (let p = 1; p <= phases; p++) {
    const v = round(d.nominalVoltage + (rnd() - 0.5) * 4, 1);
    out[`voltage_l${p}_v`] = v;
    out[`current_l${p}_a`] = round((kw * 1000) / phases / v, 2);
  }
  return out;
}

/** The fields a device publishes (internal simulation keys removed). */
export function published(s: State): State {
  const { target_floor: _t, ...rest } = s as State & { target_floor?: unknown };
  return rest;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
