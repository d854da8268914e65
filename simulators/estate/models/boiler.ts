import { clamp, jitter, model, round, wander } from './model.js';

// Boilers (锅炉) in a radiator system designed for 75/50 °C (DOMAIN.md §2). In the heating
// season (from the site's local date: 15 Nov – 15 Mar by default) the burner cycles on a
// ±2 °C band around a 70 °C supply setpoint; the building takes more heat at night, so the
// return is 12–20 °C below the supply and the burner runs longer in the small hours. The
// system pressure rises a little with the water temperature (about 180–210 kPa).
// Outside the season the boiler stands by: burner off, setpoint 0, water at room
// temperature, cold-fill pressure.
//
// boiler_fault: fault on, the controller's fault code (1, ignition failure, unless given),
// burner off, so the water cools about 0.7 °C a minute: the supply falls 10 °C below the
// setpoint in roughly a quarter of an hour (heating_low). Unpowered, the controller is dark
// and the water cools the same way.

interface BoilerState {
  supply: number;
  ret: number;
  pressure: number;
  burner: boolean;
}

export const SUPPLY_SETPOINT_C = 70;
const BAND_C = 2;
const ROOM_C = 22;
const COLD_KPA = 160;
const IGNITION_FAILURE = 1;

/** Share of the design heat load the building draws at a local hour: most at night. */
function heatLoad(hour: number): number {
  return 0.75 + 0.2 * Math.cos(((hour - 4) / 24) * 2 * Math.PI);
}

export const boiler = model<BoilerState>({
  batteryBacked: false,
  faults: ['boiler_fault'],
  stepS: 10,

  init(_info, rnd, env) {
    const on = env.local.heatingSeason;
    const supply = on ? SUPPLY_SETPOINT_C + jitter(rnd, BAND_C) : ROOM_C + jitter(rnd, 1);
    return {
      supply,
      ret: on ? supply - 15 : supply - 0.5,
      pressure: COLD_KPA + (supply - ROOM_C) * 0.5,
      burner: false,
    };
  },

  step(s, _info, env) {
    const { dtS, rnd } = env;
    const season = env.local.heatingSeason;
    const load = season ? heatLoad(env.local.hour) : 0;
    const canFire = env.powered && season && !env.faults.has('boiler_fault');
    if (!canFire) s.burner = false;
    else if (s.supply < SUPPLY_SETPOINT_C - BAND_C) s.burner = true;
    else if (s.supply > SUPPLY_SETPOINT_C + BAND_C) s.burner = false;
    // °C per second: the burner adds 3 °C/min; the building takes up to ~0.9 °C/min at full load.
    const heat = s.burner ? 0.05 : 0;
    const loss = season ? (0.015 * load * (s.supply - ROOM_C)) / 50 : ((s.supply - ROOM_C) / 3600) * 0.5;
    s.supply = clamp(s.supply + (heat - loss) * dtS + jitter(rnd, 0.05), -10, 120);
    const dT = season ? (s.supply - ROOM_C) * (0.2 + 0.15 * load) : 0.5;
    s.ret = wander(s.ret, s.supply - dT, 0.1, dtS, 120, rnd);
    s.pressure = wander(s.pressure, COLD_KPA + (s.supply - ROOM_C) * 0.5, 0.5, dtS, 60, rnd);
  },

  fields(s, _info, env) {
    const fault = env.faults.get('boiler_fault');
    return {
      supply_temp_c: round(s.supply, 1),
      return_temp_c: round(s.ret, 1),
      setpoint_c: env.local.heatingSeason ? SUPPLY_SETPOINT_C : 0,
      pressure_kpa: Math.round(s.pressure),
      burner_on: s.burner && !fault,
      fault: fault !== undefined,
      fault_code: fault ? (fault.faultCode ?? IGNITION_FAILURE) : 0,
    };
  },

  loadKw: (s) => (s.burner ? 0.35 : 0.05),
});
