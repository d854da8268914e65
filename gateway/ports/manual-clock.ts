import type { Clock, Timers } from './clock.js';

const MAX_TIMERS_PER_ADVANCE = 100_000;

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Virtual time for tests (the simulators' too): nothing moves until the test says so, and
 * timers fire in the order of their due time (then of setting), each at its own instant.
 */
export class ManualClock implements Clock, Timers {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Pending>();

  constructor(start: number = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.t + Math.max(0, ms || 0), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** How long from now until each pending timer falls due, soonest first. */
  delays(): number[] {
    return [...this.timers.values()].map((p) => p.at - this.t).sort((a, b) => a - b);
  }

  /** When the next timer falls due, or undefined when none is set. */
  nextDue(): number | undefined {
    return this.next()?.at;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    let fired = 0;
    for (let p = this.next(); p && p.at <= end; p = this.next()) {
      this.fire(p, ++fired, ms);
    }
    this.t = Math.max(this.t, end);
  }

  /**
   * As advance, but lets the callbacks' promises settle (and their I/O callbacks run) after
   * each timer: for code that awaits between one timer and the next. `until` is the code's
   * own "done" signal, awaited after each timer when one turn of the event loop is not enough.
   */
  async advanceAsync(ms: number, until?: () => Promise<unknown>): Promise<void> {
    const end = this.t + ms;
    let fired = 0;
    await settle();
    for (let p = this.next(); p && p.at <= end; p = this.next()) {
      this.fire(p, ++fired, ms);
      await until?.();
      await settle();
    }
    this.t = Math.max(this.t, end);
  }

  /** Sets the time (forward only), firing what falls due on the way. */
  setTime(t: number): void {
    if (t < this.t) throw new RangeError(`a ManualClock only moves forward (now ${this.t}, asked ${t})`);
    this.advance(t - this.t);
  }

  private next(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.timers.values()) {
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }

  private fire(p: Pending, fired: number, ms: number): void {
    // A timer that re-arms itself at the same instant forever would hang the test instead of failing it.
    if (fired > MAX_TIMERS_PER_ADVANCE)
      throw new Error(`more than ${MAX_TIMERS_PER_ADVANCE} timers fired within ${ms} ms: a timer loop`);
    this.timers.delete(p.seq);
    this.t = Math.max(this.t, p.at);
    p.fn();
  }
}

/** One turn of the event loop: pending promise callbacks and I/O callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
