import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { pino, type Logger } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { Acl, type BrokerAccount } from './acl.js';
import { ConnectionRate, DOOR_DEFAULTS, guardStream, LoginThrottle, PacketGuard, type DoorLimits } from './doors.js';
import { PasswordChecker } from './password.js';
import { systemClock } from '../gateway/ports/clock.js';
import { ThrottledLog } from '../gateway/ports/log-throttle.js';
import type { ComponentHealth } from './types.js';

export type { BrokerAccount } from './acl.js';

export interface BrokerOptions {
  /** Address every listener binds to, e.g. 0.0.0.0 or 127.0.0.1. */
  host: string;
  /** MQTT over TCP; 0 = any free port (see `RunningBroker.ports`). */
  mqttPort: number;
  /** MQTT over WebSocket at /mqtt (and /); unset = no WebSocket listener; 0 = any free port. */
  wsPort?: number;
  /** MQTT over TLS (mqtts://); PEM certificate chain and key. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  accounts: BrokerAccount[];
  /** Publishes with a larger payload are refused. */
  maxPayloadBytes: number;
  /** The doors before login: packet size, connect timeout, connection rate and cap, failed logins (see doors.ts). */
  limits?: DoorLimits;
  logger?: Logger;
}

export interface BrokerStats {
  /** Clients connected now. */
  clients: number;
  refusedLogins: number;
  /** Every refused publish, the oversized ones included. */
  refusedPublishes: number;
  refusedSubscribes: number;
  /** Publishes refused for their payload size. */
  oversized: number;
  /** QoS 1/2 publishes the consumer could not keep: not acknowledged, the connection closed so the device sends them again. */
  notKept: number;
  /** Connections cut before login: a packet over the pre-login limit, not a CONNECT first, a malformed header. */
  cutBeforeLogin: number;
  /** Connections turned away at the door: too many too fast from one address. */
  refusedConnections: number;
  /** Logins refused without checking the password: too many failed logins from the address. */
  throttledLogins: number;
  /** Connections closed for breaking the protocol (a malformed packet, an invalid topic, a wildcard in a PUBLISH topic). */
  protocolErrors: number;
}

/**
 * A consumer inside the broker's own process (the gateway's MQTT adapter when the broker is
 * embedded): it gets every authorised publish of the topics it wants straight from aedes,
 * without logging in and subscribing as a second MQTT client. That second hop cost more CPU
 * than the gateway's own work, and aedes's delivery queue (mqemitter) degrades badly when
 * one subscriber receives from many publishers.
 */
export interface LocalConsumer {
  /** The MQTT filters of what the consumer would have subscribed to (a broker thread matches with these). */
  subscriptions: readonly string[];
  /** Whether a topic matches `subscriptions`; a quicker answer of the same. Called once per publish. */
  wants(topic: string): boolean;
  /**
   * Called once per authorised publish of a wanted topic. A returned handover delays the
   * QoS 1 PUBACK (and the QoS 2 PUBREC) to the publisher until it settles, so that an
   * acknowledged message is one the consumer has kept. If `notKept` then says it was not
   * kept (storage cannot take it now), nothing is acknowledged and the publisher's connection
   * is closed: the device keeps the message and sends it again (MQTT 3.1.1 has no way to
   * refuse one PUBLISH). A rejected promise counts as kept.
   */
  deliver(topic: string, payload: Buffer, qos: 0 | 1 | 2): Handover | void;
  /** Whether message `index` of a handover whose `done` settled with `value` was not kept. */
  notKept(value: unknown, index: number): boolean;
  /**
   * True while the consumer is far behind. The broker then stops reading the publisher's
   * connection until the promise `deliver` returned settles, so that a flood waits in TCP
   * buffers (the publisher slows down) instead of in memory.
   */
  congested?(): boolean;
}

/** A message handed to the consumer: settles once the consumer is done with it and the others of its batch. */
export interface Handover {
  done: PromiseLike<unknown>;
  /** Its place among the messages `done` settles for (see LocalConsumer.notKept). */
  index: number;
}

export interface RunningBroker {
  aedes: Aedes;
  /** The ports actually bound (useful when 0 was asked for). */
  ports: { mqtt: number; ws?: number; tls?: number };
  /** mqtt://host:port of the TCP listener. */
  url: string;
  /** Swap the accounts in place; clients whose account is gone or changed are disconnected. */
  setAccounts(accounts: BrokerAccount[]): void;
  /** Hands wanted publishes to an in-process consumer (one at a time; undefined removes it). */
  setLocalConsumer(consumer: LocalConsumer | undefined): void;
  stats(): BrokerStats;
  health(): ComponentHealth;
  /** Stops the listeners, drops every client, closes aedes; resolves once the ports are free. */
  close(): Promise<void>;
}

