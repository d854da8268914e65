import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LocalConsumer } from './consumer.js';
import { Inbox, SLICE } from './thread-inbox.js';
import { packPayloads, type Batch, type ToWorker } from './thread-protocol.js';

let nextId = 1;
function batch(messages: [topic: string, payload: string][]): Batch {
  const payloads = messages.map(([, p]) => Buffer.from(p));
  const { data, ends } = packPayloads(
    payloads,
    payloads.reduce((n, p) => n + p.length, 0),
  );
  return {
    type: 'batch',
    id: nextId++,
    topics: messages.map(([t]) => t),
    qos: new Uint8Array(messages.length).fill(1),
    ends,
    data,
  };
}

/** A consumer that records what it is handed and settles each message when the test says. */
function consumer() {
  const handed: { topic: string; payload: string; settle: (kept: boolean) => void }[] = [];
  const c: LocalConsumer = {
    subscriptions: ['#'],
    wants: () => true,
    deliver(topic, payload) {
      let settle!: (kept: boolean) => void;
      const done = new Promise<boolean>((r) => (settle = r));
      handed.push({ topic, payload: payload.toString(), settle });
      return { done, index: 0 };
    },
    notKept: (value) => value === false,
  };
  return { c, handed };
}

/** An inbox whose turns of the event loop the test runs one by one. */
function inbox() {
  const turns: (() => void)[] = [];
  const box = new Inbox((fn) => turns.push(fn));
  const answers: Extract<ToWorker, { type: 'done' }>[] = [];
  const tell = (m: ToWorker) => void (m.type === 'done' && answers.push(m));
  const turn = () => turns.shift()?.();
  return { box, tell, answers, turns, turn };
}

const settled = () => new Promise((r) => setImmediate(r));

describe('Inbox: the gateway thread takes the broker thread’s batches', () => {
  it('a device’s messages wait only behind its own: a quiet sensor’s message goes before a flood’s backlog', async () => {
    const { box, tell, answers, turns, turn } = inbox();
    const { c, handed } = consumer();
    box.consumer = c;
    const flood = Array.from({ length: 1000 }, (_, k) => [`meter/${k % 10}`, `r${k}`] as [string, string]);
    box.deliver(batch(flood), tell);
    // The first message of each meter and then the rest of the first slice at once; the rest waits.
    expect(handed).toHaveLength(SLICE);
    expect(box.backlog).toBe(1000 - SLICE);
    box.deliver(
      batch([
        ['meter/3', 'late'],
        ['leak/1', 'wet'],
      ]),
      tell,
    );
    // The sensor had nothing waiting: handed over on arrival. The meter's message waits behind its own.
    expect(handed.at(-1)).toMatchObject({ topic: 'leak/1', payload: 'wet' });
    expect(handed.some((h) => h.payload === 'late')).toBe(false);
    expect(turns).toHaveLength(1);
    turn();
    expect(handed).toHaveLength(2 * SLICE + 1);
    while (turns.length) turn();
    expect(handed).toHaveLength(1002);
    expect(handed.filter((h) => h.topic === 'meter/3').at(-1)!.payload).toBe('late');
    // The second batch is answered after the first even though its messages settle first.
    handed.filter((h) => h.topic !== 'meter/0').forEach((h) => h.settle(true));
    await settled();
    expect(answers).toEqual([]);
    handed.filter((h) => h.topic === 'meter/0').forEach((h) => h.settle(true));
    await settled();
    expect(answers.map((a) => a.id)).toEqual([nextId - 2, nextId - 1]);
  });

  it('answers at once when nobody consumes', () => {
    const { box, tell, answers } = inbox();
    box.deliver(batch([['a', '1']]), tell);
    expect(answers).toHaveLength(1);
    expect(answers[0]).not.toHaveProperty('notKept');
  });

  it('in any order of batches and settlements: every message handed over once, each topic in order, batches answered once, in order, naming what was not kept', async () => {
    const message = fc.tuple(fc.constantFrom('a', 'b', 'c', 'leak'), fc.boolean());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(message, { minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 400 }),
        async (batches, turnsBetween, settleOrder) => {
          const { box, tell, answers, turns, turn } = inbox();
          const { c, handed } = consumer();
          box.consumer = c;
          const sent: { id: number; messages: [string, string, boolean][] }[] = [];
          let serial = 0;
          batches.forEach((ms, b) => {
            const messages = ms.map(([t, kept]) => [t, `${t}#${serial++}`, kept] as [string, string, boolean]);
            const bt = batch(messages.map(([t, p]) => [t, p]));
            sent.push({ id: bt.id, messages });
            box.deliver(bt, tell);
            for (let k = 0; k < (turnsBetween[b] ?? 0) % 3; k++) turn();
          });
          while (turns.length) turn();
          // Once each.
          const all = sent.flatMap((s) => s.messages.map(([, p]) => p));
          expect(handed.map((h) => h.payload).sort()).toEqual([...all].sort());
          // Each topic in the order it came.
          for (const t of ['a', 'b', 'c', 'leak'])
            expect(handed.filter((h) => h.topic === t).map((h) => h.payload)).toEqual(
              sent.flatMap((s) => s.messages.filter(([topic]) => topic === t).map(([, p]) => p)),
            );
          // Settled in a random order.
          const keptOf = new Map(sent.flatMap((s) => s.messages.map(([, p, kept]) => [p, kept] as const)));
          const order = handed.map((_, i) => i);
          for (let i = order.length - 1; i > 0; i--) {
            const j = (settleOrder[i] ?? i) % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          for (const i of order) handed[i]!.settle(keptOf.get(handed[i]!.payload)!);
          await settled();
          expect(answers.map((a) => a.id)).toEqual(sent.map((s) => s.id));
          answers.forEach((a, k) => {
            const notKept = sent[k]!.messages.flatMap(([, , kept], i) => (kept ? [] : [i]));
            expect([...(a.notKept ?? [])].sort((x, y) => x - y)).toEqual(notKept);
          });
          expect(box.backlog).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
