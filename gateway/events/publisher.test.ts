import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../rules/alarms/lifecycle.js';
import type { AlarmView } from '../../rules/alarms/view.js';
import type { EventSite } from '../../rules/events/build.js';
import { busEventSchema, type BusEvent } from '../../rules/events/schema.js';
import { eventTopics } from '../../rules/events/topics.js';
import type { JournalEntry } from '../alarms/journal.js';
import type { IncidentChange } from '../incidents/runtime.js';
import { ManualClock } from '../ports/manual-clock.js';
import { EventPublisher } from './publisher.js';
import type { BusSink } from './sink.js';

const SITE: EventSite = {
  site: 's',
  timeZone: 'Asia/Shanghai',
  place: () => ({ building: 'b1', text: { zh: 'b1', en: 'b1' } }),
  building: (id) => ({ building: id, text: { zh: id, en: id } }),
};
const topics = eventTopics('s');

/** A broker that takes messages while `up`, and answers each publish when told to. */
class FakeSink implements BusSink {
  up = true;
  readonly got: { topic: string; payload: string; retain: boolean }[] = [];
  readonly waiting: { resolve(): void; reject(e: Error): void }[] = [];
  retained: string[] = [];
  manual = false;
  private readonly listeners: (() => void)[] = [];
  publish(topic: string, payload: Buffer, { retain }: { retain: boolean }): Promise<void> {
    this.got.push({ topic, payload: payload.toString(), retain });
    if (!this.manual) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  connected = () => this.up;
  onConnect = (fn: () => void) => void this.listeners.push(fn);
  retainedTopics = () => Promise.resolve(this.retained);
  close = () => Promise.resolve();
  reconnect() {
    this.up = true;
    for (const fn of this.listeners) fn();
  }
  events(): BusEvent[] {
    return this.got.filter((m) => m.topic === topics.events).map((m) => busEventSchema.parse(JSON.parse(m.payload)));
  }
}

function world(limit = 5) {
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
  const alarmListeners: ((e: JournalEntry) => void)[] = [];
  const open = new Map<string, AlarmView>();
  const sink = new FakeSink();
  let seq = 0;
  const publisher = new EventPublisher({
    site: SITE,
    topics,
    sink,
    clock,
    logger: pino({ level: 'silent' }),
    alarms: {
      subscribe: (l) => (alarmListeners.push(l), () => undefined),
      list: () => [...open.values()],
      get: (id) => open.get(id),
    },
    incidents: {
      subscribe: (_l: (c: IncidentChange) => void) => () => undefined,
      list: () => [],
      get: () => {
        throw new Error('none');
      },
      playbook: () => undefined,
    },
    limits: { messages: limit, bytes: 1 << 20 },
    inFlight: 2,
  });
  const change = (type: JournalEntry['type'], alarm: Alarm) => {
    if (alarm.status === 'closed') open.delete(alarm.id);
    else open.set(alarm.id, alarm);
    for (const l of alarmListeners) l({ seq: ++seq, at: clock.now(), type, alarm });
  };
  return { clock, sink, publisher, change };
}

const leak = (status: Alarm['status'], n = 1): Alarm => ({
  id: `water_leak:leak-${n}:1`,
  kind: 'water_leak',
  deviceId: `leak-${n}`,
  severity: 'critical',
  status,
  since: 0,
  evidence: { text: { zh: '湿', en: 'wet' }, readings: [] },
  reopened: 0,
});

describe('the event publisher', () => {
  it('at start says online, publishes the schema and the open alarms, and clears retained states that are no longer open', async () => {
    const w = world();
    w.change('firing', leak('firing'));
    w.sink.retained = [topics.alarm('water_leak:old:1'), topics.alarm(leak('firing').id)];
    w.publisher.start();
    await w.publisher.drained();
    expect(w.sink.got.map((m) => [m.topic, m.retain])).toEqual([
      [topics.status, true],
      [topics.schema, true],
      [topics.alarm(leak('firing').id), true],
      [topics.alarm('water_leak:old:1'), true],
    ]);
    expect(JSON.parse(w.sink.got[0]!.payload)).toMatchObject({ state: 'online', firstSeq: 1 });
    expect(w.sink.got[3]!.payload).toBe('');
  });

  it('publishes each change as an event and a retained state; a closed alarm as an empty retained message', async () => {
    const w = world();
    w.publisher.start();
    await w.publisher.drained();
    w.sink.got.length = 0;
    w.change('pending', leak('pending'));
    w.change('firing', leak('firing'));
    w.change('cleared', leak('cleared'));
    w.change('closed', leak('closed'));
    await w.publisher.drained();
    expect(w.sink.events().map((e) => [e.seq, e.source === 'alarm' && e.change])).toEqual([
      [1, 'firing'],
      [2, 'cleared'],
      [3, 'closed'],
    ]);
    // A state still waiting is replaced by the newer one: the broker's retained message ends empty.
    const state = w.sink.got.filter((m) => m.topic === topics.alarm(leak('firing').id));
    expect(state[0]!.payload && JSON.parse(state[0]!.payload).status).toBe('firing');
    expect(state.at(-1)!.payload).toBe('');
    expect(state.every((m) => m.retain)).toBe(true);
  });

  it('while the bus is down keeps the events in order within its bound, then shows the gap and puts every state back', async () => {
    const w = world(8);
    w.publisher.start();
    await w.publisher.drained();
    w.sink.up = false;
    w.sink.got.length = 0;
    for (let n = 1; n <= 4; n++) {
      w.change('firing', leak('firing', n));
      w.change('cleared', leak('cleared', n));
    }
    // 8 events and 4 states into a bound of 8: the oldest events go.
    expect(w.publisher.stats()).toMatchObject({ queued: 8, droppedEvents: 4, lastSeq: 8 });
    w.sink.reconnect();
    await w.publisher.drained();
    // The state put back (status, schema, 4 alarms) pushes out two more of the events waiting.
    expect(w.sink.events().map((e) => e.seq)).toEqual([7, 8]);
    const states = w.sink.got.filter((m) => m.topic.startsWith('dutyroom/s/alarms/'));
    expect(new Set(states.map((m) => m.topic))).toEqual(
      new Set([1, 2, 3, 4].map((n) => topics.alarm(leak('firing', n).id))),
    );
    expect(states.every((m) => JSON.parse(m.payload).status === 'cleared')).toBe(true);
  });

  it('never has more than its window unacknowledged, and keeps the order', async () => {
    const w = world();
    w.sink.manual = true;
    w.publisher.start();
    expect(w.publisher.stats().inFlight).toBe(2);
    while (w.sink.waiting.length) {
      w.sink.waiting.shift()!.resolve();
      await Promise.resolve();
      expect(w.publisher.stats().inFlight).toBeLessThanOrEqual(2);
    }
    await w.publisher.drained();
    expect(w.sink.got.map((m) => m.topic)).toEqual([topics.status, topics.schema]);
  });

  it('gives up putting the states back when they alone do not fit its bound (no loop)', async () => {
    const w = world(3);
    for (let n = 1; n <= 4; n++) w.change('firing', leak('firing', n));
    w.publisher.start();
    await w.publisher.drained();
    expect(w.publisher.stats().droppedStates).toBeGreaterThan(0);
    expect(w.sink.got.length).toBeLessThan(10);
  });

  it('says offline when it stops', async () => {
    const w = world();
    w.publisher.start();
    await w.publisher.stop();
    expect(JSON.parse(w.sink.got.at(-1)!.payload)).toMatchObject({ state: 'offline' });
  });
});
