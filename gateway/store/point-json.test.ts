import { describe, expect, it } from 'vitest';
import { pointJson } from './point-json.js';
import type { Point } from './types.js';

// The spool's serialiser must write what JSON.stringify writes, shared (frozen) tags or not.

describe('pointJson', () => {
  it('is JSON.stringify of the point, with awkward strings, shared and unshared tags', () => {
    const shared = Object.freeze({ site: 's"1', building: 'b\\1', floor: '楼1', device: 'm\n1' });
    const points: Point[] = [
      { measurement: 'water_meter', tags: shared, fields: { total_m3: 1.5, leak: false, error_code: 3 }, tsUs: 1_700_000_000_000_001 },
      { measurement: 'lift', tags: shared, fields: { door: 'open "wide"', quality: 'bad' }, tsUs: 5 },
      { measurement: 'pump', tags: { site: 's', building: 'b', device: 'p' }, fields: { running: true }, tsUs: 7 },
    ];
    for (const p of [...points, ...points]) expect(pointJson(p)).toBe(JSON.stringify(p));
  });

  it('does not remember tags that can still change', () => {
    const tags: Record<string, string> = { site: 's', building: 'b', device: 'd' };
    const p: Point = { measurement: 'pump', tags, fields: { running: true }, tsUs: 1 };
    expect(pointJson(p)).toBe(JSON.stringify(p));
    tags.building = 'b2';
    expect(pointJson(p)).toBe(JSON.stringify(p));
  });
});
