import type { Logger } from 'pino';
import type { Clock } from './clock.js';

/**
 * Logs the first few events of a kind per window, then one summary of how many were
 * suppressed: a device spamming bad payloads must not drown the log (or the CPU).
 */
export class ThrottledLog {
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
        this.logger.warn(
          { key, suppressed: w.count - this.perWindow },
          `${w.count - this.perWindow} more "${key}" warnings were not logged in the last ${this.windowMs / 1000} s`,
        );
      }
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.perWindow) this.logger.warn(obj, msg);
  }
}
