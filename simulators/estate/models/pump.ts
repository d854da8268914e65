import type { SimDeviceInfo } from '../types.js';
import { clamp, jitter, model, round, wander, type StepEnv } from './model.js';

// Pumps, by role:
// - sump (集水井排水泵): float control on its pit: starts at 60 %, stops at 20 %. The pit is
//   the level sensor that names this pump as its `drain_pump`; a pump with no such sensor
//   keeps a pit of its own with the same seepage.
// - secondary_water (二次供水加压泵): keeps the building's supply at 450 kPa. It runs while
//   water is drawn and sleeps when demand is low (at night), the pressure tank carrying the
//   small draws until the pressure falls to the cut-in (390 kPa): so it cycles with demand.
// - heating_circulation: runs through the heating season, off outside it.
// - fire, drainage, other: stand by.
//
// pump_fail: the controller still commands the pump but it does not run: fault on, an alarm
// code (Grundfos 51 "blocked" unless given), no flow. With `afterPowerReturn` the pump runs
// normally until power comes back after a cut, and fails then. A lost phase on its feeder
// trips it (alarm 2, missing phase). Unpowered, it is dark and stops; when power returns it
// restarts on its own (unless it fails as above).

interface PumpState {
  command: boolean;
  running: boolean;
  pressure: number;
  flow: number;
  current: number;
  /** Sump pumps without a level sensor: their own pit, %. */
  pit: number;
  /** Booster: seconds of low demand at full pressure (it sleeps after 60). */
  lowDemandS: number;
  /** pump_fail {afterPowerReturn}: power came back while it was set, so it has failed now. */
  failedOnReturn: boolean;
  unpowered: boolean;
  alarm: number;
}

export const SETPOINT_KPA = 450;
const CUT_IN_KPA = 390;
const MAINS_KPA = 150;
const SUMP_START_PCT = 60;
const SUMP_STOP_PCT = 20;
/** Drainage of a running sump pump, percentage points per minute of the pit. */
export const SUMP_DRAIN_PCT_PER_MIN = 5;
/** Water seeping into a pit, percentage points per minute (the pump cycles every 2–3 hours). */
export const SEEPAGE_PCT_PER_MIN = 0.3;
const BLOCKED = 51;
const MISSING_PHASE = 2;

export const pump = model<PumpState>({
  batteryBacked: false,
  faults: ['pump_fail'],
  stepS: 1,

  init(info, rnd) {
    return {
      command: false,
      running: false,
      pressure: info.role === 'secondary_water' ? SETPOINT_KPA : 0,
      flow: 0,
      current: 0,
      pit: 20 + rnd() * 35,
      lowDemandS: 0,
      failedOnReturn: false,
      unpowered: false,
      alarm: 0,
    };
  },

  step(s, info, env) {
    const canRun = updateAlarm(s, env);
    switch (info.role) {
      case 'sump':
        sumpStep(s, info, env, canRun);
        break;
      case 'secondary_water':
        boosterStep(s, info, env, canRun);
        break;
      case 'heating_circulation':
        heatingStep(s, env, canRun);
        break;
      default:
        standbyStep(s, info);
    }
  },

  fields(s, _info, env) {
    const failed = s.alarm !== 0 || (env.faults.has('pump_fail') && !env.faults.get('pump_fail')!.afterPowerReturn);
    const running = s.running && !failed;
    return {
      running,
      run_command: s.command,
      fault: failed,
      warning: false,
      alarm_code: failed ? s.alarm || (env.faults.get('pump_fail')?.alarmCode ?? BLOCKED) : 0,
      pressure_kpa: s.pressure,
      flow_m3h: running ? s.flow : 0,
      current_a: running ? s.current : 0,
    };
  },

  loadKw: (s) => (s.running ? round(s.current * 0.56, 2) : 0.05),
  running: (s) => s.running,
});

