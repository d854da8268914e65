import { describe, expect, it } from 'vitest';
import { fieldSpan, isBitFunction } from '../../profiles/datatypes.js';
import { loadRegisterProfiles, parseRegisterProfile, type RegisterProfile } from '../../profiles/profile.js';
import { decodeReadResult, planReads, type ReadRequest } from './plan.js';

const shipped = loadRegisterProfiles();

/** A profile from its settings and field lines (YAML flow maps), named "t". */
function profile(kind: string, lines: string[], settings: string[] = []): RegisterProfile {
  const text = [
    'name: t',
    'description: { zh: 测试, en: test }',
    `kind: ${kind}`,
    'manufacturer: test',
    'model: test',
    ...(settings.some((s) => s.startsWith('addressing:')) ? [] : ['addressing: 0']),
    ...settings,
    'fields:',
    ...lines.map((l) => `  ${l}`),
  ].join('\n');
  return parseRegisterProfile(text, 't.yaml');
}

/** A plan as short strings: "fn:start+count[field@offset …]". */
const show = (plan: ReadRequest[]) =>
  plan.map((r) => `${r.function}:${r.start}+${r.count}[${r.fields.map((f) => `${f.name}@${f.offset}`).join(' ')}]`);

describe('read plans of the shipped profiles', () => {
  it('Eastron SDM630: three requests (holes of 40 and 16 registers are not worth reading)', () => {
    expect(show(planReads(shipped.get('eastron-sdm630')!))).toEqual([
      '4:0+12[voltage_l1_v@0 voltage_l2_v@2 voltage_l3_v@4 current_l1_a@6 current_l2_a@8 current_l3_a@10]',
      '4:52+2[power_kw@0]',
      '4:70+6[frequency_hz@0 energy_import_kwh@2 energy_export_kwh@4]',
    ]);
  });

  it('TUF-2000M: 1-based registers become 0-based addresses; the totalizer is read with its fraction', () => {
    const plan = planReads(shipped.get('tuf-2000m')!);
    expect(show(plan)).toEqual(['3:0+12[flow_m3h@0 total_m3@8]', '3:71+1[error_code@0]']);
    expect(plan[0]!.fields[1]).toEqual({ name: 'total_m3', offset: 8, count: 4 });
  });

  it('Grundfos CIM: the three status bits share one register; the control register is a request of its own (function 03)', () => {
    expect(show(planReads(shipped.get('grundfos-cim')!))).toEqual([
      '3:100+1[run_command@0]',
      '4:200+5[fault@0 running@0 warning@0 alarm_code@4]',
      '4:300+9[pressure_kpa@0 flow_m3h@1 current_a@8]',
    ]);
  });

  it('sump level: a discrete input and an input register are two requests, function 02 first', () => {
    expect(show(planReads(shipped.get('generic-sump-level')!))).toEqual(['2:0+1[high_float@0]', '4:0+1[level_pct@0]']);
  });

  it('the generic maps are one request each (the water meter one more, for its valve coil)', () => {
    for (const name of ['generic-lift-terminal', 'generic-boiler']) {
      const plan = planReads(shipped.get(name)!);
      expect(plan, name).toHaveLength(1);
      expect(plan[0]!.start, name).toBe(0);
    }
    expect(planReads(shipped.get('generic-water-meter')!).map((r) => `${r.function}:${r.start}+${r.count}`)).toEqual([
      '1:0+1',
      '3:0+8',
    ]);
  });

  it.each([...shipped.values()].map((p) => [p.name, p] as const))(
    '%s: every field read once, whole, within limits',
    (_n, p) => checkPlan(p),
  );
});

/** What must hold of any plan. */
function checkPlan(p: RegisterProfile): void {
  const plan = planReads(p);
  const names = plan.flatMap((r) => r.fields.map((f) => f.name));
  expect([...names].sort()).toEqual(Object.keys(p.fields).sort());
  for (const r of plan) {
    expect(r.count).toBeLessThanOrEqual(isBitFunction(r.function) ? p.max_bits_per_read : p.max_registers_per_read);
    for (const f of r.fields) {
      const span = fieldSpan(p.addressing, p.fields[f.name]!);
      expect(span.function).toBe(r.function);
      expect(r.start + f.offset).toBe(span.start);
      expect(f.count).toBe(span.count);
      expect(f.offset + f.count).toBeLessThanOrEqual(r.count);
    }
    for (const ns of p.no_span) {
      if (ns.function !== undefined && ns.function !== r.function) continue;
      const first = ns.from - p.addressing;
      const last = ns.to - p.addressing;
      expect(
        r.start > last || r.start + r.count - 1 < first,
        `${r.function}:${r.start}+${r.count} crosses ${ns.from}-${ns.to}`,
      ).toBe(true);
    }
  }
  expect(planReads(p)).toEqual(plan);
}

