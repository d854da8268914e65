import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutMessage } from './outbox.js';

const ev = (n: number): OutMessage => ({
  topic: 'dutyroom/s/events',
  payload: Buffer.from(`{"seq":${n}}`),
  retain: false,
});
const st = (id: string, v: string): OutMessage => ({
  topic: `dutyroom/s/alarms/${id}`,
  payload: Buffer.from(v),
  retain: true,
});
const drain = (o: Outbox) => {
  const out: OutMessage[] = [];
  for (let m = o.shift(); m; m = o.shift()) out.push(m);
  return out;
};

describe('the events outbox', () => {
  it('keeps the order messages came in', () => {
    const o = new Outbox({ messages: 100, bytes: 1 << 20 });
    o.push(ev(1));
    o.push(st('a', 'x'));
    o.push(ev(2));
    expect(drain(o).map((m) => m.payload.toString())).toEqual(['{"seq":1}', 'x', '{"seq":2}']);
    expect(o.length).toBe(0);
    expect(o.bytes).toBe(0);
  });

  it("keeps only an alarm's latest state, in the place of the newest", () => {
    const o = new Outbox({ messages: 100, bytes: 1 << 20 });
    o.push(st('a', 'firing'));
    o.push(ev(1));
    o.push(st('a', 'cleared'));
    expect(drain(o).map((m) => m.payload.toString())).toEqual(['{"seq":1}', 'cleared']);
  });

  it('drops the oldest events first over its bound, and counts them', () => {
    const o = new Outbox({ messages: 3, bytes: 1 << 20 });
    o.push(st('a', 'firing'));
    for (let i = 1; i <= 5; i++) o.push(ev(i));
    expect(o.dropped).toEqual({ events: 3, states: 0 });
    expect(drain(o).map((m) => m.payload.toString())).toEqual(['firing', '{"seq":4}', '{"seq":5}']);
    expect(o.stateLost).toBe(false);
  });

  it('drops a state only when no event is left, and asks for every state again', () => {
    const o = new Outbox({ messages: 2, bytes: 1 << 20 });
    o.push(st('a', '1'));
    o.push(st('b', '2'));
    o.push(st('c', '3'));
    expect(o.dropped).toEqual({ events: 0, states: 1 });
    expect(o.stateLost).toBe(true);
    expect(drain(o).map((m) => m.topic)).toEqual(['dutyroom/s/alarms/b', 'dutyroom/s/alarms/c']);
  });

  it('holds no more than its bounds, keeps what it holds in order, and loses only what it counts', () => {
    const msg = fc.oneof(
      fc.record({ kind: fc.constant('event' as const), size: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ kind: fc.constant('state' as const), id: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('shift' as const) }),
    );
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (ops, maxMessages) => {
        const o = new Outbox({ messages: maxMessages, bytes: 2000 });
        let seq = 0;
        const sent: number[] = [];
        let pushedEvents = 0;
        for (const op of ops) {
          if (op.kind === 'shift') {
            const m = o.shift();
            if (m && !m.retain)
              sent.push(Number(JSON.parse(m.payload.toString().slice(0, m.payload.indexOf('}') + 1)).seq));
          } else if (op.kind === 'event') {
            pushedEvents++;
            o.push({ topic: 'e', payload: Buffer.from(`{"seq":${++seq}}${' '.repeat(op.size)}`), retain: false });
          } else o.push(st(String(op.id), 'x'));
          expect(o.length).toBeLessThanOrEqual(maxMessages);
          expect(o.bytes).toBeLessThanOrEqual(2000);
        }
        for (let m = o.shift(); m; m = o.shift())
          if (!m.retain) sent.push(Number(JSON.parse(m.payload.toString().slice(0, m.payload.indexOf('}') + 1)).seq));
        // Events come out in order, and every one either came out or was counted as dropped.
        expect(sent).toEqual([...sent].sort((a, b) => a - b));
        expect(sent.length + o.dropped.events).toBe(pushedEvents);
      }),
    );
  });
});
