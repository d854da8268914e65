import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// MQTT client → embedded aedes → gateway (validation, spool) → a real influxd.

let gw: RunningGateway;
const clients: MqttClient[] = [];
const silent = pino({ level: 'silent' });

async function device(username: string, password = DEVICE_PASSWORD): Promise<MqttClient> {
  const c = await mqtt.connectAsync(gw.brokerUrl, { username, password, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

async function rejected(reason: string): Promise<number> {
  const m = await gw.metrics.readingsRejected.get();
  return m.values
    .filter((v) => v.labels.reason === reason && v.labels.protocol === 'mqtt')
    .reduce((s, v) => s + v.value, 0);
}

beforeAll(async () => {
  const { config, baseDir } = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('embedded') });
  gw = await startGateway({ config, baseDir, logger: silent });
  await gw.adapter.waitReady();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync()));
  await gw?.stop();
});

describe('MQTT ingest through the embedded broker into InfluxDB', () => {
  it('stores canonical readings with their place tags and fixed field types', async () => {
    const meter = await device('wm-101');
    const base = systemClock.now() - 60_000;
    for (let i = 0; i < 20; i++) {
      await meter.publishAsync(
        'dutyroom/testsite/wm-101/reading',
        JSON.stringify({ ts: base + i * 1000, total_m3: 100 + i / 10, flow_m3h: 0.5 }),
        { qos: 1 },
      );
    }
    const rows = await waitFor(async () => {
      const r = await gw.store.driver.query({
        measurement: 'water_meter',
        deviceId: 'wm-101',
        from: base - 1,
        to: base + 60_000,
        limit: 100,
      });
      return r.length === 20 ? r : null;
    }, '20 water-meter rows in InfluxDB');
    expect(Date.parse(rows[0]!.time)).toBe(base);
    expect(rows.map((r) => r.fields.total_m3)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i / 10));
  });

  it('stores a lift state with integer, enum and boolean fields intact', async () => {
    const lift = await device('lift-a');
    await lift.publishAsync(
      'dutyroom/testsite/lift-a/reading',
      JSON.stringify({
        floor: 7,
        direction: 'up',
        in_door_zone: false,
        door: 'closed',
        occupied: true,
        alarm_button: false,
        mode: 'normal',
      }),
      { qos: 1 },
    );
    const rows = await waitFor(async () => {
      const r = await gw.store.driver.query({
        measurement: 'lift',
        deviceId: 'lift-a',
        from: systemClock.now() - 60_000,
        to: systemClock.now() + 1000,
        limit: 10,
      });
      return r.length ? r : null;
    }, 'the lift row');
    expect(rows[0]!.fields).toMatchObject({
      floor: 7,
      direction: 'up',
      in_door_zone: false,
      door: 'closed',
      occupied: true,
      mode: 'normal',
    });
  });

  it('maps zigbee2mqtt payloads published by the bridge account', async () => {
    const bridge = await device('zigbee2mqtt', BRIDGE_PASSWORD);
    await bridge.publishAsync(
      'zigbee2mqtt/leak-1',
      JSON.stringify({ water_leak: true, battery: 88, linkquality: 120 }),
      { qos: 1 },
    );
    const status = await waitFor(() => gw.registry.get('leak-1')?.lastReading, 'leak-1 live state');
    expect(status.fields).toEqual({ wet: true, battery_pct: 88 });
  });

  it('refuses every kind of bad payload, counts it by reason, and keeps going', async () => {
    const meter = await device('wm-102');
    const topic = 'dutyroom/testsite/wm-102/reading';
    const bad: [string, string][] = [
      ['not_json', 'flow=1'],
      ['bad_shape', '"hello"'],
      ['bad_type', '{"total_m3":"12"}'],
      ['unknown_field', '{"total_m3":1,"colour":"red"}'],
      ['out_of_range', '{"total_m3":-5}'],
      ['bad_timestamp', '{"ts":"2099-01-01T00:00:00Z","total_m3":1}'],
      ['no_fields', '{}'],
    ];
    const before = Object.fromEntries(
      await Promise.all([...bad.map(([r]) => r), 'unknown_device'].map(async (r) => [r, await rejected(r)] as const)),
    );
    for (const [, payload] of bad) await meter.publishAsync(topic, payload, { qos: 1 });
    // A bridge for NB-IoT meters may publish for any device of the site, including one not configured.
    const bridge = await device('nbiot-bridge', BRIDGE_PASSWORD);
    await bridge.publishAsync('dutyroom/testsite/ghost-meter/reading', '{"total_m3":1}', { qos: 1 });
    await meter.publishAsync(topic, JSON.stringify({ total_m3: 42.5 }), { qos: 1 });
    await waitFor(
      () => gw.registry.get('wm-102')?.lastReading?.fields.total_m3 === 42.5,
      'the good reading after the bad ones',
    );
    for (const reason of [...bad.map(([r]) => r), 'unknown_device'])
      expect(await rejected(reason), reason).toBe(before[reason]! + 1);
    expect(gw.adapter.health().status).toBe('ok');
  });

  it('shows devices online with their last values in /api/devices', async () => {
    expect((await fetch(`${gw.httpUrl}/api/devices`)).status).toBe(401);
    const res = await fetch(`${gw.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` } });
    expect(res.status).toBe(200);
    const { devices } = (await res.json()) as {
      devices: {
        id: string;
        online: boolean;
        place: unknown;
        lastReading: { fields: Record<string, unknown> } | null;
      }[];
    };
    const wm = devices.find((d) => d.id === 'wm-101')!;
    expect(wm).toMatchObject({ online: true, place: { building: 'b1', floor: '1', unit: 'u101' } });
    expect(wm.lastReading!.fields.total_m3).toBe(101.9);
    expect(devices.find((d) => d.id === 'lift-a')!.lastReading!.fields).toMatchObject({ floor: 7, door: 'closed' });
  });

  it('answers a device history from InfluxDB through the API', async () => {
    const from = new Date(systemClock.now() - 3_600_000).toISOString();
    const res = await fetch(`${gw.httpUrl}/api/devices/wm-101/readings?from=${from}&fields=total_m3`, {
      headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: { fields: Record<string, unknown> }[] };
    expect(body.rows.length).toBe(20);
    expect(body.rows.at(-1)!.fields).toEqual({ total_m3: 101.9 });
  });

  it('answers a QoS 1 publish (PUBACK) only once its reading is accepted: fsynced in the spool', async () => {
    const meter = await device('wm-101');
    const accepted = async () => (await gw.metrics.readingsAccepted.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 5; i++) {
      const before = await accepted();
      await meter.publishAsync(
        'dutyroom/testsite/wm-101/reading',
        JSON.stringify({ ts: systemClock.now() - 120_000 + i, total_m3: 50 + i }),
        { qos: 1 },
      );
      // No waiting: the acknowledgement itself says the reading is in the spool.
      expect(await accepted()).toBe(before + 1);
    }
    expect(gw.adapter.health()).toMatchObject({ status: 'ok', broker: 'embedded (in-process)' });
  });
});

