import { systemClock } from '../gateway/ports/clock.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import type { DeviceStatus } from '../gateway/registry.js';
import type { ModbusDeviceStats } from '../gateway/adapters/modbus/adapter.js';
import { loadRegisterProfiles, type RegisterField } from '../gateway/profiles/profile.js';
import { freePort } from '../gateway/store/influxd.js';
import type { FieldValue } from '../rules/model/reading.js';
import { startModbusServer, type ModbusServer } from '../simulators/modbus/server.js';
import { BRIDGE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';

// Every shipped register profile, end to end: known values in a simulated device on a real
// Modbus TCP server (one server, one unit id per profile, as behind a converter) → the
// gateway's poller → the spool → rows in a real influxd equal to those values, floats to the
// profile's resolution. Next to them, two devices that never answer: a unit id nobody
// serves on the same converter, and a converter that is switched off; their state must show
// in the devices API, /metrics and /health.

const KNOWN: Record<string, { kind: string; values: Record<string, FieldValue> }> = {
  'eastron-sdm630': {
    kind: 'electricity_meter',
    values: {
      voltage_l1_v: 230.1,
      voltage_l2_v: 229.8,
      voltage_l3_v: 231.4,
      current_l1_a: 5.2,
      current_l2_a: 4.9,
      current_l3_a: 6.1,
      power_kw: 3.456,
      frequency_hz: 50.01,
      energy_import_kwh: 12345.6,
      energy_export_kwh: 0.5,
    },
  },
  'eastron-sdm120': {
    kind: 'electricity_meter',
    values: {
      voltage_l1_v: 221.7,
      current_l1_a: 3.3,
      power_kw: 0.73,
      frequency_hz: 49.98,
      energy_import_kwh: 812.25,
      energy_export_kwh: 0,
    },
  },
  'tuf-2000m': { kind: 'water_meter', values: { flow_m3h: 12.5, total_m3: 1234.25, error_code: 0 } },
  'grundfos-cim': {
    kind: 'pump',
    values: {
      run_command: true,
      running: true,
      fault: false,
      warning: true,
      alarm_code: 57,
      pressure_kpa: 345.6,
      flow_m3h: 12.3,
      current_a: 4.5,
    },
  },
  'generic-lift-terminal': {
    kind: 'lift',
    values: {
      floor: -1,
      direction: 'down',
      door: 'closed',
      in_door_zone: false,
      occupied: true,
      alarm_button: false,
      mode: 'normal',
      fault_code: 0,
    },
  },
  'generic-boiler': {
    kind: 'boiler',
    values: {
      supply_temp_c: 71.5,
      return_temp_c: 52.3,
      setpoint_c: 75,
      pressure_kpa: 180,
      burner_on: true,
      fault: false,
      fault_code: 0,
    },
  },
  'generic-water-meter': {
    kind: 'water_meter',
    values: {
      total_m3: 1234.567,
      flow_m3h: 1.25,
      reverse_total_m3: 0.5,
      leak: false,
      burst: true,
      reverse: false,
      dry: false,
      valve_open: true,
      error_code: 3,
    },
  },
  'generic-sump-level': { kind: 'level_sensor', values: { level_pct: 42.5, high_float: true } },
  'generic-pump-controller': {
    kind: 'pump',
    values: {
      run_command: true,
      running: true,
      fault: false,
      pressure_kpa: 312.4,
      flow_m3h: 18.5,
      current_a: 7.2,
      alarm_code: 0,
    },
  },
};

/** How far a stored number may be from the value put in: half a raw step, or the float's own precision. */
function resolution(field: RegisterField, value: number): number {
  const float = (type: string) => (type === 'float32' ? 2 ** -23 : type === 'float64' ? 2 ** -52 : 0);
  const relative = Math.max(float(field.type), field.add ? float(field.add.type) : 0) * Math.abs(value);
  const step = field.type.startsWith('float') ? 0 : Math.abs(field.scale) / 2;
  // Decimal values put through binary scaling (× 0.1) are off by a few ulps of a double.
  return Math.max(step, relative) + 1e-9 * Math.max(1, Math.abs(value));
}

const profiles = loadRegisterProfiles();
const names = Object.keys(KNOWN);
const GHOST_UNIT = 200;
let server: ModbusServer;
let gonePort: number;
let gw: RunningGateway;

beforeAll(async () => {
  server = await startModbusServer({
    devices: names.map((name, i) => ({ unitId: i + 1, profile: profiles.get(name)!, values: KNOWN[name]!.values })),
  });
  gonePort = await freePort();
  const entry = (id: string, kind: string, profile: string, port: number, unit: number, timeoutMs = 1000) =>
    `  - { id: ${id}, kind: ${kind}, protocol: modbus, profile: ${profile}, poll_interval_s: 0.5, place: { building: b1 }, connection: { host: 127.0.0.1, port: ${port}, unit_id: ${unit}, timeout_ms: ${timeoutMs} } }`;
  const devices = [
    ...names.map((name, i) => entry(`mb-${name}`, KNOWN[name]!.kind, name, server.port, i + 1)),
    entry('mb-ghost', 'electricity_meter', 'eastron-sdm630', server.port, GHOST_UNIT, 200),
    entry('mb-gone', 'electricity_meter', 'eastron-sdm630', gonePort, 1),
  ].join('\n');
  const { config, baseDir } = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb('modbus'),
    extra: devices,
  });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await gw?.stop();
  await server?.close();
});

