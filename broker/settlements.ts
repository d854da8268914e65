import type { Client } from 'aedes';
import type { BrokerContext } from './context.js';
import type { LocalConsumer } from './consumer.js';

// What the broker owes each publisher once the consumer is done with a handover: its PUBACKs,
// and reading its connection again. Kept per handover promise (the consumer's readings of one
// batch share one), in arrays, so that a message waiting for its fsync holds three numbers and
// a reference in the broker's heap instead of aedes's packet, callbacks and a closure of ours:
// at tens of thousands of QoS 1 messages a second those outlived every scavenge, and
// collecting them was a third of the broker thread's time (bench/README.md, QoS 1).

/** The message counts towards its client's `owed` (the consumer was congested when it came). */
export const OWED = 1;
/** Its client's connection is held until it is dealt with. */
export const HELD = 2;
/** A QoS 1 message aedes did not acknowledge: the PUBACK is written here once it is kept. */
export const PUBACK = 4;

interface Group {
  consumer: LocalConsumer;
  clients: Client[];
  /** OWED | HELD | PUBACK, per message. */
  flags: number[];
  /** Its place in the handover (LocalConsumer.notKept). */
  indices: number[];
  /** The PUBLISH's packet id (PUBACK messages only; 0 for the others). */
  ids: number[];
}

/** The part of an aedes client holding a connection needs (not in aedes's types: see consumer.ts holdBack). */
interface Holdable {
  pause(): void;
  resume(): void;
  _parsingBatch: number;
}

interface Connection {
  destroyed?: boolean;
  write(chunk: Buffer): boolean;
}

export class Settlements {
  private readonly groups = new Map<PromiseLike<unknown>, Group>();

  constructor(
    private readonly ctx: BrokerContext,
    private readonly onNotKept: (client: Client) => void,
  ) {}

  /** Remembers a message of `pending`; `id` is its packet id when the PUBACK is owed here. */
  add(
    consumer: LocalConsumer,
    pending: PromiseLike<unknown>,
    client: Client,
    flags: number,
    index: number,
    id = 0,
  ): void {
    let g = this.groups.get(pending);
    if (!g) {
      const group: Group = { consumer, clients: [], flags: [], indices: [], ids: [] };
      this.groups.set(pending, group);
      pending.then(
        (value) => this.settle(pending, group, value),
        () => this.settle(pending, group, undefined),
      );
      g = group;
    }
    g.clients.push(client);
    g.flags.push(flags);
    g.indices.push(index);
    g.ids.push(id);
  }

  private settle(pending: PromiseLike<unknown>, g: Group, value: unknown): void {
    this.groups.delete(pending);
    const acks = new Map<Client, number[]>();
    const resume: Client[] = [];
    for (let i = 0; i < g.clients.length; i++) {
      const client = g.clients[i]!;
      const flags = g.flags[i]!;
      if (flags & OWED) {
        const owed = this.ctx.owed.get(client)! - 1;
        if (owed > 0) this.ctx.owed.set(client, owed);
        else this.ctx.owed.delete(client);
      }
      if (flags & HELD) {
        const left = this.ctx.holds.get(client)! - 1;
        if (left > 0) this.ctx.holds.set(client, left);
        else {
          this.ctx.holds.delete(client);
          resume.push(client);
        }
      }
      if (flags & PUBACK) {
        if (g.consumer.notKept(value, g.indices[i]!)) this.onNotKept(client);
        else {
          const list = acks.get(client);
          if (list) list.push(g.ids[i]!);
          else acks.set(client, [g.ids[i]!]);
        }
      }
    }
    // One write per connection, before it is read again.
    for (const [client, ids] of acks) writePubacks(client, ids);
    for (const client of resume) {
      // While paused aedes drops the "packet done" counts of packets that finish: its batch
      // counter is reset, or the connection would never be read again (consumer.ts holdBack).
      const held = client as Client & Holdable;
      held._parsingBatch = 0;
      held.resume();
    }
  }
}

/**
 * MQTT 3.1.1 PUBACKs (4 bytes each: type 4, remaining length 2, the packet id) in one write.
 * A client that went meanwhile gets none: the device sends the messages again.
 */
export function writePubacks(client: Client, ids: readonly number[]): void {
  const conn = client.conn as unknown as Connection;
  if (!client.connected || client.closed || conn.destroyed) return;
  const bytes = Buffer.allocUnsafe(4 * ids.length);
  for (let i = 0; i < ids.length; i++) {
    bytes[4 * i] = 0x40;
    bytes[4 * i + 1] = 2;
    bytes.writeUInt16BE(ids[i]!, 4 * i + 2);
  }
  conn.write(bytes);
}