/** pump_fail, power cuts and lost phases set the alarm; true if the pump can run. */
function updateAlarm(s: PumpState, env: StepEnv): boolean {
  const fail = env.faults.get('pump_fail');
  if (!fail) s.failedOnReturn = false;
  if (!env.powered) {
    s.unpowered = true;
  } else if (s.unpowered) {
    s.unpowered = false;
    if (fail?.afterPowerReturn) s.failedOnReturn = true;
  }
  const failed = fail !== undefined && (!fail.afterPowerReturn || s.failedOnReturn);
  const phaseLost = env.lostPhases.length > 0;
  s.alarm = failed ? (fail.alarmCode ?? BLOCKED) : phaseLost ? MISSING_PHASE : 0;
  return env.powered && s.alarm === 0;
}

/** Float control on the pit: start at 60 %, stop at 20 %. */
function sumpStep(s: PumpState, info: SimDeviceInfo, env: StepEnv, canRun: boolean): void {
  const { dtS, rnd } = env;
  const level = env.view.pitLevel(info.id) ?? s.pit;
  if (level >= SUMP_START_PCT) s.command = true;
  else if (level <= SUMP_STOP_PCT) s.command = false;
  s.running = canRun && s.command;
  s.flow = s.running ? round(18 + jitter(rnd, 0.5), 1) : 0;
  s.pressure = s.running ? round(120 + jitter(rnd, 3), 1) : 0;
  s.current = s.running ? round(5.5 + jitter(rnd, 0.2), 1) : 0;
  const drain = s.running ? SUMP_DRAIN_PCT_PER_MIN : 0;
  s.pit = clamp(s.pit + ((SEEPAGE_PCT_PER_MIN - drain) * dtS) / 60, 0, 100);
}

/** The booster holds the setpoint while water is drawn and sleeps on low demand, cutting in at 390 kPa. */
function boosterStep(s: PumpState, info: SimDeviceInfo, env: StepEnv, canRun: boolean): void {
  const { dtS, rnd } = env;
  const demand = env.view.buildingWaterM3h(info.building);
  if (s.pressure < CUT_IN_KPA) s.command = true;
  if (s.command && demand < 0.8 && s.pressure >= SETPOINT_KPA - 5) {
    s.lowDemandS += dtS;
    if (s.lowDemandS >= 60) s.command = false;
  } else {
    s.lowDemandS = 0;
  }
  s.running = canRun && s.command;
  if (s.running) {
    s.pressure = wander(s.pressure, SETPOINT_KPA, 2, dtS, 5, rnd);
    s.flow = round(demand, 1);
    s.current = round(3 + 9 * Math.min(1, demand / 30) + jitter(rnd, 0.1), 1);
  } else {
    // The pressure tank carries the draws; without the pump the building falls back to mains pressure.
    const floor = canRun ? 0 : MAINS_KPA;
    s.pressure = Math.max(floor, s.pressure - (0.05 + demand * 1.5) * dtS);
    if (!canRun && s.pressure < MAINS_KPA + 1) s.pressure = MAINS_KPA;
    s.flow = 0;
    s.current = 0;
  }
  s.pressure = round(s.pressure, 1);
}

/** Heating circulation runs through the heating season. */
function heatingStep(s: PumpState, env: StepEnv, canRun: boolean): void {
  const { dtS, rnd } = env;
  s.command = env.local.heatingSeason;
  s.running = canRun && s.command;
  s.pressure = round(s.running ? wander(s.pressure || 250, 250, 2, dtS, 10, rnd) : 120, 1);
  s.flow = s.running ? round(35 + jitter(rnd, 0.8), 1) : 0;
  s.current = s.running ? round(12 + jitter(rnd, 0.3), 1) : 0;
}

/** Fire, drainage and other pumps stand by. */
function standbyStep(s: PumpState, info: SimDeviceInfo): void {
  s.command = false;
  s.running = false;
  s.pressure = info.role === 'fire' ? 300 : 0;
  s.flow = 0;
  s.current = 0;
}
