import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { MOSQUITTO, startMosquitto } from './support/mosquitto.js';
import { testSite, uniqueDb, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// The same MQTT adapter against an external broker (Debian's mosquitto), chosen by MQTT_URL.
if (!MOSQUITTO)
  console.warn('SKIPPED external-broker test: mosquitto is not installed (npm test installs it with apt; CI does too)');

describe.skipIf(!MOSQUITTO)('MQTT ingest through an external broker (mosquitto)', () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let gw: RunningGateway;

  beforeAll(async () => {
    broker = await startMosquitto();
    const { config, baseDir } = testSite({
      influxUrl: inject('influxUrl'),
      database: uniqueDb('external'),
      env: { MQTT_URL: broker.url },
    });
    expect(config.broker.embedded).toBe(false);
    gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
    await gw.adapter.waitReady();
  });

  afterAll(async () => {
    await gw?.stop();
    await broker?.stop();
  });

  it('uses no embedded broker and stores canonical and zigbee2mqtt readings', async () => {
    expect(gw.broker).toBeUndefined();
    expect(gw.brokerUrl).toBe(broker.url);
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const ts = systemClock.now() - 5_000;
    await client.publishAsync('dutyroom/testsite/wm-101/reading', JSON.stringify({ ts, total_m3: 7.25 }), { qos: 1 });
    await client.publishAsync(
      'zigbee2mqtt/leak-1',
      JSON.stringify({ water_leak: false, battery: 77, last_seen: new Date(ts).toISOString() }),
      { qos: 1 },
    );
    // mosquitto passes anything up to 256 MB: the adapter enforces the payload limit itself.
    await client.publishAsync(
      'dutyroom/testsite/wm-101/reading',
      JSON.stringify({ total_m3: 1, pad: 'x'.repeat(70_000) }),
      { qos: 1 },
    );
    await client.endAsync();
    await waitFor(
      async () =>
        (await gw.metrics.readingsRejected.get()).values.some((v) => v.labels.reason === 'oversized' && v.value === 1),
      'oversized payload counted',
    );
    const meter = await waitFor(
      async () =>
        (
          await gw.store.driver.query({
            measurement: 'water_meter',
            deviceId: 'wm-101',
            from: ts - 1,
            to: ts + 1,
            limit: 5,
          })
        )[0],
      'meter row',
    );
    expect(meter.fields.total_m3).toBe(7.25);
    const leak = await waitFor(
      async () =>
        (
          await gw.store.driver.query({
            measurement: 'leak_sensor',
            deviceId: 'leak-1',
            from: ts - 1,
            to: ts + 1,
            limit: 5,
          })
        )[0],
      'leak row',
    );
    expect(leak.fields).toMatchObject({ wet: false, battery_pct: 77 });
  });
});
