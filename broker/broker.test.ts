import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerAccount } from './acl.js';
import { startBroker, type RunningBroker } from './broker.js';
import { hashPassword } from './password.js';
import { waitFor } from '../test/support/wait.js';

// A real aedes on a real loopback port, real mqtt.js clients.

const PASSWORD = 'correct horse';
const MAX_PAYLOAD = 1024;
const dev = (n: number) => `dutyroom/s1/dev${n}/reading`;

let broker: RunningBroker;
let hash: string;
const logLines: string[] = [];
const clients: MqttClient[] = [];

function accounts(): BrokerAccount[] {
  return [
    { username: 'dev1', passwordHash: hash, publish: ['dutyroom/s1/dev1/#'], subscribe: ['dutyroom/s1/dev1/#'] },
    { username: 'dev2', passwordHash: hash, publish: ['dutyroom/s1/dev2/#'], subscribe: ['dutyroom/s1/dev2/#'] },
    // read-only service login, e.g. a wall screen
    { username: 'screen', passwordHash: hash, publish: [], subscribe: ['dutyroom/#'] },
    // granted $SYS explicitly, and still refused: $SYS belongs to the broker
    { username: 'sneaky', passwordHash: hash, publish: ['$SYS/#', 'sneaky/#'], subscribe: ['$SYS/#'] },
    { username: 'ops', passwordHash: hash, publish: [], subscribe: ['#'], admin: true },
  ];
}

