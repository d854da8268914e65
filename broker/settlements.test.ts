import type { Client } from 'aedes';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../gateway/ports/manual-clock.js';
import { holdBack, LIGHT_PUBLISHER_MAX, type LocalConsumer } from './consumer.js';
import { createContext, type BrokerContext } from './context.js';
import { Qos1Readers } from './qos1-readers.js';
import { PUBACK } from './settlements.js';

// Settlements: the PUBACKs the broker writes itself (a QoS 1 message nobody reads at QoS 1)
// and the connections it holds, once the consumer is done with a handover. Fake aedes clients
// here (a connection that records what is written to it); broker/local.test.ts runs the same
// through a real aedes and real MQTT clients.

interface FakeClient {
  id: string;
  connected: boolean;
  closed: boolean;
  paused: boolean;
  resumes: number;
  _parsingBatch: number;
  written: Buffer[];
  conn: { destroyed: boolean; write(b: Buffer): boolean };
  pause(): void;
  resume(): void;
  close(): void;
}

function fakeClient(id: string): FakeClient {
  const c: FakeClient = {
    id,
    connected: true,
    closed: false,
    paused: false,
    resumes: 0,
    _parsingBatch: 3,
    written: [],
    conn: { destroyed: false, write: (b) => (c.written.push(Buffer.from(b)), true) },
    pause: () => void (c.paused = true),
    resume: () => {
      c.paused = false;
      c.resumes++;
    },
    close: () => {
      c.connected = false;
      c.closed = true;
      c.conn.destroyed = true;
    },
  };
  return c;
}

/** The packet ids in what was written to a client: PUBACKs only, 4 bytes each. */
function pubacks(c: FakeClient): number[] {
  const all = Buffer.concat(c.written);
  const ids: number[] = [];
  for (let i = 0; i < all.length; i += 4) {
    expect([all[i], all[i + 1]]).toEqual([0x40, 2]);
    ids.push(all.readUInt16BE(i + 2));
  }
  return ids;
}

function context(): BrokerContext {
  return createContext({
    accounts: [],
    maxPayloadBytes: 1024,
    logger: pino({ level: 'silent' }),
    clock: new ManualClock(0),
  });
}

/** A consumer whose handovers settle with the set of indices not kept. */
function consumer(state: { congested: boolean; overloaded: boolean }): LocalConsumer {
  return {
    subscriptions: [],
    wants: () => true,
    deliver: () => undefined,
    notKept: (value, index) => value instanceof Set && value.has(index),
    congested: () => state.congested,
    overloaded: () => state.overloaded,
  };
}

function handover() {
  let settle!: (notKept: Set<number> | undefined) => void;
  const done = new Promise<Set<number> | undefined>((r) => (settle = r));
  return { done, settle };
}

const settled = () => new Promise((r) => setImmediate(r));

/** Clients a and b with three QoS 1 messages in one handover (a, b, a), packet ids as given. */
function aBa(ids: [number, number, number]) {
  const ctx = context();
  const c = consumer({ congested: false, overloaded: false });
  const [a, b] = [fakeClient('a'), fakeClient('b')];
  const h = handover();
  [a, b, a].forEach((client, i) => ctx.settlements.add(c, h.done, client as unknown as Client, PUBACK, i, ids[i]));
  return { ctx, a, b, h };
}

