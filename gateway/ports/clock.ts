// The one time interface: every part that reads the time or waits takes a Clock and Timers,
// so tests run on a ManualClock (./manual-clock.ts) and the demo on a ScaledClock
// (../clock.ts). The real ones below are the only place that reads the system time or sets a
// real timer (lint enforces it).

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type ClockAndTimers = Clock & Timers;

export const systemClock: Clock = { now: () => Date.now() };

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The real clock and timers in one value, for the programs to inject. */
export const realTime: ClockAndTimers = { ...systemClock, ...realTimers };

/**
 * Lets the process exit while a real timer is still set (a background period that a forgotten
 * stop() must not turn into a hung process). Virtual timers have nothing to release.
 */
export function unref(handle: unknown): void {
  (handle as { unref?: () => void } | null)?.unref?.();
}

/**
 * Runs `fn` every `ms` on the given timers until the returned stop function is called. Built
 * on setTimeout so a ManualClock drives it like any other timer. `background` unrefs each
 * real timer (see unref).
 */
export function every(timers: Timers, ms: number, fn: () => void, opts: { background?: boolean } = {}): () => void {
  let handle: unknown;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    handle = timers.setTimeout(() => {
      if (stopped) return;
      tick();
      fn();
    }, ms);
    if (opts.background) unref(handle);
  };
  tick();
  return () => {
    stopped = true;
    timers.clearTimeout(handle);
  };
}
