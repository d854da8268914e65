import { checkFields, type FieldValue } from '../../../rules/model/reading.js';
import { fieldSpan } from '../../profiles/datatypes.js';
import { decodeField, encodeField } from './codec.js';
import type { PolledDevice } from './devices.js';
import type { Endpoint } from './endpoint.js';
import { ModbusRequestError } from './errors.js';

// Writing one canonical field of a device (close a unit's valve, start a pump): refused
// unless the device's profile declares the field writable, encoded with the profile
// backwards (scale, offset, word order, enum map; a bit inside a register is read, changed
// and written back), sent ahead of the polls on the line, then read back to confirm.

export type CommandErrorCode = 'unknown_device' | 'not_modbus' | 'not_writable' | 'bad_value' | 'device_error';

export class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface CommandResult {
  deviceId: string;
  field: string;
  written: FieldValue;
  /** What the device reports after the write. */
  readBack: FieldValue | null;
}

export async function runCommand(device: PolledDevice, endpoint: Endpoint, field: string, value: FieldValue): Promise<CommandResult> {
  const def = device.profile.fields[field];
  const writable = Object.entries(device.profile.fields)
    .filter(([, f]) => f.writable)
    .map(([name]) => name);
  if (!def || !def.writable) {
    throw new CommandError('not_writable', `${device.id} (${device.profile.name}) cannot be commanded to set "${field}"; writable fields: ${writable.join(', ') || 'none'}`);
  }
  const checked = checkFields(device.kind, { [field]: value });
  if (!checked.ok) throw new CommandError('bad_value', `${field}: ${checked.detail}`);
  const span = fieldSpan(device.profile.addressing, def);
  const table = span.function as 1 | 3;
  try {
    // A bit shares its register with others: keep theirs as they are.
    const current = def.type === 'bit' ? await endpoint.read(device.unitId, span.function, span.start, span.count, device.timeoutMs, 'normal') : undefined;
    let encoded: number[] | boolean[];
    try {
      encoded = encodeField(def, value, current);
    } catch (err) {
      throw new CommandError('bad_value', `${field}: ${(err as Error).message}`);
    }
    await endpoint.write(device.unitId, table, span.start, encoded, device.timeoutMs);
    const after = await endpoint.read(device.unitId, span.function, span.start, span.count, device.timeoutMs, 'normal');
    const decoded = decodeField(def, after);
    return { deviceId: device.id, field, written: value, readBack: decoded.ok ? decoded.value : null };
  } catch (err) {
    if (err instanceof CommandError) throw err;
    if (err instanceof ModbusRequestError) throw new CommandError('device_error', `${device.id} did not take the command: ${err.message}`);
    throw err;
  }
}
