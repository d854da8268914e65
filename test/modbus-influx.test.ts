import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import type { FieldValue } from '../rules/model/reading.js';
import { startModbusServer, type ModbusServer } from '../simulators/modbus/server.js';
import { testSite, uniqueDb, waitFor } from './support/site.js';

// Every shipped register profile, end to end: known values in a simulated device on a real
// Modbus TCP server → the gateway's poller → the spool → rows in a real influxd equal to
// those values (floats to the profile's resolution).

const KNOWN: Record<string, { kind: string; values: Record<string, FieldValue> }> = {
  'eastron-sdm630': { kind: 'electricity_meter', values: { voltage_l1_v: 230.1, voltage_l2_v: 229.8, voltage_l3_v: 231.4, current_l1_a: 5.2, current_l2_a: 4.9, current_l3_a: 6.1, power_kw: 3.456, frequency_hz: 50.01, energy_import_kwh: 12345.6, energy_export_kwh: 0.5 } },
  'eastron-sdm120': { kind: 'electricity_meter', values: { voltage_l1_v: 221.7, current_l1_a: 3.3, power_kw: 0.73, frequency_hz: 49.98, energy_import_kwh: 812.25, energy_export_kwh: 0 } },
  'tuf-2000m': { kind: 'water_meter', values: { flow_m3h: 12.5, total_m3: 1234.25, error_code: 0 } },
  'grundfos-cim': { kind: 'pump', values: { running: true, fault: false, warning: true, alarm_code: 57, pressure_kpa: 345.6, flow_m3h: 12.3, current_a: 4.5 } },
  'generic-lift-terminal': { kind: 'lift', values: { floor: -1, direction: 'down', door: 'closed', in_door_zone: false, occupied: true, alarm_button: false, mode: 'normal', fault_code: 0 } },
  'generic-boiler': { kind: 'boiler', values: { supply_temp_c: 71.5, return_temp_c: 52.3, setpoint_c: 75, pressure_kpa: 180, burner_on: true, fault: false, fault_code: 0 } },
  'generic-water-meter': { kind: 'water_meter', values: { total_m3: 1234.567, flow_m3h: 1.25, reverse_total_m3: 0.5, leak: false, burst: true, reverse: false, dry: false, error_code: 3 } },
  'generic-sump-level': { kind: 'level_sensor', values: { level_pct: 42.5, high_float: true } },
  'generic-pump-controller': { kind: 'pump', values: { run_command: true, running: true, fault: false, pressure_kpa: 312.4, flow_m3h: 18.5, current_a: 7.2, alarm_code: 0 } },
};

const profiles = loadRegisterProfiles();
let server: ModbusServer;
let gw: RunningGateway;
const names = Object.keys(KNOWN);

beforeAll(async () => {
  server = await startModbusServer({ devices: names.map((name, i) => ({ unitId: i + 1, profile: profiles.get(name)!, values: KNOWN[name]!.values })) });
  const devices = names
    .map((name, i) => `  - { id: mb-${name}, kind: ${KNOWN[name]!.kind}, protocol: modbus, profile: ${name}, poll_interval_s: 0.5, place: { building: b1 }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: ${i + 1} } }`)
    .join('\n');
  const { config, baseDir } = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('modbus'), extra: devices });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await gw?.stop();
  await server?.close();
});

describe('every shipped Modbus profile round-trips into InfluxDB', () => {
  it('covers every profile file', () => {
    expect(names.sort()).toEqual([...profiles.keys()].sort());
  });

  for (const name of Object.keys(KNOWN)) {
    it(name, async () => {
      const { kind, values } = KNOWN[name]!;
      const from = Date.now() - 60_000;
      const row = await waitFor(async () => (await gw.store.driver.query({ measurement: kind, deviceId: `mb-${name}`, from, to: Date.now() + 1000, limit: 1 }))[0], `a ${name} row in InfluxDB`);
      for (const [field, value] of Object.entries(values)) {
        if (typeof value === 'number') expect(row.fields[field], field).toBeCloseTo(value, 2);
        else expect(row.fields[field], field).toBe(value);
      }
    });
  }
});
