import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPacket, remainingLength } from '../bench/mqtt-wire.js';
import { waitFor } from '../test/support/wait.js';
import { startBroker, type RunningBroker } from './broker.js';
import { ConnectionRate, LoginThrottle, PacketGuard } from './doors.js';
import { hashPassword } from './password.js';

// Issue 16, the doors before login, on a real aedes and real sockets: a client that never logs
// in and declares a 200 MB CONNECT is cut within the pre-login limit and the memory stays
// flat; an address that keeps failing logins is turned away without its passwords being
// checked, while another address logs in; too many connections too fast are turned away.

const PASSWORD = 'boiler-room';

describe('PacketGuard', () => {
  const header = (type: number, length: number) => Buffer.from([type << 4, ...remainingLength(length)]);

  it('cuts a CONNECT declaring more than the pre-login limit as soon as its header is in, one byte at a time or not', () => {
    const whole = new PacketGuard(65536, 1 << 20);
    expect(whole.scan(Buffer.concat([header(1, 200 * 1024 * 1024), Buffer.alloc(10)]))).toEqual({
      reason: 'pre_auth_oversized',
      declared: 200 * 1024 * 1024,
    });
    const bytewise = new PacketGuard(65536, 1 << 20);
    const h = header(1, 70_000);
    for (let i = 0; i < h.length - 1; i++) expect(bytewise.scan(h.subarray(i, i + 1))).toBeUndefined();
    expect(bytewise.scan(h.subarray(h.length - 1))).toEqual({ reason: 'pre_auth_oversized', declared: 70_000 });
  });

  it('skips over packet bodies across chunks, applies the payload limit once the CONNECT is accepted, refuses a first packet that is not a CONNECT and a five-byte length', () => {
    const g = new PacketGuard(100, 1000);
    expect(g.scan(Buffer.concat([header(1, 50), Buffer.alloc(20)]))).toBeUndefined();
    expect(g.scan(Buffer.alloc(30))).toBeUndefined();
    expect(g.scan(header(3, 500))).toEqual({ reason: 'pre_auth_oversized', declared: 500 });
    const after = new PacketGuard(100, 1000);
    after.scan(Buffer.concat([header(1, 10), Buffer.alloc(10)]));
    after.accept();
    expect(after.scan(Buffer.concat([header(3, 900), Buffer.alloc(900)]))).toBeUndefined();
    expect(after.scan(header(3, 1001))).toEqual({ reason: 'oversized', declared: 1001 });
    expect(new PacketGuard(100, 1000).scan(header(3, 5))).toEqual({ reason: 'not_connect_first' });
    expect(new PacketGuard(100, 1000).scan(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff]))).toEqual({
      reason: 'malformed',
    });
  });
});

describe('ConnectionRate and LoginThrottle', () => {
  it('lets a burst in, then the refill rate; addresses apart', () => {
    let t = 0;
    const r = new ConnectionRate(10, 5, { now: () => t });
    expect(Array.from({ length: 7 }, () => r.take('a'))).toEqual([true, true, true, true, true, false, false]);
    expect(r.take('b')).toBe(true);
    t += 100; // one new token
    expect([r.take('a'), r.take('a')]).toEqual([true, false]);
  });

  it('turns an address away for a minute after its tenth failure in a minute; a success clears it', () => {
    let t = 0;
    const l = new LoginThrottle(10, { now: () => t });
    for (let i = 0; i < 9; i++) l.failed('a');
    expect(l.waitSeconds('a')).toBe(0);
    l.failed('a');
    expect(l.waitSeconds('a')).toBe(60);
    t += 59_500;
    expect(l.waitSeconds('a')).toBe(1);
    t += 600;
    expect(l.waitSeconds('a')).toBe(0);
    l.failed('b');
    l.succeeded('b');
    expect(l.waitSeconds('b')).toBe(0);
  });
});