// MQTT 3.1.1 CONNACK return code 4: "bad user name or password". Used for unknown users too,
// so a client cannot tell which of the two it got wrong.
const BAD_USERNAME_OR_PASSWORD = 4;
// WebSocket frames may carry the MQTT header and topic besides the payload.
const WS_FRAME_HEADROOM = 256 * 1024;
// A PUBLISH carries its topic (up to 64 KiB), packet id and properties besides the payload.
const PACKET_HEADROOM = 70 * 1024;

/**
 * Callbacks waiting for promises, with one reaction per distinct promise: the consumer's
 * readings of one turn of the event loop share one promise, and at tens of thousands of
 * messages a second a reaction (two closures and a job) per message showed in the profile.
 */
class Waiters {
  private readonly lists = new Map<PromiseLike<unknown>, ((value: unknown) => void)[]>();
  /** `fn` gets what the promise resolved with (undefined if it rejected). */
  add(pending: PromiseLike<unknown>, fn: (value: unknown) => void): void {
    const list = this.lists.get(pending);
    if (list) return void list.push(fn);
    const fns = [fn];
    this.lists.set(pending, fns);
    const run = (value: unknown) => {
      this.lists.delete(pending);
      for (const f of fns) f(value);
    };
    pending.then(run, () => run(undefined));
  }
}

