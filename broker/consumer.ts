import type { Client } from 'aedes';
import type { BrokerContext } from './context.js';
import { HELD, OWED } from './settlements.js';

// The in-process consumer (README: In-process consumer, Acknowledgements, Backpressure): what
// it is, and how the broker waits for it before acknowledging or reading on.

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
   * True while the consumer is behind. The broker then stops reading a publisher's connection
   * that has more than LIGHT_PUBLISHER_MAX messages the consumer is still dealing with, until
   * they settle, so that a flood waits in TCP buffers (the publisher slows down) instead of in
   * memory. A light publisher (a leak sensor, a quiet bridge) is read on: its alarm does not
   * wait behind the flood's fsync.
   */
  congested?(): boolean;
  /** True while the consumer is so far behind that every publisher is held, light ones too. */
  overloaded?(): boolean;
}

/**
 * Messages a publisher may have with a congested consumer before its connection is held:
 * one connection's share of a turn of traffic when it sends an event now and then, far below
 * what a flooding connection has.
 */
export const LIGHT_PUBLISHER_MAX = 8;

/** A message handed to the consumer: settles once the consumer is done with it and the others of its batch. */
export interface Handover {
  done: PromiseLike<unknown>;
  /** Its place among the messages `done` settles for (see LocalConsumer.notKept). */
  index: number;
}

/**
 * Callbacks waiting for promises, with one reaction per distinct promise: the consumer's
 * readings of one turn of the event loop share one promise, and at tens of thousands of
 * messages a second a reaction (two closures and a job) per message showed in the profile.
 */
export class Waiters {
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

/** A QoS 1/2 message the consumer could not keep: counted and said, not acknowledged. */
export function notKept(ctx: BrokerContext, client: Client | null, topic?: string): void {
  ctx.counts.notKept++;
  const username = client ? ctx.loginOf.get(client)?.username : undefined;
  ctx.throttled.warn(
    `not_kept:${username ?? ''}`,
    { username, clientId: client?.id, topic, notKept: ctx.counts.notKept },
    'broker: a message the gateway cannot keep now (storage full or failing) is not acknowledged; the connection is closed so the device sends it again',
  );
}

/**
 * While the consumer is congested, a publisher with more than LIGHT_PUBLISHER_MAX messages it
 * is still dealing with (every publisher, while it is overloaded) is not read until they are
 * dealt with. Returns the message's OWED and HELD flags, for `ctx.settlements` to undo once
 * its handover settles (0: nothing to undo).
 */
export function holdBack(ctx: BrokerContext, consumer: LocalConsumer, client: Client): number {
  if (!consumer.congested?.()) return 0;
  const owed = (ctx.owed.get(client) ?? 0) + 1;
  ctx.owed.set(client, owed);
  if (owed <= LIGHT_PUBLISHER_MAX && consumer.overloaded?.() !== true) return OWED;
  // aedes's Client has pause()/resume() (it stops reading the socket) but does not declare
  // them in its types; gateway/adapters/mqtt/adapter.test.ts and broker/local.test.ts fail
  // should they ever go. While paused, aedes drops the "packet done" counts of packets that
  // finish (a PINGREQ, an unwanted topic): settlements.ts resets its batch counter before
  // resuming, or the connection would never be read again.
  const count = ctx.holds.get(client) ?? 0;
  if (count === 0) (client as Client & { pause(): void }).pause();
  ctx.holds.set(client, count + 1);
  return OWED | HELD;
}
