import type { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Endpoint } from '../gateway/adapters/modbus/endpoint.js';
import { ModbusLink } from '../gateway/adapters/modbus/link.js';
import { realTimers, systemClock } from '../gateway/ports/clock.js';
import { loadRegisterProfiles, type RegisterProfile } from '../gateway/profiles/profile.js';
import { startModbusServer, type ModbusServer } from '../simulators/modbus/server.js';
import { freePort } from '../gateway/store/influxd.js';
import { cleanupEach, failure, pythonHelper, waitFor } from './modbus-helpers.js';

// Connections to a line: opening, reopening after a drop, one request at a time on a TCP
// endpoint, and no sockets or listeners left behind by reconnects.

let sdm: RegisterProfile;
beforeAll(() => {
  sdm = loadRegisterProfiles().get('eastron-sdm630')!;
});

const onCleanup = cleanupEach();

async function server(port = 0, units = [1, 2]): Promise<ModbusServer> {
  const s = await startModbusServer({
    port,
    devices: units.map((unitId) => ({ unitId, profile: sdm, values: { voltage_l1_v: 230 + unitId } })),
  });
  onCleanup(() => s.close());
  return s;
}
function link(port: number, connectTimeoutMs = 2000): ModbusLink {
  const l = new ModbusLink({ transport: 'tcp', host: '127.0.0.1', port }, { timers: realTimers, connectTimeoutMs });
  onCleanup(() => l.close());
  return l;
}
/**
 * A port whose connects hang, as with a powered-off device on a routed network: a
 * listening socket with a backlog of 0 that never accepts, its one slot taken. Node always
 * accepts, so a small Python process holds the socket.
 */
