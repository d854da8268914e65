import { beforeAll, describe, expect, it } from 'vitest';
import type { FieldValue } from '../../../rules/model/reading.js';
import { loadRegisterProfiles, parseRegisterProfile, type RegisterProfile } from '../../profiles/profile.js';
import { emptyImage, readImage, writeImage, type RegisterImage } from '../../profiles/codec.js';
import { CommandError, runCommand, writableFields, type CommandLine } from './command.js';
import type { PolledDevice } from './devices.js';
import { ModbusRequestError } from './errors.js';
import { planReads } from './plan.js';
import type { Priority } from './queue.js';

// A command against a register image standing in for the device: what goes on the line,
// how the profile is applied backwards, and what is refused before anything is sent.

const profile = (kind: string, fields: string[]) =>
  parseRegisterProfile(
    [
      'name: t',
      'description: { zh: "测试", en: "test" }',
      `kind: ${kind}`,
      'manufacturer: t',
      'model: t',
      'addressing: 0',
      'fields:',
      ...fields.map((f) => `  ${f}`),
    ].join('\n'),
    't.yaml',
  );

const boiler = profile('boiler', [
  'setpoint_c: { function: 3, register: 10, type: int16, scale: 0.1, writable: true }',
  'supply_temp_c: { function: 3, register: 20, type: float32, order: CDAB, writable: true }',
  'burner_on: { function: 1, register: 3, type: bool, invert: true, writable: true }',
  'fault: { function: 3, register: 30, type: bit, bit: 2, writable: true }',
  'pressure_kpa: { function: 3, register: 32, type: int16, scale: 0.01, writable: true }',
  'return_temp_c: { function: 4, register: 0, type: int16, scale: 0.1 }',
]);
const lift = profile('lift', [
  'mode: { function: 3, register: 4, type: uint16, map: { 0: normal, 1: inspection, 2: maintenance }, writable: true }',
]);

const device = (p: RegisterProfile, id = 'dev-1'): PolledDevice => ({
  id,
  kind: p.kind,
  profile: p,
  plan: planReads(p),
  unitId: 7,
  timeoutMs: 500,
  intervalMs: 1000,
  watchedClosely: false,
  line: 'fake',
});
const clock = { now: () => 1_700_000_000_000 };
const tick = () => new Promise<void>((r) => setImmediate(r));

/** The device's registers behind a line that answers after a turn of the event loop, as a socket does. */
class FakeLine implements CommandLine {
  readonly sent: {
    op: 'read' | 'write';
    fn: number;
    start: number;
    count: number;
    values?: (number | boolean)[];
    priority?: Priority;
  }[] = [];
  fail: { op: 'read' | 'write'; err: Error; times?: number } | undefined;
  /** The device acknowledges writes but keeps its registers (a valve in local mode). */
  ignoreWrites = false;

  constructor(readonly image: RegisterImage = emptyImage()) {}

  async read(
    unitId: number,
    fn: 1 | 2 | 3 | 4,
    start: number,
    count: number,
    _timeoutMs: number,
    priority: Priority,
  ): Promise<number[] | boolean[]> {
    expect(unitId).toBe(7);
    this.sent.push({ op: 'read', fn, start, count, priority });
    await tick();
    this.maybeFail('read');
    return readImage(this.image, fn, start, count);
  }

  async write(
    unitId: number,
    table: 1 | 3,
    start: number,
    values: readonly number[] | readonly boolean[],
  ): Promise<void> {
    expect(unitId).toBe(7);
    this.sent.push({ op: 'write', fn: table, start, count: values.length, values: [...values] });
    await tick();
    this.maybeFail('write');
    if (!this.ignoreWrites)
      values.forEach((v, i) => (this.image[table] as Map<number, number | boolean>).set(start + i, v));
  }

  private maybeFail(op: 'read' | 'write'): void {
    if (this.fail?.op !== op) return;
    const { err } = this.fail;
    if (this.fail.times !== undefined && --this.fail.times <= 0) this.fail = undefined;
    throw err;
  }
}

async function refusal(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return err as CommandError;
}

const run = (p: RegisterProfile, line: FakeLine, field: string, value: FieldValue) =>
  runCommand(device(p), line, field, value, clock);

