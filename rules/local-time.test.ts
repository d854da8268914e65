import { describe, expect, it } from 'vitest';
import { instantOf, localDate, localStamp, LocalTime, wallTime } from './local-time.js';

describe('the site’s wall clock', () => {
  it('reads an instant in the zone, to the second when asked', () => {
    const ts = Date.parse('2026-11-17T18:30:05Z');
    expect(wallTime(ts, 'Asia/Shanghai')).toEqual({ year: 2026, month: 11, day: 18, hour: 2, minute: 30, second: 5 });
    expect(localStamp(ts, 'Asia/Shanghai')).toBe('2026-11-18 02:30');
    expect(localStamp(ts, 'Asia/Shanghai', { seconds: true })).toBe('2026-11-18 02:30:05');
    expect(localDate(ts, 'Europe/London')).toBe('2026-11-17');
  });

  it('finds the instant of a wall time, on both sides of a daylight-saving change', () => {
    const tz = 'Europe/Berlin';
    expect(new Date(instantOf({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, tz)).toISOString()).toBe(
      '2026-03-29T00:30:00.000Z',
    );
    expect(new Date(instantOf({ year: 2026, month: 3, day: 29, hour: 3, minute: 30 }, tz)).toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    for (const ts of [Date.parse('2026-10-24T22:15:00Z'), Date.parse('2026-07-01T12:00:00Z')]) {
      expect(instantOf(wallTime(ts, tz), tz)).toBe(ts);
    }
  });

  it('gives the rules the local date and hour, the same on a second asking', () => {
    const local = new LocalTime('Asia/Shanghai');
    const ts = Date.parse('2026-11-17T19:00:00Z');
    expect(local.parts(ts)).toEqual({ date: '2026-11-18', hour: 3 });
    expect(local.parts(ts)).toBe(local.parts(ts));
  });
});
