import { describe, expect, it } from 'vitest';
import { ReceiveStamps, ScaledClock } from './clock.js';

describe('receive stamps', () => {
  it('never repeat for one device, so InfluxDB cannot merge two readings', () => {
    const stamps = new ReceiveStamps({ now: () => 1_000 });
    const a = stamps.next('d1');
    const b = stamps.next('d1');
    const c = stamps.next('d1');
    expect([a, b, c].map((t) => Math.round(t * 1000))).toEqual([1_000_000, 1_000_001, 1_000_002]);
    expect(stamps.next('d2')).toBe(1_000); // another device has its own series
  });

  it('follow the clock when it moves on', () => {
    let t = 5_000;
    const stamps = new ReceiveStamps({ now: () => t });
    stamps.next('d');
    t = 6_000;
    expect(stamps.next('d')).toBe(6_000);
  });
});

describe('scaled clock', () => {
  const fakeReal = () => {
    let t = 1_000_000;
    const due: { at: number; fn: () => void; id: number }[] = [];
    let id = 0;
    return {
      clock: { now: () => t },
      timers: {
        setTimeout: (fn: () => void, ms: number) => {
          due.push({ at: t + ms, fn, id: ++id });
          return id;
        },
        clearTimeout: (h: unknown) => {
          const i = due.findIndex((d) => d.id === h);
          if (i >= 0) due.splice(i, 1);
        },
      },
      /** Moves real time on, firing what falls due. */
      tick(ms: number) {
        t += ms;
        for (const d of due.filter((x) => x.at <= t)) {
          due.splice(due.indexOf(d), 1);
          d.fn();
        }
      },
    };
  };

  it('runs simulated time `speed` times faster than real time, from its start', () => {
    const real = fakeReal();
    const clock = new ScaledClock({
      speed: 10,
      start: Date.UTC(2026, 10, 22),
      real: real.clock,
      realTimers: real.timers,
    });
    expect(clock.now()).toBe(Date.UTC(2026, 10, 22));
    real.tick(1_500);
    expect(clock.now()).toBe(Date.UTC(2026, 10, 22) + 15_000);
  });

  it('starts at real now when no start is given', () => {
    const real = fakeReal();
    expect(new ScaledClock({ speed: 3, real: real.clock }).now()).toBe(1_000_000);
  });

  it('has timers that take simulated ms and fire after ms / speed real ms', () => {
    const real = fakeReal();
    const clock = new ScaledClock({ speed: 4, real: real.clock, realTimers: real.timers });
    const fired: number[] = [];
    clock.timers.setTimeout(() => fired.push(clock.now()), 20_000);
    const cancelled = clock.timers.setTimeout(() => fired.push(-1), 8_000);
    clock.timers.clearTimeout(cancelled);
    real.tick(4_999);
    expect(fired).toEqual([]);
    real.tick(1);
    expect(fired).toEqual([1_000_000 + 20_000]); // 5 s real = 20 s simulated
  });

  it('refuses a speed that is not a positive number', () => {
    expect(() => new ScaledClock({ speed: 0 })).toThrow(RangeError);
    expect(() => new ScaledClock({ speed: Number.NaN })).toThrow(RangeError);
  });
});
