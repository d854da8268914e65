import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, FIELDS, type DeviceKind } from './fields.js';
import { acceptedFields, checkFields, checkFieldsReference } from './reading.js';

// checkFields takes a fast path without zod for valid readings; it must answer exactly as zod
// does (same verdict, reason, detail, and the same clean object with its key order).

let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

function randomValue(kind: DeviceKind, name: string | undefined): unknown {
  const def = name ? FIELDS[kind][name] : undefined;
  const roll = random();
  if (def && roll < 0.6) {
    // Mostly plausible values, near and past the edges of the range.
    if (def.type === 'bool') return random() < 0.5;
    if (def.type === 'enum') return random() < 0.9 ? pick(def.values!) : 'nonsense';
    const min = def.min ?? -1e6;
    const max = def.max ?? 1e6;
    const edge = pick([min, max, min - 1, max + 1, min + (max - min) * random(), (min + max) / 2 + 0.5, -0]);
    return def.type === 'int' && random() < 0.8 ? Math.round(edge) : edge;
  }
  return pick([null, '12', 12.5, 7, -3, true, false, 'open', [], {}, Number.NaN, Infinity, 2 ** 60, 1e300, '']);
}

function randomFields(kind: DeviceKind): Record<string, unknown> {
  const names = Object.keys(FIELDS[kind]);
  const out: Record<string, unknown> = {};
  const n = Math.floor(random() * 5);
  for (let i = 0; i < n; i++) {
    const name = random() < 0.9 ? pick(names) : pick(['colour', '__proto__', 'constructor', 'toString', 'ts']);
    out[name] = randomValue(kind, name);
  }
  // Half of them through JSON, as they arrive from MQTT (a "__proto__" key then becomes an own key).
  return random() < 0.5 ? (JSON.parse(JSON.stringify(out)) as Record<string, unknown>) : out;
}

describe('checkFields', () => {
  it('agrees with the zod reference on random readings of every kind', () => {
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const kind = pick(DEVICE_KINDS);
      const fields = randomFields(kind);
      const fast = checkFields(kind, fields);
      const reference = checkFieldsReference(kind, fields);
      expect(fast).toEqual(reference);
      if (fast.ok && reference.ok) {
        valid++;
        expect(JSON.stringify(fast.fields)).toBe(JSON.stringify(reference.fields));
      }
    }
    // Both branches well exercised.
    expect(valid).toBeGreaterThan(2000);
    expect(valid).toBeLessThan(18_000);
  });

  it('takes good fields with keys left out exactly as checking a copy without them', () => {
    const skip = new Set(['ts', 'quality', 'time']);
    let taken = 0;
    for (let i = 0; i < 20_000; i++) {
      const kind = pick(DEVICE_KINDS);
      const fields = randomFields(kind);
      if (random() < 0.5) fields.ts = randomValue(kind, undefined);
      if (random() < 0.3) fields.quality = pick(['good', 'bad', 7]);
      // A catalogue field left out is never copied either.
      const left = random() < 0.2 ? new Set([...skip, pick(Object.keys(FIELDS[kind]))]) : skip;
      const copy = Object.fromEntries(Object.entries(fields).filter(([k]) => !left.has(k)));
      const reference = checkFields(kind, copy);
      const taken1 = acceptedFields(kind, fields, left);
      expect(taken1).toEqual(reference.ok ? reference.fields : undefined);
      if (taken1 && reference.ok) {
        taken++;
        expect(JSON.stringify(taken1)).toBe(JSON.stringify(reference.fields));
      }
    }
    expect(taken).toBeGreaterThan(2000);
  });

  it('refuses with the same reasons as before', () => {
    expect(checkFields('water_meter', { total_m3: 1, flow_m3h: 0.5 })).toEqual({
      ok: true,
      fields: { total_m3: 1, flow_m3h: 0.5 },
    });
    expect(checkFields('water_meter', { total_m3: -5 })).toMatchObject({ ok: false, reason: 'out_of_range' });
    expect(checkFields('water_meter', { total_m3: '12' })).toMatchObject({ ok: false, reason: 'bad_type' });
    expect(checkFields('water_meter', { colour: 'red' })).toMatchObject({ ok: false, reason: 'unknown_field' });
    expect(checkFields('water_meter', {})).toMatchObject({ ok: false, reason: 'no_fields' });
    expect(checkFields('lift', { door: 'ajar' })).toMatchObject({ ok: false, reason: 'bad_type' });
    expect(checkFields('water_meter', { error_code: 1.5 })).toMatchObject({ ok: false, reason: 'bad_type' });
  });
});
