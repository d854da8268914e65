import type { Clock } from './clock.js';

/** The part of a logger (pino's) that a throttled log writes to. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Keys kept at most: one-off keys (client ids, addresses) must not grow the table without bound. */
const MAX_KEYS = 10_000;

/**
 * Logs the first few warnings of one key per window, then once how many were held back. A
 * device spamming bad payloads, or one with a stale password reconnecting every second for
 * days: its first warnings are what an engineer needs, the next hundred thousand would bury
 * everything (and cost CPU). Here, in ports/, so that the gateway and the broker share it.
 */
export class ThrottledLog {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly logger: WarnLogger,
    private readonly clock: Clock,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w && w.count > this.perWindow) {
        const suppressed = w.count - this.perWindow;
        this.logger.warn(
          { ...obj, key, suppressed },
          `${suppressed} more "${key}" warnings were not logged in the last ${Math.round(this.windowMs / 1000)} s, like: ${msg}`,
        );
      }
      if (this.windows.size >= MAX_KEYS) this.forgetQuiet(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.perWindow) this.logger.warn(obj, msg);
  }

  private forgetQuiet(now: number): void {
    for (const [k, old] of this.windows) if (now - old.start >= this.windowMs) this.windows.delete(k);
    if (this.windows.size >= MAX_KEYS) this.windows.clear();
  }
}
