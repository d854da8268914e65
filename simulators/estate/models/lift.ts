import type { SimDeviceInfo } from '../types.js';
import { demandAt, model, type StepEnv } from './model.js';

// Lifts as their monitoring terminal sees them. A car waits closed at a floor until a call;
// it travels to the caller (about 1.6 s per floor), levels, opens (2 s), lets people in or
// out (4–8 s), closes (3 s) and carries them to their floor. Calls follow the day/night
// curve: most trips start or end at the lobby (floor 1) or the garage. Every 15 days each
// lift has an hour of maintenance (维保) from 10:00 local, entered once the car is idle.
//
// Losing power (feeder cut) stops the car where it is, between floors if it was moving,
// passengers inside; the terminal keeps reporting on its battery. lift_stuck does the same
// with power on (and a controller fault code). When power returns or the fault is cleared
// the controller levels the car at the nearest floor, opens and lets everyone out.

interface LiftState {
  levels: number[];
  /** Position as an index into `levels`, fractional between floors. */
  pos: number;
  target: number | null;
  dir: 'up' | 'down' | 'stopped';
  door: 'open' | 'closed' | 'opening' | 'closing';
  doorLeftS: number;
  passengers: number;
  /** Where the people in the car are going. */
  dest: number | null;
  /** A call accepted: people waiting at `target` who want to go to `dest`. */
  pickup: { at: number; dest: number; count: number } | null;
  /** Level at the nearest floor and let everyone out (after a stop between floors). */
  rescue: boolean;
  mode: 'normal' | 'maintenance';
  /** Day offset of this lift's maintenance (0–14). */
  maintenanceSlot: number;
  stuck: boolean;
  alarm: boolean;
  unpowered: boolean;
}

/** Fault code the simulated controller shows for an unexplained stop (safety circuit opened). */
export const LIFT_STOP_FAULT_CODE = 30;
const FLOORS_PER_S = 1 / 1.6;
const MAINTENANCE_EVERY_DAYS = 15;
const MAINTENANCE_FROM_H = 10;
const MAINTENANCE_HOURS = 1;

export function levelsOf(info: SimDeviceInfo): number[] {
  const out: number[] = [];
  for (let l = info.floors.lowest; l <= info.floors.highest; l++) if (l !== 0) out.push(l);
  return out;
}

const atFloor = (s: LiftState) => Math.abs(s.pos - Math.round(s.pos)) < 1e-6;

export const lift = model<LiftState>({
  batteryBacked: true,
  faults: ['lift_stuck'],
  stepS: 1,

  init(info, rnd) {
    const levels = levelsOf(info);
    const lobby = Math.max(0, levels.indexOf(1));
    return {
      levels,
      pos: rnd() < 0.5 ? lobby : Math.floor(rnd() * levels.length),
      target: null,
      dir: 'stopped',
      door: 'closed',
      doorLeftS: 0,
      passengers: 0,
      dest: null,
      pickup: null,
      rescue: false,
      mode: 'normal',
      maintenanceSlot: Math.floor(rnd() * MAINTENANCE_EVERY_DAYS),
      stuck: false,
      alarm: false,
      unpowered: false,
    };
  },

  step(s, _info, env) {
    for (let t = 0; t < env.dtS; t++) second(s, env);
  },

  fields(s) {
    const i = Math.min(s.levels.length - 1, Math.max(0, Math.round(s.pos)));
    return {
      floor: s.levels[i]!,
      direction: s.dir,
      in_door_zone: s.dir === 'stopped' && atFloor(s),
      door: s.door,
      occupied: s.passengers > 0,
      alarm_button: s.alarm,
      mode: s.mode,
      fault_code: s.stuck ? LIFT_STOP_FAULT_CODE : 0,
    };
  },

  loadKw: (s) => (s.dir === 'stopped' ? 0.4 : 7.5),
});

/** One second of the lift: the first phase that takes the second ends it. */
function second(s: LiftState, env: StepEnv): void {
  if (stuckPhase(s, env)) return;
  if (powerPhase(s, env)) return;
  if (s.rescue && s.dir === 'stopped' && s.door === 'closed' && s.target === null) {
    s.target = Math.round(s.pos);
    s.pickup = null;
  }
  if (motionPhase(s)) return;
  if (doorPhase(s, env.rnd)) return;
  idlePhase(s, env);
}

/** Stuck between floors (a planted fault), or just freed from it: true while stuck. */
function stuckPhase(s: LiftState, env: StepEnv): boolean {
  const stuck = env.faults.get('lift_stuck');
  if (stuck) {
    if (!s.stuck) {
      s.stuck = true;
      if (stuck.level) s.pos = Math.round(s.pos);
      else if (atFloor(s)) s.pos += s.dir === 'down' || s.pos >= s.levels.length - 1 ? -0.4 : 0.4;
      s.dir = 'stopped';
      s.door = 'closed';
      s.target = null;
      s.pickup = null;
      s.passengers = stuck.passengers ?? Math.max(1, s.passengers);
      if (s.passengers > 0 && s.dest === null) s.dest = Math.max(0, s.levels.indexOf(1));
    }
    s.alarm = stuck.alarmButton ?? false;
    return true;
  }
  if (s.stuck) {
    s.stuck = false;
    s.alarm = false;
    s.rescue = true;
  }
  return false;
}

