import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../gateway/clock.js';
import { ManualClock } from '../../gateway/ports/manual-clock.js';
import { startEstateDriver } from './driver.js';
import { Estate } from './estate.js';
import { localMs, testSiteConfig } from './test-site.testing.js';
import type { Observation } from './types.js';

describe('the estate driver', () => {
  it('advances the estate to the scaled clock on each tick and hands every observation to every sink', () => {
    // Real time is virtual here: the driver ticks every 100 real ms, the estate runs 10× faster.
    const real = new ManualClock(0);
    const start = localMs('2026-11-22T08:00:00');
    const clock = new ScaledClock({ speed: 10, start, real });
    const estate = new Estate({ config: testSiteConfig(), seed: 1, start });
    const a: Observation[] = [];
    const b: Observation[] = [];
    const errors: string[] = [];
    const driver = startEstateDriver({
      estate,
      clock,
      sinks: [
        {
          apply: () => {
            throw new Error('broken sink');
          },
        },
        { apply: (o) => a.push(o) },
        { apply: (o) => b.push(o) },
      ],
      onError: (err, obs) => errors.push(`${obs.deviceId}: ${(err as Error).message}`),
      timers: real,
    });
    driver.tick();
    expect(a.length).toBe(testSiteConfig().devices.length); // everyone's first report
    real.advance(100);
    expect(estate.now()).toBe(start + 1_000); // the timer's first tick
    real.advance(5_900); // one real minute at 10×
    expect(estate.now()).toBe(start + 60_000);
    expect(a.filter((o) => o.deviceId === 'lift-a').length).toBeGreaterThanOrEqual(12); // every 5 s
    expect(b).toEqual(a);
    expect(errors.length).toBe(a.length);
    driver.stop();
    expect(real.pending()).toBe(0);
    expect(driver.tick()).toEqual([]);
  });
});
