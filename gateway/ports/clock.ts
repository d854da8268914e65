// The one time interface: every part that reads the time or waits takes a Clock and Timers,
// so tests run on a ManualClock and the demo on a ScaledClock. The real ones are in ../clock.ts.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
