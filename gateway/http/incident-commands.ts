import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  commandAnswered,
  commandSent,
  DEVICE_COMMANDS,
  DeviceCommandError,
  offeredCommands,
  type DeviceCommandOutcome,
} from '../../rules/incidents/device-command.js';
import type { Incident, IncidentEvent } from '../../rules/incidents/incident.js';
import type { FieldValue } from '../../rules/model/reading.js';
import type { CommandResult } from '../adapters/modbus/command.js';
import { UnknownIncidentError } from '../incidents/runtime.js';
import { CommandRefused, sendCommand, type CommandService } from './commands.js';
import type { DeviceDirectory } from './deps.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { IncidentService } from './incidents.js';
import { errors } from './schemas/common.js';
import { incidentCommandDone, offeredCommandList } from './schemas/domain.js';

// A device command from the incident page (issue 17, part 5; S000 §5: close a vacant flat's
// valve first): the duty engineer confirms, the command goes out through the same path as
// POST /api/devices/:id/commands (the command record, the Modbus write, the read-back), and
// the incident's timeline gets the command as it went out and then the device's answer —
// confirmed, refused, or no answer. What is refused before anything is sent (a closed
// incident, a device not in it or not writable, no confirmation) records nothing.

/** The incident runtime, with the recording of events decided outside the board. */
export interface IncidentRecorder extends IncidentService {
  record(id: string, events: IncidentEvent[]): Promise<Incident>;
}

const params = z.strictObject({ id: z.string().min(1).max(64) });
const commandBody = z.strictObject({
  device: z.string().min(1).max(64),
  command: z.string().min(1).max(64),
  /** Must be true: the page asks the duty engineer first (closing a valve cuts a flat's water). */
  confirm: z.boolean().optional(),
});

const STATUS: Record<DeviceCommandError['code'], number> = {
  closed: 409,
  not_a_person: 400,
  unknown_command: 400,
  not_in_incident: 409,
  not_writable: 409,
};

type Answer = { outcome: DeviceCommandOutcome; readBack?: FieldValue | null; detail?: string };

/** What the device's answer means for the timeline. */
function answerOf(result: CommandResult, field: string): Answer {
  if (result.confirmed) return { outcome: 'confirmed', readBack: result.readBack };
  // It took the write but shows something else: as good as a no (a valve stuck open).
  if (result.readBack !== null)
    return {
      outcome: 'refused',
      readBack: result.readBack,
      detail: `the device took the write but reads back ${field} = ${JSON.stringify(result.readBack)}`,
    };
  return { outcome: 'no_answer', readBack: null, ...(result.readBackError ? { detail: result.readBackError } : {}) };
}

function refusalOf(err: CommandRefused): Answer {
  // A Modbus exception is the device saying no; a timeout may have been carried out all the same.
  if (err.command?.code === 'device_error' && err.command.failure !== 'exception')
    return { outcome: 'no_answer', detail: err.message };
  return { outcome: 'refused', detail: err.message };
}

const WORDS: Record<Exclude<DeviceCommandOutcome, 'confirmed'>, { code: string; zh: string; en: string }> = {
  refused: { code: 'device_refused', zh: '设备拒绝或未执行', en: 'the device refused or did not carry it out' },
  no_answer: {
    code: 'no_answer',
    zh: '设备无应答，无法确认是否执行，请到现场确认',
    en: 'no answer from the device: not known whether it was carried out; check on site',
  },
};

export interface IncidentCommandRoutesOptions {
  incidents: IncidentRecorder;
  commands: CommandService | undefined;
  devices: DeviceDirectory;
  now: () => number;
}

