import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, resolveThresholds, thresholdsResolver, type ThresholdConfig } from './thresholds.js';

const cfg: ThresholdConfig = {
  site: { offline_intervals: 4 },
  kinds: { water_meter: { offline_intervals: 5 } },
  buildings: { b2: { offline_intervals: 6 } },
  devices: { m9: { offline_intervals: 7 } },
};

describe('resolveThresholds', () => {
  it('takes the most specific override: device, building, kind, site, default', () => {
    const of = (id: string, kind: 'water_meter' | 'leak_sensor', building: string) =>
      resolveThresholds(cfg, { id, kind, building }).offline_intervals;
    expect(of('m9', 'water_meter', 'b2')).toBe(7);
    expect(of('m1', 'water_meter', 'b2')).toBe(6);
    expect(of('m1', 'water_meter', 'b1')).toBe(5);
    expect(of('s1', 'leak_sensor', 'b1')).toBe(4);
    expect(resolveThresholds(undefined, { id: 's1', kind: 'leak_sensor', building: 'b1' })).toEqual(DEFAULT_THRESHOLDS);
  });
});

describe('thresholdsResolver', () => {
  it('gives devices of one kind and building one shared object', () => {
    const of = thresholdsResolver(cfg);
    const a = of({ id: 'm1', kind: 'water_meter', building: 'b1' });
    expect(of({ id: 'm2', kind: 'water_meter', building: 'b1' })).toBe(a);
    expect(of({ id: 'm3', kind: 'water_meter', building: 'b2' })).not.toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('gives a device with overrides of its own its own thresholds', () => {
    const of = thresholdsResolver(cfg);
    expect(of({ id: 'm9', kind: 'water_meter', building: 'b1' }).offline_intervals).toBe(7);
    expect(of({ id: 'm1', kind: 'water_meter', building: 'b1' }).offline_intervals).toBe(5);
  });

  it('resolves exactly as resolveThresholds in any order of devices', () => {
    const device = fc.record({
      id: fc.constantFrom('m1', 'm2', 'm9'),
      kind: fc.constantFrom('water_meter' as const, 'leak_sensor' as const, 'lift' as const),
      building: fc.constantFrom('b1', 'b2', 'b3'),
    });
    fc.assert(
      fc.property(fc.array(device, { maxLength: 30 }), (devices) => {
        const of = thresholdsResolver(cfg);
        for (const d of devices) expect(of(d)).toEqual(resolveThresholds(cfg, d));
      }),
    );
  });
});
