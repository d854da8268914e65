// Test support (not a test file): a stand-in for the simulated estate that records what the
// scenario runner and the drill controller do to it, with a handful of devices shaped like the
// demo site's. It refuses what the real estate refuses (unknown devices, faults that do not fit).
import type { FieldValue } from '../../rules/model/reading.js';
import type { EstateControl, Fault, FaultType, Fields, Observation, SimDeviceInfo } from '../estate/types.js';
import { FAULT_FITS } from './schema.js';

const dev = (d: Partial<SimDeviceInfo> & Pick<SimDeviceInfo, 'id' | 'kind'>): SimDeviceInfo => ({
  building: 't1',
  floors: { lowest: -2, highest: 18 },
  vacant: false,
  nominalVoltage: 220,
  phases: 3,
  intervalS: 5,
  batteryBacked: false,
  ...d,
});

export const FAKE_DEVICES: SimDeviceInfo[] = [
  dev({ id: 't1-incomer', kind: 'electricity_meter', circuit: 'incomer' }),
  dev({ id: 't1-lift-circuit', kind: 'electricity_meter', circuit: 'sub_circuit', feeder: 't1-incomer' }),
  dev({ id: 't1-pump-circuit', kind: 'electricity_meter', circuit: 'sub_circuit', feeder: 't1-incomer' }),
  dev({ id: 't1-lift-a', kind: 'lift', feeder: 't1-lift-circuit', batteryBacked: true }),
  dev({ id: 't1-lift-b', kind: 'lift', feeder: 't1-lift-circuit', batteryBacked: true }),
  dev({ id: 't1-booster-pump', kind: 'pump', role: 'secondary_water', feeder: 't1-pump-circuit' }),
  dev({ id: 't1-sump-pump', kind: 'pump', role: 'sump', feeder: 't1-pump-circuit' }),
  dev({ id: 't1-sump-level', kind: 'level_sensor', drainPump: 't1-sump-pump', intervalS: 10, batteryBacked: true }),
  dev({ id: 't1-leak-sump', kind: 'leak_sensor', intervalS: 60, batteryBacked: true }),
  dev({ id: 't1-wm-0701', kind: 'water_meter', unit: 't1-0701', intervalS: 30, batteryBacked: true }),
  dev({ id: 't1-wm-0702', kind: 'water_meter', unit: 't1-0702', vacant: true, intervalS: 30, batteryBacked: true }),
  dev({
    id: 't2-em-0201',
    kind: 'electricity_meter',
    building: 't2',
    circuit: 'sub_circuit',
    phases: 1,
    intervalS: 30,
  }),
];

export type EstateCall = { at: number } & (
  | { op: 'inject'; device: string; fault: Fault }
  | { op: 'clear'; device: string; type?: FaultType }
  | { op: 'clearAll' }
  | { op: 'command'; device: string; field: string; value: FieldValue }
  | { op: 'release'; device: string; fields: Fields }
);

export class FakeEstate implements EstateControl {
  readonly calls: EstateCall[] = [];
  private readonly set = new Map<string, Map<FaultType, Fault>>();
  /** Fields commands changed, with the value before the first command (water meters' valves start open). */
  private readonly commanded = new Map<string, Map<string, FieldValue>>();
  constructor(
    public ms = Date.parse('2026-11-22T10:00:00+08:00'),
    private readonly list: readonly SimDeviceInfo[] = FAKE_DEVICES,
  ) {}

  now(): number {
    return this.ms;
  }
  devices(): readonly SimDeviceInfo[] {
    return this.list;
  }
  private device(id: string): SimDeviceInfo {
    const d = this.list.find((x) => x.id === id);
    if (!d) throw new Error(`estate: no device "${id}"`);
    return d;
  }
  inject(deviceId: string, fault: Fault): void {
    const d = this.device(deviceId);
    const fits = FAULT_FITS[fault.type];
    if (fits !== 'any' && !fits.includes(d.kind))
      throw new Error(`estate: ${deviceId} is a ${d.kind}; a ${fault.type} fault does not fit it`);
    this.calls.push({ at: this.ms, op: 'inject', device: deviceId, fault });
    const m = this.set.get(deviceId) ?? new Map<FaultType, Fault>();
    m.set(fault.type, fault);
    this.set.set(deviceId, m);
  }
  clear(deviceId: string, type?: FaultType): void {
    this.device(deviceId);
    this.calls.push({ at: this.ms, op: 'clear', device: deviceId, ...(type ? { type } : {}) });
    if (type === undefined) this.set.delete(deviceId);
    else this.set.get(deviceId)?.delete(type);
  }
  clearAll(): void {
    this.calls.push({ at: this.ms, op: 'clearAll' });
    this.set.clear();
  }
  faults(deviceId: string): readonly Fault[] {
    this.device(deviceId);
    return [...(this.set.get(deviceId)?.values() ?? [])];
  }
  /** Every fault set now, as `device:type`. */
  active(): string[] {
    return [...this.set].flatMap(([id, m]) => [...m.keys()].map((t) => `${id}:${t}`)).sort();
  }
  powered(deviceId: string): boolean {
    this.device(deviceId);
    return true;
  }
  observe(deviceId: string): Observation {
    this.device(deviceId);
    return { deviceId, ts: this.ms, fields: {} };
  }
  command(deviceId: string, field: string, value: FieldValue): void {
    const d = this.device(deviceId);
    if (d.kind !== 'water_meter' || field !== 'valve_open' || typeof value !== 'boolean')
      throw new Error(`estate: ${deviceId} takes no command ${field}`);
    this.calls.push({ at: this.ms, op: 'command', device: deviceId, field, value });
    const m = this.commanded.get(deviceId) ?? new Map<string, FieldValue>();
    if (!m.has(field)) m.set(field, true);
    this.commanded.set(deviceId, m);
  }
  release(deviceId: string): Fields {
    this.device(deviceId);
    const m = this.commanded.get(deviceId);
    if (!m) return {};
    this.commanded.delete(deviceId);
    const fields: Fields = Object.fromEntries(m);
    this.calls.push({ at: this.ms, op: 'release', device: deviceId, fields });
    return fields;
  }
}

/** A small valid scenario on the fake devices; `over` replaces top-level keys (YAML text). */
export const SMALL_SCENARIO = `name: small-outage
title: { zh: 小停电, en: Small outage }
description: { zh: 测试用, en: For tests }
site: huayuan
duration: "10:00"
steps:
  - at: 0
    note: { zh: 开始, en: Start }
  - id: cut
    at: "01:00"
    inject: { device: t1-incomer, fault: { type: power_cut } }
  - at: "01:00"
    inject: { device: t1-lift-a, fault: { type: lift_stuck, passengers: 2, alarm_button: true } }
  - id: restore
    at: "05:30"
    clear: { device: t1-incomer, type: power_cut }
expects:
  alarms:
    - { kind: power_cut_external, device: t1-incomer, within: 30 }
    - { kind: lift_entrapment, device: t1-lift-a, after: cut, within: "01:00" }
    - { kind: device_offline, device: t1-booster-pump, after: cut, within: 60, inhibited: true }
  playbooks: [power_cut, trapped_lift]
  readings:
    - { device: t1-incomer, field: voltage_l1_v, above: 200, after: restore, within: 30 }
`;
