import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldValue } from '../../rules/model/reading.js';
import { CommandError, type CommandResult } from '../adapters/modbus/command.js';
import type { CommandJournal, CommandRecord } from '../commands-log.js';
import type { DeviceDirectory } from './deps.js';
import { deviceParams } from './devices.js';
import { ApiError } from './errors.js';
import { errors } from './schemas/common.js';
import { commandRecords, commandResult } from './schemas/domain.js';

/** Sends a command to a device (the Modbus adapter does); rejects with a CommandError. */
export interface CommandService {
  run(deviceId: string, field: string, value: FieldValue): Promise<CommandResult>;
  /** The fields of the device's profile that may be written (none: not a Modbus device, or nothing writable). */
  writable?(deviceId: string): readonly string[];
  log: CommandJournal;
}

/** One command as a person asks it, from the device's page or from an incident. */
export interface CommandAsk {
  deviceId: string;
  field: string;
  value: FieldValue;
  comment?: string;
  by: string;
  via: 'session' | 'token';
}

/** A refusal of sendCommand: the API's answer, and the CommandError behind it when the command path refused. */
export class CommandRefused extends ApiError {
  constructor(
    api: ApiError,
    readonly command?: CommandError,
  ) {
    super(api.statusCode, api.code, api.message, api.extra, api.headers);
  }
}

const commandBody = z.strictObject({
  field: z.string().min(1).max(64),
  value: z.union([z.boolean(), z.number(), z.string().max(64)]),
  comment: z.string().trim().max(500).optional(),
});

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const STATUS: Record<CommandError['code'], number> = {
  unknown_device: 404,
  not_modbus: 409,
  not_writable: 409,
  bad_value: 400,
  device_error: 502,
};

const text = (zh: string, en: string) => ({ text: { zh, en } });

/**
 * Sends one command and records it, whatever comes of it (who tried to close which valve
 * matters as much as who did): checks, the write through the Modbus adapter, the read-back.
 * Throws a CommandRefused (an ApiError) when it is refused or the device does not take it.
 */
export async function sendCommand(
  ctx: { commands: CommandService | undefined; devices: DeviceDirectory; now: () => number; log: FastifyBaseLogger },
  ask: CommandAsk,
): Promise<CommandResult> {
  const { commands, devices } = ctx;
  const { deviceId: id, field, value, comment } = ask;
  const base = { at: ctx.now(), by: ask.by, via: ask.via, deviceId: id, field, value, ...(comment ? { comment } : {}) };
  const record = recorder(ctx, ask);
  const refuse = async (err: ApiError, outcome: CommandRecord['outcome'] = 'refused', cause?: CommandError) => {
    await record({ ...base, outcome, error: err.code, detail: err.message });
    return new CommandRefused(err, cause);
  };

  const device = devices.get(id);
  const refusal = refusalBeforeSending(id, device, commands);
  if (refusal || !commands) throw await refuse(refusal!);
  let result: CommandResult;
  try {
    result = await commands.run(id, field, value);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw await refuse(
      new ApiError(STATUS[err.code], err.code, err.message, text(err.zh, err.message)),
      err.code === 'device_error' ? 'failed' : 'refused',
      err,
    );
  }
  await record({
    ...base,
    outcome: result.confirmed ? 'done' : 'unconfirmed',
    readBack: result.readBack,
    ...(result.readBackError
      ? { detail: result.readBackError }
      : !result.confirmed
        ? { detail: `read back ${JSON.stringify(result.readBack)}` }
        : {}),
  });
  return result;
}

/** Writes a command's record to the log file and the gateway's log. */
function recorder(ctx: { commands: CommandService | undefined; log: FastifyBaseLogger }, ask: CommandAsk) {
  const { deviceId: id, field, value } = ask;
  return async (r: CommandRecord): Promise<void> => {
    const line = `command ${id}.${field} = ${JSON.stringify(value)} by ${r.by}: ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`;
    if (r.outcome === 'done') ctx.log.info({ command: r }, line);
    else ctx.log.warn({ command: r }, line);
    try {
      await ctx.commands?.log.add(r);
    } catch (err) {
      // The command has happened (or been refused) all the same: its answer must not be lost to a full disk.
      ctx.log.error({ err, command: r }, `command record could not be written: ${line}`);
    }
  };
}

/** Why a command cannot even be tried: no such device, no command service, or not a Modbus device. */
function refusalBeforeSending(
  id: string,
  device: ReturnType<DeviceDirectory['get']>,
  commands: CommandService | undefined,
): ApiError | undefined {
  if (!device) {
    return new ApiError(
      404,
      'not_found',
      `no device "${id}" in this site`,
      text(`本站点没有设备“${id}”`, `no device "${id}" in this site`),
    );
  }
  if (!commands) {
    const message = 'this gateway is not set up to send commands to devices';
    return new ApiError(503, 'commands_unavailable', message, text('本网关未启用设备指令', message));
  }
  if (device.protocol !== 'modbus') {
    const message = `${id} reports over ${device.protocol.toUpperCase()}: the gateway sends commands to Modbus devices only`;
    return new ApiError(
      409,
      'not_modbus',
      message,
      text(`${id} 通过 ${device.protocol.toUpperCase()} 上报，网关只能向 Modbus 设备下发指令`, message),
    );
  }
  return undefined;
}

/**
 * POST /api/devices/:id/commands (operator) and GET /api/devices/:id/commands (the record).
 * Every command that got past authentication is recorded and logged, refusals too.
 */
export const commandRoutes: FastifyPluginAsyncZod<{
  commands: CommandService | undefined;
  devices: DeviceDirectory;
  now: () => number;
}> = async (app, { commands, devices, now }) => {
  app.post(
    '/api/devices/:id/commands',
    {
      schema: {
        params: deviceParams,
        body: commandBody,
        response: { 200: commandResult, ...errors(400, 404, 409, 502, 503) },
      },
    },
    async (request) => {
      const { field, value, comment } = request.body;
      const principal = request.principal!;
      const result = await sendCommand(
        { commands, devices, now, log: request.log },
        {
          deviceId: request.params.id,
          field,
          value,
          ...(comment ? { comment } : {}),
          by: principal.username,
          via: principal.via,
        },
      );
      return {
        ...result,
        at: new Date(result.at).toISOString(),
        by: principal.username,
        ...(comment ? { comment } : {}),
      };
    },
  );

  app.get(
    '/api/devices/:id/commands',
    {
      schema: { params: deviceParams, querystring: listQuery, response: { 200: commandRecords, ...errors(400, 404) } },
    },
    async (request) => {
      const id = request.params.id;
      if (!devices.get(id)) throw new ApiError(404, 'not_found', `no device "${id}" in this site`);
      const list = commands?.log.of(id, request.query.limit) ?? [];
      return { device: id, commands: list.map((r) => ({ ...r, at: new Date(r.at).toISOString() })) };
    },
  );
};
