import { backoffDelay } from '../../../rules/backoff.js';
import type { Clock, Timers } from '../../ports/clock.js';

// When one device is polled. Polls fall on a fixed grid (start + k × interval), so a slow
// poll or a late timer never makes the schedule drift, and a poll still running when the
// next slot comes makes that slot be skipped and counted, never queued: a device that
// answers slowly costs its own samples, not an ever-growing backlog.
//
// A device whose poll produced nothing is backed off: after n failed polls in a row its
// next poll is at the first slot at least interval × 2^(n−1) after the slot of the failed
// poll, that wait capped at maxBackoffMs. So one lost answer costs nothing extra, a dead slave
// is asked at 1, 2, 4, 8 … intervals and then every maxBackoffMs, and the first answer
// puts it back on its normal grid. The backoff is the device's own: its neighbours on the
// same line keep their schedules.

export interface PollScheduleOptions {
  intervalMs: number;
  /** Longest wait between two polls of a failing device; never below the interval. */
  maxBackoffMs: number;
  clock: Clock;
  timers: Timers;
  /** One poll; resolves true when the device answered (a rejection counts as false). */
  poll: () => Promise<boolean>;
  /** A slot skipped because the previous poll was still running. */
  onSkip?: () => void;
}

export class PollSchedule {
  private origin = 0;
  private handle: unknown;
  /** When the armed timer fires. */
  private due = Number.POSITIVE_INFINITY;
  private stopped = true;
  private runningSince: number | undefined;
  private failures = 0;
  private until: number | null = null;
  private skippedSlots = 0;
  private startedPolls = 0;

  constructor(private readonly opts: PollScheduleOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError(`poll interval must be > 0 ms, got ${opts.intervalMs}`);
  }

  /** Polls `offsetMs` from now (at once by default), then on the grid that slot starts. */
  start(offsetMs = 0): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.origin = this.opts.clock.now() + offsetMs;
    this.arm(this.origin);
  }

  /** No poll starts after this; a running poll finishes but schedules nothing. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  get running(): boolean {
    return this.runningSince !== undefined;
  }
  get consecutiveFailures(): number {
    return this.failures;
  }
  /** Epoch ms before which a backed-off device is not polled; null while on its normal grid. */
  get backoffUntil(): number | null {
    return this.until;
  }
  get skipped(): number {
    return this.skippedSlots;
  }
  get polls(): number {
    return this.startedPolls;
  }
  /** When the next poll is due (epoch ms), or null when stopped. */
  get nextDue(): number | null {
    return this.stopped ? null : this.due;
  }

  private fire(): void {
    // The slot this poll belongs to: backoff counts from it, not from a timer that fired late.
    const slot = this.due;
    this.handle = undefined;
    this.due = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    // Node's timers run on a monotonic loop time and may fire a millisecond before the
    // wall clock reaches the slot; counting that as "before the slot" would arm the same
    // slot again and skip it as busy.
    const now = Math.max(this.opts.clock.now(), slot);
    if (this.runningSince !== undefined) {
      this.skippedSlots++;
      this.opts.onSkip?.();
      this.arm(this.slotAfter(now));
      return;
    }
    this.runningSince = now;
    this.startedPolls++;
    this.arm(this.slotAfter(now));
    let outcome: Promise<boolean>;
    try {
      outcome = this.opts.poll();
    } catch {
      outcome = Promise.resolve(false);
    }
    void outcome.catch(() => false).then((answered) => this.finished(slot, answered));
  }

  private finished(slot: number, answered: boolean): void {
    this.runningSince = undefined;
    if (answered) {
      // Back on the grid: the poll that answered already armed the next slot.
      this.failures = 0;
      this.until = null;
      return;
    }
    this.failures++;
    const { intervalMs, maxBackoffMs } = this.opts;
    const delay = backoffDelay(this.failures, intervalMs, maxBackoffMs);
    this.until = delay > intervalMs ? slot + delay : null;
    if (this.stopped || this.until === null) return;
    const at = Math.max(this.slotAtOrAfter(this.until), this.slotAfter(Math.max(this.opts.clock.now(), slot)));
    if (at !== this.due) this.arm(at);
  }

  /** The first grid slot strictly after `t`. */
  private slotAfter(t: number): number {
    const { intervalMs } = this.opts;
    return this.origin + (Math.floor((t - this.origin) / intervalMs) + 1) * intervalMs;
  }

  /** The first grid slot at or after `t`. */
  private slotAtOrAfter(t: number): number {
    const { intervalMs } = this.opts;
    return this.origin + Math.ceil((t - this.origin) / intervalMs) * intervalMs;
  }

  private arm(at: number): void {
    this.disarm();
    this.due = at;
    this.handle = this.opts.timers.setTimeout(() => this.fire(), Math.max(0, at - this.opts.clock.now()));
  }

  private disarm(): void {
    if (this.handle !== undefined) this.opts.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.due = Number.POSITIVE_INFINITY;
  }
}
