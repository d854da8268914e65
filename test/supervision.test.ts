import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 16: the gateway supervises what it starts. Its private influxd and its broker thread
// are each killed in the middle of a burst of QoS 1 readings: they come back by themselves
// (capped backoff, no person involved), every reading the device sent is stored, none twice,
// and an alarm raised meanwhile reaches the board.

const N = 3000;
let gw: RunningGateway;

beforeAll(async () => {
  // No storage.url: the gateway starts (and supervises) its own influxd.
  gw = await startGateway({
    ...testSite({ influxUrl: null, database: 'supervised' }),
    logger: pino({ level: 'silent' }),
  });
  await gw.adapter.waitReady();
}, 60_000);
afterAll(async () => gw?.stop());

async function stored(): Promise<number> {
  const res = await fetch(
    `${gw.store.url}/query?db=supervised&q=${encodeURIComponent("SELECT count(total_m3) FROM water_meter WHERE device = 'wm-101'")}`,
  );
  return (
    ((await res.json()) as { results: { series?: { values: [string, number][] }[] }[] }).results[0]?.series?.[0]
      ?.values[0]?.[1] ?? 0
  );
}

/** A burst of QoS 1 readings from wm-101 (a device that sends again what was not acknowledged); `during` runs halfway. */
async function burst(from: number, during: () => Promise<void>): Promise<void> {
  const device = await mqtt.connectAsync(gw.brokerUrl, {
    username: 'wm-101',
    password: DEVICE_PASSWORD,
    reconnectPeriod: 100,
  });
  try {
    const t0 = systemClock.now() - 10 * N * 1000;
    const sent: Promise<unknown>[] = [];
    for (let i = from; i < from + N; i++) {
      sent.push(
        device.publishAsync(
          'dutyroom/testsite/wm-101/reading',
          JSON.stringify({ ts: t0 + i * 1000, total_m3: 1000 + i / 1000, flow_m3h: 0.06 }),
          { qos: 1 },
        ),
      );
      if (i === from + N / 2) await during();
    }
    await Promise.all(sent);
  } finally {
    await device.endAsync();
  }
}

async function leakAlarm(wet: boolean): Promise<void> {
  const bridge = await mqtt.connectAsync(gw.brokerUrl, {
    username: 'zigbee2mqtt',
    password: BRIDGE_PASSWORD,
    reconnectPeriod: 100,
  });
  await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: wet }), { qos: 1 });
  await bridge.endAsync();
}

describe('supervised parts (issue 16)', () => {
  it('the private influxd SIGKILLed mid-burst is restarted; every reading stored once; alarms keep flowing', async () => {
    const influxd = gw.store.influxd!;
    const pid = influxd.pid!;
    await burst(0, async () => {
      process.kill(pid, 'SIGKILL');
      // The rules do not wait for the database.
      await leakAlarm(true);
    });
    await waitFor(
      () =>
        gw.alarms.list().some((a) => a.kind === 'water_leak' && a.deviceId === 'leak-1' && a.status === 'firing') ||
        null,
      'the leak alarm while the database was down',
      20_000,
    );
    await waitFor(() => (influxd.restarts >= 1 && !influxd.down) || null, 'influxd restarted', 60_000);
    expect(influxd.pid).not.toBe(pid);
    expect(gw.store.healthSources.find((h) => h.component === 'influxd')!.health()).toMatchObject({
      status: 'ok',
      restarts: 1,
      lastExit: expect.stringContaining('killed by SIGKILL'),
    });
    expect(
      await waitFor(async () => ((await stored()) >= N ? stored() : null), 'every reading in InfluxDB', 60_000),
    ).toBe(N);
    expect((await gw.metrics.restarts.get()).values).toContainEqual(
      expect.objectContaining({ labels: { component: 'influxd', outcome: 'ok' }, value: 1 }),
    );
  }, 180_000);

  it('the broker thread killed mid-burst is restarted on its port; every reading stored once; alarms keep flowing', async () => {
    const broker = gw.broker!;
    const port = broker.ports.mqtt;
    await burst(N, async () => void (await broker.crash()));
    await waitFor(
      () => (broker.restarts >= 1 && broker.health().status === 'ok') || null,
      'the broker thread running again',
      30_000,
    );
    expect(broker.ports.mqtt).toBe(port);
    expect(
      await waitFor(
        async () => ((await stored()) >= 2 * N ? stored() : null),
        'every reading of both bursts in InfluxDB',
        60_000,
      ),
    ).toBe(2 * N);
    // Alarms flow through the restarted broker.
    await leakAlarm(false);
    await waitFor(
      () =>
        gw.alarms
          .list()
          .some((a) => a.kind === 'water_leak' && a.deviceId === 'leak-1' && a.clearingSince !== undefined) || null,
      'the dry reading through the new broker thread',
      20_000,
    );
    expect((await gw.metrics.restarts.get()).values).toContainEqual(
      expect.objectContaining({ labels: { component: 'broker', outcome: 'ok' }, value: 1 }),
    );
  }, 180_000);
});
