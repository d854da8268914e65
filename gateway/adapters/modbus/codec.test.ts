import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIELDS } from '../../../rules/model/fields.js';
import type { FieldValue } from '../../../rules/model/reading.js';
import { fieldSpan, TYPE_INFO, type FunctionCode } from '../../profiles/datatypes.js';
import {
  loadRegisterProfiles,
  registerFieldSchema,
  type RegisterField,
  type RegisterProfile,
} from '../../profiles/profile.js';
import {
  decodeField,
  emptyImage,
  encodeField,
  readImage,
  shortestFloat32,
  shortestFloat32Slow,
  writeImage,
  type Decoded,
  type RegisterImage,
} from '../../profiles/codec.js';
import { decodeReadResult, planReads } from './plan.js';

// Golden cases (Telegraf style) in ./testcases: a field, the raw registers a device sends and
// the value worked out by hand (each file says how). Every case is checked both ways: the
// registers decode to the value, and the value encodes back to the same registers.

interface Case {
  name: string;
  profile?: string;
  field?: string | Record<string, unknown>;
  registers?: number[];
  bits?: unknown[];
  wire?: Record<string, Record<string, number | boolean>>;
  expect?: FieldValue | Record<string, FieldValue>;
  error?: string;
  errors?: Record<string, string>;
}

const profiles = loadRegisterProfiles();
const dir = fileURLToPath(new URL('./testcases/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const cases = files.flatMap((file) => {
  const doc = parse(readFileSync(join(dir, file), 'utf8')) as { description: string; cases: Case[] };
  return doc.cases.map((c) => [`${file}: ${c.name}`, c] as const);
});

function definition(c: Case): RegisterField {
  if (typeof c.field === 'object') return registerFieldSchema.parse(c.field);
  const field = profiles.get(c.profile!)?.fields[c.field!];
  if (!field) throw new Error(`${c.name}: no field ${c.field} in profile ${c.profile}`);
  return field;
}

describe('golden cases: one field', () => {
  it.each(cases.filter(([, c]) => !c.wire))('%s', (_name, c) => {
    const field = definition(c);
    const data = (c.registers ?? c.bits) as number[] | boolean[];
    const out = decodeField(field, data);
    if (c.error !== undefined) {
      expect(out).toMatchObject({ ok: false, error: c.error });
      expect((out as { detail: string }).detail.length).toBeGreaterThan(0);
      return;
    }
    expect(out).toMatchObject({ ok: true, value: c.expect });
    expect(encodeField(field, c.expect as FieldValue, data)).toEqual(data);
  });
});

describe('golden cases: a whole device through the planner', () => {
  it.each(cases.filter(([, c]) => c.wire))('%s', (_name, c) => {
    const profile = profiles.get(c.profile!)!;
    const image = emptyImage();
    for (const [fn, cells] of Object.entries(c.wire!)) {
      for (const [address, value] of Object.entries(cells))
        (image[Number(fn) as FunctionCode] as Map<number, number | boolean>).set(Number(address), value);
    }
    const decoded = readAll(profile, image);
    for (const [name, value] of Object.entries(c.expect as Record<string, FieldValue>))
      expect(decoded[name], name).toMatchObject({ ok: true, value });
    for (const [name, error] of Object.entries(c.errors ?? {}))
      expect(decoded[name], name).toMatchObject({ ok: false, error });
  });
});

function readAll(profile: RegisterProfile, image: RegisterImage): Record<string, Decoded> {
  const out: Record<string, Decoded> = {};
  for (const request of planReads(profile))
    Object.assign(
      out,
      decodeReadResult(profile, request, readImage(image, request.function, request.start, request.count)),
    );
  return out;
}

describe('golden case coverage', () => {
  const single = cases.filter(([, c]) => !c.wire).map(([, c]) => definition(c));
  it('has every 32- and 64-bit type in all four orders', () => {
    for (const type of ['int32', 'uint32', 'float32', 'float64'] as const) {
      for (const order of ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const) {
        expect(
          single.some((f) => f.type === type && f.order === order),
          `${type} ${order}`,
        ).toBe(true);
      }
    }
  });
  it('has both 16-bit byte orders for int16, uint16 and bit', () => {
    for (const type of ['int16', 'uint16', 'bit'] as const) {
      expect(
        single.some((f) => f.type === type && ['ABCD', 'AB', 'CDAB'].includes(f.order)),
        `${type} AB`,
      ).toBe(true);
      expect(
        single.some((f) => f.type === type && ['BA', 'BADC', 'DCBA'].includes(f.order)),
        `${type} BA`,
      ).toBe(true);
    }
  });
  it('has every decode error', () => {
    const seen = new Set(cases.flatMap(([, c]) => [c.error, ...Object.values(c.errors ?? {})]));
    for (const e of ['unknown_code', 'not_a_number', 'no_data', 'bad_data']) expect(seen.has(e), e).toBe(true);
  });
});