describe('runCommand: refusals before anything is sent', () => {
  let shipped: Map<string, RegisterProfile>;
  beforeAll(() => {
    shipped = loadRegisterProfiles();
  });

  it('a field the profile does not declare writable, naming the writable ones, in English and Chinese', async () => {
    const line = new FakeLine();
    const err = await refusal(run(shipped.get('eastron-sdm630')!, line, 'voltage_l1_v', 0));
    expect(err.code).toBe('not_writable');
    expect(err.message).toBe('dev-1 (eastron-sdm630) cannot be commanded to set "voltage_l1_v"; writable fields: none');
    expect(err.zh).toBe('dev-1（eastron-sdm630）的「L1相电压」voltage_l1_v 不可写；可写字段：无');
    const meter = await refusal(run(shipped.get('generic-water-meter')!, line, 'total_m3', 0));
    expect(meter.message).toMatch(/writable fields: valve_open$/);
    // Read-only fields of a profile that has writable ones, and fields it does not have at all.
    expect((await refusal(run(boiler, line, 'return_temp_c', 50))).message).toMatch(
      /"return_temp_c"; writable fields: setpoint_c, supply_temp_c, burner_on, fault, pressure_kpa$/,
    );
    expect((await refusal(run(boiler, line, 'fault_code', 0))).code).toBe('not_writable');
    expect(line.sent).toEqual([]);
  });

  it('a value of the wrong type, out of the catalogue range, or one the registers cannot hold', async () => {
    const line = new FakeLine();
    const meter = loadRegisterProfiles().get('generic-water-meter')!;
    const shut = await refusal(run(meter, line, 'valve_open', 'shut'));
    expect(shut.code).toBe('bad_value');
    expect(shut.message).toMatch(/^valve_open: /);
    expect((await refusal(run(meter, line, 'valve_open', 0))).code).toBe('bad_value');
    expect((await refusal(run(boiler, line, 'setpoint_c', 250))).message).toMatch(/setpoint_c=250 is out of range/);
    // 500 kPa in 0.01 kPa steps is 50 000: more than an int16 holds.
    expect((await refusal(run(boiler, line, 'pressure_kpa', 500))).message).toBe(
      'pressure_kpa: 50000 does not fit in int16 (-32768…32767)',
    );
    expect((await refusal(run(lift, line, 'mode', 'fire'))).message).toMatch(
      /^mode: "fire" is not a value of the map \(normal, inspection, maintenance\)/,
    );
    expect(line.sent).toEqual([]);
  });

  it('lists writable fields of a device', () => {
    expect(writableFields(device(loadRegisterProfiles().get('grundfos-cim')!))).toEqual(['run_command']);
  });
});

