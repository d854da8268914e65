// What waits to go on the bus: bounded in messages and bytes, in the order it came. The alarm
// path only ever adds here and never waits for the bus.
//
// - A retained state replaces the one still waiting for the same topic (only the latest
//   state of an alarm matters), so the states waiting are at most one per open alarm.
// - Over a bound, the oldest event goes first (the stream's sequence numbers then show the
//   gap); only when no event is left, the oldest state, and `stateLost` asks the publisher to
//   publish every state again (it does that on every reconnect anyway).

export interface OutMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface OutboxLimits {
  messages: number;
  bytes: number;
}

interface Entry {
  m: OutMessage;
  dead: boolean;
}

export class Outbox {
  private queue: Entry[] = [];
  private head = 0;
  /** The event (not retained) entries, oldest first: what goes first over a bound. */
  private events: Entry[] = [];
  private eventsHead = 0;
  private readonly retained = new Map<string, Entry>();
  private count = 0;
  private size = 0;
  /** Messages dropped over a bound: events (a gap in the sequence) and states (published again later). */
  readonly dropped = { events: 0, states: 0 };
  /** A state was dropped: every state must be published again. */
  stateLost = false;

  constructor(private readonly limits: OutboxLimits) {}

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.size;
  }

  push(m: OutMessage): void {
    const e: Entry = { m, dead: false };
    if (m.retain) {
      const old = this.retained.get(m.topic);
      if (old) this.kill(old);
      this.retained.set(m.topic, e);
    } else this.events.push(e);
    this.queue.push(e);
    this.count++;
    this.size += bytesOf(m);
    while (this.count > 0 && (this.count > this.limits.messages || this.size > this.limits.bytes)) this.evict();
  }

  /** The oldest message, taken out. */
  shift(): OutMessage | undefined {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head++]!;
      if (e.dead) continue;
      this.kill(e);
      this.compact();
      return e.m;
    }
    this.compact();
    return undefined;
  }

  private evict(): void {
    while (this.eventsHead < this.events.length) {
      const e = this.events[this.eventsHead++]!;
      if (e.dead) continue;
      this.kill(e);
      this.dropped.events++;
      return;
    }
    // No event left: the oldest state goes, and every state is published again later.
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.dead) continue;
      this.kill(e);
      this.dropped.states++;
      this.stateLost = true;
      return;
    }
  }

  private kill(e: Entry): void {
    e.dead = true;
    this.count--;
    this.size -= bytesOf(e.m);
    if (e.m.retain && this.retained.get(e.m.topic) === e) this.retained.delete(e.m.topic);
  }

  /** Drops the spent front of the arrays now and then (amortised O(1)). */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    while (this.eventsHead < this.events.length && this.events[this.eventsHead]!.dead) this.eventsHead++;
    if (this.eventsHead > 1024 && this.eventsHead * 2 > this.events.length) {
      this.events = this.events.slice(this.eventsHead);
      this.eventsHead = 0;
    }
  }
}

const bytesOf = (m: OutMessage) => m.payload.length + m.topic.length;
