import { describe, expect, it } from 'vitest';
import { payloadAt, type Batch } from './thread-protocol.js';
import { BATCH_MAX, Filters, MAX_IN_FLIGHT, Outbox } from './thread-outbox.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

function outbox() {
  const sent: Batch[] = [];
  const box = new Outbox((batch, transfer) => {
    expect(transfer).toEqual([batch.data]);
    sent.push(batch);
  });
  const unpack = (b: Batch) =>
    b.topics.map((topic, i) => ({ topic, qos: b.qos[i], payload: payloadAt(b.data, b.ends, i).toString() }));
  return { box, sent, unpack };
}

describe('Outbox (the broker thread sending to the gateway thread)', () => {
  it('sends the messages of one turn as one batch, payloads end to end, and settles them when answered', async () => {
    const { box, sent, unpack } = outbox();
    let settled = 0;
    void box.add('a/1', Buffer.from('one'), 0).done.then(() => settled++);
    void box.add('a/2', Buffer.alloc(0), 1).done.then(() => settled++);
    void box.add('a/1', Buffer.from('three'), 2).done.then(() => settled++);
    expect(sent).toHaveLength(0);
    expect(box.inFlight).toBe(3);
    await nextTurn();
    expect(sent).toHaveLength(1);
    expect(unpack(sent[0]!)).toEqual([
      { topic: 'a/1', qos: 0, payload: 'one' },
      { topic: 'a/2', qos: 1, payload: '' },
      { topic: 'a/1', qos: 2, payload: 'three' },
    ]);
    expect(sent[0]!.data.byteLength).toBe(8);
    box.answered(sent[0]!.id, 'clear');
    await nextTurn();
    expect(settled).toBe(3);
    expect(box.inFlight).toBe(0);
  });

  it('sends a batch as soon as it holds BATCH_MAX messages, the rest at the end of the turn, in order', async () => {
    const { box, sent, unpack } = outbox();
    const n = BATCH_MAX * 2 + 5;
    for (let i = 0; i < n; i++) void box.add('t', Buffer.from(String(i)), 0);
    expect(sent.map((b) => b.topics.length)).toEqual([BATCH_MAX, BATCH_MAX]);
    await nextTurn();
    expect(sent.map((b) => b.topics.length)).toEqual([BATCH_MAX, BATCH_MAX, 5]);
    expect(sent.flatMap(unpack).map((m) => Number(m.payload))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(new Set(sent.map((b) => b.id)).size).toBe(3);
  });

  it('is congested when the gateway says so, or past MAX_IN_FLIGHT unanswered messages, and not overloaded then', async () => {
    const { box, sent } = outbox();
    for (let i = 0; i <= MAX_IN_FLIGHT; i++) void box.add('t', Buffer.from('x'), 0);
    expect(box.congested).toBe(true);
    await nextTurn();
    box.answered(sent[0]!.id, 'clear');
    expect(box.congested).toBe(false);
    box.answered(sent[1]!.id, 'congested');
    expect(box.congested).toBe(true);
    expect(box.overloaded).toBe(false);
    box.answered(sent[2]!.id, 'clear');
    expect(box.congested).toBe(false);
  });

  it('is overloaded when the gateway says so, or past twice MAX_IN_FLIGHT unanswered messages', async () => {
    const { box, sent } = outbox();
    for (let i = 0; i <= 2 * MAX_IN_FLIGHT; i++) void box.add('t', Buffer.from('x'), 0);
    expect(box.overloaded).toBe(true);
    await nextTurn();
    box.answered(sent[0]!.id, 'overloaded');
    expect(box.inFlight).toBeLessThanOrEqual(2 * MAX_IN_FLIGHT);
    expect(box.overloaded).toBe(true);
    box.answered(sent[1]!.id, 'congested');
    expect([box.congested, box.overloaded]).toEqual([true, false]);
  });

  it('settles everything sent when the broker closes; a late answer changes nothing', async () => {
    const { box, sent } = outbox();
    const done = box.add('t', Buffer.from('x'), 1);
    await nextTurn();
    box.settleAll();
    await done;
    expect(box.inFlight).toBe(0);
    box.answered(sent[0]!.id, 'clear');
    expect(box.inFlight).toBe(0);
  });
});

describe('Filters (what the consumer wants, in the broker thread)', () => {
  it('matches exact topics and MQTT wildcards, as a subscription would', () => {
    const f = new Filters(['dutyroom/s1/+/reading', 'zigbee2mqtt/leak-3', 'vendor/#']);
    expect(f.wants('dutyroom/s1/m1/reading')).toBe(true);
    expect(f.wants('dutyroom/s1/m1/reading')).toBe(true);
    expect(f.wants('dutyroom/s1//reading')).toBe(true);
    expect(f.wants('dutyroom/s1/m1/status')).toBe(false);
    expect(f.wants('dutyroom/s2/m1/reading')).toBe(false);
    expect(f.wants('zigbee2mqtt/leak-3')).toBe(true);
    expect(f.wants('zigbee2mqtt/leak-4')).toBe(false);
    expect(f.wants('vendor')).toBe(true);
    expect(f.wants('vendor/a/b')).toBe(true);
  });
});