describe('Settlements', () => {
  it('writes the PUBACKs of a settled handover in one write per connection, in the order the messages came', async () => {
    const { a, b, h } = aBa([7, 1, 65535]);
    await settled();
    expect(a.written).toEqual([]);
    h.settle(undefined);
    await settled();
    expect(a.written).toHaveLength(1);
    expect(pubacks(a)).toEqual([7, 65535]);
    expect(pubacks(b)).toEqual([1]);
  });

  it('never acknowledges a message that was not kept: its connection is closed and counted; the others of the handover are acknowledged', async () => {
    const { ctx, a, b, h } = aBa([1, 2, 3]);
    h.settle(new Set([0]));
    await settled();
    expect(a.closed).toBe(true);
    expect(pubacks(a)).toEqual([]);
    expect(pubacks(b)).toEqual([2]);
    expect(ctx.counts.notKept).toBe(1);
  });

  it('writes nothing to a client that went before its messages were kept (the device sends them again)', async () => {
    const ctx = context();
    const c = consumer({ congested: false, overloaded: false });
    const a = fakeClient('a');
    const h = handover();
    ctx.settlements.add(c, h.done, a as unknown as Client, PUBACK, 0, 1);
    a.close();
    h.settle(undefined);
    await settled();
    expect(a.written).toEqual([]);
  });

  it('reads a held connection again once its last held message is dealt with, after writing its PUBACKs', async () => {
    const ctx = context();
    const state = { congested: true, overloaded: false };
    const c = consumer(state);
    const a = fakeClient('a');
    const handovers = [handover(), handover()];
    let order: string[] = [];
    a.conn.write = (bytes) => (order.push(`ack ${bytes.readUInt16BE(2)}`), true);
    a.resume = () => void order.push('resume');
    for (let i = 0; i < LIGHT_PUBLISHER_MAX + 2; i++) {
      const h = handovers[i <= LIGHT_PUBLISHER_MAX ? 0 : 1]!;
      const flags = holdBack(ctx, c, a as unknown as Client);
      ctx.settlements.add(c, h.done, a as unknown as Client, flags | PUBACK, i, i + 1);
    }
    expect(a.paused).toBe(true);
    expect(ctx.holds.get(a as unknown as Client)).toBe(2);
    handovers[0]!.settle(undefined);
    await settled();
    expect(order).toEqual(['ack 1']);
    expect(ctx.holds.get(a as unknown as Client)).toBe(1);
    order = [];
    handovers[1]!.settle(undefined);
    await settled();
    expect(order).toEqual(['ack 10', 'resume']);
    expect(a._parsingBatch).toBe(0);
    expect(ctx.owed.has(a as unknown as Client)).toBe(false);
    expect(ctx.holds.has(a as unknown as Client)).toBe(false);
  });

  it('in any order of messages, answers, congestion and disconnects: acknowledges each kept message of a connected client once, in order, never one not kept, and lets every held connection go', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('message' as const), client: fc.nat(3), group: fc.nat(3) }),
      fc.record({
        kind: fc.constant('settle' as const),
        group: fc.nat(3),
        notKept: fc.array(fc.nat(30), { maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('congestion' as const), congested: fc.boolean(), overloaded: fc.boolean() }),
      fc.record({ kind: fc.constant('disconnect' as const), client: fc.nat(3) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const ctx = context();
        const state = { congested: false, overloaded: false };
        const c = consumer(state);
        const clients = [0, 1, 2, 3].map((i) => fakeClient(`c${i}`));
        // Open handovers by slot; a settled slot starts a new one.
        const open = new Map<number, { h: ReturnType<typeof handover>; messages: { client: number; id: number }[] }>();
        const expected = clients.map(() => [] as number[]);
        const mustClose = new Set<number>();
        let nextId = 1;
        for (const o of ops) {
          if (o.kind === 'message') {
            let g = open.get(o.group);
            if (!g) open.set(o.group, (g = { h: handover(), messages: [] }));
            const client = clients[o.client]!;
            const id = nextId++;
            const flags = holdBack(ctx, c, client as unknown as Client);
            ctx.settlements.add(c, g.h.done, client as unknown as Client, flags | PUBACK, g.messages.length, id);
            g.messages.push({ client: o.client, id });
          } else if (o.kind === 'settle') {
            const g = open.get(o.group);
            if (!g) continue;
            open.delete(o.group);
            const notKept = new Set(o.notKept.filter((i) => i < g.messages.length));
            g.h.settle(notKept.size ? notKept : undefined);
            await settled();
            g.messages.forEach((m, i) => {
              if (notKept.has(i)) mustClose.add(m.client);
              else if (clients[m.client]!.connected) expected[m.client]!.push(m.id);
            });
          } else if (o.kind === 'congestion') {
            state.congested = o.congested;
            state.overloaded = o.overloaded;
          } else clients[o.client]!.close();
        }
        for (const [, g] of open) {
          g.h.settle(undefined);
          await settled();
          for (const m of g.messages) if (clients[m.client]!.connected) expected[m.client]!.push(m.id);
        }
        clients.forEach((client, i) => {
          expect(pubacks(client), `PUBACKs of ${client.id}`).toEqual(expected[i]);
          if (mustClose.has(i)) expect(client.closed).toBe(true);
          // Everything is dealt with: nothing owed, nothing held, no connection left paused.
          expect(ctx.owed.has(client as unknown as Client)).toBe(false);
          expect(ctx.holds.has(client as unknown as Client)).toBe(false);
          expect(client.paused).toBe(false);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('Qos1Readers', () => {
  it('knows a topic is read at QoS 1 once a subscription covering it is granted at QoS 1 or 2, shared ones too, and forgets none', () => {
    const readers = new Qos1Readers();
    expect(readers.reads('dutyroom/s1/m1/reading')).toBe(false);
    readers.granted('dutyroom/#', 0);
    expect(readers.reads('dutyroom/s1/m1/reading')).toBe(false);
    readers.granted('dutyroom/s1/+/status', 1);
    expect(readers.reads('dutyroom/s1/m1/reading')).toBe(false);
    expect(readers.reads('dutyroom/s1/m1/status')).toBe(true);
    readers.granted('$share/hq/dutyroom/s1/+/reading', 2);
    expect(readers.reads('dutyroom/s1/m1/reading')).toBe(true);
    expect(readers.reads('dutyroom/s2/m1/reading')).toBe(false);
  });
});
