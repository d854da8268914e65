import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishPacket, WireClient } from '../bench/mqtt-wire.js';
import { topicMatches } from './acl.js';
import { LIGHT_PUBLISHER_MAX } from './consumer.js';
import { startBroker } from './broker.js';
import { waitFor } from '../test/support/wait.js';
import { hashPassword } from './password.js';
import { startBrokerThread, type BrokerHandle } from './thread.js';

// The in-process handoff (setLocalConsumer): a real aedes on a loopback port, in the test's
// thread and in a worker thread (as the gateway runs it), real mqtt.js publishers, a consumer
// in the test's thread in place of the gateway's MQTT adapter.

const PASSWORD = 'correct horse';

const clients: MqttClient[] = [];
const WANTED = 'dutyroom/s1/+/reading';

interface Delivery {
  topic: string;
  payload: string;
  qos: number;
}

describe.each([
  { where: "in the consumer's thread", start: startBroker },
  { where: 'in a worker thread', start: startBrokerThread },
])('in-process consumer of the embedded broker $where', ({ start }) => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    const hash = await hashPassword(PASSWORD);
    broker = await start({
      host: '127.0.0.1',
      mqttPort: 0,
      accounts: [
        { username: 'dev1', passwordHash: hash, publish: ['dutyroom/s1/dev1/#'], subscribe: ['dutyroom/s1/dev1/#'] },
        { username: 'screen', passwordHash: hash, publish: [], subscribe: ['dutyroom/#'] },
      ],
      maxPayloadBytes: 1024,
    });
  });

  afterEach(async () => {
    broker.setLocalConsumer(undefined);
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });

  afterAll(async () => {
    await broker?.close();
  });

  async function login(username: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(broker.url, { username, password: PASSWORD, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  }

  /**
   * A round trip on `c`'s connection after what it sent before: the broker has read and
   * answered a later packet, so an acknowledgement it was going to send at once has been sent.
   */
  async function roundTrip(c: MqttClient): Promise<void> {
    await c.subscribeAsync('dutyroom/s1/dev1/probe', { qos: 0 });
  }

  /** A consumer that takes the wanted topics; `hold` makes it answer only when released. */
  function consumer(hold = false) {
    const got: Delivery[] = [];
    const releases: (() => void)[] = [];
    broker.setLocalConsumer({
      subscriptions: [WANTED],
      wants: (topic) => topicMatches(WANTED, topic),
      deliver: (topic, payload, qos) => {
        got.push({ topic, payload: payload.toString(), qos });
        if (!hold) return undefined;
        return { done: new Promise<void>((resolve) => releases.push(resolve)), index: 0 };
      },
      notKept: () => false,
    });
    return { got, releases };
  }

  it('gets each authorised publish of its topics exactly once, at every QoS, and no other topic', async () => {
    const { got } = consumer();
    const dev = await login('dev1');
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'q0', { qos: 0 });
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'q1', { qos: 1 });
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'q2', { qos: 2 });
    await dev.publishAsync('dutyroom/s1/dev1/status', 'not wanted', { qos: 1 });
    // The last one, on the same connection: once it is in, a duplicate or the unwanted topic would be too.
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'last', { qos: 1 });
    await waitFor(() => got.some((d) => d.payload === 'last'), 'the last delivery');
    expect(got).toEqual([
      { topic: 'dutyroom/s1/dev1/reading', payload: 'q0', qos: 0 },
      { topic: 'dutyroom/s1/dev1/reading', payload: 'q1', qos: 1 },
      { topic: 'dutyroom/s1/dev1/reading', payload: 'q2', qos: 2 },
      { topic: 'dutyroom/s1/dev1/reading', payload: 'last', qos: 1 },
    ]);
  });

  it('never sees a publish the ACL refuses (the publisher is dropped as before)', async () => {
    const { got } = consumer();
    const dev = await login('dev1');
    const closed = new Promise<void>((resolve) => dev.once('close', () => resolve()));
    dev.publish('dutyroom/s1/dev2/reading', 'spoofed', { qos: 1 });
    await closed;
    expect(got).toEqual([]);
    // A broker thread reports its counters a moment later.
    await waitFor(() => broker.stats().refusedPublishes > 0, 'the refusal counted');
  });

  it('holds the QoS 1 PUBACK and the QoS 2 PUBREC until the consumer is done', async () => {
    const { got, releases } = consumer(true);
    const dev = await login('dev1');
    for (const qos of [1, 2] as const) {
      let acked = false;
      const pub = dev.publishAsync('dutyroom/s1/dev1/reading', `held ${qos}`, { qos }).then(() => (acked = true));
      await waitFor(() => releases.length === 1, `the QoS ${qos} delivery`);
      await roundTrip(dev);
      expect(acked, `QoS ${qos} acknowledged before the consumer answered`).toBe(false);
      releases.shift()!();
      await pub;
      expect(acked).toBe(true);
    }
    expect(got.map((d) => d.payload)).toEqual(['held 1', 'held 2']);
  });

  it('never acknowledges a message the consumer could not keep: the connection closes, the device sends it again, and it is acknowledged once kept', async () => {
    const got: string[] = [];
    let refuse = 2;
    broker.setLocalConsumer({
      subscriptions: [WANTED],
      wants: (topic) => topicMatches(WANTED, topic),
      deliver: (_topic, payload) => {
        got.push(payload.toString());
        return { done: Promise.resolve(refuse-- > 0 ? 'full' : 'kept'), index: 0 };
      },
      notKept: (value) => value === 'full',
    });
    // A device as they are: it keeps what was not acknowledged and sends it again after reconnecting.
    const dev = await mqtt.connectAsync(broker.url, { username: 'dev1', password: PASSWORD, reconnectPeriod: 20 });
    clients.push(dev);
    let closes = 0;
    dev.on('close', () => closes++);
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'must not be lost', { qos: 1 });
    expect(got).toEqual(['must not be lost', 'must not be lost', 'must not be lost']);
    expect(closes).toBe(2);
    await waitFor(() => broker.stats().notKept >= 2, 'the refusals counted');
  });

  it('keeps holding a PUBACK when the consumer goes away before it is done with the message', async () => {
    const { releases } = consumer(true);
    const dev = await login('dev1');
    let acked = false;
    const pub = dev.publishAsync('dutyroom/s1/dev1/reading', 'held', { qos: 1 }).then(() => (acked = true));
    await waitFor(() => releases.length === 1, 'the delivery');
    broker.setLocalConsumer(undefined);
    await roundTrip(dev);
    expect(acked, 'acknowledged before the consumer was done').toBe(false);
    releases.shift()!();
    await pub;
    expect(acked).toBe(true);
  });

  /** A consumer that answers each message only when released, and says how far behind it is. */
  function behindConsumer(overloaded: boolean) {
    const got: string[] = [];
    const releases: (() => void)[] = [];
    broker.setLocalConsumer({
      subscriptions: [WANTED],
      wants: (topic) => topicMatches(WANTED, topic),
      deliver: (_topic, payload) => {
        got.push(payload.toString());
        return { done: new Promise<void>((resolve) => releases.push(resolve)), index: 0 };
      },
      notKept: () => false,
      congested: () => true,
      overloaded: () => overloaded,
    });
    /**
     * A reading from another connection reaches the consumer: the broker is reading its
     * sockets, so what was written before on a connection it does not hold has been read too.
     */
    const otherConnectionHeard = async (probe: string) => {
      const other = await login('dev1');
      other.publish('dutyroom/s1/dev1/reading', probe, { qos: 0 });
      await waitFor(() => got.includes(probe), `${probe} from another connection`);
    };
    const fromDevice = () => got.filter((payload) => !payload.startsWith('probe'));
    return { got, releases, otherConnectionHeard, fromDevice };
  }

  /**
   * A raw connection whose first reading has been dealt with: a broker thread learns of the
   * consumer's congestion from its answers (the broker's own thread asks at once).
   */
  async function deviceToldOfCongestion(got: string[], releases: (() => void)[]): Promise<WireClient> {
    const dev = await WireClient.connect(broker.url, 'dev1-raw', 'dev1', PASSWORD);
    await dev.write(publishPacket('dutyroom/s1/dev1/reading', 'first', 1, 1));
    await waitFor(() => got.length === 1, 'the first reading');
    releases.shift()!();
    // Acknowledged once the broker's thread has the consumer's answer (and with it the congestion).
    await waitFor(() => dev.pubacks === 1, "the first reading's PUBACK");
    got.length = 0;
    return dev;
  }

  it('overloaded: holds a connection until its messages are dealt with, then reads it again, also after packets that finished meanwhile', async () => {
    const { got, releases, otherConnectionHeard, fromDevice } = behindConsumer(true);
    const dev = await deviceToldOfCongestion(got, releases);
    try {
      // One socket write: two held readings and, between them, a publish nobody here wants.
      // The unwanted one finishes while the connection is paused (aedes then loses count).
      await dev.write(
        Buffer.concat([
          publishPacket('dutyroom/s1/dev1/reading', 'a', 0),
          publishPacket('dutyroom/s1/dev1/status', 'not wanted', 0),
          publishPacket('dutyroom/s1/dev1/reading', 'b', 0),
        ]),
      );
      await waitFor(() => got.length === 2, 'the two readings of the first write');
      await dev.write(publishPacket('dutyroom/s1/dev1/reading', 'c', 0));
      await otherConnectionHeard('probe 1');
      expect(fromDevice(), 'read on while held').toEqual(['a', 'b']);
      releases.shift()!();
      await otherConnectionHeard('probe 2');
      expect(fromDevice(), 'read on while one message is still held').toEqual(['a', 'b']);
      releases.shift()!();
      await waitFor(() => got.includes('c'), 'the next write once both were dealt with');
      expect(fromDevice()).toEqual(['a', 'b', 'c']);
      for (const release of releases.splice(0)) release();
    } finally {
      await dev.end();
    }
  });

  it(`congested: reads on a light publisher while its messages wait (a leak sensor behind a flood), and holds one with more than ${LIGHT_PUBLISHER_MAX} waiting`, async () => {
    const { got, releases, otherConnectionHeard, fromDevice } = behindConsumer(false);
    const dev = await deviceToldOfCongestion(got, releases);
    try {
      for (let n = 1; n <= LIGHT_PUBLISHER_MAX; n++) {
        await dev.write(publishPacket('dutyroom/s1/dev1/reading', `m${n}`, 0));
        await waitFor(() => got.includes(`m${n}`), `message ${n}, read on with ${n - 1} waiting`);
      }
      await dev.write(publishPacket('dutyroom/s1/dev1/reading', 'one too many', 0));
      await waitFor(() => got.includes('one too many'), 'the message that makes it a flood');
      await dev.write(publishPacket('dutyroom/s1/dev1/reading', 'held', 0));
      await otherConnectionHeard('probe 1');
      expect(fromDevice(), 'read on past its share').not.toContain('held');
      for (const release of releases.splice(0)) release();
      await waitFor(() => got.includes('held'), 'the next write once its messages were dealt with');
      expect(fromDevice()).toHaveLength(LIGHT_PUBLISHER_MAX + 2);
      for (const release of releases.splice(0)) release();
    } finally {
      await dev.end();
    }
  });

  // Runs before any test grants a QoS 1 subscription: once one is granted, this broker takes
  // aedes's own QoS 1 path for its topics for as long as it runs (qos1-readers.ts).
  it('acknowledges a QoS 1 message nobody reads at QoS 1 itself, once kept; a QoS 1 reader, and a later reader of a retained one, get it at QoS 1', async () => {
    const { releases } = consumer(true);
    const dev = await login('dev1');
    const screen = await login('screen');
    const seen: { payload: string; qos: number; retain: boolean }[] = [];
    screen.on('message', (_t, p, packet) =>
      seen.push({ payload: p.toString(), qos: packet.qos, retain: packet.retain }),
    );
    await screen.subscribeAsync('dutyroom/s1/dev1/reading', { qos: 0 });

    async function heldUntilReleased(payload: string, retain = false): Promise<void> {
      let acked = false;
      const pub = dev.publishAsync('dutyroom/s1/dev1/reading', payload, { qos: 1, retain }).then(() => (acked = true));
      await waitFor(() => releases.length === 1, `the delivery of "${payload}"`);
      await roundTrip(dev);
      expect(acked, `"${payload}" acknowledged before the consumer answered`).toBe(false);
      releases.shift()!();
      await pub;
    }

    // Read at QoS 0 only: the broker writes the PUBACK.
    await heldUntilReleased('read at QoS 0');
    await waitFor(() => seen.length === 1, 'the QoS 0 reader');
    expect(seen[0]).toEqual({ payload: 'read at QoS 0', qos: 0, retain: false });

    // Retained: aedes keeps it at QoS 1 for later readers.
    await heldUntilReleased('retained', true);
    const later = await login('screen');
    const laterSeen: { payload: string; qos: number }[] = [];
    later.on('message', (_t, p, packet) => laterSeen.push({ payload: p.toString(), qos: packet.qos }));
    await later.subscribeAsync('dutyroom/s1/+/reading', { qos: 1 });
    await waitFor(() => laterSeen.length === 1, 'the retained message');
    expect(laterSeen[0]).toEqual({ payload: 'retained', qos: 1 });

    // Now read at QoS 1: aedes's own path, its PUBACK still only once kept.
    await heldUntilReleased('read at QoS 1');
    await waitFor(() => laterSeen.length === 2, 'the QoS 1 reader');
    expect(laterSeen[1]).toEqual({ payload: 'read at QoS 1', qos: 1 });
    expect(seen.map((s) => s.payload)).toEqual(['read at QoS 0', 'retained', 'read at QoS 1']);

    // The retained message would reach the next tests' readers.
    consumer();
    await dev.publishAsync('dutyroom/s1/dev1/reading', '', { qos: 1, retain: true });
  });

  it('still delivers to subscribed clients alongside the consumer', async () => {
    const { got } = consumer();
    const screen = await login('screen');
    const seen: string[] = [];
    screen.on('message', (_t, p) => seen.push(p.toString()));
    await screen.subscribeAsync('dutyroom/#', { qos: 1 });
    const dev = await login('dev1');
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'both', { qos: 1 });
    await waitFor(() => seen.length === 1 && got.length === 1, 'both receivers');
    expect(seen).toEqual(['both']);
  });
});
