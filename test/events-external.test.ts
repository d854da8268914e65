import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { busEventSchema } from '../rules/events/schema.js';
import { eventTopics } from '../rules/events/topics.js';
import { listen } from './support/bus.js';
import { MOSQUITTO, startMosquitto } from './support/mosquitto.js';
import { testSite, uniqueDb, waitFor } from './support/site.js';

// The same alarm messages on an external broker (Debian's mosquitto, as a head office's shared
// broker would be): the gateway publishes them over an MQTT connection of its own, clears a
// retained state left from before it started, and says offline when it stops.

if (!MOSQUITTO)
  console.warn('SKIPPED external events test: mosquitto is not installed (npm test installs it with apt; CI does too)');

const topics = eventTopics('testsite');

describe.skipIf(!MOSQUITTO)('alarms and incidents on an external broker (mosquitto)', () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let gw: RunningGateway | undefined;

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await gw?.stop();
    await broker?.stop();
  });

  it('publishes the leak alarm, clears a stale retained state, and says offline at its stop', async () => {
    // A state retained from an earlier run whose alarm is no longer open.
    const ghost = topics.alarm('water_leak:ghost:1');
    const old = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await old.publishAsync(ghost, JSON.stringify({ status: 'firing' }), { qos: 1, retain: true });
    await old.endAsync();

    const live = await listen(broker.url, [topics.events, topics.alarms, topics.status]);
    const { config, baseDir } = testSite({
      influxUrl: inject('influxUrl'),
      database: uniqueDb('events_ext'),
      env: { MQTT_URL: broker.url },
      extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0 } }\n',
    });
    gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
    await gw.adapter.waitReady();
    await waitFor(() => live.got.find((m) => m.topic === ghost && m.payload === ''), 'the stale state cleared');
    expect(await waitFor(() => live.json(topics.status).at(-1), 'online')).toMatchObject({ state: 'online' });

    const sensor = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await sensor.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: true, battery: 80 }), { qos: 1 });
    await sensor.endAsync();
    const firing = await waitFor(
      () =>
        live
          .json(topics.events)
          .map((e) => busEventSchema.parse(e))
          .find((e) => e.source === 'alarm' && e.change === 'firing'),
      'the firing event',
    );
    if (firing.source !== 'alarm') throw new Error('not an alarm event');
    const later = await listen(broker.url, [topics.alarms]);
    const retained = await waitFor(
      () => later.got.find((m) => m.topic === topics.alarm(firing.alarm.alarmId) && m.retain),
      'the retained alarm at the external broker',
    );
    expect(JSON.parse(retained.payload)).toMatchObject({ kind: 'water_leak', status: 'firing', site: 'testsite' });
    await later.client.endAsync();

    await gw.stop();
    gw = undefined;
    await waitFor(() => (live.json(topics.status).at(-1) as { state?: string }).state === 'offline', 'offline');
    await live.client.endAsync();
  });
});
