import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../files/paths.js';
import { loadRegisterProfiles, parseRegisterProfile, RegisterProfileError } from './profile.js';

const shipped = loadRegisterProfiles();

describe('shipped register profiles', () => {
  it('all load and are named after their files', () => {
    expect([...shipped.keys()]).toEqual([
      'eastron-sdm120',
      'eastron-sdm630',
      'generic-boiler',
      'generic-lift-terminal',
      'generic-pump-controller',
      'generic-sump-level',
      'generic-water-meter',
      'grundfos-cim',
      'tuf-2000m',
    ]);
  });

  it('include every Modbus profile the demo site uses, for the kind of device that uses it', () => {
    const site = parse(readFileSync(projectPath('config', 'demo-site.yaml'), 'utf8')) as {
      devices: { id: string; kind: string; protocol: string; profile?: string }[];
    };
    const modbus = site.devices.filter((d) => d.protocol === 'modbus');
    expect(modbus.length).toBeGreaterThan(0);
    for (const d of modbus) {
      expect(shipped.has(d.profile!), `${d.id} uses ${d.profile}`).toBe(true);
      expect(shipped.get(d.profile!)!.kind, d.id).toBe(d.kind);
    }
  });

  it('keep the register numbers of the manuals and apply defaults', () => {
    const sdm = shipped.get('eastron-sdm630')!;
    expect(sdm.fields.power_kw).toMatchObject({
      function: 4,
      register: 0x34,
      type: 'float32',
      order: 'ABCD',
      scale: 0.001,
      offset: 0,
      invert: false,
    });
    expect(sdm.max_gap).toBe(8);
    const tuf = shipped.get('tuf-2000m')!;
    expect(tuf.addressing).toBe(1);
    expect(tuf.fields.total_m3!.add).toEqual({ register: 11, type: 'float32', order: 'CDAB' });
    expect(shipped.get('generic-lift-terminal')!.fields.door!.map).toEqual({
      0: 'closed',
      1: 'opening',
      2: 'open',
      3: 'closing',
    });
  });
});

