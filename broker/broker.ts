import { Aedes } from 'aedes';
import { pino, type Logger } from 'pino';
import { realTime, type Clock } from '../gateway/ports/clock.js';
import type { BrokerAccount } from './acl.js';
import { reloadAccounts } from './accounts.js';
import { authenticate } from './authenticate.js';
import { authorizePublish } from './authorize-publish.js';
import { authorizeSubscribe } from './authorize-subscribe.js';
import { admitter, countProtocolErrors } from './connections.js';
import type { LocalConsumer } from './consumer.js';
import { createContext, type BrokerCounts } from './context.js';
import type { DoorLimits } from './doors.js';
import { brokerHealth } from './health.js';
import { openListeners, urlHost, type Listener, type Ports } from './listeners.js';
import { published } from './published.js';
import type { ComponentHealth } from './types.js';

// startBroker wires the broker's parts: the shared context (context.ts), aedes with its hooks
// (authenticate.ts, authorize-publish.ts, authorize-subscribe.ts, published.ts), the doors
// (connections.ts, doors.ts) and the listeners (listeners.ts).

export type { BrokerAccount } from './acl.js';
export type { Handover, LocalConsumer } from './consumer.js';

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
  /** Topic filters no login may publish to: the gateway's own (it publishes there with `publish`). */
  gatewayOnly?: string[];
  /** Publishes with a larger payload are refused. */
  maxPayloadBytes: number;
  /** The doors before login: packet size, connect timeout, connection rate and cap, failed logins (see doors.ts). */
  limits?: DoorLimits;
  logger?: Logger;
  /**
   * What the doors' throttles and the warning throttle read the time from (default: the real
   * clock). A broker thread always runs on the real clock: a clock cannot cross to a worker.
   */
  clock?: Clock;
}

export interface BrokerStats extends BrokerCounts {
  /** Clients connected now. */
  clients: number;
}

export interface RunningBroker {
  aedes: Aedes;
  /** The ports actually bound (useful when 0 was asked for). */
  ports: Ports;
  /** mqtt://host:port of the TCP listener. */
  url: string;
  /** Swap the accounts in place; clients whose account is gone or changed are disconnected. */
  setAccounts(accounts: BrokerAccount[]): void;
  /** Hands wanted publishes to an in-process consumer (one at a time; undefined removes it). */
  setLocalConsumer(consumer: LocalConsumer | undefined): void;
  /**
   * Publishes from the broker itself at QoS 1, past the topic rules (the gateway's alarm and
   * incident events): a retained one is kept for new subscribers, an empty retained one clears it.
   */
  publish(topic: string, payload: Buffer, opts: { retain: boolean }): Promise<void>;
  stats(): BrokerStats;
  health(): ComponentHealth;
  /** Stops the listeners, drops every client, closes aedes; resolves once the ports are free. */
  close(): Promise<void>;
}

/** Start the embedded broker on its listeners. Rejects (with everything undone) if a port is taken. */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  if (!Number.isInteger(opts.maxPayloadBytes) || opts.maxPayloadBytes <= 0) {
    throw new Error(`broker: maxPayloadBytes must be a positive whole number of bytes, got ${opts.maxPayloadBytes}`);
  }
  const logger = opts.logger ?? pino({ enabled: false });
  const ctx = createContext({ ...opts, logger, clock: opts.clock ?? realTime });
  const aedes = await Aedes.createBroker({
    connectTimeout: ctx.limits.connectTimeoutMs,
    authenticate: authenticate(ctx),
    authorizePublish: authorizePublish(ctx),
    authorizeSubscribe: authorizeSubscribe(ctx),
    published: published(ctx),
  });
  countProtocolErrors(ctx, aedes);

  const listeners: Listener[] = [];
  const undo = async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };
  let ports: Ports;
  try {
    ports = await openListeners(opts, ctx, admitter(ctx, aedes), listeners);
  } catch (err) {
    await undo();
    throw err;
  }
  logger.info({ ...ports, host: opts.host, accounts: opts.accounts.length }, 'broker listening');

  let closing: Promise<void> | undefined;
  return {
    aedes,
    ports,
    url: `mqtt://${urlHost(opts.host)}:${ports.mqtt}`,
    setAccounts: (accounts) => reloadAccounts(ctx, accounts),
    setLocalConsumer(consumer) {
      ctx.local = consumer;
    },
    publish: (topic, payload, { retain }) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
    stats: () => ({ clients: aedes.connectedClients, ...ctx.counts }),
    health: () => brokerHealth(aedes, listeners, ports, ctx.counts, closing !== undefined),
    close() {
      closing ??= undo().then(() => logger.info('broker stopped'));
      return closing;
    },
  };
}