export const incidentCommandRoutes: FastifyPluginAsyncZod<IncidentCommandRoutesOptions> = async (app, opts) => {
  const { incidents } = opts;
  const find = (id: string) => {
    try {
      return incidents.get(id);
    } catch (err) {
      if (err instanceof UnknownIncidentError) throw notFound(err.message);
      throw err;
    }
  };

  // The commands the page may offer on this incident (a writable valve on one of its devices).
  app.get(
    '/api/incidents/:id/device-commands',
    { schema: { params, response: { 200: offeredCommandList, ...errors(400, 404) } } },
    async (request) => {
      const { incident, playbook } = find(request.params.id);
      return { commands: offeredCommands(incident, playbook, (deviceId) => writable(opts, deviceId)) };
    },
  );

  app.post(
    '/api/incidents/:id/device-command',
    {
      schema: { params, body: commandBody, response: { 200: incidentCommandDone, ...errors(400, 404, 409, 502, 503) } },
    },
    async (request, reply) => {
      const id = request.params.id;
      const { incident, playbook } = find(id);
      const { device } = request.body;
      const principal = request.principal!;
      const status = opts.devices.get(device);
      if (!status) throw badRequest(`body.device: no device "${device}" in this site`);

      const decided = decideCommand(incident, playbook, request.body, principal.username, status.protocol, opts);
      const { sent } = decided;
      const def = DEVICE_COMMANDS[sent.command];
      // On the timeline (and on disk) before the device is written: a command that went out is never lost.
      await incidents.record(id, decided.events);
      const { answer, refusal } = await sendToDevice(id, sent, request, opts);
      const answered = commandAnswered(sent, answer, opts.now());
      const inc = await incidents.record(id, [answered]);
      const body = {
        device,
        command: sent.command,
        outcome: answer.outcome,
        ...(answer.readBack !== undefined ? { readBack: answer.readBack } : {}),
        ...(answer.detail ? { detail: answer.detail } : {}),
        at: new Date(answered.at).toISOString(),
        by: principal.username,
      };
      if (answer.outcome === 'confirmed') return reply.send({ ...body, incident: inc });
      const words = WORDS[answer.outcome];
      // Refused before the wire after all (the adapter's own checks): its own status; the device's answer: 502, as for device commands.
      const code = refusal && refusal.command?.code !== 'device_error' ? refusal.statusCode : 502;
      const message = `${device}: ${def.title.en}: ${words.en}${answer.detail ? ` (${answer.detail})` : ''}`;
      throw new ApiError(code, words.code, message, {
        ...body,
        text: { zh: `${device}：${def.title.zh}——${words.zh}`, en: message },
      });
    },
  );
};

/** The command as the incident's rules allow it, sendable and confirmed; an ApiError saying why not. */
function decideCommand(
  incident: Parameters<typeof commandSent>[0],
  playbook: Parameters<typeof commandSent>[1],
  body: { device: string; command: Parameters<typeof commandSent>[2]['command']; confirm?: boolean },
  by: string,
  protocol: string,
  opts: IncidentCommandRoutesOptions,
): ReturnType<typeof commandSent> {
  const { device, command, confirm } = body;
  let decided;
  try {
    decided = commandSent(
      incident,
      playbook,
      { deviceId: device, command, by, writable: writable(opts, device) },
      opts.now(),
    );
  } catch (err) {
    if (!(err instanceof DeviceCommandError)) throw err;
    const why =
      err.code === 'not_writable' && protocol !== 'modbus'
        ? `; it reports over ${protocol.toUpperCase()}, and the gateway writes only to Modbus devices`
        : '';
    throw new ApiError(STATUS[err.code], err.code, `${err.message}${why}`, {
      text: { zh: err.zh, en: `${err.message}${why}` },
    });
  }
  if (!opts.commands) {
    const message = 'this gateway is not set up to send commands to devices';
    throw new ApiError(503, 'commands_unavailable', message, { text: { zh: '本网关未启用设备指令', en: message } });
  }
  const def = DEVICE_COMMANDS[decided.sent.command];
  if (confirm !== true) {
    const message = `body.confirm: ${def.title.en} on ${device} needs confirm: true (the page asks the duty engineer first)`;
    throw new ApiError(400, 'confirm_required', message, {
      text: { zh: `对 ${device} ${def.title.zh}需先确认（confirm: true）`, en: message },
    });
  }
  return decided;
}

function writable(opts: IncidentCommandRoutesOptions, deviceId: string) {
  return opts.commands?.writable?.(deviceId) ?? [];
}

/** Writes the command to the device: its answer, or the refusal that stood for one. No answer is recorded and thrown. */
async function sendToDevice(
  id: string,
  sent: ReturnType<typeof commandSent>['sent'],
  request: FastifyRequest,
  opts: IncidentCommandRoutesOptions,
): Promise<{ answer: Answer; refusal?: CommandRefused }> {
  const principal = request.principal!;
  const def = DEVICE_COMMANDS[sent.command];
  try {
    const result = await sendCommand(
      { commands: opts.commands!, devices: opts.devices, now: opts.now, log: request.log },
      {
        deviceId: sent.deviceId,
        field: def.field,
        value: def.value,
        comment: `incident ${id}: ${sent.command}`,
        by: principal.username,
        via: principal.via,
      },
    );
    return { answer: answerOf(result, def.field) };
  } catch (err) {
    if (!(err instanceof CommandRefused)) {
      await opts.incidents.record(id, [
        commandAnswered(sent, { outcome: 'no_answer', detail: (err as Error).message }, opts.now()),
      ]);
      throw err;
    }
    return { answer: refusalOf(err), refusal: err };
  }
}