describe('planReads', () => {
  it('coalesces neighbouring registers into one request', () => {
    const p = profile('electricity_meter', [
      'voltage_l1_v: { function: 4, register: 0, type: float32 }',
      'voltage_l2_v: { function: 4, register: 2, type: float32 }',
      'voltage_l3_v: { function: 4, register: 4, type: float32 }',
    ]);
    expect(show(planReads(p))).toEqual(['4:0+6[voltage_l1_v@0 voltage_l2_v@2 voltage_l3_v@4]']);
  });

  it('never asks for more than 125 registers', () => {
    const fields = (last: number) => [
      'voltage_l1_v: { function: 3, register: 0, type: float32 }',
      `voltage_l2_v: { function: 3, register: ${last}, type: float32 }`,
    ];
    expect(show(planReads(profile('electricity_meter', fields(123), ['max_gap: 500'])))).toEqual([
      '3:0+125[voltage_l1_v@0 voltage_l2_v@123]',
    ]);
    expect(show(planReads(profile('electricity_meter', fields(124), ['max_gap: 500'])))).toEqual([
      '3:0+2[voltage_l1_v@0]',
      '3:124+2[voltage_l2_v@0]',
    ]);
  });

  it('keeps to a smaller per-device limit, without splitting a value', () => {
    const p = profile(
      'electricity_meter',
      [
        'voltage_l1_v: { function: 4, register: 0, type: float32 }',
        'voltage_l2_v: { function: 4, register: 2, type: float32 }',
        'voltage_l3_v: { function: 4, register: 4, type: float32 }',
        'current_l1_a: { function: 4, register: 6, type: float32 }',
        'current_l2_a: { function: 4, register: 8, type: float32 }',
      ],
      ['max_registers_per_read: 5'],
    );
    expect(show(planReads(p))).toEqual([
      '4:0+4[voltage_l1_v@0 voltage_l2_v@2]',
      '4:4+4[voltage_l3_v@0 current_l1_a@2]',
      '4:8+2[current_l2_a@0]',
    ]);
  });

  it('reads through a hole up to max_gap and no further', () => {
    const lift = (door: number) =>
      profile(
        'lift',
        [
          'floor: { function: 3, register: 0, type: int16 }',
          `fault_code: { function: 3, register: ${door}, type: uint16 }`,
        ],
        ['max_gap: 3'],
      );
    expect(show(planReads(lift(4)))).toEqual(['3:0+5[floor@0 fault_code@4]']); // hole of 3
    expect(show(planReads(lift(5)))).toEqual(['3:0+1[floor@0]', '3:5+1[fault_code@0]']); // hole of 4
  });

  it('with max_gap 0 reads only what touches', () => {
    const p = profile(
      'lift',
      [
        'floor: { function: 3, register: 0, type: int16 }',
        'fault_code: { function: 3, register: 1, type: uint16 }',
        'mode: { function: 3, register: 3, type: uint16, map: { 0: normal } }',
      ],
      ['max_gap: 0'],
    );
    expect(show(planReads(p))).toEqual(['3:0+2[floor@0 fault_code@1]', '3:3+1[mode@0]']);
  });

  it('never reads across a range the device refuses, even a small one', () => {
    const fields = [
      'floor: { function: 3, register: 0, type: int16 }',
      'fault_code: { function: 3, register: 2, type: uint16 }',
    ];
    expect(show(planReads(profile('lift', fields, ['no_span: [{ function: 3, from: 1, to: 1 }]'])))).toEqual([
      '3:0+1[floor@0]',
      '3:2+1[fault_code@0]',
    ]);
    // a range of another function code does not matter; one without a function code applies to all
    expect(show(planReads(profile('lift', fields, ['no_span: [{ function: 4, from: 1, to: 1 }]'])))).toEqual([
      '3:0+3[floor@0 fault_code@2]',
    ]);
    expect(show(planReads(profile('lift', fields, ['no_span: [{ from: 1, to: 1 }]'])))).toHaveLength(2);
  });

  it('reads no_span in the manual numbering of a 1-based profile', () => {
    const fields = [
      'total_m3: { function: 3, register: 1, type: uint32 }',
      'error_code: { function: 3, register: 5, type: uint16 }',
    ];
    // registers 3-4 (addresses 2-3) are the hole; forbidding register 4 (address 3) splits
    expect(show(planReads(profile('water_meter', fields, ['addressing: 1', 'no_span: [{ from: 4, to: 4 }]'])))).toEqual(
      ['3:0+2[total_m3@0]', '3:4+1[error_code@0]'],
    );
    // forbidding register 6 (address 5, after the last field) does not
    expect(show(planReads(profile('water_meter', fields, ['addressing: 1', 'no_span: [{ from: 6, to: 9 }]'])))).toEqual(
      ['3:0+5[total_m3@0 error_code@4]'],
    );
  });

  it('never mixes function codes, and orders requests by function code then address', () => {
    const p = profile('boiler', [
      'supply_temp_c: { function: 4, register: 0, type: int16, scale: 0.1 }',
      'setpoint_c: { function: 3, register: 0, type: int16, scale: 0.1 }',
      'fault: { function: 2, register: 1, type: bool }',
      'burner_on: { function: 1, register: 0, type: bool }',
      'return_temp_c: { function: 4, register: 1, type: int16, scale: 0.1 }',
    ]);
    expect(show(planReads(p))).toEqual([
      '1:0+1[burner_on@0]',
      '2:1+1[fault@0]',
      '3:0+1[setpoint_c@0]',
      '4:0+2[supply_temp_c@0 return_temp_c@1]',
    ]);
  });

  it('reads up to 2000 coils or inputs at once, and bit holes up to max_bit_gap', () => {
    const leak = (tamper: number, settings: string[] = []) =>
      profile(
        'leak_sensor',
        ['wet: { function: 2, register: 0, type: bool }', `tamper: { function: 2, register: ${tamper}, type: bool }`],
        settings,
      );
    expect(show(planReads(leak(1999, ['max_bit_gap: 5000'])))).toEqual(['2:0+2000[wet@0 tamper@1999]']);
    expect(show(planReads(leak(2000, ['max_bit_gap: 5000'])))).toEqual(['2:0+1[wet@0]', '2:2000+1[tamper@0]']);
    expect(show(planReads(leak(129)))).toEqual(['2:0+130[wet@0 tamper@129]']); // default max_bit_gap 128
    expect(show(planReads(leak(130)))).toHaveLength(2);
  });

  it('does not depend on the order of the fields in the file', () => {
    const lines = [
      'voltage_l1_v: { function: 4, register: 0, type: float32 }',
      'power_kw: { function: 4, register: 52, type: float32 }',
      'current_l1_a: { function: 4, register: 6, type: float32 }',
      'frequency_hz: { function: 4, register: 70, type: float32 }',
    ];
    const a = planReads(profile('electricity_meter', lines));
    const b = planReads(profile('electricity_meter', [...lines].reverse()));
    expect(b).toEqual(a);
    expect(show(a)).toEqual(['4:0+8[voltage_l1_v@0 current_l1_a@6]', '4:52+2[power_kw@0]', '4:70+2[frequency_hz@0]']);
  });

  it('is minimal for registers spread with holes of exactly max_gap', () => {
    const lines = ['floor: 0', 'direction: 9', 'door: 18', 'mode: 27', 'fault_code: 36'].map((s) => {
      const [name, reg] = s.split(': ');
      const map =
        name === 'direction'
          ? ', map: { 0: up }'
          : name === 'door'
            ? ', map: { 0: open }'
            : name === 'mode'
              ? ', map: { 0: normal }'
              : '';
      return `${name}: { function: 3, register: ${reg}, type: ${name === 'floor' ? 'int16' : 'uint16'}${map} }`;
    });
    expect(show(planReads(profile('lift', lines)))).toEqual([
      '3:0+37[floor@0 direction@9 door@18 mode@27 fault_code@36]',
    ]);
    expect(show(planReads(profile('lift', lines, ['max_registers_per_read: 19'])))).toEqual([
      '3:0+19[floor@0 direction@9 door@18]',
      '3:27+10[mode@0 fault_code@9]',
    ]);
    expect(show(planReads(profile('lift', lines, ['max_registers_per_read: 18'])))).toHaveLength(3);
  });

  it('holds its invariants on synthetic profiles', () => {
    checkPlan(
      profile(
        'water_meter',
        [
          'total_m3: { function: 3, register: 10, type: int32, add: { register: 14, type: float32 } }',
          'flow_m3h: { function: 3, register: 12, type: float32 }',
          'error_code: { function: 3, register: 20, type: uint16 }',
        ],
        ['no_span: [{ from: 18, to: 19 }]'],
      ),
    );
  });
});

describe('decodeReadResult', () => {
  it('hands each field its slice of the response', () => {
    const p = shipped.get('grundfos-cim')!;
    const status = planReads(p).find((r) => r.start === 200);
    expect(decodeReadResult(p, status!, [0x0a00, 0, 0, 0, 51])).toEqual({
      fault: { ok: true, value: false, raw: 0x0a00 },
      running: { ok: true, value: true, raw: 0x0a00 },
      warning: { ok: true, value: true, raw: 0x0a00 },
      alarm_code: { ok: true, value: 51, raw: 51 },
    });
  });

  it('reports a short response per field instead of throwing', () => {
    const p = shipped.get('grundfos-cim')!;
    const status = planReads(p).find((r) => r.start === 200);
    const out = decodeReadResult(p, status!, [0x0200]);
    expect(out.running).toMatchObject({ ok: true, value: true });
    expect(out.alarm_code).toMatchObject({ ok: false, error: 'bad_data' });
  });

  it('refuses a plan made for another profile', () => {
    const [req] = planReads(shipped.get('tuf-2000m')!);
    expect(() => decodeReadResult(shipped.get('grundfos-cim')!, req!, [])).toThrow(/no field total_m3/);
  });
});