beforeAll(async () => {
  hash = await hashPassword(PASSWORD);
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  broker = await startBroker({
    host: '127.0.0.1',
    mqttPort: 0,
    accounts: accounts(),
    maxPayloadBytes: MAX_PAYLOAD,
    logger: pino({ level: 'debug' }, sink),
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

afterAll(async () => {
  await broker?.close();
});

async function login(username: string, password = PASSWORD, more: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, {
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...more,
  });
  clients.push(c);
  return c;
}

/**
 * The QoS the broker granted for each filter, 128 for a refusal. mqtt.js rejects a SUBACK
 * that holds any refusal but keeps the packet on the error, which is what is read here.
 */
async function granted(c: MqttClient, filters: string | string[], qos: 0 | 1 = 0): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (err) {
    const suback = (err as { packet?: { granted: (number | { qos: number })[] } }).packet;
    if (!suback) throw err;
    return suback.granted.map((g) => (typeof g === 'number' ? g : g.qos));
  }
}

function inbox(c: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

/** Resolves when the broker drops `c`; fails the test after a few seconds instead of hanging. */
async function closes(c: MqttClient, timeoutMs = 5000): Promise<void> {
  let closed = false;
  c.once('close', () => (closed = true));
  await waitFor(() => closed, 'the broker to close the connection', timeoutMs);
}

/**
 * Publishes `marker` from dev2 and waits for the screen to get it. Messages published before
 * it that were going to arrive have arrived by then: used to show something did NOT arrive.
 */
async function flush(got: { payload: string }[], marker: string): Promise<void> {
  const dev2 = await login('dev2');
  await dev2.publishAsync(dev(2), marker, { qos: 1 });
  await waitFor(() => got.some((m) => m.payload === marker), `marker ${marker}`);
}

describe('logins', () => {
  it('lets a device publish to its own topic, and a service account receive it', async () => {
    const screen = await login('screen');
    const got = inbox(screen);
    expect(await granted(screen, 'dutyroom/#', 1)).toEqual([1]);

    const dev1 = await login('dev1');
    await dev1.publishAsync(dev(1), '{"level_m":1.2}', { qos: 1 });
    await waitFor(() => got.length === 1, 'the reading');
    expect(got[0]).toEqual({ topic: dev(1), payload: '{"level_m":1.2}' });
    expect(broker.stats().clients).toBeGreaterThanOrEqual(2);
  });

  it('refuses a wrong password, an unknown user and no credentials with "bad username or password"', async () => {
    const before = broker.stats().refusedLogins;
    const attempts: IClientOptions[] = [
      { username: 'dev1', password: 'wrong' },
      { username: 'dev1', password: '' },
      { username: 'nobody', password: PASSWORD },
      { username: 'dev1' },
      {},
    ];
    for (const creds of attempts) {
      const attempt = mqtt.connectAsync(broker.url, { ...creds, reconnectPeriod: 0, connectTimeout: 5000 });
      await expect(attempt, JSON.stringify(creds)).rejects.toMatchObject({
        code: 4,
        message: expect.stringMatching(/bad username or password/i),
      });
    }
    expect(broker.stats().refusedLogins).toBe(before + attempts.length);
  });

  it('logs refusals with the login and client id, never the password', async () => {
    await expect(
      mqtt.connectAsync(broker.url, {
        username: 'dev1',
        password: 'hunter2-secret',
        clientId: 'meter-42',
        reconnectPeriod: 0,
      }),
    ).rejects.toMatchObject({ code: 4 });
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.clientId === 'meter-42');
    expect(line).toMatchObject({ level: 40, username: 'dev1', reason: 'wrong password', msg: 'broker login refused' });
    expect(logLines.join('')).not.toContain('hunter2-secret');
    expect(logLines.join('')).not.toContain(PASSWORD);
  });
});

describe('publish rules', () => {
  // aedes's real behaviour: MQTT 3.1.1 has no way to refuse a single PUBLISH, so a refused
  // publish (QoS 0 or 1 alike) makes aedes close the client's connection, without a PUBACK.
  it('refuses a device publishing to another device topic, and disconnects it (QoS 0)', async () => {
    const screen = await login('screen');
    const got = inbox(screen);
    await screen.subscribeAsync('dutyroom/#');
    const before = broker.stats().refusedPublishes;

    const dev1 = await login('dev1', PASSWORD, { clientId: 'dev1-impostor' });
    const closed = closes(dev1);
    dev1.publish(dev(2), 'forged', { qos: 0 });
    await closed;

    await flush(got, 'after-qos0');
    expect(got.map((m) => m.payload)).toEqual(['after-qos0']);
    expect(broker.stats().refusedPublishes).toBe(before + 1);
    const warned = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.clientId === 'dev1-impostor' && l.level === 40);
    expect(warned).toMatchObject({ level: 40, username: 'dev1', topic: dev(2), msg: 'broker publish refused' });
  });

  it('refuses the same at QoS 1: no PUBACK, the connection is closed', async () => {
    const screen = await login('screen');
    const got = inbox(screen);
    await screen.subscribeAsync('dutyroom/#');

    const dev1 = await login('dev1');
    let acked = false;
    const closed = closes(dev1);
    dev1.publish(dev(2), 'forged', { qos: 1 }, (err) => (acked = !err));
    await closed;
    await flush(got, 'after-qos1');
    expect(got.map((m) => m.payload)).toEqual(['after-qos1']);
    expect(acked).toBe(false);
  });

  it('keeps a read-only account from publishing, lets it subscribe inside its filters only', async () => {
    const screen = await login('screen');
    expect(await granted(screen, ['dutyroom/s1/+/reading', '#', 'other/x', 'dutyroom/s1/dev1/#'])).toEqual([
      0, 128, 128, 0,
    ]);
    // A refused subscription does not cost the client its connection.
    expect(screen.connected).toBe(true);
    const got = inbox(screen);
    await flush(got, 'still-subscribed');

    const before = broker.stats().refusedPublishes;
    const closed = closes(screen);
    screen.publish(dev(1), 'from a screen');
    await closed;
    expect(broker.stats().refusedPublishes).toBe(before + 1);
  });

  it('refuses oversized payloads and counts them; exactly the limit passes', async () => {
    const screen = await login('screen');
    const got = inbox(screen);
    await screen.subscribeAsync('dutyroom/#');
    const before = broker.stats();

    const dev1 = await login('dev1');
    await dev1.publishAsync(dev(1), 'x'.repeat(MAX_PAYLOAD), { qos: 1 });
    await waitFor(() => got.length === 1, 'the payload at the limit');

    const closed = closes(dev1);
    dev1.publish(dev(1), 'y'.repeat(MAX_PAYLOAD + 1), { qos: 0 });
    await closed;
    await flush(got, 'after-oversized');
    expect(got.map((m) => m.payload.length)).toEqual([MAX_PAYLOAD, 'after-oversized'.length]);
    expect(broker.stats().oversized).toBe(before.oversized + 1);
    expect(broker.stats().refusedPublishes).toBe(before.refusedPublishes + 1);
  });
});

describe('wills', () => {
  it("publishes a dropped device's will only where the device itself may publish", async () => {
    const screen = await login('screen');
    const got = inbox(screen);
    await screen.subscribeAsync('dutyroom/#');
    const before = broker.stats().refusedPublishes;

    const honest = await login('dev1', PASSWORD, {
      clientId: 'will-honest',
      will: { topic: dev(1), payload: Buffer.from('honest gone'), qos: 0, retain: false },
    });
    const forger = await login('dev1', PASSWORD, {
      clientId: 'will-forger',
      will: { topic: dev(2), payload: Buffer.from('forged gone'), qos: 0, retain: false },
    });
    // Cut the sockets without DISCONNECT, as a power cut would.
    honest.stream.destroy();
    forger.stream.destroy();

    await waitFor(() => got.some((m) => m.payload === 'honest gone'), 'the honest will');
    await waitFor(() => broker.stats().refusedPublishes === before + 1, 'the forged will to be refused');
    await flush(got, 'after-wills');
    expect(got.map((m) => m.payload)).toEqual(['honest gone', 'after-wills']);
  });
});

describe('$SYS', () => {
  it('cannot be published to, even by an account granted $SYS/#', async () => {
    const sneaky = await login('sneaky');
    const closed = closes(sneaky);
    sneaky.publish(`$SYS/${broker.aedes.id}/clients/connected`, '999');
    await closed;
  });

  it('can be read by admins only', async () => {
    const sneaky = await login('sneaky');
    expect(await granted(sneaky, '$SYS/#')).toEqual([128]);
    const screen = await login('screen');
    expect(await granted(screen, '$SYS/#')).toEqual([128]);

    const ops = await login('ops');
    const got = inbox(ops);
    expect(await granted(ops, '$SYS/#')).toEqual([0]);
    // aedes announces each new client on $SYS/<id>/new/clients.
    await login('dev1', PASSWORD, { clientId: 'announced-1' });
    await waitFor(
      () => got.some((m) => m.topic.endsWith('/new/clients') && m.payload === 'announced-1'),
      'the $SYS announcement',
    );
  });

  it('is not delivered through a plain # subscription', async () => {
    const ops = await login('ops');
    const got = inbox(ops);
    expect(await granted(ops, '#')).toEqual([0]);
    await login('dev1', PASSWORD, { clientId: 'announced-2' });
    await flush(got, 'after-announce');
    expect(got.filter((m) => m.topic.startsWith('$'))).toEqual([]);
  });
});

describe('setAccounts (hot reload)', () => {
  it('drops clients whose account went or changed, keeps the rest, and applies the new rules', async () => {
    const dev1 = await login('dev1');
    const dev2 = await login('dev2');
    const screen = await login('screen');
    const dev2Closed = closes(dev2);
    const screenClosed = closes(screen);

    const next = accounts()
      .filter((a) => a.username !== 'dev2')
      .map((a) => (a.username === 'screen' ? { ...a, subscribe: ['dutyroom/s1/dev1/#'] } : a));
    next.push({ username: 'dev3', passwordHash: hash, publish: ['dutyroom/s1/dev3/#'], subscribe: [] });
    broker.setAccounts(next);
    try {
      await Promise.all([dev2Closed, screenClosed]);
      expect(dev1.connected).toBe(true);
      await expect(
        mqtt.connectAsync(broker.url, { username: 'dev2', password: PASSWORD, reconnectPeriod: 0 }),
      ).rejects.toMatchObject({ code: 4 });

      const screen2 = await login('screen');
      expect(await granted(screen2, ['dutyroom/#', 'dutyroom/s1/dev1/#'])).toEqual([128, 0]);
      const got = inbox(screen2);
      await dev1.publishAsync(dev(1), 'still here', { qos: 1 });
      const dev3 = await login('dev3');
      await dev3.publishAsync('dutyroom/s1/dev3/reading', 'new device', { qos: 1 });
      await waitFor(() => got.length === 1, 'dev1 reading');
      expect(got[0]!.payload).toBe('still here');
    } finally {
      broker.setAccounts(accounts()); // the other tests expect the original logins
    }
  });

  it('refuses a bad account list and keeps the old one in force', async () => {
    expect(() =>
      broker.setAccounts([...accounts(), { username: 'x', passwordHash: hash, publish: ['a/#/b'], subscribe: [] }]),
    ).toThrow(/not a valid MQTT topic filter/);
    const dev2 = await login('dev2');
    await dev2.publishAsync(dev(2), 'ok', { qos: 1 });
  });
});

describe('health', () => {
  it('reports ok with the listeners and counts while running', () => {
    const h = broker.health();
    expect(h.status).toBe('ok');
    expect(h.detail).toContain(`mqtt :${broker.ports.mqtt}`);
    expect(h).toMatchObject({ refusedLogins: expect.any(Number), oversized: expect.any(Number) });
  });
});
