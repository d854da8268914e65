import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { alarmStateSchema, busEventSchema, incidentStateSchema, type BusEvent } from '../rules/events/schema.js';
import { eventTopics } from '../rules/events/topics.js';
import { listen } from './support/bus.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';

// Alarms and incidents on the embedded broker (issue 21): a zigbee2mqtt leak payload raises a
// water_leak alarm and opens an incident; a read-only login sees the event stream and the
// retained states; closing the alarm clears its retained message; devices and bridges cannot
// publish on the gateway's topics. The leak's wet and dry times are 0 here, so nothing waits
// on the rules' durations (those are tested in rules/).

const topics = eventTopics('testsite');
let gw: RunningGateway;

beforeAll(async () => {
  const { config, baseDir } = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb('events'),
    extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0, leak_dry_s: 0 } }\n',
  });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
});
afterAll(async () => gw?.stop());

const screen = { username: 'screen', password: BRIDGE_PASSWORD };

describe('alarms and incidents on the embedded broker', () => {
  it('a read-only login sees the events, the retained states, and the clearing of a closed alarm', async () => {
    const live = await listen(gw.brokerUrl, [topics.events, topics.alarms], screen);
    const bridge = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'zigbee2mqtt',
      password: BRIDGE_PASSWORD,
      reconnectPeriod: 0,
    });
    await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: true, battery: 90 }), { qos: 1 });
    const events = () => live.json(topics.events).map((e) => busEventSchema.parse(e));
    const firing = await waitFor(
      () => events().find((e) => e.source === 'alarm' && e.change === 'firing' && e.alarm.kind === 'water_leak'),
      'the firing event',
    );
    if (firing.source !== 'alarm') throw new Error('not an alarm event');
    expect(firing).toMatchObject({
      site: 'testsite',
      drill: null,
      alarm: { deviceId: 'leak-1', severity: 'critical', place: { building: 'b1', room: 'pump-room' } },
    });
    const raised = await waitFor(
      () => events().find((e) => e.source === 'incident' && e.type === 'raised'),
      'the incident raised',
    );

    // A client that comes later gets the states retained: the alarm's and the incident's, and the site online.
    const later = await listen(gw.brokerUrl, [topics.alarms, topics.incidents, topics.status], screen);
    const alarmTopic = topics.alarm(firing.alarm.alarmId);
    const retained = await waitFor(
      () => later.got.find((m) => m.topic === alarmTopic && m.retain),
      'the retained alarm',
    );
    expect(alarmStateSchema.parse(JSON.parse(retained.payload))).toMatchObject({
      status: 'firing',
      kind: 'water_leak',
    });
    const incident = await waitFor(
      () =>
        later.got.find(
          (m) =>
            m.topic === topics.incident((raised as Extract<BusEvent, { source: 'incident' }>).incidentId) && m.retain,
        ),
      'the retained incident',
    );
    expect(incidentStateSchema.parse(JSON.parse(incident.payload))).toMatchObject({
      status: 'open',
      playbook: 'water_leak',
    });
    expect(await waitFor(() => later.json(topics.status)[0], 'the status')).toMatchObject({ state: 'online' });
    await later.client.endAsync();

    // Dry, then acknowledged: the alarm closes and its retained state is cleared.
    await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: false, battery: 90 }), { qos: 1 });
    await waitFor(() => gw.alarms.get(firing.alarm.alarmId)?.status === 'cleared', 'the alarm cleared');
    await gw.alarms.acknowledge(firing.alarm.alarmId, 'duty', 'dry again');
    await waitFor(() => live.got.find((m) => m.topic === alarmTopic && m.payload === ''), 'the empty retained message');
    await waitFor(() => events().find((e) => e.source === 'alarm' && e.change === 'closed'), 'the closed event');
    const changes = events().flatMap((e) =>
      e.source === 'alarm' && e.alarm.alarmId === firing.alarm.alarmId ? [e.change] : [],
    );
    expect(changes).toEqual(['firing', 'cleared', 'acknowledged', 'closed']);
    // One sequence, no gaps, in order.
    const seqs = events().map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));

    const after = await listen(gw.brokerUrl, [topics.alarms, topics.incidents], screen);
    await waitFor(
      () => after.got.find((m) => m.topic.startsWith('dutyroom/testsite/incidents/')),
      'the open incident, retained',
    );
    expect(after.got.filter((m) => m.topic === alarmTopic)).toEqual([]);
    await Promise.all([after.client.endAsync(), live.client.endAsync(), bridge.endAsync()]);
  });

  it('puts the open states back after the broker thread restarted with an empty memory', async () => {
    const open = gw.incidents.list({ status: 'open' });
    expect(open.length).toBeGreaterThan(0); // the leak's incident, from the test before
    await gw.broker!.crash();
    await waitFor(() => gw.broker!.restarts === 1 && gw.broker!.health().status !== 'down', 'the broker back');
    const back = await listen(gw.brokerUrl, [topics.incidents, topics.status], screen);
    await waitFor(
      () => back.got.find((m) => m.topic === topics.incident(open[0]!.id) && m.retain),
      'the incident again',
    );
    expect(await waitFor(() => back.json(topics.status)[0], 'the status again')).toMatchObject({ state: 'online' });
    await back.client.endAsync();
  });

  it('a device or a bridge cannot publish on the alarm and event topics', async () => {
    const watch = await listen(gw.brokerUrl, ['dutyroom/testsite/#'], screen);
    const refusedBefore = gw.broker!.stats().refusedPublishes;
    const forge = async (username: string, password: string, topic: string) => {
      const c = await mqtt.connectAsync(gw.brokerUrl, { username, password, reconnectPeriod: 0 });
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.publish(topic, JSON.stringify({ forged: true }), { qos: 1, retain: true });
      await closed; // the broker closes a connection that publishes where it may not
      c.end(true);
    };
    await forge('wm-101', DEVICE_PASSWORD, topics.events);
    await forge('nbiot-bridge', BRIDGE_PASSWORD, topics.alarm('water_leak:leak-1:1'));
    await forge('nbiot-bridge', BRIDGE_PASSWORD, topics.status);
    await waitFor(() => gw.broker!.stats().refusedPublishes >= refusedBefore + 3, 'three refused publishes');
    expect(watch.got.filter((m) => m.payload.includes('forged'))).toEqual([]);
    await watch.client.endAsync();
  });
});