describe('a broken profile names its file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-profiles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const header = (name: string, kind: string, addressing = 0) =>
    `name: ${name}\ndescription: { zh: 测试, en: test }\nkind: ${kind}\nmanufacturer: test\nmodel: test\naddressing: ${addressing}\n`;

  /** Writes one profile alone in a folder and returns the loader's error. */
  function loadError(name: string, body: string): RegisterProfileError {
    const sub = mkdtempSync(join(dir, 'case-'));
    writeFileSync(join(sub, `${name}.yaml`), body);
    try {
      loadRegisterProfiles(sub);
    } catch (err) {
      expect(err).toBeInstanceOf(RegisterProfileError);
      const e = err as RegisterProfileError;
      expect(e.file).toBe(join(sub, `${name}.yaml`));
      expect(e.message).toContain(join(sub, `${name}.yaml`));
      return e;
    }
    throw new Error('the profile loaded but should have been refused');
  }
  const paths = (e: RegisterProfileError) => e.problems.map((p) => p.path);

  const cases: [string, string, string, string, RegExp][] = [
    [
      'a field the kind does not have',
      'electricity_meter',
      'fields:\n  flow_m3h: { function: 3, register: 0, type: float32 }\n',
      'fields.flow_m3h',
      /not a electricity_meter field/,
    ],
    [
      'an enum code mapped onto a state that does not exist',
      'lift',
      'fields:\n  door: { function: 3, register: 2, type: uint16, map: { 0: closed, 2: ajar } }\n',
      'fields.door.map.2',
      /"ajar" is not one of open, closed, opening, closing/,
    ],
    [
      'a state without a map',
      'lift',
      'fields:\n  direction: { function: 3, register: 1, type: uint16 }\n',
      'fields.direction.map',
      /needs an integer type and a map/,
    ],
    [
      'a coil read as a number',
      'boiler',
      'fields:\n  burner_on: { function: 1, register: 0, type: uint16 }\n',
      'fields.burner_on.type',
      /must be bool/,
    ],
    [
      'bool on a holding register',
      'boiler',
      'fields:\n  burner_on: { function: 3, register: 0, type: bool }\n',
      'fields.burner_on.type',
      /type bit with a bit number/,
    ],
    [
      'a bit without its number',
      'pump',
      'fields:\n  running: { function: 4, register: 200, type: bit }\n',
      'fields.running.bit',
      /needs the bit number/,
    ],
    [
      'bit 16 of a 16-bit register',
      'pump',
      'fields:\n  running: { function: 4, register: 200, type: bit, bit: 16 }\n',
      'fields.running.bit',
      /15/,
    ],
    [
      'a code that a uint16 cannot hold',
      'lift',
      'fields:\n  direction: { function: 3, register: 1, type: uint16, map: { -1: up, 1: down } }\n',
      'fields.direction.map.-1',
      /cannot occur in a uint16/,
    ],
    [
      'an int16 code above 32767',
      'lift',
      'fields:\n  mode: { function: 3, register: 1, type: int16, map: { 40000: fire } }\n',
      'fields.mode.map.40000',
      /cannot occur in a int16/,
    ],
    [
      'a 16-bit byte order on a 32-bit value',
      'electricity_meter',
      'fields:\n  power_kw: { function: 4, register: 0, type: float32, order: BA }\n',
      'fields.power_kw.order',
      /16-bit order/,
    ],
    [
      'a number read from a bit',
      'boiler',
      'fields:\n  pressure_kpa: { function: 4, register: 3, type: bit, bit: 0 }\n',
      'fields.pressure_kpa.type',
      /numeric type/,
    ],
    [
      'an integer field from a float',
      'lift',
      'fields:\n  floor: { function: 3, register: 0, type: float32 }\n',
      'fields.floor.type',
      /integer type/,
    ],
    [
      'an integer field scaled by a fraction',
      'lift',
      'fields:\n  floor: { function: 3, register: 0, type: int16, scale: 0.5 }\n',
      'fields.floor.scale',
      /integer scale/,
    ],
    [
      'a scaled true/false',
      'pump',
      'fields:\n  running: { function: 4, register: 200, type: bit, bit: 9, scale: 2 }\n',
      'fields.running.scale',
      /no scale/,
    ],
    [
      'invert on a number',
      'pump',
      'fields:\n  current_a: { function: 4, register: 308, type: uint16, invert: true }\n',
      'fields.current_a.invert',
      /only for true\/false/,
    ],
    [
      'an integer field plus a fraction',
      'lift',
      'fields:\n  fault_code: { function: 3, register: 0, type: uint16, add: { register: 1, type: float32 } }\n',
      'fields.fault_code.add.type',
      /cannot add a float/,
    ],
    [
      'an added part overlapping the field',
      'water_meter',
      'fields:\n  total_m3: { function: 3, register: 0, type: int32, add: { register: 1, type: float32 } }\n',
      'fields.total_m3.add.register',
      /overlaps/,
    ],
    [
      'a misspelt option',
      'pump',
      'fields:\n  current_a: { function: 4, register: 308, type: uint16, scael: 0.1 }\n',
      'fields.current_a.scael',
      /unknown key/,
    ],
    [
      'an unknown data type',
      'pump',
      'fields:\n  current_a: { function: 4, register: 308, type: int64 }\n',
      'fields.current_a.type',
      /./,
    ],
    [
      'function 6 (a write)',
      'pump',
      'fields:\n  current_a: { function: 6, register: 308, type: uint16 }\n',
      'fields.current_a.function',
      /must be 1 \(coils\), 2/,
    ],
    [
      'scale 0',
      'pump',
      'fields:\n  current_a: { function: 4, register: 308, type: uint16, scale: 0 }\n',
      'fields.current_a.scale',
      /must not be 0/,
    ],
    [
      'a field in a range the device refuses',
      'pump',
      'no_span: [{ from: 300, to: 305 }]\nfields:\n  flow_m3h: { function: 4, register: 301, type: uint16 }\n',
      'fields.flow_m3h.register',
      /no_span range 300-305/,
    ],
    [
      'a value wider than the device reads at once',
      'water_meter',
      'max_registers_per_read: 1\nfields:\n  total_m3: { function: 3, register: 0, type: uint32 }\n',
      'fields.total_m3.register',
      /at most 1/,
    ],
    [
      'a register past 65535',
      'water_meter',
      'fields:\n  total_m3: { function: 3, register: 65535, type: uint32 }\n',
      'fields.total_m3.register',
      /65535/,
    ],
    [
      'too many registers per read',
      'water_meter',
      'max_registers_per_read: 126\nfields:\n  total_m3: { function: 3, register: 0, type: uint32 }\n',
      'max_registers_per_read',
      /125/,
    ],
  ];
  it.each(cases)('%s', (_what, kind, body, path, message) => {
    const e = loadError('broken', header('broken', kind) + body);
    expect(paths(e)).toContain(path);
    expect(e.problems.find((p) => p.path === path)!.message).toMatch(message);
    expect(e.message).toContain(path);
  });

  it('register 0 in a 1-based manual', () => {
    const e = loadError(
      'one-based',
      header('one-based', 'water_meter', 1) + 'fields:\n  flow_m3h: { function: 3, register: 0, type: float32 }\n',
    );
    expect(paths(e)).toEqual(['fields.flow_m3h.register']);
  });

  it('points at the line of the offending field', () => {
    const e = loadError(
      'lines',
      header('lines', 'pump') +
        'fields:\n  running: { function: 4, register: 200, type: bit, bit: 9 }\n  fault: { function: 4, register: 200, type: bit }\n',
    );
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]!.line).toBe(9);
    expect(e.message).toContain(':9:');
  });

  it('a name that is not the file name', () => {
    const e = loadError(
      'file-name',
      header('other-name', 'pump') + 'fields:\n  current_a: { function: 4, register: 308, type: uint16 }\n',
    );
    expect(paths(e)).toEqual(['name']);
  });

  it('YAML that does not parse', () => {
    const e = loadError('syntax', header('syntax', 'pump') + 'fields:\n  current_a: { function: 4, register: 308\n');
    expect(e.problems[0]!.message).toMatch(/^YAML:/);
  });

  it('a profile without fields', () => {
    const e = loadError('empty', header('empty', 'pump') + 'fields: {}\n');
    expect(paths(e)).toEqual(['fields']);
  });

  it('stops at the first broken file of a folder, naming it', () => {
    const sub = mkdtempSync(join(dir, 'mixed-'));
    writeFileSync(
      join(sub, 'good.yaml'),
      header('good', 'pump') + 'fields:\n  current_a: { function: 4, register: 308, type: uint16, scale: 0.1 }\n',
    );
    writeFileSync(
      join(sub, 'bad.yaml'),
      header('bad', 'pump') + 'fields:\n  speed_rpm: { function: 4, register: 308, type: uint16 }\n',
    );
    expect(() => loadRegisterProfiles(sub)).toThrow(join(sub, 'bad.yaml'));
    rmSync(join(sub, 'bad.yaml'));
    expect([...loadRegisterProfiles(sub).keys()]).toEqual(['good']);
  });
});

