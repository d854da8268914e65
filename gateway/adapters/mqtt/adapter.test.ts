import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../../broker/broker.js';
import { hashPassword } from '../../../broker/password.js';
import type { Reading } from '../../../rules/model/reading.js';
import { systemClock } from '../../ports/clock.js';
import type { MqttDeviceConfig } from '../../config/schema.js';
import { Metrics } from '../../metrics.js';
import { MqttAdapter } from './adapter.js';
import { loadPayloadProfiles } from '../../profiles/payload.js';
import { TopicDirectory } from './topics.js';
import { waitFor } from '../../../test/support/wait.js';

// Backpressure: while the pipeline is congested the adapter takes a connection's next packets
// only once the readings it has are accepted, so that a flood waits in TCP buffers (the
// publisher slows down) instead of in the gateway's heap. Both ways in: the embedded broker
// in-process, and an MQTT subscription (here to the same aedes, as to any external broker).

const PASSWORD = 'correct horse';
const TOPIC = 'dutyroom/s1/wm-1/reading';
const devices = [
  { id: 'wm-1', kind: 'water_meter', profile: 'canonical', connection: {} },
] as unknown as MqttDeviceConfig[];
const topics = new TopicDirectory('s1', devices, loadPayloadProfiles());

let broker: RunningBroker;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const hash = await hashPassword(PASSWORD);
  broker = await startBroker({
    host: '127.0.0.1',
    mqttPort: 0,
    accounts: [
      { username: 'wm-1', passwordHash: hash, publish: ['dutyroom/s1/wm-1/#'], subscribe: [] },
      { username: 'gateway', passwordHash: hash, publish: [], subscribe: ['#'] },
    ],
    maxPayloadBytes: 4096,
  });
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await broker?.close();
});

/** An adapter whose pipeline answers each reading only when the test says so. */
async function adapterFor(way: 'embedded' | 'subscribed', congested: boolean) {
  const readings: Reading[] = [];
  const answers: (() => void)[] = [];
  const adapter = new MqttAdapter({
    url: broker.url,
    ...(way === 'embedded' ? { local: broker } : { username: 'gateway', password: PASSWORD }),
    clientId: `adapter-test-${way}-${String(congested)}`,
    topics,
    maxPayloadBytes: 4096,
    maxFutureS: 60,
    maxAgeH: 24,
    clock: systemClock,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    // Far behind: the embedded broker holds even a device that sends now and then (broker/consumer.ts).
    congested: () => congested,
    overloaded: () => congested,
  });
  adapter.start((reading) => {
    readings.push(reading);
    return new Promise<void>((resolve) => answers.push(resolve));
  });
  closers.push(() => adapter.stop());
  await adapter.waitReady();
  return { readings, answers };
}

async function meter(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { username: 'wm-1', password: PASSWORD, reconnectPeriod: 0 });
  closers.push(() => client.endAsync(true));
  return client;
}

const until = (cond: () => boolean, what: string) => waitFor(cond, what, 5000, 5);

/** Resolves once the broker has taken (and routed) a publish whose payload is `text`. */
function brokerTook(text: string): Promise<void> {
  return new Promise((resolve) => {
    const seen = (packet: { payload: Buffer | string }) => {
      if (packet.payload.toString() !== text) return;
      broker.aedes.removeListener('publish', seen);
      resolve();
    };
    broker.aedes.on('publish', seen);
  });
}

const payload = (n: number) => JSON.stringify({ ts: systemClock.now() - 1000 + n, total_m3: n });

describe('MqttAdapter backpressure', () => {
  for (const way of ['embedded', 'subscribed'] as const) {
    it(`${way}: holds a connection's next message while the pipeline is far behind, until the last one is accepted`, async () => {
      const { readings, answers } = await adapterFor(way, true);
      const client = await meter();
      await client.publishAsync(TOPIC, payload(1), { qos: 0 });
      await until(() => readings.length === 1, 'the first reading');
      const second = payload(2);
      if (way === 'embedded') {
        await client.publishAsync(TOPIC, second, { qos: 0 });
        // The held connection is not read; another device's later message is: once it is in,
        // the second message would be too, had nothing held it.
        const other = await meter();
        await other.publishAsync(TOPIC, payload(3), { qos: 0 });
        await until(() => readings.length === 2, "another device's message");
        expect(readings.map((r) => r.fields.total_m3)).toEqual([1, 3]);
      } else {
        // The broker has taken the second message and sent it on to the adapter's connection.
        const taken = brokerTook(second);
        await client.publishAsync(TOPIC, second, { qos: 0 });
        await taken;
        expect(readings.map((r) => r.fields.total_m3)).toEqual([1]);
      }
      answers.shift()!();
      await until(
        () => readings.some((r) => r.fields.total_m3 === 2),
        'the second reading after the first was accepted',
      );
      expect(readings.map((r) => r.fields.total_m3)).toEqual(way === 'embedded' ? [1, 3, 2] : [1, 2]);
    });

    it(`${way}: holds nothing at QoS 0 while the pipeline keeps up`, async () => {
      const { readings, answers } = await adapterFor(way, false);
      const client = await meter();
      for (let n = 1; n <= 3; n++) await client.publishAsync(TOPIC, payload(n), { qos: 0 });
      await until(() => readings.length === 3, 'all three readings, none answered');
      expect(answers).toHaveLength(3);
      expect(readings.map((r) => r.fields.total_m3)).toEqual([1, 2, 3]);
    });
  }
});

describe('MqttAdapter never acknowledges what the spool did not keep (issue 16)', () => {
  for (const way of ['embedded', 'subscribed'] as const) {
    it(`${way}: a QoS 1 message the spool refuses is not acknowledged and comes again; kept the second time`, async () => {
      const readings: Reading[] = [];
      // The spool is refusing when the message comes (see the README for the moment it starts to).
      let refusing = true;
      const adapter = new MqttAdapter({
        url: broker.url,
        ...(way === 'embedded' ? { local: broker } : { username: 'gateway', password: PASSWORD }),
        clientId: `adapter-test-not-kept-${way}`,
        topics,
        maxPayloadBytes: 4096,
        maxFutureS: 60,
        maxAgeH: 24,
        clock: systemClock,
        metrics: new Metrics(),
        logger: pino({ level: 'silent' }),
        refusing: () => refusing,
      });
      adapter.start(async (reading) => {
        readings.push(reading);
        if (readings.length > 1) return { accepted: true };
        await new Promise((r) => setImmediate(r)); // the spool answers later, as an fsync does
        // Room again by the time the device sends it again (the adapter decided to wait while it was refusing).
        refusing = false;
        return { accepted: false, reason: 'spool_full', detail: 'spool is full' };
      });
      closers.push(() => adapter.stop());
      await adapter.waitReady();
      // A device that keeps what was not acknowledged and sends it again once reconnected.
      const client = await mqtt.connectAsync(broker.url, { username: 'wm-1', password: PASSWORD, reconnectPeriod: 20 });
      closers.push(() => client.endAsync(true));
      await client.publishAsync(TOPIC, payload(7), { qos: 1 });
      await until(() => readings.length === 2, 'the message a second time');
      expect(readings.map((r) => r.fields.total_m3)).toEqual([7, 7]);
    }, 15_000);
  }
});