describe('every refusal of the embedded broker shows in /metrics (issue 16)', () => {
  it('an oversized payload counts as a refused mqtt reading; a wrong password as a refused login', async () => {
    const before = await rejected('oversized');
    // Its connection is cut (MQTT 3.1.1 cannot refuse one PUBLISH): not one of the clients ended politely after the tests.
    const meter = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'wm-102',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((r) => meter.once('close', () => r()));
    meter.publish('dutyroom/testsite/wm-102/reading', JSON.stringify({ total_m3: 1, pad: 'x'.repeat(70 * 1024) }), {
      qos: 1,
    });
    await closed;
    await meter.endAsync(true);
    await expect(
      mqtt.connectAsync(gw.brokerUrl, { username: 'wm-101', password: 'wrong', reconnectPeriod: 0 }),
    ).rejects.toThrow();
    // The broker thread reports its counts a moment later; a scrape brings them in.
    const text = await waitFor(async () => {
      const t = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      return /dutyroom_mqtt_refused_total\{reason="login_refused"\} [1-9]/.test(t) &&
        /dutyroom_mqtt_refused_total\{reason="publish_refused"\} [1-9]/.test(t)
        ? t
        : null;
    }, 'the refusals in /metrics');
    expect(text).toMatch(/dutyroom_readings_rejected_total\{protocol="mqtt",reason="oversized"\} [1-9]/);
    expect(await rejected('oversized')).toBeGreaterThan(before);
  });
});
