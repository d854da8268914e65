import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROTA, rotaSchema, shiftAt, shiftBefore } from './shifts.js';

const TZ = 'Asia/Shanghai';
const at = (iso: string) => Date.parse(iso);

describe('the duty rota', () => {
  it('places an instant in its shift, in the site zone; the night shift spans midnight', () => {
    expect(shiftAt(DEFAULT_ROTA, at('2026-12-02T00:29:59Z'), TZ)).toMatchObject({
      id: 'night',
      date: '2026-12-01',
      from: at('2026-12-01T10:00:00Z'),
      to: at('2026-12-02T00:30:00Z'),
    });
    const day = shiftAt(DEFAULT_ROTA, at('2026-12-02T00:30:00Z'), TZ);
    expect(day).toMatchObject({
      id: 'day',
      date: '2026-12-02',
      from: at('2026-12-02T00:30:00Z'),
      to: at('2026-12-02T10:00:00Z'),
      handover: { from: at('2026-12-02T00:30:00Z'), to: at('2026-12-02T01:00:00Z') },
    });
    expect(shiftBefore(DEFAULT_ROTA, day, TZ)).toMatchObject({ id: 'night', date: '2026-12-01' });
    expect(shiftAt(DEFAULT_ROTA, at('2026-12-02T16:00:00Z'), TZ)).toMatchObject({ id: 'night', date: '2026-12-02' });
  });

  it('every instant falls in exactly one shift of a valid rota, whose start and end bound it (any zone, across daylight saving)', () => {
    const rota = rotaSchema.parse([
      { id: 'early', name: { zh: '早班', en: 'Early' }, start: '06:00', end: '14:00', handover_min: 15 },
      { id: 'late', name: { zh: '中班', en: 'Late' }, start: '14:00', end: '22:00' },
      { id: 'night', name: { zh: '夜班', en: 'Night' }, start: '22:00', end: '06:00' },
    ]);
    fc.assert(
      fc.property(
        fc.integer({ min: at('2025-01-01T00:00:00Z'), max: at('2028-01-01T00:00:00Z') }),
        fc.constantFrom(TZ, 'Europe/Berlin', 'America/New_York', 'UTC'),
        fc.constantFrom(DEFAULT_ROTA, rota),
        (ts, tz, r) => {
          const s = shiftAt(r, ts, tz);
          expect(s.from).toBeLessThanOrEqual(ts);
          expect(ts).toBeLessThan(s.to);
          expect(s.handover.from).toBe(s.from);
          expect(s.handover.to).toBeLessThanOrEqual(s.to);
          // The shift after it begins when it ends.
          if (s.to - s.from > 3_600_000 * 2) expect(shiftAt(r, s.to, tz).from).toBe(s.to);
        },
      ),
    );
  });

  it('refuses a rota with a gap, an overlap, a duplicate or a handover longer than the shift, naming the shift', () => {
    const day = { id: 'day', name: { zh: '白班', en: 'Day' }, start: '08:30', end: '18:00' };
    const messages = (r: unknown) =>
      rotaSchema.safeParse(r).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages([day, { ...day, id: 'night', start: '18:30', end: '08:30' }])).toContain(
      '0.end: shift "day" ends at 18:00 but the next one ("night") starts at 18:30: the rota must leave no gap',
    );
    expect(messages([day, { ...day, start: '18:00', end: '08:30' }])).toContain('1.id: duplicate shift "day"');
    expect(
      messages([
        { ...day, end: '08:30', handover_min: 120 },
        { ...day, id: 'x', start: '08:30', end: '08:30' },
      ]).some((m) => m.includes('not 24 h')),
    ).toBe(true);
    expect(
      messages([
        { ...day, start: '08:30', end: '09:00', handover_min: 45 },
        { ...day, id: 'n', start: '09:00', end: '08:30' },
      ]),
    ).toContain('0.handover_min: the handover of shift "day" is longer than the shift');
    expect(messages([{ ...day, start: '8:30' }])[0]).toMatch(/^0\.start: a local time HH:MM/);
  });
});
