import type { DeviceKind } from '../../rules/model/fields.js';
import type { FieldValue } from '../../rules/model/reading.js';

// The contract between the simulated estate (device behaviour, power topology, faults) and
// what drives it: the transports that speak MQTT and Modbus, the scenario runner, drills
// and tests. The estate itself does no I/O and reads no clock: it is advanced to a given
// simulated time, so tests run hours of estate in milliseconds.

export type Fields = Record<string, FieldValue>;

/** What the behaviour models know about a device (from the site file). */
export interface SimDeviceInfo {
  id: string;
  kind: DeviceKind;
  building: string;
  /** Floor levels of its building (lifts travel between them; no floor 0). */
  floors: { lowest: number; highest: number };
  vacant: boolean;
  /** The electricity meter feeding it, if any (power cuts travel down this tree). */
  feeder?: string;
  /** Electricity meters. */
  circuit?: 'incomer' | 'sub_circuit';
  nominalVoltage: number;
  phases: 1 | 3;
  /** Pumps. */
  role?: string;
  /** Seconds between readings (publish or poll interval). */
  intervalS: number;
  /** Floor level it sits on (from its place, unit or room), when the site file says. */
  floor?: number;
  /** The unit (flat, shop) it belongs to: unit meters. */
  unit?: string;
  /** The room it sits in and that room's type (`pump_room`, `sump_pit`, `lift_shaft` …). */
  room?: string;
  roomType?: string;
  /** Level sensors: the pump that drains their pit. */
  drainPump?: string;
  /**
   * Keeps reporting on its own battery or backup supply when its feeder is dead (see
   * simulators/README.md for which kinds). The device's function may still stop: a lift
   * terminal reports while the car stands still.
   */
  batteryBacked: boolean;
}

/**
 * Faults a scenario injects into one device (or, for `power_cut`, into a feeder meter and
 * everything below it). Each is set by a scenario step and cleared by a later one or by
 * `clear`. The models decide what a fault looks like in the device's fields.
 */
export type Fault =
  /**
   * Feeder meter: its supply is gone. The meter keeps reporting (its auxiliary supply is on
   * the switch room's UPS): all phases 0 V, no current, 0 Hz. Everything below it loses
   * power: dark, except battery-backed kinds (lift terminals, leak, level sensors, water
   * meters), and lifts stop where they are.
   */
  | { type: 'power_cut' }
  /** Electricity meter: these phases read 0 V (the others stay normal), here and in three-phase meters below; three-phase pumps below trip (alarm 2). */
  | { type: 'phase_loss'; phases: (1 | 2 | 3)[] }
  /** Sub-circuit meter: breaker tripped: voltage normal, current and power 0; what it feeds loses power. */
  | { type: 'breaker_trip' }
  /** Lift: stops where it is (between floors unless `level`), door closed, passengers inside (at least one unless `passengers` says), fault code 30. */
  | { type: 'lift_stuck'; level?: boolean; passengers?: number; alarmButton?: boolean }
  /** Pump: fault on, alarm code (51 unless given), no run feedback even when commanded. `afterPowerReturn`: runs normally until power returns after a cut, fails then. */
  | { type: 'pump_fail'; alarmCode?: number; afterPowerReturn?: boolean }
  /** Leak sensor: wet (reported at once, not on the next heartbeat). */
  | { type: 'leak' }
  /** Level sensor: water comes in at this rate (percentage points per minute) on top of the pump's drainage. */
  | { type: 'inflow'; pctPerMin: number }
  /** Water meter: this flow (m³/h) on top of normal use — a burst pipe, a tap left running in a vacant unit. */
  | { type: 'flow'; m3h: number }
  /** Boiler: burner fault (fault on, fault code 1 unless given, burner off, water cools ~0.7 °C/min). */
  | { type: 'boiler_fault'; faultCode?: number }
  /** Any device: stops talking (dead slave, flat battery, cut cable) while powered. */
  | { type: 'silent' }
  /** Any device: these fields are held at these values (anything the named faults do not cover). */
  | { type: 'hold'; fields: Fields };

export type FaultType = Fault['type'];

/** What a device shows at one moment: its fields, or nothing because it is dark. */
export type Observation =
  | { deviceId: string; ts: number; fields: Fields }
  /** Unpowered or silent: MQTT devices publish nothing, Modbus units do not answer. */
  | { deviceId: string; ts: number; dark: true; why: 'unpowered' | 'silent' };

/** The estate as scenarios, drills and transports see it. */
export interface EstateControl {
  /** Simulated epoch ms the estate has been advanced to. */
  now(): number;
  devices(): readonly SimDeviceInfo[];
  /** Sets a fault on a device (replacing one of the same type). Throws on an unknown device or a fault that does not fit its kind. */
  inject(deviceId: string, fault: Fault): void;
  /** Clears one fault type, or every fault of the device when `type` is absent. */
  clear(deviceId: string, type?: FaultType): void;
  /** Clears every fault on every device (drill stop). */
  clearAll(): void;
  faults(deviceId: string): readonly Fault[];
  /** Whether the device has power now (its feeder chain is intact). */
  powered(deviceId: string): boolean;
  /** The device's current fields as it would report them, or dark. */
  observe(deviceId: string): Observation;
  /**
   * A write from the gateway reached the device (a Modbus coil or register): `valve_open:
   * false` closes a water meter's valve and its flow stops. Throws for an unknown device or a
   * field its model does not act on.
   */
  command(deviceId: string, field: string, value: FieldValue): void;
  /**
   * Puts back what commands changed on the device (a valve closed during a drill opens
   * again), so a drill leaves the estate as it found it; returns what it put back.
   */
  release(deviceId: string): Fields;
}