describe('every shipped Modbus profile round-trips into InfluxDB', () => {
  it('covers every profile file, and every field of each', () => {
    expect([...names].sort()).toEqual([...profiles.keys()].sort());
    for (const name of names)
      expect(Object.keys(KNOWN[name]!.values).sort(), name).toEqual(Object.keys(profiles.get(name)!.fields).sort());
  });

  for (const name of names) {
    it(name, async () => {
      const { kind, values } = KNOWN[name]!;
      const profile = profiles.get(name)!;
      const from = systemClock.now() - 60_000;
      const row = await waitFor(
        async () =>
          (
            await gw.store.driver.query({
              measurement: kind,
              deviceId: `mb-${name}`,
              from,
              to: systemClock.now() + 1000,
              limit: 1,
            })
          )[0],
        `a ${name} row in InfluxDB`,
      );
      for (const [field, value] of Object.entries(values)) {
        if (typeof value === 'number') {
          expect(row.fields[field], field).toEqual(expect.any(Number));
          expect(
            Math.abs((row.fields[field] as number) - value),
            `${field}: stored ${row.fields[field]}, put in ${value}`,
          ).toBeLessThanOrEqual(resolution(profile.fields[field]!, value));
        } else {
          expect(row.fields[field], field).toBe(value);
        }
      }
      // Every request answered and every field decoded: a good reading, which carries no quality field.
      expect(row.fields.quality).toBeNull();
    });
  }
});

describe('devices that do not answer, next to the healthy ones', () => {
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${gw.httpUrl}${path}`, { headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  type Listed = DeviceStatus & { poll?: ModbusDeviceStats };
  const listed = async (id: string) =>
    (await api<{ devices: Listed[] }>('/api/devices')).devices.find((d) => d.id === id)!;

  it('the devices API shows each one offline with its timeouts or errors, and the healthy ones online', async () => {
    const ghost = await waitFor(async () => {
      const d = await listed('mb-ghost');
      return d.poll && d.poll.timeouts >= 2 ? d : undefined;
    }, 'two timeouts of the ghost unit');
    expect(ghost.poll).toMatchObject({
      online: false,
      errors: 0,
      lastOkAt: null,
      endpoint: `tcp://127.0.0.1:${server.port}`,
      lastError: expect.stringContaining(`no answer from unit ${GHOST_UNIT} within 200 ms`),
    });
    expect(ghost.poll!.consecutiveFailures).toBeGreaterThanOrEqual(2);

    const gone = await waitFor(async () => {
      const d = await listed('mb-gone');
      return d.poll && d.poll.errors >= 2 ? d : undefined;
    }, 'two connection errors of the switched-off converter');
    expect(gone.poll).toMatchObject({
      online: false,
      timeouts: 0,
      lastOkAt: null,
      endpoint: `tcp://127.0.0.1:${gonePort}`,
      lastError: expect.stringContaining('ECONNREFUSED'),
    });

    const healthy = await listed('mb-eastron-sdm630');
    expect(healthy.poll).toMatchObject({
      online: true,
      errors: 0,
      timeouts: 0,
      consecutiveFailures: 0,
      backoffUntil: null,
    });
    expect(healthy.poll!.lastOkAt).toBeGreaterThan(0);
    // One device's own view carries the same.
    expect((await api<Listed>('/api/devices/mb-ghost')).poll).toMatchObject({ online: false, errors: 0 });
  });

  it('/metrics has a per-device online gauge and error counters by failure', async () => {
    const text = await waitFor(async () => {
      const t = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      return /dutyroom_modbus_device_errors_total\{device="mb-gone",failure="connection"\} [1-9]/.test(t) &&
        /device="mb-ghost",failure="timeout"\} [1-9]/.test(t)
        ? t
        : undefined;
    }, 'error counters of both dead devices');
    const sample = (name: string, labels: string) =>
      Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(sample('dutyroom_modbus_device_online', 'device="mb-ghost"')).toBe(0);
    expect(sample('dutyroom_modbus_device_online', 'device="mb-gone"')).toBe(0);
    for (const name of names) expect(sample('dutyroom_modbus_device_online', `device="mb-${name}"`), name).toBe(1);
    expect(sample('dutyroom_modbus_device_errors_total', 'device="mb-ghost",failure="timeout"')).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sample('dutyroom_modbus_device_errors_total', 'device="mb-gone",failure="connection"'),
    ).toBeGreaterThanOrEqual(1);
    // A healthy device has no error series at all: nothing failed.
    expect(text).not.toMatch(/dutyroom_modbus_device_errors_total\{device="mb-eastron-sdm630"/);
  });

  it('/health names the offline devices and says the Modbus side is degraded, not down', async () => {
    const res = await fetch(`${gw.httpUrl}/health`);
    const body = (await res.json()) as {
      status: string;
      components: Record<
        string,
        { status: string; detail?: string; offline?: string[]; devices?: Record<string, number> }
      >;
    };
    const modbus = body.components.modbus!;
    expect(modbus).toMatchObject({
      status: 'degraded',
      offline: ['mb-ghost', 'mb-gone'],
      devices: { configured: names.length + 2, online: names.length, offline: 2 },
    });
    expect(modbus.detail).toContain(`2 of ${names.length + 2} Modbus device(s) not answering: mb-ghost, mb-gone`);
    expect(modbus.detail).toContain(`no device answers on tcp://127.0.0.1:${gonePort}`);
    expect(body.status).not.toBe('down');
    expect(res.status).toBe(503);
  });
});
