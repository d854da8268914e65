import { describe, expect, it } from 'vitest';
import { silenceMatch, silencing, type Silence } from './silence.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const silence = (over: Partial<Silence>): Silence => ({
  id: 's1',
  by: 'duty',
  reason: '维保 maintenance',
  from: T0,
  until: T0 + 3_600_000,
  maintenance: true,
  match: { building: 't1' },
  ...over,
});

describe('silences', () => {
  it('mutes matching alarms between from and until only', () => {
    const s = silence({});
    const alarm = { kind: 'device_offline' as const, deviceId: 'pump-1' };
    expect(silencing(alarm, 't1', [s], T0 - 1)).toBeUndefined();
    expect(silencing(alarm, 't1', [s], T0)).toBe(s);
    expect(silencing(alarm, 't1', [s], T0 + 3_599_999)).toBe(s);
    expect(silencing(alarm, 't1', [s], T0 + 3_600_000)).toBeUndefined();
    expect(silencing(alarm, 't2', [s], T0)).toBeUndefined();
  });

  it('matches on every key it names: device, building and kind together', () => {
    const s = silence({ match: { deviceId: 'pump-1', kind: 'pump_failure' } });
    expect(silencing({ kind: 'pump_failure', deviceId: 'pump-1' }, 't1', [s], T0)).toBe(s);
    expect(silencing({ kind: 'device_offline', deviceId: 'pump-1' }, 't1', [s], T0)).toBeUndefined();
    expect(silencing({ kind: 'pump_failure', deviceId: 'pump-2' }, 't1', [s], T0)).toBeUndefined();
  });

  it('never mutes a trapped lift, even in a maintenance window for that lift', () => {
    const s = silence({ match: { deviceId: 'lift-a' } });
    expect(silencing({ kind: 'lift_entrapment', deviceId: 'lift-a' }, 't1', [s], T0)).toBeUndefined();
    expect(silencing({ kind: 'lift_door_fault', deviceId: 'lift-a' }, 't1', [s], T0)).toBe(s);
  });

  it('refuses a silence of everything and unknown kinds', () => {
    expect(silenceMatch.safeParse({}).success).toBe(false);
    expect(silenceMatch.safeParse({ kind: 'fire' }).success).toBe(false);
    expect(silenceMatch.safeParse({ kind: 'water_leak' }).success).toBe(true);
  });
});
