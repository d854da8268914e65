import { FIELDS } from '../../../rules/model/fields.js';
import { checkFields, type FieldValue } from '../../../rules/model/reading.js';
import type { Clock } from '../../ports/clock.js';
import { fieldSpan, type FunctionCode } from '../../profiles/datatypes.js';
import type { RegisterField } from '../../profiles/profile.js';
import { decodeField, encodeField } from '../../profiles/codec.js';
import type { PolledDevice } from './devices.js';
import type { Endpoint } from './endpoint.js';
import { ModbusRequestError, type RequestFailure } from './errors.js';
import { QueueClosedError } from './queue.js';

// Writing one canonical field of a device (close a unit's valve, start a pump): refused
// unless the device's profile declares the field writable, encoded with the profile
// backwards (scale, offset, word order, enum map; a bit inside a register is read, changed
// and written back), sent ahead of the polls on the line, then read back to confirm.

export type CommandErrorCode = 'unknown_device' | 'not_modbus' | 'not_writable' | 'bad_value' | 'device_error';

/**
 * `message` in English; `zh` the same for the duty engineer in Chinese. `failure`
 * (device_error): how the request failed on the line — a timeout means the device may have
 * carried it out all the same, an exception that it answered no.
 */
export class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
    readonly zh: string,
    readonly failure?: RequestFailure | 'closed',
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface CommandResult {
  deviceId: string;
  field: string;
  written: FieldValue;
  /** What the device reports after the write; null when it could not be read back or decoded. */
  readBack: FieldValue | null;
  /**
   * The read-back is the value written, as the registers can hold it (12.34 written with a
   * 0.1 scale is confirmed by 12.3). False: the device took the write but shows something
   * else, or could not be read back.
   */
  confirmed: boolean;
  /** Why there is no read-back. */
  readBackError?: string;
  /** Epoch ms the device acknowledged the write. */
  at: number;
}

/** The part of a line a command uses (an Endpoint; a fake in unit tests). */
export type CommandLine = Pick<Endpoint, 'read' | 'write'>;

/** The fields of a device's profile that may be written. */
export function writableFields(device: PolledDevice): string[] {
  return Object.entries(device.profile.fields)
    .filter(([, f]) => f.writable)
    .map(([name]) => name);
}

// One command per device at a time: two commands changing bits of the same register must not
// both read it before either writes it back.
const inProgress = new WeakMap<PolledDevice, Promise<unknown>>();

