import type { Client, PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { Clock } from '../gateway/ports/clock.js';
import { Acl, type BrokerAccount } from './acl.js';
import type { LocalConsumer } from './consumer.js';
import { notKept, Waiters } from './consumer.js';
import { Qos1Readers } from './qos1-readers.js';
import { Settlements } from './settlements.js';
import { DOOR_DEFAULTS, LoginThrottle, ConnectionRate, type DoorLimits, type PacketGuard } from './doors.js';
import { PasswordChecker } from './password.js';
import { ThrottledLog } from '../gateway/ports/log-throttle.js';

// What the broker's hooks share: the accounts in force, who is logged in, the counters, the
// doors' throttles and the in-process consumer. One value, made once per broker, so each hook
// lives in a module of its own and reads the current state when it runs.

/** What the broker counts (its `stats()` besides the clients connected now). */
export interface BrokerCounts {
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

export interface BrokerContext {
  logger: Logger;
  throttled: ThrottledLog;
  /** Replaced whole when the accounts are reloaded. */
  acl: Acl;
  /** Topic filters only the gateway publishes to (see Acl). */
  gatewayOnly: string[];
  passwords: PasswordChecker;
  counts: BrokerCounts;
  limits: Required<DoorLimits>;
  maxPayloadBytes: number;
  rate: ConnectionRate;
  /** Failed logins per address and login (see createContext). */
  loginThrottle: LoginThrottle;
  /** Failed logins per address, whatever the login. */
  addressThrottle: LoginThrottle;
  /** Each connection's packet guard, to open it wider once the CONNECT is accepted. */
  guards: WeakMap<object, PacketGuard>;
  /**
   * Who each client logged in as. Weak: the will of a dropped client is authorised after its
   * socket has closed, so the name must outlive the connection, but not the client object.
   */
  loginOf: WeakMap<Client, BrokerAccount>;
  /** Live clients, for hot reload. Dropped when their socket closes. */
  live: Set<Client>;
  local: LocalConsumer | undefined;
  /** QoS 1 publishes already handed over in authorizePublish, so that `published` does not hand them over again. */
  handedOver: WeakSet<PublishPacket>;
  waiting: Waiters;
  /** What each publisher is owed once the consumer is done with its messages. */
  settlements: Settlements;
  /** Who may read which topics at QoS 1 (see authorize-publish.ts). */
  qos1Readers: Qos1Readers;
  /** Messages of each client handed over while the consumer was congested, and not yet dealt with. */
  owed: WeakMap<Client, number>;
  /** Those of them the client's connection is held for. */
  holds: WeakMap<Client, number>;
}

export function createContext(o: {
  accounts: BrokerAccount[];
  gatewayOnly?: string[];
  maxPayloadBytes: number;
  limits?: DoorLimits;
  logger: Logger;
  clock: Clock;
}): BrokerContext {
  const limits = { ...DOOR_DEFAULTS, ...o.limits };
  const ctx: BrokerContext = {
    logger: o.logger,
    throttled: new ThrottledLog(o.logger, o.clock),
    acl: new Acl(o.accounts, o.gatewayOnly), // throws on bad filters or duplicate logins, before any port is bound
    gatewayOnly: o.gatewayOnly ?? [],
    passwords: new PasswordChecker(),
    counts: {
      refusedLogins: 0,
      refusedPublishes: 0,
      refusedSubscribes: 0,
      oversized: 0,
      notKept: 0,
      cutBeforeLogin: 0,
      refusedConnections: 0,
      throttledLogins: 0,
      protocolErrors: 0,
    },
    limits,
    maxPayloadBytes: o.maxPayloadBytes,
    rate: new ConnectionRate(limits.connectionsPerSecond, limits.connectionBurst, o.clock),
    // Per address and login, a device with a stale password holds off only itself, not the
    // other devices behind the same NAT or bridge; per address with ten times the allowance,
    // guessing many usernames costs no more scrypt checks.
    loginThrottle: new LoginThrottle(limits.failedLoginsPerMinute, o.clock),
    addressThrottle: new LoginThrottle(limits.failedLoginsPerMinute * 10, o.clock),
    guards: new WeakMap(),
    loginOf: new WeakMap(),
    live: new Set(),
    local: undefined,
    handedOver: new WeakSet(),
    waiting: new Waiters(),
    // Set below: it needs the context.
    settlements: undefined as unknown as Settlements,
    qos1Readers: new Qos1Readers(),
    owed: new WeakMap(),
    holds: new WeakMap(),
  };
  ctx.settlements = new Settlements(ctx, (client) => {
    notKept(ctx, client);
    // No PUBACK: the device sends the message again once reconnected.
    client.close();
  });
  return ctx;
}
