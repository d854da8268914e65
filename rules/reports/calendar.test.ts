import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isDate, localDate, localMidnight, localStamp, localTime } from './calendar.js';

describe('report calendar', () => {
  it('knows real dates', () => {
    expect(isDate('2026-02-28')).toBe(true);
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2028-02-29')).toBe(true);
    expect(isDate('2026-1-01')).toBe(false);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-11-01', '2026-11-30')).toBe(29);
  });

  it('local midnight in Asia/Shanghai is 16:00 UTC the day before', () => {
    expect(new Date(localMidnight('2026-11-18', 'Asia/Shanghai')).toISOString()).toBe('2026-11-17T16:00:00.000Z');
    expect(new Date(localTime('2026-11-18', 2, 'Asia/Shanghai')).toISOString()).toBe('2026-11-17T18:00:00.000Z');
    expect(localDate(Date.parse('2026-11-17T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-18');
    expect(localDate(Date.parse('2026-11-17T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-17');
    expect(localStamp(Date.parse('2026-11-17T18:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-18 02:30');
  });

  it('a day across a daylight-saving change has 23 or 25 hours', () => {
    const tz = 'Europe/Berlin';
    expect(localMidnight('2026-03-30', tz) - localMidnight('2026-03-29', tz)).toBe(23 * 3_600_000);
    expect(localMidnight('2026-10-26', tz) - localMidnight('2026-10-25', tz)).toBe(25 * 3_600_000);
    expect(localStamp(localTime('2026-03-29', 4, tz), tz)).toBe('2026-03-29 04:00');
  });
});