/** Start the embedded broker on its listeners. Rejects (with everything undone) if a port is taken. */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  if (!Number.isInteger(opts.maxPayloadBytes) || opts.maxPayloadBytes <= 0) {
    throw new Error(`broker: maxPayloadBytes must be a positive whole number of bytes, got ${opts.maxPayloadBytes}`);
  }
  const logger = opts.logger ?? pino({ enabled: false });
  const throttled = new ThrottledLog(logger, systemClock);
  let acl = new Acl(opts.accounts); // throws on bad filters or duplicate logins, before any port is bound
  const passwords = new PasswordChecker();
  const counts = {
    refusedLogins: 0,
    refusedPublishes: 0,
    refusedSubscribes: 0,
    oversized: 0,
    notKept: 0,
    cutBeforeLogin: 0,
    refusedConnections: 0,
    throttledLogins: 0,
    protocolErrors: 0,
  };
  const limits = { ...DOOR_DEFAULTS, ...opts.limits };
  const rate = new ConnectionRate(limits.connectionsPerSecond, limits.connectionBurst);
  // Failed logins are counted per address and login (a device with a stale password holds off
  // only itself, not the other devices behind the same NAT or bridge), and per address with ten
  // times the allowance (so guessing many usernames costs no more scrypt checks).
  const loginThrottle = new LoginThrottle(limits.failedLoginsPerMinute);
  const addressThrottle = new LoginThrottle(limits.failedLoginsPerMinute * 10);
  // Each connection's packet guard, to open it wider once the CONNECT is accepted.
  const guards = new WeakMap<object, PacketGuard>();
  let local: LocalConsumer | undefined;
  // QoS 1 publishes already handed over in authorizePublish (see there), so that `published`
  // does not hand them over a second time.
  const handedOver = new WeakSet<PublishPacket>();
  const waiting = new Waiters();

  // Who each client logged in as. Weak: the will of a dropped client is authorised after its
  // socket has closed, so the name must outlive the connection, but not the client object.
  const loginOf = new WeakMap<Client, BrokerAccount>();
  // Live clients, for hot reload. Dropped when their socket closes.
  const live = new Set<Client>();

  const aedes = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutMs,
    authenticate(client, username, password, done) {
      const address = remoteOf(client) ?? '?';
      const key = `${address}|${username ?? ''}`;
      const refuse = (reason: string, failed = true) => {
        counts.refusedLogins++;
        if (failed) {
          loginThrottle.failed(key);
          addressThrottle.failed(address);
        }
        throttled.warn(
          `login:${username ?? ''}:${reason}`,
          { username, clientId: client.id, remote: address, reason },
          'broker login refused',
        );
        const err = new Error('bad username or password') as AuthenticateError;
        err.returnCode = BAD_USERNAME_OR_PASSWORD;
        done(err, false);
      };
      // An address that keeps failing is turned away before any password is checked (scrypt is the cost of a login).
      const wait = Math.max(loginThrottle.waitSeconds(key), addressThrottle.waitSeconds(address));
      if (wait > 0) {
        counts.throttledLogins++;
        return refuse(`too many failed logins from ${address}; try again in ${wait} s`, false);
      }
      if (!username || !password) return refuse('no username or password');
      const account = acl.account(username);
      if (!account) return refuse('unknown user');
      passwords.verify(username, password, account.passwordHash).then(
        (ok) => {
          if (!ok) return refuse('wrong password');
          // The accounts may have been reloaded during the (slow) check.
          if (acl.account(username) !== account) return refuse('account changed during login');
          loginThrottle.succeeded(key);
          guards.get(client.conn)?.accept();
          loginOf.set(client, account);
          live.add(client);
          client.conn.once('close', () => live.delete(client));
          logger.debug({ username, clientId: client.id, remote: remoteOf(client) }, 'broker login');
          done(null, true);
        },
        (err: unknown) => {
          logger.error({ err, username }, 'password check failed');
          refuse('password check failed');
        },
      );
    },

    authorizePublish(client, packet, done) {
      const refusal = publishRefusal(client, packet);
      if (!refusal) {
        // aedes writes a QoS 1 PUBACK right after this check, before it publishes: handing the
        // message over here, and answering once the consumer is done with it, is the only
        // point where the PUBACK can wait for the reading to be accepted (fsynced).
        if (packet.qos === 1 && local?.wants(packet.topic)) {
          handedOver.add(packet);
          const consumer = local;
          const handover = consumer.deliver(packet.topic, payloadBuffer(packet), 1);
          if (handover) {
            holdBack(consumer, client!, handover.done);
            return waiting.add(handover.done, (value) => {
              if (!consumer.notKept(value, handover.index)) return done(null);
              notKept(client, packet);
              // No PUBACK: aedes closes the connection (MQTT-3.3.5-2) and the device sends the message again.
              done(new Error(`publish to "${packet.topic}" not acknowledged: the gateway cannot keep it now`));
            });
          }
        }
        return done(null);
      }
      counts.refusedPublishes++;
      if (refusal.oversized) counts.oversized++;
      const username = client ? loginOf.get(client)?.username : undefined;
      throttled.warn(
        `publish:${username ?? ''}:${client?.id ?? ''}:${refusal.reason}`,
        { username, clientId: client?.id, topic: packet.topic, bytes: payloadBytes(packet), reason: refusal.reason },
        'broker publish refused',
      );
      // MQTT 3.1.1 cannot refuse one PUBLISH, so aedes closes the connection (MQTT-3.3.5-2).
      done(new Error(`publish to "${packet.topic}" refused: ${refusal.reason}`));
    },

    authorizeSubscribe(client, sub, done) {
      const account = loginOf.get(client);
      if (account && acl.canSubscribe(account.username, sub.topic)) return done(null, sub);
      counts.refusedSubscribes++;
      throttled.warn(
        `subscribe:${account?.username ?? ''}:${client.id}`,
        { username: account?.username, clientId: client.id, topic: sub.topic },
        'broker subscription refused',
      );
      // A null subscription is granted as QoS 128 (failure) in the SUBACK; the client stays.
      done(null, null);
    },

    // After an authorised message went to the subscribers. QoS 0 and 2 are handed over here
    // (the QoS 2 PUBREC is written after this callback, so it waits like the PUBACK above);
    // QoS 0 does not wait: nothing is acknowledged to the publisher.
    published(packet, client, done) {
      const consumer = local;
      if (!consumer || handedOver.has(packet) || !consumer.wants(packet.topic)) return done(null);
      const handover = consumer.deliver(packet.topic, payloadBuffer(packet), packet.qos);
      if (handover && client) holdBack(consumer, client, handover.done);
      if (handover && packet.qos === 2) {
        return waiting.add(handover.done, (value) => {
          if (client && consumer.notKept(value, handover.index)) {
            // The PUBREC is written after this callback: closing first means it never goes.
            notKept(client, packet);
            client.close();
          }
          done(null);
        });
      }
      done(null);
    },
  });

  /** A QoS 1/2 message the consumer could not keep: counted and said, not acknowledged. */
  function notKept(client: Client | null, packet: PublishPacket): void {
    counts.notKept++;
    const username = client ? loginOf.get(client)?.username : undefined;
    throttled.warn(
      `not_kept:${username ?? ''}`,
      { username, clientId: client?.id, topic: packet.topic, notKept: counts.notKept },
      'broker: a message the gateway cannot keep now (storage full or failing) is not acknowledged; the connection is closed so the device sends it again',
    );
  }

  /** Messages of each client the consumer is still dealing with while congested. */
  const holds = new WeakMap<Client, number>();

  /** While the consumer is congested, the publisher's connection is not read until its messages are dealt with. */
  function holdBack(consumer: LocalConsumer, client: Client, pending: PromiseLike<unknown>): void {
    if (!consumer.congested?.()) return;
    // aedes's Client has pause()/resume() (it stops reading the socket) but does not declare
    // them in its types; gateway/adapters/mqtt/adapter.test.ts and broker/local.test.ts fail
    // should they ever go. While paused, aedes drops the "packet done" counts of packets that
    // finish (a PINGREQ, an unwanted topic): its batch counter is reset before resuming, or
    // the connection would never be read again.
    const held = client as Client & { pause(): void; resume(): void; _parsingBatch: number };
    const count = holds.get(client) ?? 0;
    if (count === 0) held.pause();
    holds.set(client, count + 1);
    waiting.add(pending, () => {
      const left = holds.get(client)! - 1;
      if (left > 0) return void holds.set(client, left);
      holds.delete(client);
      held._parsingBatch = 0;
      held.resume();
    });
  }

  function publishRefusal(
    client: Client | null,
    packet: PublishPacket,
  ): { reason: string; oversized?: boolean } | undefined {
    // A null client is a will left behind by another broker sharing the persistence; this
    // broker runs alone, so there is nobody to vouch for such a message.
    if (!client) return { reason: 'no client (orphaned will)' };
    const account = loginOf.get(client);
    if (!account) return { reason: 'not logged in' };
    if (payloadBytes(packet) > opts.maxPayloadBytes)
      return { reason: `payload over ${opts.maxPayloadBytes} bytes`, oversized: true };
    if (!acl.canPublish(account.username, packet.topic)) return { reason: 'topic not allowed for this login' };
    return undefined;
  }

  // A socket reset is the network's doing; anything else the client sent wrong (aedes closes the connection).
  const protocolError = (err: Error) => !/ECONNRESET|EPIPE|ETIMEDOUT/.test(err.message) && void counts.protocolErrors++;
  aedes.on('clientError', (client, err) => {
    protocolError(err);
    logger.debug({ clientId: client.id, err: err.message }, 'broker client error');
  });
  aedes.on('connectionError', (client, err) => {
    protocolError(err);
    logger.debug({ remote: remoteOf(client), err: err.message }, 'broker connection error');
  });

  const listeners: Listener[] = [];
  const undo = async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };
  let ports: RunningBroker['ports'];
  /** A new connection at the door: turned away if its address comes too fast, else guarded and handed to aedes. */
  const admit = (stream: Duplex, address: string, req?: IncomingMessage) => {
    if (!rate.take(address)) {
      counts.refusedConnections++;
      throttled.warn(
        `rate:${address}`,
        { remote: address },
        'broker connection refused: too many new connections from this address',
      );
      stream.destroy();
      return;
    }
    const guard = new PacketGuard(limits.preAuthPacketBytes, opts.maxPayloadBytes + PACKET_HEADROOM);
    guards.set(stream, guard);
    guardStream(stream, guard, (cut) => {
      if (cut.reason === 'oversized') counts.oversized++;
      else counts.cutBeforeLogin++;
      throttled.warn(
        `cut:${address}:${cut.reason}`,
        { remote: address, reason: cut.reason, declared: cut.declared },
        cut.reason === 'oversized'
          ? 'broker connection cut: a packet larger than the payload limit'
          : 'broker connection cut before login',
      );
    });
    void aedes.handle(stream, req);
  };
  try {
    const handle = (socket: Socket) => admit(socket, socket.remoteAddress ?? '?');
    const mqtt = track(createNetServer(handle), 'MQTT');
    mqtt.server.maxConnections = limits.maxConnections;
    listeners.push(mqtt);
    ports = { mqtt: await mqtt.listen(opts.host, opts.mqttPort) };

    if (opts.wsPort !== undefined) {
      const ws = track(
        webSocketServer(
          opts.maxPayloadBytes + WS_FRAME_HEADROOM,
          logger,
          (stream, req) => admit(stream, req.socket.remoteAddress ?? '?', req),
          () => {
            counts.oversized++;
            throttled.warn('ws-oversized', {}, 'broker WebSocket frame over the limit: connection closed');
          },
        ),
        'MQTT over WebSocket',
      );
      ws.server.maxConnections = limits.maxConnections;
      listeners.push(ws);
      ports.ws = await ws.listen(opts.host, opts.wsPort);
    }
    if (opts.tls) {
      const tls = track(createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle), 'MQTT over TLS');
      tls.server.maxConnections = limits.maxConnections;
      tls.server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'broker TLS handshake failed'));
      listeners.push(tls);
      ports.tls = await tls.listen(opts.host, opts.tls.port);
    }
  } catch (err) {
    await undo();
    throw err;
  }

  const url = `mqtt://${urlHost(opts.host)}:${ports.mqtt}`;
  logger.info({ ...ports, host: opts.host, accounts: opts.accounts.length }, 'broker listening');

  let closing: Promise<void> | undefined;

  return {
    aedes,
    ports,
    url,

    setAccounts(accounts) {
      const next = new Acl(accounts); // a bad list throws here and the old one stays in force
      acl = next;
      let dropped = 0;
      for (const client of live) {
        const was = loginOf.get(client);
        const now = was && next.account(was.username);
        if (was && now && sameAccount(was, now)) {
          loginOf.set(client, now);
          continue;
        }
        // Its rights changed: let it log in again and subscribe under the new rules.
        live.delete(client);
        dropped++;
        client.close();
      }
      logger.info({ accounts: accounts.length, disconnected: dropped }, 'broker accounts reloaded');
    },

    setLocalConsumer(consumer) {
      local = consumer;
    },

    stats: () => ({ clients: aedes.connectedClients, ...counts }),

    health() {
      const broken = listeners.filter((l) => l.failed);
      const listening = Object.entries(ports)
        .map(([name, port]) => `${name} :${port}`)
        .join(', ');
      if (closing) return { status: 'down', detail: 'broker stopped' };
      if (broken.length > 0) {
        return {
          status: 'degraded',
          detail: `listener failed: ${broken.map((l) => `${l.name} (${l.failed})`).join('; ')}`,
          ...counts,
        };
      }
      return {
        status: 'ok',
        detail: `${aedes.connectedClients} clients; listening on ${listening}`,
        clients: aedes.connectedClients,
        ...counts,
      };
    },

    close() {
      closing ??= undo().then(() => logger.info('broker stopped'));
      return closing;
    },
  };
}

