import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runDemo, DEMO_LOGINS } from '../gateway/demo.js';
import { DEFAULT_CONFIG } from '../gateway/site.js';
import { waitFor } from './support/site.js';

// What a newcomer sees after `npm run demo`: every device of the demo estate, MQTT and
// Modbus, online in /api/devices with values, and the readings in InfluxDB. Same code as
// the CLI; only the ports (any free one) and the database (the test run's influxd) differ.

type DeviceJson = { id: string; protocol: string; online: boolean; lastReading: { fields: Record<string, unknown> } | null; poll?: { lastOkAt: number | null } };

let demo: Awaited<ReturnType<typeof runDemo>>;
const auth = { authorization: `Bearer ${DEMO_LOGINS.apiToken}` };

beforeAll(async () => {
  const influx = inject('influxUrl');
  // Default demo ports would clash with a demo already running on this machine.
  demo = await runDemo({
    file: DEFAULT_CONFIG,
    speed: 5,
    env: {
      DUTYROOM_DATA_DIR: mkdtempSync(join(tmpdir(), 'dutyroom-demo-')),
      DUTYROOM_HTTP_PORT: '0',
      DUTYROOM_MQTT_PORT: '0',
      DUTYROOM_WS_PORT: '0',
      INFLUX_URL: influx,
    },
  });
}, 60_000);

afterAll(async () => demo?.stop());

describe('npm run demo', () => {
  it('brings every device of the demo estate online with values, Modbus ones through the simulated converters', async () => {
    const devices = await waitFor(async () => {
      const res = await fetch(`${demo.gateway.httpUrl}/api/devices`, { headers: auth });
      const body = (await res.json()) as { devices: DeviceJson[] };
      return body.devices.every((d) => d.online) ? body.devices : null;
    }, 'every demo device online', 30_000);
    expect(devices.length).toBe(demo.gateway.config.devices.length);
    const modbus = devices.filter((d) => d.protocol === 'modbus');
    expect(modbus.length).toBeGreaterThanOrEqual(8);
    for (const d of modbus) expect(d.poll?.lastOkAt, d.id).toBeGreaterThan(0);
    const incomer = devices.find((d) => d.id === 't1-incomer')!;
    // A three-phase SDM630 on a 220 V supply: every phase near nominal.
    for (const phase of ['voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v']) {
      expect(Number(incomer.lastReading!.fields[phase]), phase).toBeGreaterThan(210);
      expect(Number(incomer.lastReading!.fields[phase]), phase).toBeLessThan(230);
    }
    expect(devices.find((d) => d.id === 't1-water-main')!.lastReading!.fields.total_m3).toEqual(expect.any(Number));
    expect(demo.gateway.modbus.health().status).toBe('ok');
  });

  it('stores the readings of both protocols in InfluxDB', async () => {
    const { driver } = demo.gateway.store;
    const now = Date.now();
    for (const [measurement, deviceId] of [
      ['pump', 't1-booster-pump'],
      ['lift', 't1-lift-a'],
    ] as const) {
      const rows = await waitFor(async () => {
        const r = await driver.query({ measurement, deviceId, from: now - 600_000, to: now + 60_000, limit: 5 });
        return r.length ? r : null;
      }, `${deviceId} rows in InfluxDB`);
      expect(Object.keys(rows[0]!.fields).length).toBeGreaterThan(2);
    }
  });
});
