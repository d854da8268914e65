import type { Clock, Timers } from '../../ports/clock.js';

// Request timeouts without a timer per request: the requests on the wire of one line keep
// their deadlines here, and one timer, armed for the earliest, expires those past due and is
// armed again for the next. A request that is answered only leaves the set: the timer is left
// to fire (and find nothing due) rather than cleared and set again for every request, so a
// line answering 150 requests a second sets about one timer per timeout period, not 150.

export interface Deadline {
  readonly at: number;
}

interface Entry extends Deadline {
  expire: () => void;
}

export class Deadlines {
  private readonly entries = new Set<Entry>();
  private handle: unknown;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
  ) {}

  /** `expire` runs once `ms` have passed, unless `remove` came first. */
  add(ms: number, expire: () => void): Deadline {
    const entry: Entry = { at: this.clock.now() + ms, expire };
    this.entries.add(entry);
    if (entry.at < this.armedAt) this.arm(entry.at);
    return entry;
  }

  remove(deadline: Deadline): void {
    this.entries.delete(deadline as Entry);
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every deadline without expiring it, and the timer. */
  clear(): void {
    this.entries.clear();
    this.disarm();
  }

  private arm(at: number): void {
    this.disarm();
    this.armedAt = at;
    this.handle = this.timers.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private disarm(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.entries) {
      if (entry.at <= now) due.push(entry);
      else next = Math.min(next, entry.at);
    }
    for (const entry of due) this.entries.delete(entry);
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
    for (const entry of due) entry.expire();
  }
}