describe('the broker before login (real aedes, real sockets)', () => {
  let broker: RunningBroker;
  // The doors' time is virtual: the minute a failing address is held off passes at once.
  let now = 1_000_000;
  beforeAll(async () => {
    broker = await startBroker({
      host: '0.0.0.0',
      mqttPort: 0,
      accounts: [
        {
          username: 'dev1',
          passwordHash: await hashPassword(PASSWORD),
          publish: ['dutyroom/s1/dev1/#'],
          subscribe: [],
        },
        {
          username: 'dev2',
          passwordHash: await hashPassword(PASSWORD),
          publish: ['dutyroom/s1/dev2/#'],
          subscribe: [],
        },
      ],
      maxPayloadBytes: 64 * 1024,
      limits: { connectionsPerSecond: 5, connectionBurst: 150 },
      clock: { now: () => now },
    });
  });
  afterAll(async () => broker?.close());

  /** Opens a socket from `local` (127.0.0.x) to the broker. */
  function open(local = '127.0.0.1'): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: broker.ports.mqtt, localAddress: local }, () => resolve(s));
      s.once('error', reject);
    });
  }

  /** Logs in with a raw CONNECT; the CONNACK return code (0 accepted, 4 bad username or password), or 'closed'. */
  async function login(local: string, password: string, username = 'dev1'): Promise<number | 'closed'> {
    const s = await open(local);
    s.on('error', () => undefined);
    s.write(connectPacket(`c-${Math.random()}`, username, password, 30));
    const code = await new Promise<number | 'closed'>((resolve) => {
      s.once('data', (b: Buffer) => resolve(b[0] === 0x20 ? b[3]! : 'closed'));
      s.once('close', () => resolve('closed'));
    });
    s.destroy();
    return code;
  }

  it('cuts a client declaring a 200 MB CONNECT within the pre-login limit; the memory stays flat', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const s = await open();
    let sent = 0;
    let closed = false;
    s.on('error', () => undefined);
    s.once('close', () => (closed = true));
    // A CONNECT declaring 200 MB (remaining length 0xC8 00 00 ... as a four-byte varint), then up to 160 MB of it.
    s.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    while (!closed && sent < 160 * 1024 * 1024) {
      if (!s.write(chunk)) await new Promise<void>((r) => (s.once('drain', r), s.once('close', r)));
      sent += chunk.length;
    }
    await waitFor(() => closed, 'the connection cut');
    const grew = process.memoryUsage().rss - before;
    expect(broker.stats().cutBeforeLogin).toBeGreaterThanOrEqual(1);
    // Cut at the header: what went through before is what the socket buffers held, not 160 MB.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(grew).toBeLessThan(10 * 1024 * 1024);
    console.log(
      `200 MB CONNECT: ${(sent / 1024 / 1024).toFixed(1)} MiB written before the cut; RSS ${(before / 1024 / 1024).toFixed(0)} → ${((before + grew) / 1024 / 1024).toFixed(0)} MiB`,
    );
  });

  it('100 failed logins from one address: turned away after ten, without checking the passwords; another address logs in meanwhile, and so does another device behind the same address', async () => {
    const throttledBefore = broker.stats().throttledLogins;
    const codes: (number | 'closed')[] = [];
    for (let i = 0; i < 100; i++) codes.push(await login('127.0.0.5', 'wrong'));
    expect(codes.every((c) => c === 4)).toBe(true);
    expect(broker.stats().throttledLogins - throttledBefore).toBe(90);
    // Now even the right password is refused from there: the address is held off for a minute.
    expect(await login('127.0.0.5', PASSWORD)).toBe(4);
    expect(await login('127.0.0.6', PASSWORD)).toBe(0);
    // A device with a stale password holds off only itself, not its neighbours behind one NAT.
    expect(await login('127.0.0.5', PASSWORD, 'dev2')).toBe(0);
    // A minute later the address may try again.
    now += 60_000;
    expect(await login('127.0.0.5', PASSWORD)).toBe(0);
  });

  it('turns away connections beyond the rate of one address, not those of another', async () => {
    const from7: Socket[] = [];
    for (let i = 0; i < 160; i++) from7.push(await open('127.0.0.7'));
    await waitFor(() => broker.stats().refusedConnections >= 5 || null, 'connections beyond the burst turned away');
    expect(await login('127.0.0.8', PASSWORD)).toBe(0);
    for (const s of from7) s.destroy();
  });
});
