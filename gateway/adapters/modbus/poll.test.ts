import { beforeAll, describe, expect, it } from 'vitest';
import type { FieldValue } from '../../../rules/model/reading.js';
import { loadRegisterProfiles, type RegisterProfile } from '../../profiles/profile.js';
import { readImage, writeImage, type RegisterImage } from '../../profiles/codec.js';
import { ModbusRequestError, type RequestFailure } from './errors.js';
import { planReads } from './plan.js';
import { pollDevice, type ReadFn } from './poll.js';

// The rules of one poll, with the device's registers in a RegisterImage (what the
// simulator serves) and failures injected per request.

let profiles: Map<string, RegisterProfile>;
beforeAll(() => {
  profiles = loadRegisterProfiles();
});
const profile = (name: string) => profiles.get(name)!;

/** Reads from `image`; the n-th request (0-based) fails as `failures[n]` says. */
function device(image: RegisterImage, failures: Record<number, RequestFailure> = {}) {
  const sent: string[] = [];
  const read: ReadFn = async (fn, start, count) => {
    const n = sent.push(`${fn}:${start}+${count}`) - 1;
    const failure = failures[n];
    if (failure) throw new ModbusRequestError(failure, `injected ${failure}`, failure === 'exception' ? 2 : undefined);
    return readImage(image, fn, start, count);
  };
  return { read, sent };
}

const SDM630: Record<string, FieldValue> = {
  voltage_l1_v: 230.1,
  voltage_l2_v: 229.8,
  voltage_l3_v: 231.4,
  current_l1_a: 5.2,
  current_l2_a: 4.9,
  current_l3_a: 6.1,
  power_kw: 3.456,
  frequency_hz: 50.01,
  energy_import_kwh: 12345.6,
  energy_export_kwh: 0,
};

describe('pollDevice', () => {
  it('reads a whole SDM630 in its planned requests and decodes every field', async () => {
    const p = profile('eastron-sdm630');
    const d = device(writeImage(p, SDM630));
    const result = await pollDevice('electricity_meter', p, planReads(p), d.read);
    expect(result).toMatchObject({ answered: true, fields: SDM630, problems: [], abandoned: 0 });
    // 10 fields, 3 requests: 0x00-0x0B, 0x34-0x35, 0x46-0x4B.
    expect(d.sent).toEqual(['4:0+12', '4:52+2', '4:70+6']);
  });

  it('leaves out a field with an unknown status code and keeps the rest', async () => {
    const p = profile('generic-lift-terminal');
    const image = writeImage(p, {
      floor: 7,
      direction: 'up',
      door: 'closed',
      in_door_zone: true,
      occupied: false,
      alarm_button: false,
      mode: 'normal',
      fault_code: 0,
    });
    image[3].set(1, 7); // direction code 7: not in the map
    const result = await pollDevice('lift', p, planReads(p), device(image).read);
    expect(result.answered).toBe(true);
    expect(result.fields).toEqual({
      floor: 7,
      door: 'closed',
      in_door_zone: true,
      occupied: false,
      alarm_button: false,
      mode: 'normal',
      fault_code: 0,
    });
    expect(result.problems).toEqual([expect.objectContaining({ field: 'direction', error: 'unknown_code', raw: 7 })]);
  });

  it('leaves out a NaN and a value outside the catalogue range, keeps the rest', async () => {
    const p = profile('eastron-sdm630');
    const image = writeImage(p, { ...SDM630, voltage_l2_v: 5000 }); // > 1000 V: out of range
    image[4].set(0, 0x7fc0).set(1, 0x0000); // voltage_l1_v: float32 NaN
    const result = await pollDevice('electricity_meter', p, planReads(p), device(image).read);
    const { voltage_l1_v: _a, voltage_l2_v: _b, ...rest } = SDM630;
    expect(result.fields).toEqual(rest);
    expect(result.problems.map((x) => [x.field, x.error])).toEqual([
      ['voltage_l1_v', 'not_a_number'],
      ['voltage_l2_v', 'out_of_range'],
    ]);
  });

  it('reports no_data (a sensor the pump does not have) as a problem, not a value', async () => {
    const p = profile('grundfos-cim');
    const image = writeImage(p, {
      run_command: true,
      running: true,
      fault: false,
      warning: false,
      alarm_code: 0,
      pressure_kpa: 250,
      current_a: 3.2,
    });
    image[4].set(301, 0xffff);
    const result = await pollDevice('pump', p, planReads(p), device(image).read);
    expect(result.fields).toEqual({
      run_command: true,
      running: true,
      fault: false,
      warning: false,
      alarm_code: 0,
      pressure_kpa: 250,
      current_a: 3.2,
    });
    expect(result.problems).toEqual([expect.objectContaining({ field: 'flow_m3h', error: 'no_data' })]);
  });

  it('after a timeout sends no more requests to that slave', async () => {
    const p = profile('eastron-sdm630');
    const d = device(writeImage(p, SDM630), { 0: 'timeout' });
    const result = await pollDevice('electricity_meter', p, planReads(p), d.read);
    expect(d.sent).toHaveLength(1);
    expect(result).toMatchObject({ answered: false, fields: {}, abandoned: 2 });
    expect(result.requests[0]!.failure!.failure).toBe('timeout');
  });

  it('a line that is down ends the poll too', async () => {
    const p = profile('grundfos-cim');
    const d = device(writeImage(p, { running: true }), { 0: 'connection' });
    const result = await pollDevice('pump', p, planReads(p), d.read);
    expect(result).toMatchObject({ answered: false, abandoned: 2 });
  });

  it('an exception costs only that request: the others still come back', async () => {
    const p = profile('eastron-sdm630');
    const d = device(writeImage(p, SDM630), { 1: 'exception' });
    const result = await pollDevice('electricity_meter', p, planReads(p), d.read);
    expect(d.sent).toHaveLength(3);
    expect(result.answered).toBe(true);
    const { power_kw: _p, ...rest } = SDM630;
    expect(result.fields).toEqual(rest);
    expect(result.requests.map((r) => r.failure?.failure ?? 'ok')).toEqual(['ok', 'exception', 'ok']);
  });
});
