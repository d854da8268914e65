import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../ports/manual-clock.js';
import { PollSchedule } from './scheduler.js';

const T0 = 1_700_000_000_000;

/** A schedule whose polls answer as `answers` says, recording when each poll started (ms after T0). */
function setup(opts: { intervalMs: number; maxBackoffMs: number; pollMs?: number; answers?: (n: number) => boolean }) {
  const time = new ManualClock(T0);
  const starts: number[] = [];
  let skips = 0;
  // While blocked, a timer that falls due waits for the loop to be free, as Node's do.
  let held: (() => void)[] | undefined;
  const timers = {
    setTimeout: (fn: () => void, ms: number) => time.setTimeout(() => (held ? held.push(fn) : fn()), ms),
    clearTimeout: (h: unknown) => time.clearTimeout(h),
  };
  const blocked = (on: boolean) => {
    const late = held ?? [];
    held = on ? [] : undefined;
    if (!on) for (const fn of late) fn();
  };
  const schedule = new PollSchedule({
    intervalMs: opts.intervalMs,
    maxBackoffMs: opts.maxBackoffMs,
    clock: time,
    timers,
    onSkip: () => skips++,
    poll: () => {
      const n = starts.push(time.now() - T0);
      const answer = opts.answers ? opts.answers(n) : true;
      if (!opts.pollMs) return Promise.resolve(answer);
      return new Promise((resolve) => time.setTimeout(() => resolve(answer), opts.pollMs!));
    },
  });
  return { time, starts, schedule, skips: () => skips, blocked };
}

describe('PollSchedule', () => {
  it('polls a healthy device on a fixed grid', async () => {
    const { time, starts, schedule } = setup({ intervalMs: 1000, maxBackoffMs: 8000, pollMs: 30 });
    schedule.start();
    await time.advanceAsync(5000);
    expect(starts).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(schedule.consecutiveFailures).toBe(0);
    expect(schedule.backoffUntil).toBeNull();
  });

  it('backs a dead device off 1, 2, 4, 8 intervals, capped, and puts it back on its grid when it answers', async () => {
    let alive = false;
    const { time, starts, schedule } = setup({ intervalMs: 1000, maxBackoffMs: 8000, answers: () => alive });
    schedule.start();
    await time.advanceAsync(0);
    expect(schedule.consecutiveFailures).toBe(1);
    expect(schedule.backoffUntil).toBeNull(); // one lost answer costs nothing extra
    await time.advanceAsync(1000);
    expect(schedule.consecutiveFailures).toBe(2);
    expect(schedule.backoffUntil).toBe(T0 + 3000);
    await time.advanceAsync(30_000);
    expect(starts).toEqual([0, 1000, 3000, 7000, 15_000, 23_000, 31_000]);
    expect(schedule.consecutiveFailures).toBe(7);
    expect(schedule.backoffUntil).toBe(T0 + 39_000);

    alive = true;
    await time.advanceAsync(8000); // the capped retry at 39 000 answers
    expect(starts.at(-1)).toBe(39_000);
    expect(schedule.consecutiveFailures).toBe(0);
    expect(schedule.backoffUntil).toBeNull();
    await time.advanceAsync(3000);
    expect(starts.slice(-4)).toEqual([39_000, 40_000, 41_000, 42_000]);
  });

  it('counts a poll that throws or rejects as a failure', async () => {
    const time = new ManualClock(T0);
    let n = 0;
    const schedule = new PollSchedule({
      intervalMs: 100,
      maxBackoffMs: 1000,
      clock: time,
      timers: time,
      poll: () => {
        n++;
        if (n === 1) throw new Error('sync');
        return Promise.reject(new Error('async'));
      },
    });
    schedule.start();
    await time.advanceAsync(100);
    expect(n).toBe(2);
    expect(schedule.consecutiveFailures).toBe(2);
  });

  it('skips (and counts) slots while a poll is still running, and never queues them', async () => {
    const { time, starts, schedule, skips } = setup({ intervalMs: 1000, maxBackoffMs: 8000, pollMs: 2500 });
    schedule.start();
    await time.advanceAsync(2600);
    // The poll that started at 0 ended at 2500: nothing starts until the next slot.
    expect(starts).toEqual([0]);
    expect(skips()).toBe(2);
    await time.advanceAsync(3400);
    expect(starts).toEqual([0, 3000, 6000]);
    expect(skips()).toBe(4);
    expect(schedule.skipped).toBe(4);
    expect(schedule.polls).toBe(3);
  });

  it('after a stall of many intervals starts one poll, then keeps its grid', async () => {
    const { time, starts, schedule, blocked } = setup({ intervalMs: 1000, maxBackoffMs: 8000, pollMs: 10 });
    schedule.start();
    await time.advanceAsync(0);
    // The event loop is blocked for 5.5 s: the 1000 slot's timer fires only when it is free, 4.5 s late.
    blocked(true);
    await time.advanceAsync(5500);
    blocked(false);
    await time.advanceAsync(0);
    expect(starts).toEqual([0, 5500]);
    expect(schedule.nextDue).toBe(T0 + 6000);
    await time.advanceAsync(1000);
    expect(starts).toEqual([0, 5500, 6000]);
  });

  it('a timer that fires a little before its slot (libuv measures from a cached loop time) neither repeats nor skips the slot', async () => {
    const time = new ManualClock(T0);
    const early = {
      setTimeout: (fn: () => void, ms: number) => time.setTimeout(fn, Math.max(0, ms - 1)),
      clearTimeout: (h: unknown) => time.clearTimeout(h),
    };
    const starts: number[] = [];
    const schedule = new PollSchedule({
      intervalMs: 200,
      maxBackoffMs: 800,
      clock: time,
      timers: early,
      poll: () => {
        starts.push(time.now() - T0);
        return new Promise((resolve) => time.setTimeout(() => resolve(true), 20));
      },
    });
    schedule.start();
    await time.advanceAsync(1000);
    expect(starts).toEqual([0, 199, 399, 599, 799, 999]);
    expect(schedule.skipped).toBe(0);
  });

  it('stops: no poll after stop(), and a poll ending after stop() arms nothing', async () => {
    const { time, starts, schedule } = setup({
      intervalMs: 1000,
      maxBackoffMs: 8000,
      pollMs: 500,
      answers: () => false,
    });
    schedule.start();
    await time.advanceAsync(100);
    schedule.stop();
    await time.advanceAsync(10_000);
    expect(starts).toEqual([0]);
    expect(time.pending()).toBe(0);
    expect(schedule.nextDue).toBeNull();
  });

  it('refuses an interval of 0', () => {
    const time = new ManualClock();
    expect(
      () => new PollSchedule({ intervalMs: 0, maxBackoffMs: 1, clock: time, timers: time, poll: async () => true }),
    ).toThrow(/interval/);
  });
});
