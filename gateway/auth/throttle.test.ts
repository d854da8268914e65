import { describe, expect, it } from 'vitest';
import { AttemptThrottle } from './throttle.js';
import { ManualClock } from '../ports/manual-clock.js';

describe('AttemptThrottle', () => {
  it('holds a key after maxFailures in the window and releases it as failures age out', () => {
    const clock = new ManualClock(0);
    const t = new AttemptThrottle(clock, 3, 60_000);
    t.fail('a');
    clock.setTime(10_000);
    t.fail('a');
    expect(t.waitSeconds('a')).toBe(0);
    clock.setTime(20_000);
    t.fail('a');
    // The oldest of the last 3 failures (t=0) leaves the window at 60 s.
    expect(t.waitSeconds('a')).toBe(40);
    expect(t.waitSeconds('b')).toBe(0);
    clock.setTime(60_000);
    expect(t.waitSeconds('a')).toBe(0);
  });

  it('forgets a key on success', () => {
    const clock = new ManualClock(0);
    const t = new AttemptThrottle(clock, 1);
    t.fail('a');
    expect(t.waitSeconds('a')).toBe(60);
    t.succeed('a');
    expect(t.waitSeconds('a')).toBe(0);
  });

  it('keeps at most maxKeys keys, dropping the least recently failed', () => {
    const clock = new ManualClock(0);
    const t = new AttemptThrottle(clock, 1, 60_000, 2);
    t.fail('a');
    t.fail('b');
    t.fail('c');
    expect([t.waitSeconds('a'), t.waitSeconds('b'), t.waitSeconds('c')]).toEqual([0, 60, 60]);
  });
});