describe('runCommand: encoding with the profile backwards, then reading back', () => {
  it('scale (one register, 06), a float in low-word-first order (16), an inverted coil (05), an enum code', async () => {
    const line = new FakeLine();
    expect(await run(boiler, line, 'setpoint_c', 55.5)).toEqual({
      deviceId: 'dev-1',
      field: 'setpoint_c',
      written: 55.5,
      readBack: 55.5,
      confirmed: true,
      at: clock.now(),
    });
    expect(line.image[3].get(10)).toBe(555);
    await run(boiler, line, 'supply_temp_c', 72);
    expect([line.image[3].get(20), line.image[3].get(21)]).toEqual([0x0000, 0x4290]);
    // The contact is wired the other way round: "on" is coil off.
    expect(await run(boiler, line, 'burner_on', true)).toMatchObject({ readBack: true, confirmed: true });
    expect(line.image[1].get(3)).toBe(false);
    const l = new FakeLine();
    expect(await run(lift, l, 'mode', 'maintenance')).toMatchObject({ readBack: 'maintenance', confirmed: true });
    expect(l.image[3].get(4)).toBe(2);
    expect(line.sent.filter((s) => s.op === 'write').map((s) => [s.fn, s.start, s.values])).toEqual([
      [3, 10, [555]],
      [3, 20, [0x0000, 0x4290]],
      [1, 3, [false]],
    ]);
  });

  it('a value between two register steps is confirmed by the step it was rounded to', async () => {
    expect(await run(boiler, new FakeLine(), 'setpoint_c', 55.56)).toMatchObject({
      written: 55.56,
      readBack: 55.6,
      confirmed: true,
    });
  });

  it('changes a bit inside a register by reading it first and writing the other bits back as they were', async () => {
    const line = new FakeLine();
    line.image[3].set(30, 0b1000_0000_0000_1001);
    expect(await run(boiler, line, 'fault', true)).toMatchObject({ readBack: true, confirmed: true });
    expect(line.image[3].get(30)).toBe(0b1000_0000_0000_1101);
    await run(boiler, line, 'fault', false);
    expect(line.image[3].get(30)).toBe(0b1000_0000_0000_1001);
    expect(line.sent.map((s) => `${s.op} ${s.fn}:${s.start}`)).toEqual([
      'read 3:30',
      'write 3:30',
      'read 3:30',
      'read 3:30',
      'write 3:30',
      'read 3:30',
    ]);
  });

  it('goes ahead of the polls waiting for the line: every request of a command is high priority', async () => {
    const line = new FakeLine();
    await run(boiler, line, 'fault', true);
    expect(line.sent.filter((s) => s.op === 'read').map((s) => s.priority)).toEqual(['high', 'high']);
  });

  it('two commands to bits of the same register do not undo each other', async () => {
    const two = profile('pump', [
      'run_command: { function: 3, register: 100, type: bit, bit: 1, writable: true }',
      'fault: { function: 3, register: 100, type: bit, bit: 5, writable: true }',
    ]);
    const line = new FakeLine();
    const d = device(two);
    await Promise.all([runCommand(d, line, 'run_command', true, clock), runCommand(d, line, 'fault', true, clock)]);
    expect(line.image[3].get(100)).toBe(0b10_0010);
  });

  it('the Grundfos CIM start: bit 1 of control register 100, the remote-access bit 0 left as commissioned', async () => {
    const cim = loadRegisterProfiles().get('grundfos-cim')!;
    const line = new FakeLine(writeImage(cim, { running: false }));
    line.image[3].set(100, 0b01);
    expect(await run(cim, line, 'run_command', true)).toMatchObject({ written: true, readBack: true, confirmed: true });
    expect(line.sent.filter((s) => s.op === 'write')).toEqual([
      { op: 'write', fn: 3, start: 100, count: 1, values: [0b11] },
    ]);
  });

  it('a device that acknowledges but keeps its old value is reported, not confirmed', async () => {
    const meter = loadRegisterProfiles().get('generic-water-meter')!;
    const line = new FakeLine(writeImage(meter, { valve_open: true }));
    line.ignoreWrites = true;
    expect(await run(meter, line, 'valve_open', false)).toEqual({
      deviceId: 'dev-1',
      field: 'valve_open',
      written: false,
      readBack: true,
      confirmed: false,
      at: clock.now(),
    });
  });
});

describe('runCommand: a device that does not take it', () => {
  it('an exception to the write is a device_error carrying the Modbus failure', async () => {
    const line = new FakeLine();
    line.fail = {
      op: 'write',
      err: new ModbusRequestError('exception', 'Modbus exception 2 (illegal data address)', 2),
    };
    const err = await refusal(run(boiler, line, 'setpoint_c', 60));
    expect(err.code).toBe('device_error');
    expect(err.message).toBe(
      'dev-1 did not take the write of setpoint_c to holding register 10: Modbus exception 2 (illegal data address)',
    );
    expect(err.zh).toBe('dev-1 未接受 setpoint_c 的写入（保持寄存器 10）：Modbus exception 2 (illegal data address)');
  });

  it('no answer to the write: it may have happened, and the message says so', async () => {
    const line = new FakeLine();
    line.fail = { op: 'write', err: new ModbusRequestError('timeout', 'no answer from unit 7 within 500 ms') };
    expect((await refusal(run(boiler, line, 'burner_on', false))).message).toBe(
      'dev-1 did not take the write of burner_on to coil 3 (it may have been carried out all the same: check the next reading): no answer from unit 7 within 500 ms',
    );
  });

  it('a bit whose register cannot be read first is not written at all', async () => {
    const line = new FakeLine();
    line.fail = { op: 'read', err: new ModbusRequestError('timeout', 'no answer from unit 7 within 500 ms') };
    const err = await refusal(run(boiler, line, 'fault', true));
    expect(err.message).toBe(
      'dev-1: could not read holding register 30 to change bit 2, so nothing was written: no answer from unit 7 within 500 ms',
    );
    expect(line.sent.map((s) => s.op)).toEqual(['read']);
  });

  it('a write taken but not read back is answered, with why there is no read-back', async () => {
    const line = new FakeLine();
    line.fail = { op: 'read', err: new ModbusRequestError('timeout', 'no answer from unit 7 within 500 ms') };
    expect(await run(boiler, line, 'setpoint_c', 60)).toEqual({
      deviceId: 'dev-1',
      field: 'setpoint_c',
      written: 60,
      readBack: null,
      confirmed: false,
      readBackError: 'the device took the write but could not be read back: no answer from unit 7 within 500 ms',
      at: clock.now(),
    });
    expect(line.image[3].get(10)).toBe(600);
  });
});