/** Without power the car stops where it is; when power returns it rescues anyone inside. True while unpowered. */
function powerPhase(s: LiftState, env: StepEnv): boolean {
  if (!env.powered) {
    s.unpowered = true;
    s.dir = 'stopped';
    if (s.door === 'opening') s.door = 'open';
    if (s.door === 'closing') s.door = 'closed';
    return true;
  }
  if (s.unpowered) {
    s.unpowered = false;
    if (!atFloor(s) || s.passengers > 0) s.rescue = true;
  }
  return false;
}

/** Moving towards the target, opening the door on arrival. True while there is a target. */
function motionPhase(s: LiftState): boolean {
  if (s.target === null || s.door !== 'closed') return false;
  const diff = s.target - s.pos;
  if (Math.abs(diff) <= FLOORS_PER_S) {
    s.pos = s.target;
    s.target = null;
    s.dir = 'stopped';
    s.door = 'opening';
    s.doorLeftS = 2;
  } else {
    s.dir = diff > 0 ? 'up' : 'down';
    s.pos += Math.sign(diff) * FLOORS_PER_S;
  }
  return true;
}

/** The door cycle at a floor (opening → open → closing → closed). True while the door is not closed. */
function doorPhase(s: LiftState, rnd: () => number): boolean {
  if (s.door === 'closed') return false;
  s.doorLeftS -= 1;
  if (s.doorLeftS > 0) return true;
  if (s.door === 'opening') {
    s.door = 'open';
    s.doorLeftS = 4 + Math.floor(rnd() * 5);
    exchangePassengers(s);
  } else if (s.door === 'open') {
    s.door = 'closing';
    s.doorLeftS = 3;
  } else {
    s.door = 'closed';
    if (s.dest !== null && s.passengers > 0) s.target = s.dest;
  }
  return true;
}

/** The door has just opened: passengers (and anyone rescued) get out, a waiting call gets in. */
function exchangePassengers(s: LiftState): void {
  const here = Math.round(s.pos);
  if (s.rescue || s.dest === here) {
    s.passengers = 0;
    s.dest = null;
    s.rescue = false;
  }
  if (s.pickup && s.pickup.at === here) {
    s.passengers += s.pickup.count;
    s.dest = s.pickup.dest;
    s.pickup = null;
  }
}

/** Idle, closed, at a floor: maintenance, carrying on to a destination, or perhaps a new call. */
function idlePhase(s: LiftState, env: StepEnv): void {
  const maintenance = maintenanceDue(s, env.local.dayNumber, env.local.hour);
  if (s.mode === 'maintenance') {
    if (!maintenance) s.mode = 'normal';
    return;
  }
  if (maintenance && s.passengers === 0) {
    s.mode = 'maintenance';
    return;
  }
  if (s.passengers > 0 && s.dest !== null) {
    s.target = s.dest;
    return;
  }
  const perS = 0.002 + 0.04 * demandAt(env.local.hour) * Math.min(2, s.levels.length / 20);
  if (env.rnd() >= perS) return;
  answerCall(s, newCall(s, env.rnd));
}

/** A random call: where from, where to and how many (the draws in this order). */
function newCall(s: LiftState, rnd: () => number): { at: number; dest: number; count: number } {
  const lobby = Math.max(0, s.levels.indexOf(1));
  const basement = s.levels[0]! < 0 ? 0 : -1;
  const any = () => Math.floor(rnd() * s.levels.length);
  const r = rnd();
  const from = r < 0.45 ? lobby : r < 0.55 && basement >= 0 ? basement : any();
  let dest: number;
  if (from === lobby) dest = rnd() < 0.15 && basement >= 0 ? basement : any();
  else dest = rnd() < 0.75 ? lobby : any();
  if (dest === from) dest = from === lobby ? s.levels.length - 1 : lobby;
  const count = 1 + Math.floor(rnd() * 3);
  return { at: from, dest, count };
}

/** Take the call: open the door if the car is already there, else go and fetch it. */
function answerCall(s: LiftState, call: { at: number; dest: number; count: number }): void {
  s.pickup = call;
  if (call.at === Math.round(s.pos)) {
    s.door = 'opening';
    s.doorLeftS = 2;
  } else {
    s.target = call.at;
  }
}

function maintenanceDue(s: LiftState, dayNumber: number, hour: number): boolean {
  return (
    (dayNumber + s.maintenanceSlot) % MAINTENANCE_EVERY_DAYS === 0 &&
    hour >= MAINTENANCE_FROM_H &&
    hour < MAINTENANCE_FROM_H + MAINTENANCE_HOURS
  );
}
