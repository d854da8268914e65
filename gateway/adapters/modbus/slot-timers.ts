import type { Clock, Timers } from '../../ports/clock.js';

// Timers that fall due in the same millisecond share one underlying timer. Devices polled on
// the same interval from the same start share every grid slot: 5,000 meters at 1 Hz would
// otherwise set and fire 5,000 timers a second, one per device, where one does. Each group's
// callbacks run in the order they were set, as Node runs timers due together; a group whose
// last timer is cleared clears its own, so nothing stays armed after every device stopped.

interface Group {
  due: number;
  handle: unknown;
  callbacks: Set<Entry>;
}

interface Entry {
  group: Group;
  fn: () => void;
}

export class SlotTimers implements Timers {
  private readonly groups = new Map<number, Group>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
  ) {}

  setTimeout(fn: () => void, ms: number): unknown {
    const due = this.clock.now() + Math.max(0, ms);
    let group = this.groups.get(due);
    if (!group) {
      const g: Group = { due, handle: undefined, callbacks: new Set() };
      g.handle = this.timers.setTimeout(() => this.fire(g), Math.max(0, ms));
      this.groups.set(due, g);
      group = g;
    }
    const entry: Entry = { group, fn };
    group.callbacks.add(entry);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    const entry = handle as Entry | undefined;
    if (!entry?.group.callbacks.delete(entry)) return;
    const { group } = entry;
    if (group.callbacks.size === 0 && this.groups.get(group.due) === group) {
      this.groups.delete(group.due);
      this.timers.clearTimeout(group.handle);
    }
  }

  /** Underlying timers armed (one per distinct due millisecond). */
  get armed(): number {
    return this.groups.size;
  }

  private fire(group: Group): void {
    // Timers set while these run (the next slot) go to a new group.
    if (this.groups.get(group.due) === group) this.groups.delete(group.due);
    for (const entry of group.callbacks) {
      group.callbacks.delete(entry);
      entry.fn();
    }
  }
}
