import { every, realTimers, type Clock, type Timers } from '../../gateway/ports/clock.js';
import type { Estate } from './estate.js';
import type { Observation } from './types.js';

// The one place where the simulated estate meets real time: a ticker that advances the
// estate to the (possibly scaled) clock's now and hands what the devices reported to the
// transports that carry it (MQTT publishers, Modbus converters).

/** Something that carries observations to the gateway: an MQTT publisher, a Modbus converter fleet. */
export interface ObservationSink {
  apply(obs: Observation): void;
}

export interface DriverOptions {
  estate: Estate;
  clock: Clock;
  sinks: readonly ObservationSink[];
  /** Real ms between ticks (default 100). */
  tickMs?: number;
  /** A sink that throws: reported here, and the other sinks and later ticks carry on. */
  onError?: (err: unknown, obs: Observation) => void;
  /** Real timers by default; tests give a ManualClock. */
  timers?: Timers;
}

export interface RunningDriver {
  /** Advances the estate to the clock's now and delivers; returns what was delivered. */
  tick(): Observation[];
  stop(): void;
}

export function startEstateDriver(opts: DriverOptions): RunningDriver {
  let stopped = false;
  const tick = (): Observation[] => {
    if (stopped) return [];
    const batch = opts.estate.advance(opts.clock.now());
    for (const obs of batch) {
      for (const sink of opts.sinks) {
        try {
          sink.apply(obs);
        } catch (err) {
          opts.onError?.(err, obs);
        }
      }
    }
    return batch;
  };
  const stopTicking = every(opts.timers ?? realTimers, opts.tickMs ?? 100, tick);
  return {
    tick,
    stop() {
      stopped = true;
      stopTicking();
    },
  };
}
