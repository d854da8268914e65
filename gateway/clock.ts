/** The one source of "now" at the edges; rules and tests get theirs injected. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Receive-time stamps that never repeat for one device: InfluxDB keeps one point per
 * (series, timestamp), so two readings stamped in the same millisecond would overwrite each
 * other. Ties are pushed forward by a microsecond (the store writes µs precision).
 */
export class ReceiveStamps {
  private readonly last = new Map<string, number>();
  constructor(private readonly clock: Clock) {}

  next(deviceId: string): number {
    let t = this.clock.now();
    const prev = this.last.get(deviceId);
    if (prev !== undefined && t <= prev) t = prev + 0.001;
    this.last.set(deviceId, t);
    return t;
  }
}