/** Values worth round-tripping for a field: the catalogue's ends, zero and ordinary ones, as the register can hold them. */
function samples(profile: RegisterProfile, name: string): FieldValue[] {
  const field = profile.fields[name]!;
  const canon = FIELDS[profile.kind][name]!;
  if (field.map) return [...new Set(Object.values(field.map))];
  if (canon.type === 'bool') return [true, false];
  const wanted = [canon.min ?? -1e6, canon.max ?? 1e6, 0, 1, 12.3, -7.5].filter(
    (v) => v >= (canon.min ?? -Infinity) && v <= (canon.max ?? Infinity),
  );
  const info = TYPE_INFO[field.type];
  if (!info.integer) return wanted;
  // An integer register holds whole steps of `scale` between its limits, never a no_data marker.
  return wanted.map((v) => {
    let raw = Math.min(info.max!, Math.max(info.min!, Math.round((v - field.offset) / field.scale)));
    while (field.no_data?.includes(raw)) raw += raw > 0 ? -1 : 1;
    return Number((raw * field.scale + field.offset).toPrecision(12));
  });
}

describe('every field of every shipped profile survives encode → decode', () => {
  const all = [...profiles.values()].flatMap((p) =>
    Object.keys(p.fields).map((name) => [`${p.name}.${name}`, p, name] as const),
  );
  it.each(all)('%s', (_label, profile, name) => {
    const field = profile.fields[name]!;
    const values = samples(profile, name);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      const out = decodeField(field, encodeField(field, value));
      expect(out, `${name} = ${String(value)}`).toEqual({ ok: true, value, raw: expect.anything() });
    }
  });

  it.each([...profiles.values()].map((p) => [p.name, p] as const))(
    '%s: all fields at once share their registers',
    (_name, profile) => {
      // Flags packed in one status register must not overwrite each other.
      const values = Object.fromEntries(
        Object.keys(profile.fields).map((name, i) => {
          const s = samples(profile, name);
          return [name, s[i % s.length]!];
        }),
      );
      const decoded = readAll(profile, writeImage(profile, values));
      expect(Object.fromEntries(Object.entries(decoded).map(([k, d]) => [k, d.ok ? d.value : d.error]))).toEqual(
        values,
      );
    },
  );
});

