import fc from 'fast-check';
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

  it('gives every instant its own zone date and hour, though it remembers them by the minute', () => {
    // Zones with half- and quarter-hour offsets and daylight saving, around their changes too.
    const zones = ['Asia/Shanghai', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Europe/Berlin'];
    const changes = [
      Date.parse('2026-03-29T01:00:00Z'),
      Date.parse('2026-04-05T15:00:00Z'),
      Date.parse('2026-11-01T05:30:00Z'),
    ];
    const near = fc
      .tuple(fc.constantFrom(...changes), fc.integer({ min: -7_200_000, max: 7_200_000 }))
      .map(([c, d]) => c + d);
    const any = fc.integer({ min: Date.UTC(1972, 4, 1), max: Date.UTC(2100, 0, 1) });
    const locals = new Map(zones.map((z) => [z, new LocalTime(z)]));
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.array(fc.oneof(near, any), { minLength: 1, maxLength: 30 }),
        (zone, instants) => {
          for (const ts of instants) {
            const w = wallTime(ts, zone);
            const date = `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
            expect(locals.get(zone)!.parts(ts)).toEqual({ date, hour: w.hour });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
