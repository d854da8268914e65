import { connect, createServer } from 'node:net';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishPacket, WireClient } from '../bench/mqtt-wire.js';
import type { BrokerAccount } from './acl.js';
import { waitFor } from '../test/support/wait.js';
import { hashPassword } from './password.js';
import { startBrokerThread, type BrokerHandle } from './thread.js';

// The embedded broker in its worker thread, as the gateway runs it: what crosses the threads
// besides the consumer's messages (broker/local.test.ts): start-up failures, log lines,
// health and counters, account reloads, close. The worker runs the build in dist/.

const PASSWORD = 'boiler-room';
let accounts: BrokerAccount[];
const clients: MqttClient[] = [];
const brokers: BrokerHandle[] = [];

beforeAll(async () => {
  const hash = await hashPassword(PASSWORD);
  accounts = [
    { username: 'dev1', passwordHash: hash, publish: ['dutyroom/s1/dev1/#'], subscribe: [] },
    { username: 'dev2', passwordHash: hash, publish: ['dutyroom/s1/dev2/#'], subscribe: [] },
  ];
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

/** A logger whose lines (from either thread) land in `lines`, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, dest).child({ component: 'broker' }), lines };
}

async function start(more: Partial<Parameters<typeof startBrokerThread>[0]> = {}): Promise<BrokerHandle> {
  const b = await startBrokerThread({ host: '127.0.0.1', mqttPort: 0, accounts, maxPayloadBytes: 4096, ...more });
  brokers.push(b);
  return b;
}

async function login(b: BrokerHandle, username: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(b.url, { username, password: PASSWORD, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

describe('the embedded broker in a worker thread', () => {
  it('refuses to start on a port in use, saying which, and a bad account list before starting at all', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(start({ mqttPort: port })).rejects.toThrow(
        `cannot listen for MQTT on 127.0.0.1:${port}: the port is in use`,
      );
    } finally {
      taken.close();
    }
    await expect(start({ accounts: [...accounts, accounts[0]!] })).rejects.toThrow('"dev1" is listed twice');
  });

  it("writes its log lines through the gateway's logger, with its bindings", async () => {
    const { logger, lines } = capturingLogger();
    const b = await start({ logger });
    await expect(
      mqtt.connectAsync(b.url, { username: 'dev1', password: 'wrong', reconnectPeriod: 0 }),
    ).rejects.toThrow();
    await waitFor(() => lines.some((l) => l.msg === 'broker login refused'), 'the refused login logged');
    expect(lines.find((l) => l.msg === 'broker listening')).toMatchObject({
      component: 'broker',
      level: 30,
      pid: process.pid,
      mqtt: Number(new URL(b.url).port),
    });
    expect(lines.find((l) => l.msg === 'broker login refused')).toMatchObject({
      component: 'broker',
      username: 'dev1',
      reason: 'wrong password',
    });
    await b.close();
    expect(lines.at(-1)).toMatchObject({ msg: 'broker stopped', component: 'broker' });
  });

  it('reports its clients and refusals in stats and health, and down once closed', async () => {
    const b = await start();
    expect(b.health()).toMatchObject({ status: 'ok', clients: 0 });
    const dev = await login(b, 'dev1');
    await waitFor(() => b.stats().clients === 1, 'the client counted');
    expect(b.health()).toMatchObject({ status: 'ok', clients: 1 });
    const closed = new Promise<void>((r) => dev.once('close', () => r()));
    dev.publish('dutyroom/s1/dev2/reading', 'spoofed', { qos: 0 });
    await closed;
    await waitFor(() => b.stats().refusedPublishes === 1 && b.stats().clients === 0, 'the refusal counted');
    await b.close();
    expect(b.health()).toEqual({ status: 'down', detail: 'broker stopped' });
  });

  it('applies the door limits of the site file in the thread (the gateway runs it there)', async () => {
    const b = await start({ limits: { connectionsPerSecond: 0.001, connectionBurst: 2 } });
    await login(b, 'dev1');
    await login(b, 'dev2');
    // The third is closed at the door, before any packet is read.
    const third = connect(Number(new URL(b.url).port), '127.0.0.1');
    third.on('error', () => undefined);
    await new Promise((r) => third.once('close', r));
    await waitFor(() => b.stats().refusedConnections === 1, 'the third connection turned away at the door');
  });

  it('reloads accounts: a bad list throws and changes nothing; a changed account is logged out', async () => {
    const b = await start();
    const dev1 = await login(b, 'dev1');
    const dev2 = await login(b, 'dev2');
    expect(() => b.setAccounts([{ ...accounts[0]!, publish: ['bad/#/filter'] }])).toThrow(
      'not a valid MQTT topic filter',
    );
    const dropped = new Promise<void>((r) => dev2.once('close', () => r()));
    b.setAccounts([accounts[0]!]);
    await dropped;
    await dev1.publishAsync('dutyroom/s1/dev1/reading', 'still here', { qos: 1 });
    await expect(
      mqtt.connectAsync(b.url, { username: 'dev2', password: PASSWORD, reconnectPeriod: 0 }),
    ).rejects.toThrow();
  });

  it('hands a burst larger than one batch to the consumer whole and in order', async () => {
    const b = await start();
    const got: string[] = [];
    b.setLocalConsumer({
      subscriptions: ['dutyroom/s1/+/reading'],
      wants: () => true,
      deliver: (_t, payload) => void got.push(payload.toString()),
      notKept: () => false,
    });
    const dev = await WireClient.connect(b.url, 'dev1-burst', 'dev1', PASSWORD);
    try {
      const n = 5000;
      await dev.write(
        Buffer.concat(Array.from({ length: n }, (_, i) => publishPacket('dutyroom/s1/dev1/reading', String(i), 0))),
      );
      await waitFor(() => got.length === n, `${n} messages`);
      expect(got.map(Number)).toEqual(Array.from({ length: n }, (_, i) => i));
    } finally {
      await dev.end();
    }
  });

  it("publishes the gateway's own messages past the topic rules: retained for later subscribers, cleared by an empty one", async () => {
    const b = await start({
      accounts: [...accounts, { ...accounts[0]!, username: 'screen', publish: [], subscribe: ['dutyroom/s1/#'] }],
      gatewayOnly: ['dutyroom/s1/alarms/#'],
    });
    await b.publish('dutyroom/s1/alarms/a1', Buffer.from('{"status":"firing"}'), { retain: true });
    const screen = await login(b, 'screen');
    const got: { topic: string; payload: string; retain: boolean }[] = [];
    screen.on('message', (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    await screen.subscribeAsync('dutyroom/s1/alarms/+', { qos: 1 });
    await waitFor(() => got.length === 1, 'the retained state');
    expect(got[0]).toEqual({ topic: 'dutyroom/s1/alarms/a1', payload: '{"status":"firing"}', retain: true });
    await b.publish('dutyroom/s1/alarms/a1', Buffer.alloc(0), { retain: true });
    await waitFor(() => got.length === 2, 'the clearing');
    // A later subscriber gets nothing for it: the next retained message it sees is another alarm's.
    await b.publish('dutyroom/s1/alarms/a2', Buffer.from('{"status":"firing"}'), { retain: true });
    const later = await login(b, 'screen');
    const seen: string[] = [];
    later.on('message', (topic) => seen.push(topic));
    await later.subscribeAsync('dutyroom/s1/alarms/+', { qos: 1 });
    await waitFor(() => seen.includes('dutyroom/s1/alarms/a2'), 'the other retained state');
    expect(seen).toEqual(['dutyroom/s1/alarms/a2']);
  });

  it('frees its port on close', async () => {
    const b = await start();
    const port = Number(new URL(b.url).port);
    await b.close();
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    again.close();
  });
});

describe('broker thread supervision (issue 16)', () => {
  it('a thread that dies is started again on the same port, with its accounts and consumer; devices reconnect', async () => {
    const hash = await hashPassword(PASSWORD);
    const restarts: { attempt: number; ok: boolean }[] = [];
    const b = await startBrokerThread(
      {
        host: '127.0.0.1',
        mqttPort: 0,
        accounts: [{ username: 'dev1', passwordHash: hash, publish: ['dutyroom/s1/dev1/#'], subscribe: [] }],
        maxPayloadBytes: 1024,
      },
      { firstBackoffMs: 10, onRestart: (e) => restarts.push({ attempt: e.attempt, ok: e.ok }) },
    );
    brokers.push(b);
    const got: string[] = [];
    b.setLocalConsumer({
      subscriptions: ['dutyroom/s1/+/reading'],
      wants: () => true,
      deliver: (_t, payload) => void got.push(payload.toString()),
      notKept: () => false,
    });
    const port = b.ports.mqtt;
    const dev = await mqtt.connectAsync(b.url, { username: 'dev1', password: PASSWORD, reconnectPeriod: 50 });
    clients.push(dev);
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'before', { qos: 1 });
    await b.crash();
    expect(b.health()).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/^broker thread stopped \(exited with code 1\); restarting/),
    });
    await waitFor(() => b.restarts === 1 && b.health().status === 'ok', 'the thread running again');
    expect(b.ports.mqtt).toBe(port);
    expect(restarts).toEqual([{ attempt: 1, ok: true }]);
    // The device reconnects by itself; what it sends now reaches the consumer as before.
    await waitFor(() => dev.connected, 'the device reconnected');
    await dev.publishAsync('dutyroom/s1/dev1/reading', 'after', { qos: 1 });
    expect(got).toEqual(['before', 'after']);
    expect(b.health()).toMatchObject({ restarts: 1 });
  });
});