async function blackhole(): Promise<number> {
  const script = [
    'import socket, sys',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'filler = socket.create_connection(s.getsockname())',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const line = await pythonHelper(script, onCleanup);
  return Number(line.trim());
}
/** A full collection, from a test (V8's gc made reachable without starting Node.js with --expose-gc). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (o?: { type: 'major'; execution: 'sync' }) => void;
  // Twice, a turn apart: promise reactions let go of their values only once they have run.
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
}
const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

// The link's live modbus-serial client, its TCP port and socket, reached past the private
// fields on purpose: a leak of listeners would be there.
type Client = EventEmitter & { _port?: EventEmitter & { _client?: EventEmitter & { destroyed: boolean } } };
const current = (l: ModbusLink) => (l as unknown as { client?: Client }).client;
const listenerCount = (e: EventEmitter | undefined) =>
  e ? e.eventNames().reduce((n, name) => n + e.listenerCount(name), 0) : 0;
function linkListeners(l: ModbusLink): { client: number; port: number; socket: number } {
  const c = current(l);
  return { client: listenerCount(c), port: listenerCount(c?._port), socket: listenerCount(c?._port?._client) };
}

describe('ModbusLink over TCP', () => {
  it('fails fast with a connection error while nobody listens, and connects once the device is there', async () => {
    const port = await freePort();
    const l = link(port);
    const err = await failure(l.read(1, 4, 0, 2, 1000));
    expect(err.failure).toBe('connection');
    expect(err.message).toMatch(new RegExp(`tcp://127.0.0.1:${port}: .*ECONNREFUSED`));
    expect(l.connected).toBe(false);
    expect(l.lastError).toMatch(/ECONNREFUSED/);
    await server(port);
    expect(await l.read(1, 4, 0, 2, 1000)).toEqual([0x4367, 0]);
    expect(l.connected).toBe(true);
    expect(l.opens).toBe(1);
  });

  it('gives up connecting after connectTimeoutMs (a device that never answers the SYN)', async () => {
    const port = await blackhole();
    const l = link(port, 200);
    const started = systemClock.now();
    const err = await failure(l.read(1, 4, 0, 2, 1000));
    expect(err.failure).toBe('connection');
    expect(err.message).toContain('could not connect within 200 ms');
    expect(systemClock.now() - started).toBeGreaterThanOrEqual(190);
    expect(systemClock.now() - started).toBeLessThan(1000);
  });

  it('fails a request on the wire at once when the connection drops, then reconnects', async () => {
    const s = await server();
    const l = link(s.port);
    await l.read(1, 4, 0, 2, 1000);
    s.setDelay(1, 5000);
    const started = systemClock.now();
    const pending = failure(l.read(1, 4, 0, 2, 10_000));
    await waitFor(() => s.requests(1).length === 2, 2000, 'the request to reach the server');
    s.dropConnections();
    const err = await pending;
    expect(err.failure).toBe('connection');
    expect(systemClock.now() - started).toBeLessThan(2000);
    s.setDelay(1, 0);
    expect(await l.read(1, 4, 0, 2, 1000)).toEqual([0x4367, 0]);
    expect(l.opens).toBe(2);
  });

  it('1,000 reconnects leave no socket, connection or listener behind', async () => {
    const s = await server();
    const l = link(s.port);
    await l.read(1, 4, 0, 2, 1000);
    const socketsBefore = tcpSockets();
    const handlesBefore = process.getActiveResourcesInfo().length;
    const listenersBefore = linkListeners(l);
    expect(listenersBefore.client).toBeGreaterThan(0); // it does see the listeners
    const letGo: Client[] = [];
    let listenersMax = listenersBefore;
    for (let i = 0; i < 1000; i++) {
      letGo.push(current(l)!);
      if (i % 2 === 0) {
        // The device end drops the connection (a converter rebooting)…
        s.dropConnections();
        await waitFor(() => !l.connected, 2000, 'the link to see the drop');
      } else {
        // …or the gateway gives it up (the half-open case).
        l.reset('test');
      }
      expect(await l.read(1 + (i % 2), 4, 0, 2, 1000)).toHaveLength(2);
      const now = linkListeners(l);
      if (now.client + now.port + now.socket > listenersMax.client + listenersMax.port + listenersMax.socket)
        listenersMax = now;
    }
    expect(l.opens).toBe(1001);
    // Each connection's listeners are its own: the live one has as many as the first had.
    expect(listenersMax).toEqual(listenersBefore);
    // Every connection let go was destroyed and stripped (but for a no-op error guard).
    expect(new Set(letGo).size).toBe(1000);
    expect(letGo.filter((c) => listenerCount(c) > 1 || c._port?._client?.destroyed === false)).toEqual([]);
    // The device sees one live connection: every old one was really closed, not forgotten.
    await waitFor(() => s.connections() === 1, 2000, 'the server to see exactly one connection');
    await waitFor(
      () => tcpSockets() <= socketsBefore,
      2000,
      `TCP sockets back to ${socketsBefore} (now ${tcpSockets()})`,
    );
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore + 2);
  });

  it("keeps nothing of an answered request on the live connection, in modbus-serial's transaction table neither", async () => {
    const s = await server();
    const l = link(s.port);
    // A request's answer, watched past its end: the caller lets it go after this function.
    const answered = async () => {
      const data = await l.read(1, 4, 0, 2, 1000);
      expect(data).toEqual([0x4367, 0]);
      return new WeakRef(data);
    };
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 20; i++) refs.push(await answered());
    // modbus-serial would keep each transaction until its id comes round again, 256 requests later.
    const table = (current(l) as unknown as { _transactions: Record<string, { next?: unknown }> })._transactions;
    expect(Object.keys(table)).toEqual([]);
    await collectGarbage();
    expect(refs.filter((r) => r.deref() !== undefined)).toEqual([]);
    expect(l.connected).toBe(true);
  });

  it('stops reading after close()', async () => {
    const s = await server();
    const l = link(s.port);
    await l.read(1, 4, 0, 2, 1000);
    await l.close();
    expect((await failure(l.read(1, 4, 0, 2, 1000))).failure).toBe('connection');
    await waitFor(() => s.connections() === 0, 2000, 'the connection to close');
  });
});

describe('Endpoint (a line shared by several units)', () => {
  function endpoint(port: number, opts: { maxInFlight?: number; reconnectAfterTimeouts?: number } = {}) {
    const e = new Endpoint(
      link(port),
      {
        maxInFlight: opts.maxInFlight ?? 1,
        reconnectAfterTimeouts: opts.reconnectAfterTimeouts ?? 3,
        resetOnTimeout: false,
      },
      () => systemClock.now(),
    );
    onCleanup(() => e.close());
    return e;
  }

  it('sends one request at a time by default: unit 2 waits while slow unit 1 answers', async () => {
    const s = await server();
    const e = endpoint(s.port);
    await e.read(1, 4, 0, 2, 1000, 'normal');
    s.setDelay(1, 200);
    await Promise.all([e.read(1, 4, 0, 2, 1000, 'normal'), e.read(2, 4, 0, 2, 1000, 'normal')]);
    const [slow, next] = s.requests().slice(-2);
    expect([slow!.unitId, next!.unitId]).toEqual([1, 2]);
    expect(next!.at - slow!.at).toBeGreaterThanOrEqual(190);
  });

  it('with maxInFlight 2 (a pipelining Modbus TCP device) unit 2 does not wait', async () => {
    const s = await server();
    const e = endpoint(s.port, { maxInFlight: 2 });
    await e.read(1, 4, 0, 2, 1000, 'normal');
    s.setDelay(1, 200);
    const both = Promise.all([e.read(1, 4, 0, 2, 1000, 'normal'), e.read(2, 4, 0, 2, 1000, 'normal')]);
    await waitFor(() => s.requests(2).length === 1, 150, 'unit 2 to be asked while unit 1 is still answering');
    await both;
  });

  it('reconnects after 3 timeouts in a row with no answer (half-open connection), not after one', async () => {
    const s = await server();
    const e = endpoint(s.port, { reconnectAfterTimeouts: 3 });
    await e.read(1, 4, 0, 2, 1000, 'normal');
    s.setOffline(1, true);
    s.setOffline(2, true);
    for (let i = 0; i < 2; i++) await failure(e.read(1 + i, 4, 0, 2, 50, 'normal'));
    expect(e.link.opens).toBe(1);
    expect(e.link.connected).toBe(true);
    await failure(e.read(1, 4, 0, 2, 50, 'normal'));
    expect(e.link.connected).toBe(false);
    s.setOffline(1, false);
    await e.read(1, 4, 0, 2, 1000, 'normal');
    expect(e.link.opens).toBe(2);
    expect(e.health()).toMatchObject({ connected: true, connections: 2, queued: 0 });
  });

  it('a healthy unit answering in between keeps the connection', async () => {
    const s = await server();
    const e = endpoint(s.port, { reconnectAfterTimeouts: 2 });
    s.setOffline(2, true);
    for (let i = 0; i < 5; i++) {
      await failure(e.read(2, 4, 0, 2, 50, 'low'));
      await e.read(1, 4, 0, 2, 1000, 'normal');
    }
    expect(e.link.opens).toBe(1);
  });
});