/** Checks, encodes, writes and reads back one field; rejects with a CommandError. */
export function runCommand(
  device: PolledDevice,
  line: CommandLine,
  field: string,
  value: FieldValue,
  clock: Clock,
): Promise<CommandResult> {
  let def: RegisterField;
  try {
    def = checkCommand(device, field, value);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const before = inProgress.get(device) ?? Promise.resolve();
  const run = before.then(() => send(device, line, def, field, value, clock));
  const settled = run.catch(() => undefined);
  inProgress.set(device, settled);
  void settled.then(() => {
    if (inProgress.get(device) === settled) inProgress.delete(device);
  });
  return run;
}

/** Everything that can be refused before anything goes on the wire. */
function checkCommand(device: PolledDevice, field: string, value: FieldValue): RegisterField {
  const def = device.profile.fields[field];
  if (!def?.writable) {
    const writable = writableFields(device);
    const label = FIELDS[device.kind][field]?.label.zh;
    throw new CommandError(
      'not_writable',
      `${device.id} (${device.profile.name}) cannot be commanded to set "${field}"; writable fields: ${writable.join(', ') || 'none'}`,
      `${device.id}（${device.profile.name}）的${label ? `「${label}」` : ''}${field} 不可写；可写字段：${writable.join('、') || '无'}`,
    );
  }
  const checked = checkFields(device.kind, { [field]: value });
  if (!checked.ok)
    throw new CommandError('bad_value', `${field}: ${checked.detail}`, `${field} 的值不可用：${checked.detail}`);
  if (def.type !== 'bit') encode(def, field, value);
  return def;
}

function encode(
  def: RegisterField,
  field: string,
  value: FieldValue,
  current?: readonly number[] | readonly boolean[],
): number[] | boolean[] {
  try {
    return encodeField(def, value, current);
  } catch (err) {
    throw new CommandError(
      'bad_value',
      `${field}: ${(err as Error).message}`,
      `${field} 的值无法写入设备：${(err as Error).message}`,
    );
  }
}

async function send(
  device: PolledDevice,
  line: CommandLine,
  def: RegisterField,
  field: string,
  value: FieldValue,
  clock: Clock,
): Promise<CommandResult> {
  const span = fieldSpan(device.profile.addressing, def);
  const first = span.start + device.profile.addressing;
  const where = {
    en: describeSpan(span.function, first, span.count, 'en'),
    zh: describeSpan(span.function, first, span.count, 'zh'),
  };
  const read = () => line.read(device.unitId, span.function, span.start, span.count, device.timeoutMs, 'high');
  // The other bits of the register belong to other flags: they are written back as they are.
  const current = def.type === 'bit' ? await currentBits(device, def, read, where) : undefined;
  const encoded = encode(def, field, value, current);
  try {
    await line.write(device.unitId, span.function as 1 | 3, span.start, encoded, device.timeoutMs);
  } catch (err) {
    const timedOut = err instanceof ModbusRequestError && err.failure === 'timeout';
    throw deviceError(
      err,
      `${device.id} did not take the write of ${field} to ${where.en}${timedOut ? ' (it may have been carried out all the same: check the next reading)' : ''}`,
      `${device.id} 未接受 ${field} 的写入（${where.zh}）${timedOut ? '，但指令可能已执行，请以下一次读数为准' : ''}`,
    );
  }
  const at = clock.now();
  return { deviceId: device.id, field, written: value, ...(await readBack(def, encoded, read)), at };
}

type Read = () => Promise<number[] | boolean[]>;

async function currentBits(
  device: PolledDevice,
  def: RegisterField,
  read: Read,
  where: { en: string; zh: string },
): Promise<number[] | boolean[]> {
  try {
    return await read();
  } catch (err) {
    throw deviceError(
      err,
      `${device.id}: could not read ${where.en} to change bit ${def.bit}, so nothing was written`,
      `${device.id}：读取${where.zh}失败，未写入任何内容`,
    );
  }
}

/** What the device shows after the write, and whether it is what was written. */
async function readBack(
  def: RegisterField,
  encoded: number[] | boolean[],
  read: Read,
): Promise<Pick<CommandResult, 'readBack' | 'confirmed' | 'readBackError'>> {
  const expected = decodeField(def, encoded);
  try {
    const decoded = decodeField(def, await read());
    if (!decoded.ok) return { readBack: null, confirmed: false, readBackError: `read back: ${decoded.detail}` };
    return { readBack: decoded.value, confirmed: expected.ok && expected.value === decoded.value };
  } catch (err) {
    if (!(err instanceof ModbusRequestError || err instanceof QueueClosedError)) throw err;
    return {
      readBack: null,
      confirmed: false,
      readBackError: `the device took the write but could not be read back: ${err.message}`,
    };
  }
}

function deviceError(err: unknown, what: string, zh: string): Error {
  if (err instanceof ModbusRequestError || err instanceof QueueClosedError)
    return new CommandError(
      'device_error',
      `${what}: ${err.message}`,
      `${zh}：${err.message}`,
      err instanceof ModbusRequestError ? err.failure : 'closed',
    );
  return err instanceof Error ? err : new Error(String(err));
}

const TABLES: Partial<Record<FunctionCode, { en: [one: string, many: string]; zh: string }>> = {
  1: { en: ['coil', 'coils'], zh: '线圈' },
  3: { en: ['holding register', 'holding registers'], zh: '保持寄存器' },
};

/** In the manual's numbering: "holding register 100", "holding registers 10–11", "保持寄存器 100". */
function describeSpan(fn: FunctionCode, first: number, count: number, lang: 'en' | 'zh'): string {
  const table = TABLES[fn] ?? { en: [`function ${fn} address`, `function ${fn} addresses`], zh: `功能码 ${fn} 地址` };
  const range = count === 1 ? `${first}` : `${first}–${first + count - 1}`;
  return lang === 'zh' ? `${table.zh} ${range}` : `${table.en[count === 1 ? 0 : 1]} ${range}`;
}