describe('writable fields', () => {
  const profile = (field: string) =>
    [
      'name: w',
      'description: { zh: "测试", en: "test" }',
      'kind: water_meter',
      'manufacturer: t',
      'model: t',
      'addressing: 0',
      'fields:',
      `  ${field}`,
    ].join('\n');

  it('only coils and holding registers can be written, with the file and field named', () => {
    expect(() =>
      parseRegisterProfile(profile('valve_open: { function: 2, register: 0, type: bool, writable: true }'), 'w.yaml'),
    ).toThrow(
      /w\.yaml:8:\d+ +fields\.valve_open\.writable: only coils \(function 1\) and holding registers \(function 3\) can be written; this one is read with function 2/,
    );
    expect(
      parseRegisterProfile(profile('valve_open: { function: 1, register: 0, type: bool, writable: true }'), 'w.yaml')
        .fields.valve_open!.writable,
    ).toBe(true);
  });

  it('refuses input registers, split values and maps a write could not encode, naming file and field', () => {
    const fails = (field: string, message: RegExp) =>
      expect(() => parseRegisterProfile(profile(field), 'w.yaml'), field).toThrow(message);
    fails(
      'valve_open: { function: 2, register: 0, type: bool, writable: true }',
      /fields\.valve_open\.writable: only coils/,
    );
    fails(
      'flow_m3h: { function: 4, register: 0, type: int16, writable: true }',
      /w\.yaml:8:\d+ +fields\.flow_m3h\.writable: only coils .* this one is read with function 4/,
    );
    fails(
      'total_m3: { function: 3, register: 0, type: int32, add: { register: 2, type: float32 }, writable: true }',
      /fields\.total_m3\.writable: a value split over two registers cannot be written/,
    );
    fails(
      'valve_open: { function: 3, register: 0, type: uint16, map: { 0: false, 1: true, 2: true }, writable: true }',
      /fields\.valve_open\.writable: true comes from codes 1 and 2: a write could not tell which one to send/,
    );
    fails(
      'valve_open: { function: 3, register: 0, type: uint16, map: { 0: false }, writable: true }',
      /fields\.valve_open\.writable: the map has no code for true: that value could not be written/,
    );
  });

  it('accepts a bit inside a holding register and a one-to-one map', () => {
    expect(
      parseRegisterProfile(
        profile('valve_open: { function: 3, register: 5, type: bit, bit: 3, writable: true }'),
        'w.yaml',
      ).fields.valve_open!.writable,
    ).toBe(true);
    expect(
      parseRegisterProfile(
        profile('valve_open: { function: 3, register: 0, type: uint16, map: { 0: false, 1: true }, writable: true }'),
        'w.yaml',
      ).fields.valve_open!.writable,
    ).toBe(true);
    expect(
      parseRegisterProfile(profile('valve_open: { function: 1, register: 0, type: bool }'), 'w.yaml').fields.valve_open!
        .writable,
    ).toBe(false);
  });

  it('ships a writable valve (generic water meter) and pump start/stop (generic pump controller, Grundfos CIM), nothing else', () => {
    const writable = [...shipped.values()].flatMap((p) =>
      Object.entries(p.fields)
        .filter(([, f]) => f.writable)
        .map(([n]) => `${p.name}.${n}`),
    );
    expect(writable.sort()).toEqual([
      'generic-pump-controller.run_command',
      'generic-water-meter.valve_open',
      'grundfos-cim.run_command',
    ]);
    // The CIM's on/off request is bit 1 of its control register; bit 0 (remote access) is never in a profile's reach.
    expect(shipped.get('grundfos-cim')!.fields.run_command).toMatchObject({
      function: 3,
      register: 100,
      type: 'bit',
      bit: 1,
      writable: true,
    });
  });
});