function payloadBytes(packet: PublishPacket): number {
  const p = packet.payload as Buffer | string | undefined;
  if (p === undefined) return 0;
  return typeof p === 'string' ? Buffer.byteLength(p) : p.length;
}

function payloadBuffer(packet: PublishPacket): Buffer {
  const p = packet.payload as Buffer | string | undefined;
  return p === undefined ? Buffer.alloc(0) : typeof p === 'string' ? Buffer.from(p) : p;
}

function sameAccount(a: BrokerAccount, b: BrokerAccount): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.passwordHash === b.passwordHash &&
    (a.admin ?? false) === (b.admin ?? false) &&
    same(a.publish, b.publish) &&
    same(a.subscribe, b.subscribe)
  );
}

function remoteOf(client: Client): string | undefined {
  return (client.conn as Partial<Socket>).remoteAddress ?? client.req?.socket.remoteAddress;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** A WebSocket endpoint at /mqtt and /; plain HTTP requests get 426. */
function webSocketServer(
  maxFrameBytes: number,
  logger: Logger,
  admit: (stream: Duplex, req: IncomingMessage) => void,
  onOversized: () => void,
): HttpServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('MQTT over WebSocket: connect with a WebSocket client to /mqtt\n');
  });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/mqtt' && path !== '/') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', (err) => {
        // ws refuses a frame over maxPayload before any byte reaches the stream: count it here.
        if (/max payload size exceeded/i.test(err.message)) onOversized();
        logger.debug({ err: err.message }, 'broker WebSocket error');
      });
      admit(stream, req);
    });
  });
  http.on('close', () => wss.close());
  return http;
}

interface Listener {
  name: string;
  server: NetServer;
  /** Set when the server failed after it started listening. */
  failed?: string;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** Wraps a server so that closing it also drops its open connections: the port is free after. */
function track<S extends NetServer>(server: S, name: string): Listener & { server: S } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listener: Listener & { server: S } = {
    name,
    server,
    listen: (host, port) =>
      new Promise<number>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          const why =
            err.code === 'EADDRINUSE'
              ? 'the port is in use'
              : err.code === 'EACCES'
                ? 'permission denied (ports below 1024 need privileges)'
                : err.message;
          reject(new Error(`broker: cannot listen for ${name} on ${host}:${port}: ${why}`, { cause: err }));
        };
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          server.on('error', (err) => {
            listener.failed = err.message;
          });
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  return listener;
}
