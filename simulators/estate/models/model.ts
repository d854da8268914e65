import type { FieldValue } from '../../../rules/model/reading.js';
import type { Fault, FaultType, Fields, SimDeviceInfo } from '../types.js';
import type { LocalTime } from '../local-time.js';

// What every behaviour model is: a state that the estate advances in fixed simulated steps,
// and the fields a device would report in that state. Models are pure: randomness comes from
// the device's own seeded stream (only in `step`), time and power from the estate.

/** What other devices look like to a model (the couplings of the estate's physics). */
export interface EstateView {
  /** Power drawn by everything fed directly from this meter, kW (meters below it count with their own reading). */
  childLoadKw(meterId: string): number;
  /** Whether a pump is running now; undefined when the estate has no such pump. */
  pumpRunning(pumpId: string): boolean | undefined;
  /** Level (%) of the pit this pump drains, when a level sensor names it as its `drain_pump`. */
  pitLevel(pumpId: string): number | undefined;
  /** Water drawn in a building now, m³/h: its unmetered base use plus every unit meter's flow. */
  buildingWaterM3h(building: string): number;
}

/** The faults set on a device, by type. */
export interface FaultSet {
  get<T extends FaultType>(type: T): Extract<Fault, { type: T }> | undefined;
  has(type: FaultType): boolean;
}

export interface ReportEnv {
  /** Simulated epoch ms. */
  now: number;
  local: LocalTime;
  /** Power reaches the device (its feeder chain is intact). */
  powered: boolean;
  /** Electricity meters: their own supply is cut (power_cut), so they read 0 V. */
  supplyCut: boolean;
  /** Phases lost at the device's meter or above it. */
  lostPhases: readonly number[];
  faults: FaultSet;
  view: EstateView;
}

export interface StepEnv extends ReportEnv {
  /** Simulated seconds this step covers. */
  dtS: number;
  /** The device's own random stream. */
  rnd: () => number;
}

export interface DeviceModel<S> {
  /** Keeps reporting on its own battery or backup supply while unpowered. */
  batteryBacked: boolean;
  /** Kind-specific fault types this model shows (silent and hold fit every kind). */
  faults: readonly FaultType[];
  /** Simulated seconds per step: 1 for things that move (lifts, pumps, pits), more for slow ones. */
  stepS: number;
  /**
   * Fields reported the moment they change rather than on the next interval (a Zigbee leak
   * sensor sends at once when it gets wet).
   */
  eventFields?: readonly string[];
  init(info: SimDeviceInfo, rnd: () => number, env: ReportEnv): S;
  /** Advances the state by env.dtS (mutating it). */
  step(s: S, info: SimDeviceInfo, env: StepEnv): void;
  /** What the device reports in this state (every canonical field it has; transports keep what their profile carries). */
  fields(s: S, info: SimDeviceInfo, env: ReportEnv): Fields;
  /** Power it draws from its feeder now, kW (while powered). */
  loadKw?(s: S, info: SimDeviceInfo): number;
  /** Pumps: running now. */
  running?(s: S): boolean;
  /** Level sensors: the pit level, %. */
  levelPct?(s: S): number;
  /** Water meters: flow now, m³/h. */
  flowM3h?(s: S): number;
  /**
   * A write the device takes from the gateway (a Modbus coil or holding register): changes
   * its state, so what it reports and does afterwards follow the command (a closed valve
   * stops the water). Throws for a field the model does not act on.
   */
  command?(s: S, info: SimDeviceInfo, field: string, value: FieldValue): void;
}

/** Erases a model's state type so models of every kind sit in one table. */
export function model<S>(m: DeviceModel<S>): DeviceModel<unknown> {
  return m as unknown as DeviceModel<unknown>;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Uniform in [-amp, amp]. */
export function jitter(rnd: () => number, amp: number): number {
  return (rnd() * 2 - 1) * amp;
}

/** A value that wanders around `mean` and keeps coming back (a first-order random walk). */
export function wander(value: number, mean: number, amp: number, dtS: number, tauS: number, rnd: () => number): number {
  const pull = Math.min(1, dtS / tauS);
  return value + (mean - value) * pull + jitter(rnd, amp) * Math.sqrt(pull);
}

/**
 * Residential demand by local hour, 1 = the evening peak: low at night, a morning peak
 * around 7–8 and the highest in the evening (cooking, showers). Shared by water and
 * electricity use and by lift traffic.
 */
const RESIDENTIAL = [
  0.06, 0.04, 0.03, 0.03, 0.04, 0.12, 0.45, 0.8, 0.65, 0.4, 0.35, 0.45, 0.55, 0.42, 0.32, 0.3, 0.35, 0.5, 0.85, 1, 0.85,
  0.62, 0.35, 0.16,
];

/** The demand curve at a fractional hour, interpolated so there are no steps on the hour. */
export function demandAt(hour: number): number {
  const h = ((hour % 24) + 24) % 24;
  const i = Math.floor(h);
  const a = RESIDENTIAL[i]!;
  const b = RESIDENTIAL[(i + 1) % 24]!;
  return a + (b - a) * (h - i);
}

/** Sum of the curve over a day, in curve-hours (to turn a daily total into an hourly rate). */
export const DEMAND_HOURS = RESIDENTIAL.reduce((a, b) => a + b, 0);
