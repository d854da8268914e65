import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerAccount } from './acl.js';
import { startBroker, type BrokerOptions, type RunningBroker } from './broker.js';
import { hashPassword } from './password.js';
import { waitFor } from '../test/support/wait.js';

// The three listeners (TCP, WebSocket, TLS) on real loopback ports, and what close() frees.

const PASSWORD = 'pump-room';
let accounts: BrokerAccount[];
const clients: MqttClient[] = [];
const brokers: RunningBroker[] = [];

beforeAll(async () => {
  const hash = await hashPassword(PASSWORD);
  accounts = [
    { username: 'dev1', passwordHash: hash, publish: ['dutyroom/s1/dev1/#'], subscribe: [] },
    { username: 'screen', passwordHash: hash, publish: [], subscribe: ['dutyroom/#'] },
  ];
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function start(more: Partial<BrokerOptions> = {}): Promise<RunningBroker> {
  const b = await startBroker({ host: '127.0.0.1', mqttPort: 0, accounts, maxPayloadBytes: 4096, ...more });
  brokers.push(b);
  return b;
}

async function login(url: string, username: string, more: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    username,
    password: PASSWORD,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...more,
  });
  clients.push(c);
  return c;
}

/** A screen on TCP that records what it receives under dutyroom/#. */
async function listener(b: RunningBroker): Promise<string[]> {
  const screen = await login(b.url, 'screen');
  const got: string[] = [];
  screen.on('message', (_t, payload) => got.push(payload.toString()));
  await screen.subscribeAsync('dutyroom/#', { qos: 1 });
  return got;
}

/** A connection attempt that must fail at the transport: rejects once the socket closes without a CONNACK. */
function fails(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(
    url,
    { username: 'dev1', password: PASSWORD, reconnectPeriod: 0, connectTimeout: 3000 },
    false,
  );
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('WebSocket listener', () => {
  it('authenticates and carries publishes at /mqtt and at /', async () => {
    const b = await start({ wsPort: 0 });
    expect(b.ports.ws).toBeGreaterThan(0);
    expect(b.ports.ws).not.toBe(b.ports.mqtt);
    const got = await listener(b);

    const viaMqttPath = await login(`ws://127.0.0.1:${b.ports.ws}/mqtt`, 'dev1');
    await viaMqttPath.publishAsync('dutyroom/s1/dev1/reading', 'over ws /mqtt', { qos: 1 });
    const viaRoot = await login(`ws://127.0.0.1:${b.ports.ws}/`, 'dev1', { clientId: 'dev1-root' });
    await viaRoot.publishAsync('dutyroom/s1/dev1/reading', 'over ws /', { qos: 1 });
    await waitFor(() => got.length === 2, 'both WebSocket publishes');
    expect(got.sort()).toEqual(['over ws /', 'over ws /mqtt']);
  });

  it('applies the same logins and rules as TCP', async () => {
    const b = await start({ wsPort: 0 });
    const url = `ws://127.0.0.1:${b.ports.ws}/mqtt`;
    await expect(
      mqtt.connectAsync(url, { username: 'dev1', password: 'nope', reconnectPeriod: 0 }),
    ).rejects.toMatchObject({ code: 4 });
    const dev1 = await login(url, 'dev1');
    const closed = new Promise<void>((resolve) => dev1.once('close', () => resolve()));
    dev1.publish('dutyroom/s1/dev2/reading', 'forged');
    await closed;
    expect(b.stats()).toMatchObject({ refusedLogins: 1, refusedPublishes: 1 });
  });

  it('answers other paths with 404 and plain HTTP with 426', async () => {
    const b = await start({ wsPort: 0 });
    await expect(fails(`ws://127.0.0.1:${b.ports.ws}/elsewhere`)).rejects.toThrow(/couldn't connect/i);
    const res = await fetch(`http://127.0.0.1:${b.ports.ws}/mqtt`);
    expect(res.status).toBe(426);
    await res.text();
  });
});

const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!OPENSSL) console.warn('TLS listener tests skipped: openssl is not installed, so no test certificate can be made');

/** A self-signed certificate for localhost / 127.0.0.1, valid one day, made once per file. */
let testCert: { cert: Buffer; key: Buffer } | undefined;
function makeTestCert(): { cert: Buffer; key: Buffer } {
  if (testCert) return testCert;
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-broker-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    testCert = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    return testCert;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!OPENSSL)('TLS listener', () => {
  let cert: Buffer;
  let key: Buffer;
  beforeAll(() => ({ cert, key } = makeTestCert()));

  it('accepts mqtts from a client that trusts the certificate', async () => {
    const b = await start({ tls: { port: 0, cert, key } });
    expect(b.ports.tls).toBeGreaterThan(0);
    const got = await listener(b);
    const dev1 = await login(`mqtts://127.0.0.1:${b.ports.tls}`, 'dev1', { ca: cert });
    await dev1.publishAsync('dutyroom/s1/dev1/reading', 'over tls', { qos: 1 });
    await waitFor(() => got.includes('over tls'), 'the TLS publish');
  });

  it('is really TLS: a client that does not trust the certificate is refused', async () => {
    const b = await start({ tls: { port: 0, cert, key } });
    await expect(fails(`mqtts://127.0.0.1:${b.ports.tls}`)).rejects.toThrow(/self[- ]signed certificate/i);
    // Plain MQTT spoken to the TLS port gets no CONNACK.
    await expect(fails(`mqtt://127.0.0.1:${b.ports.tls}`)).rejects.toThrow(/couldn't connect/i);
  });
});

describe('close()', () => {
  it('drops the clients and frees every port', async () => {
    const tls = OPENSSL ? { tls: { port: 0, ...makeTestCert() } } : {};
    const b = await start({ wsPort: 0, ...tls });
    const tcp = await login(b.url, 'dev1');
    const ws = await login(`ws://127.0.0.1:${b.ports.ws}/mqtt`, 'screen');
    const dropped = Promise.all([tcp, ws].map((c) => new Promise<void>((resolve) => c.once('close', () => resolve()))));
    const ports = Object.values(b.ports) as number[];
    expect(ports).toHaveLength(OPENSSL ? 3 : 2);
    for (const p of ports) expect(await canBind(p), `port ${p} is busy while the broker runs`).toBe(false);

    await b.close();
    await dropped;
    for (const p of ports) expect(await canBind(p), `port ${p} is free after close()`).toBe(true);
    expect(b.health().status).toBe('down');
    expect(b.aedes.closed).toBe(true);
    await b.close(); // twice is harmless
  });

  it('on a port already taken, start fails with a clear error and leaves nothing listening', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const first = await start();
      const free = first.ports.mqtt;
      await first.close();
      brokers.splice(0);
      // TCP binds first (on the port just freed), then the WebSocket port is found taken.
      await expect(
        startBroker({ host: '127.0.0.1', mqttPort: free, wsPort: taken, accounts, maxPayloadBytes: 4096 }),
      ).rejects.toThrow(`broker: cannot listen for MQTT over WebSocket on 127.0.0.1:${taken}: the port is in use`);
      expect(await canBind(free)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses bad options before binding anything', async () => {
    await expect(start({ maxPayloadBytes: 0 })).rejects.toThrow(/maxPayloadBytes/);
    await expect(start({ accounts: [...accounts, accounts[0]!] })).rejects.toThrow(/listed twice/);
  });
});