describe('decodeField', () => {
  const f = (def: Record<string, unknown>) => registerFieldSchema.parse(def);

  it('does register arithmetic in decimal', () => {
    expect(decodeField(f({ function: 4, register: 0, type: 'uint16', scale: 0.1 }), [3])).toMatchObject({ value: 0.3 });
    expect(decodeField(f({ function: 4, register: 0, type: 'uint16', scale: 0.1 }), [2301])).toMatchObject({
      value: 230.1,
    });
    expect(decodeField(f({ function: 4, register: 0, type: 'uint32', scale: 0.001 }), [0, 1005])).toMatchObject({
      value: 1.005,
    });
  });

  it('keeps the full precision of a float64 and of a scaled float32', () => {
    expect(
      decodeField(f({ function: 4, register: 0, type: 'float64', scale: 2 }), [0x4009, 0x21fb, 0x5444, 0x2d18]),
    ).toMatchObject({ value: 2 * Math.PI });
    // 0x3F9D_F3B6 is the float32 nearest 1.234; shown as 1.234, then × 0.001
    expect(decodeField(f({ function: 4, register: 0, type: 'float32', scale: 0.001 }), [0x3f9d, 0xf3b6])).toMatchObject(
      { value: 0.001234 },
    );
  });

  it('reports the raw code it could not map', () => {
    const out = decodeField(f({ function: 3, register: 0, type: 'uint16', map: { 0: 'closed' } }), [7]);
    expect(out).toEqual({ ok: false, error: 'unknown_code', raw: 7, detail: expect.stringContaining('code 7') });
  });

  it('uses only the first registers of a longer slice and refuses a missing one', () => {
    expect(decodeField(f({ function: 3, register: 0, type: 'uint16' }), [5, 6, 7])).toMatchObject({
      ok: true,
      value: 5,
    });
    expect(decodeField(f({ function: 3, register: 0, type: 'uint16' }), [])).toMatchObject({
      ok: false,
      error: 'bad_data',
    });
    expect(decodeField(f({ function: 3, register: 0, type: 'uint16' }), [-1])).toMatchObject({
      ok: false,
      error: 'bad_data',
    });
  });

  it('reads a field in place from its offset in a whole response', () => {
    const field = f({ function: 4, register: 0, type: 'float32', order: 'CDAB' });
    // 230.1 is 0x4366_199A: low word first
    expect(decodeField(field, [7, 7, 0x199a, 0x4366, 7], 2)).toMatchObject({ ok: true, value: 230.1 });
    expect(decodeField(field, [7, 7, 0x199a], 2)).toMatchObject({ ok: false, error: 'bad_data' });
    expect(decodeField(f({ function: 2, register: 0, type: 'bool' }), [false, true], 1)).toMatchObject({ value: true });
  });

  it('finds the shortest decimal of a float32 as trying every digit count does', () => {
    // Random bit patterns over every exponent, plus the edges: powers of two and ten, ties, subnormals.
    const view = new DataView(new ArrayBuffer(4));
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const samples: number[] = [0, -0, 1, 0.1, 230.1, 12345.6, 2 ** 24, 2 ** -126, 2 ** -149, 3.4028234663852886e38];
    for (let e = -40; e <= 38; e++) samples.push(Math.fround(10 ** e), Math.fround(2 ** (e * 3)));
    for (let i = 0; i < 100_000; i++) {
      view.setUint32(0, random());
      samples.push(view.getFloat32(0));
    }
    const differ = samples
      .filter((v) => Number.isFinite(v))
      .flatMap((x) => [x, -x])
      .filter((v) => !Object.is(shortestFloat32(v), shortestFloat32Slow(v)));
    expect(differ).toEqual([]);
  });

  it('reads an add part that comes before the field', () => {
    const field = f({ function: 3, register: 10, type: 'int32', add: { register: 8, type: 'float32' } });
    expect(fieldSpan(0, field)).toEqual({ function: 3, start: 8, count: 4 });
    // [8,9] = 0.5 (0x3F00_0000), [10,11] = 7
    expect(decodeField(field, [0x3f00, 0, 0, 7])).toMatchObject({ value: 7.5 });
  });
});

describe('encodeField', () => {
  const f = (def: Record<string, unknown>) => registerFieldSchema.parse(def);

  it('changes only its own bit of a shared status register', () => {
    const field = f({ function: 4, register: 200, type: 'bit', bit: 10 });
    expect(encodeField(field, true, [0x0200])).toEqual([0x0600]);
    expect(encodeField(field, false, [0xffff])).toEqual([0xfbff]);
    expect(encodeField(f({ function: 4, register: 0, type: 'bit', bit: 9, order: 'BA' }), true, [0])).toEqual([0x0002]);
  });

  it('splits a totalizer into whole units and the fraction', () => {
    const tuf = profiles.get('tuf-2000m')!.fields.total_m3!;
    expect(encodeField(tuf, 12345.5)).toEqual([0x3039, 0x0000, 0x0000, 0x3f00]);
  });

  it('refuses values the register cannot hold', () => {
    expect(() => encodeField(f({ function: 3, register: 0, type: 'uint16' }), -1)).toThrow(/does not fit in uint16/);
    expect(() => encodeField(f({ function: 3, register: 0, type: 'int16', scale: 0.1 }), 4000)).toThrow(
      /does not fit in int16/,
    );
    expect(() => encodeField(f({ function: 3, register: 0, type: 'uint16', map: { 0: 'closed' } }), 'ajar')).toThrow(
      /not a value of the map/,
    );
    expect(() => encodeField(f({ function: 3, register: 0, type: 'uint16' }), true)).toThrow(TypeError);
    expect(() => encodeField(f({ function: 1, register: 0, type: 'bool' }), 1)).toThrow(TypeError);
    expect(() => encodeField(f({ function: 3, register: 0, type: 'float32' }), Number.NaN)).toThrow(TypeError);
  });

  it('names the profile and field when a simulator asks for an impossible value', () => {
    expect(() => writeImage(profiles.get('generic-boiler')!, { pressure_kpa: -5 })).toThrow(
      /generic-boiler, field pressure_kpa/,
    );
    expect(() => writeImage(profiles.get('generic-boiler')!, { speed: 1 })).toThrow(/no field speed/);
  });
});
