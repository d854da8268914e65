import type { Logger } from 'pino';
import type { Clock } from '../gateway/ports/clock.js';

/**
 * Warns about the first few refusals of one kind per minute, then once about how many were
 * not logged. A device with a stale password reconnects every second or so, for days: its
 * first refusals are what an engineer needs, the next hundred thousand would bury everything.
 */
export class WarnThrottle {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly logger: Logger,
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
          { ...obj, suppressed },
          `${suppressed} more like this were not logged in the last ${Math.round(this.windowMs / 1000)} s: ${msg}`,
        );
      }
      // Forget quiet keys so one-off client ids cannot grow the table without bound.
      if (this.windows.size > 10_000) {
        for (const [k, old] of this.windows) if (now - old.start >= this.windowMs) this.windows.delete(k);
        if (this.windows.size > 10_000) this.windows.clear();
      }
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.perWindow) this.logger.warn(obj, msg);
  }
}
