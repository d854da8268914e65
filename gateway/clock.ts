import { realTimers, systemClock, type Clock, type Timers } from './ports/clock.js';

export { realTimers, systemClock, type Clock, type Timers } from './ports/clock.js';

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

/**
 * Simulated time running `speed` times faster than a real clock, from `start`: the demo's
 * `--speed N`. The gateway and the simulators share one, so a reading stamped by a device is
 * never "in the future" for the gateway and "wet for 5 s" means 5 simulated seconds.
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  readonly start: number;
  private readonly real: Clock;
  private readonly realStart: number;
  /** Timers whose delays are in simulated ms: they fire after ms / speed real ms. */
  readonly timers: Timers;

  constructor(opts: { speed: number; start?: number; real?: Clock; realTimers?: Timers }) {
    if (!(opts.speed > 0) || !Number.isFinite(opts.speed))
      throw new RangeError(`speed must be a positive number, got ${opts.speed}`);
    this.speed = opts.speed;
    this.real = opts.real ?? systemClock;
    this.realStart = this.real.now();
    this.start = opts.start ?? this.realStart;
    this.timers = scaledTimers(opts.speed, opts.realTimers ?? realTimers);
  }

  now(): number {
    return this.start + (this.real.now() - this.realStart) * this.speed;
  }
}

/** Timers taking simulated ms, run on real timers `speed` times sooner. */
export function scaledTimers(speed: number, real: Timers = realTimers): Timers {
  return {
    setTimeout: (fn, ms) => real.setTimeout(fn, ms / speed),
    clearTimeout: (handle) => real.clearTimeout(handle),
  };
}
