import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldValue } from '../../rules/model/reading.js';
import { CommandError, type CommandResult } from '../adapters/modbus/command.js';
import type { CommandLog } from '../commands-log.js';
import type { DeviceDirectory } from './deps.js';
import { deviceParams, findDevice } from './devices.js';
import { ApiError } from './errors.js';

/** Sends a command to a device (the Modbus adapter does); throws CommandError. */
export interface CommandService {
  run(deviceId: string, field: string, value: FieldValue): Promise<CommandResult>;
  log: CommandLog;
}

const commandBody = z.strictObject({
  field: z.string().min(1).max(64),
  value: z.union([z.boolean(), z.number(), z.string().max(64)]),
  comment: z.string().trim().max(500).optional(),
});

const STATUS: Record<CommandError['code'], number> = { unknown_device: 404, not_modbus: 409, not_writable: 409, bad_value: 400, device_error: 502 };

/** POST /api/devices/:id/commands (operator) and GET /api/devices/:id/commands (the record). */
export const commandRoutes: FastifyPluginAsyncZod<{ commands: CommandService | undefined; devices: DeviceDirectory; now: () => number }> = async (app, { commands, devices, now }) => {
  app.post('/api/devices/:id/commands', { schema: { params: deviceParams, body: commandBody } }, async (request) => {
    const device = findDevice(devices, request.params.id);
    if (!commands) throw new ApiError(503, 'commands_unavailable', 'this gateway sends no commands');
    const { field, value, comment } = request.body;
    const base = { at: now(), by: request.principal!.username, deviceId: device.id, field, value, ...(comment ? { comment } : {}) };
    try {
      const result = await commands.run(device.id, field, value);
      await commands.log.add({ ...base, outcome: 'done', readBack: result.readBack });
      request.log.warn({ command: base, readBack: result.readBack }, `command: ${device.id}.${field} = ${String(value)} by ${base.by}`);
      return { ...result, at: new Date(base.at).toISOString(), by: base.by };
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      await commands.log.add({ ...base, outcome: err.code === 'device_error' ? 'failed' : 'refused', detail: err.message });
      throw new ApiError(STATUS[err.code], err.code, err.message);
    }
  });

  app.get('/api/devices/:id/commands', { schema: { params: deviceParams } }, async (request) => {
    const device = findDevice(devices, request.params.id);
    return { commands: commands?.log.of(device.id) ?? [] };
  });
};
