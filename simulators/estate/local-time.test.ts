import { describe, expect, it } from 'vitest';
import { inSeason, LocalCalendar, NORTH_CHINA_HEATING } from './local-time.js';

describe('local time of the site', () => {
  it('gives the hour and date in the site zone, not UTC', () => {
    const cal = new LocalCalendar('Asia/Shanghai');
    const t = cal.at(Date.UTC(2026, 10, 21, 23, 30)); // 07:30 on the 22nd in Shanghai
    expect(t).toMatchObject({ month: 11, day: 22, weekday: 0 });
    expect(t.hour).toBeCloseTo(7.5, 6);
    expect(cal.at(Date.UTC(2026, 10, 21, 23, 30, 45)).hour).toBeCloseTo(7.5 + 45 / 3600, 6);
    expect(cal.at(Date.UTC(2026, 10, 22, 23, 30)).dayNumber - t.dayNumber).toBe(1);
  });

  it('follows a zone with summer time', () => {
    const cal = new LocalCalendar('Europe/Berlin');
    expect(cal.at(Date.UTC(2026, 6, 1, 12)).hour).toBe(14);
    expect(cal.at(Date.UTC(2026, 0, 1, 12)).hour).toBe(13);
  });

  it('knows the north-China heating season: 15 November to 15 March, over New Year', () => {
    const on = (m: number, d: number) => inSeason(m, d, NORTH_CHINA_HEATING);
    expect([on(11, 14), on(11, 15), on(1, 1), on(3, 15), on(3, 16), on(7, 1)]).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(new LocalCalendar('Asia/Shanghai').at(Date.UTC(2026, 10, 14, 16, 0)).heatingSeason).toBe(true); // 00:00 on the 15th local
    expect(inSeason(6, 10, { from: { month: 6, day: 1 }, to: { month: 8, day: 31 } })).toBe(true);
  });
});
