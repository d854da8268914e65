import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modbusDevice } from '../../../test/modbus-helpers.js';
import { device, type ModbusDeviceConfig } from '../../config/schema.js';
import { loadRegisterProfiles, type RegisterProfile } from '../../profiles/profile.js';
import { ModbusConfigError, resolveModbusDevices } from './devices.js';

let profiles: Map<string, RegisterProfile>;
beforeAll(() => {
  profiles = loadRegisterProfiles();
});

describe('resolveModbusDevices', () => {
  it('groups devices by line: one TCP endpoint (host:port), one serial port', () => {
    const lines = resolveModbusDevices(
      [
        modbusDevice({
          id: 'em-1',
          kind: 'electricity_meter',
          profile: 'eastron-sdm630',
          host: '10.0.0.5',
          unitId: 1,
          intervalS: 10,
        }),
        modbusDevice({
          id: 'pump-1',
          kind: 'pump',
          profile: 'grundfos-cim',
          host: '10.0.0.5',
          port: 502,
          unitId: 2,
          intervalS: 5,
        }),
        modbusDevice({
          id: 'wm-1',
          kind: 'water_meter',
          profile: 'tuf-2000m',
          host: '10.0.0.5',
          port: 5020,
          unitId: 1,
          intervalS: 30,
        }),
        modbusDevice({
          id: 'wm-2',
          kind: 'water_meter',
          profile: 'tuf-2000m',
          transport: 'rtu',
          serialPort: '/dev/ttyUSB0',
          unitId: 3,
          intervalS: 30,
        }),
        modbusDevice({
          id: 'wm-3',
          kind: 'water_meter',
          profile: 'tuf-2000m',
          transport: 'rtu',
          serialPort: '/dev/ttyUSB0',
          baudRate: 9600,
          unitId: 4,
          intervalS: 30,
        }),
      ],
      profiles,
    );
    expect([...lines.keys()]).toEqual(['tcp://10.0.0.5:502', 'tcp://10.0.0.5:5020', 'rtu:/dev/ttyUSB0']);
    expect(lines.get('tcp://10.0.0.5:502')!.devices.map((d) => [d.id, d.unitId, d.intervalMs, d.timeoutMs])).toEqual([
      ['em-1', 1, 10_000, 1000],
      ['pump-1', 2, 5000, 1000],
    ]);
    expect(lines.get('rtu:/dev/ttyUSB0')!.target).toEqual({ transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600 });
    expect(lines.get('tcp://10.0.0.5:502')!.devices[0]!.plan).toHaveLength(3);
  });

  it('names every problem at once: unknown profile, wrong kind, one serial line at two speeds', () => {
    let error: unknown;
    try {
      resolveModbusDevices(
        [
          modbusDevice({
            id: 'em-1',
            kind: 'electricity_meter',
            profile: 'eastron-sdm63',
            host: 'h',
            unitId: 1,
            intervalS: 10,
          }),
          modbusDevice({ id: 'pump-1', kind: 'pump', profile: 'eastron-sdm630', host: 'h', unitId: 2, intervalS: 10 }),
          modbusDevice({
            id: 'wm-1',
            kind: 'water_meter',
            profile: 'tuf-2000m',
            transport: 'rtu',
            serialPort: '/dev/ttyS1',
            baudRate: 9600,
            unitId: 1,
            intervalS: 10,
          }),
          modbusDevice({
            id: 'wm-2',
            kind: 'water_meter',
            profile: 'tuf-2000m',
            transport: 'rtu',
            serialPort: '/dev/ttyS1',
            baudRate: 19200,
            unitId: 2,
            intervalS: 10,
          }),
        ],
        profiles,
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ModbusConfigError);
    const problems = (error as ModbusConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/device "em-1": no register profile "eastron-sdm63" \(known: .*eastron-sdm630/);
    expect(problems[1]).toBe(
      'device "pump-1" has kind pump, but profile "eastron-sdm630" is for kind electricity_meter',
    );
    expect(problems[2]).toMatch(/device "wm-2": \/dev\/ttyS1 runs at 9600 baud for "wm-1", not 19200/);
    expect((error as Error).message).toContain('Modbus devices cannot be polled');
  });

  it('accepts sample.yaml: every device parses and resolves onto its line', () => {
    const sample = parse(readFileSync(new URL('./sample.yaml', import.meta.url), 'utf8')) as { devices: unknown[] };
    const devices = sample.devices.map((d) => device.parse(d) as ModbusDeviceConfig);
    const lines = resolveModbusDevices(devices, profiles);
    expect([...lines.entries()].map(([name, l]) => [name, l.devices.map((d) => d.id)])).toEqual([
      ['tcp://10.20.1.15:502', ['t1-em-incomer', 't1-pump-booster-1']],
      ['tcp://10.20.1.15:503', ['t1-wm-main']],
      ['rtu:/dev/ttyUSB0', ['t2-em-lift-a', 't2-lift-a']],
    ]);
  });
});
