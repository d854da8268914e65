import type { FieldValue } from '../model/reading.js';
import type { Incident, IncidentEvent } from './incident.js';
import { NOT_A_PERSON, type Playbook } from './playbook.js';

// Commands a person may send from an incident to one of its devices (S000 §5: close a vacant
// flat's valve first, before it floods the flat below), and what goes on the timeline: the
// command as it goes out, then the device's answer as read back. Which devices qualify and
// what may be refused before anything is sent are decided here; sending is the gateway's.
// Whether the step is then done stays what it was: a person's record, or the sensors'
// evidence (no flow on the meter). A valve the device says is shut while the water still
// runs is exactly what that split must show.

type Text = { zh: string; en: string };

export type DeviceCommandEvent = Extract<IncidentEvent, { type: 'device_command' }>;
export type DeviceCommandName = DeviceCommandEvent['command'];
export type DeviceCommandOutcome = Exclude<DeviceCommandEvent['outcome'], 'sent'>;

export interface DeviceCommandDef {
  /** The canonical field written, and its value. */
  field: string;
  value: FieldValue;
  /** The playbook step it carries out, when the playbook has it. */
  step: string;
  title: Text;
}

export const DEVICE_COMMANDS: Record<DeviceCommandName, DeviceCommandDef> = {
  close_valve: { field: 'valve_open', value: false, step: 'close_valve', title: { zh: '关阀', en: 'close the valve' } },
};

export const isDeviceCommand = (name: string): name is DeviceCommandName => Object.hasOwn(DEVICE_COMMANDS, name);

/** Why a device command was refused before anything was sent (nothing is recorded then). */
export class DeviceCommandError extends Error {
  constructor(
    readonly code: 'closed' | 'not_a_person' | 'unknown_command' | 'not_in_incident' | 'not_writable',
    message: string,
    readonly zh: string,
  ) {
    super(message);
    this.name = 'DeviceCommandError';
  }
}

/** The devices an incident is about: its own, then those of its alarms, in order. */
export function incidentDevices(inc: Incident): string[] {
  return [
    ...new Set([
      ...(inc.deviceId ? [inc.deviceId] : []),
      ...inc.alarms.map((a) => a.deviceId).filter((d): d is string => d !== undefined),
    ]),
  ];
}

export interface OfferedCommand {
  deviceId: string;
  command: DeviceCommandName;
  field: string;
  value: FieldValue;
  /** The playbook step it belongs to, when the playbook has that step. */
  step?: string;
  title: Text;
}

/** What the incident page may offer: each command whose field one of the incident's devices can be written. */
export function offeredCommands(
  inc: Incident,
  playbook: Playbook,
  writable: (deviceId: string) => readonly string[],
): OfferedCommand[] {
  if (inc.status !== 'open') return [];
  const out: OfferedCommand[] = [];
  for (const deviceId of incidentDevices(inc)) {
    const fields = writable(deviceId);
    for (const [command, def] of Object.entries(DEVICE_COMMANDS) as [DeviceCommandName, DeviceCommandDef][]) {
      if (!fields.includes(def.field)) continue;
      out.push({
        deviceId,
        command,
        field: def.field,
        value: def.value,
        ...(playbook.steps.some((s) => s.id === def.step) ? { step: def.step } : {}),
        title: def.title,
      });
    }
  }
  return out;
}

/**
 * A person's command on an incident, checked: the events to record before the device is
 * written (the `sent` event, after an acknowledgement when nobody owns the case yet: the first
 * to act on it owns it, S003 §3.5), or a DeviceCommandError. `writable`: the fields the
 * device's profile lets the gateway write (none for an MQTT device).
 */
export function commandSent(
  inc: Incident,
  playbook: Playbook,
  ask: { deviceId: string; command: string; by: string; writable: readonly string[] },
  now: number,
): { sent: DeviceCommandEvent; events: IncidentEvent[] } {
  const { deviceId, command, by } = ask;
  if (inc.status === 'closed')
    throw new DeviceCommandError(
      'closed',
      `incident ${inc.id} is closed: nothing more can be recorded on it`,
      `事件 ${inc.id} 已关闭，不能再记录`,
    );
  if ((NOT_A_PERSON as readonly string[]).includes(by))
    throw new DeviceCommandError(
      'not_a_person',
      `"${by}" is not a person: commands are recorded under the name of who gives them`,
      `“${by}”不是人员，指令须以下达人的名义记录`,
    );
  if (!isDeviceCommand(command)) {
    const known = Object.keys(DEVICE_COMMANDS).join(', ');
    throw new DeviceCommandError(
      'unknown_command',
      `no device command "${command}" (commands: ${known})`,
      `没有设备指令“${command}”（可用：${known}）`,
    );
  }
  const devices = incidentDevices(inc);
  if (!devices.includes(deviceId)) {
    throw new DeviceCommandError(
      'not_in_incident',
      `${deviceId} is not a device of incident ${inc.id} (its devices: ${devices.join(', ') || 'none'})`,
      `${deviceId} 不属于事件 ${inc.id}（该事件的设备：${devices.join('、') || '无'}）`,
    );
  }
  const def = DEVICE_COMMANDS[command];
  if (!ask.writable.includes(def.field)) {
    throw new DeviceCommandError(
      'not_writable',
      `${deviceId} cannot be commanded to ${def.title.en}: the gateway cannot write its ${def.field} (writable: ${ask.writable.join(', ') || 'nothing'})`,
      `${deviceId} 无法远程${def.title.zh}：网关不能写入其 ${def.field}（可写：${ask.writable.join('、') || '无'}）`,
    );
  }
  const step = playbook.steps.some((s) => s.id === def.step) ? def.step : undefined;
  const sent: DeviceCommandEvent = {
    type: 'device_command',
    deviceId,
    command,
    by,
    ...(step ? { step } : {}),
    outcome: 'sent',
    at: now,
  };
  return { sent, events: [...(inc.owner ? [] : [{ type: 'acknowledged' as const, by, at: now }]), sent] };
}

/** The device's answer to a command that went out, for the timeline. */
export function commandAnswered(
  sent: DeviceCommandEvent,
  answer: { outcome: DeviceCommandOutcome; readBack?: FieldValue | null; detail?: string },
  now: number,
): DeviceCommandEvent {
  return {
    type: 'device_command',
    deviceId: sent.deviceId,
    command: sent.command,
    by: sent.by,
    ...(sent.step ? { step: sent.step } : {}),
    outcome: answer.outcome,
    ...(answer.readBack !== undefined ? { readBack: answer.readBack } : {}),
    ...(answer.detail ? { detail: answer.detail } : {}),
    at: now,
  };
}

/** A device command on the timeline, in words. */
export function describeDeviceCommand(e: DeviceCommandEvent): Text {
  const what = DEVICE_COMMANDS[e.command]?.title ?? { zh: e.command, en: e.command };
  const detail = e.detail ? { zh: `（${e.detail}）`, en: ` (${e.detail})` } : { zh: '', en: '' };
  const readBack =
    e.readBack === undefined || e.readBack === null
      ? ''
      : `${DEVICE_COMMANDS[e.command]?.field ?? 'read back'} = ${String(e.readBack)}`;
  switch (e.outcome) {
    case 'sent':
      return {
        zh: `${e.by} 远程下发指令：${what.zh}（${e.deviceId}）`,
        en: `${e.by} sent a command to ${e.deviceId}: ${what.en}`,
      };
    case 'confirmed':
      return {
        zh: `${e.deviceId} 回读确认：已${what.zh}${readBack ? `（${readBack}）` : ''}`,
        en: `${e.deviceId} read back: ${what.en} confirmed${readBack ? ` (${readBack})` : ''}`,
      };
    case 'refused':
      return {
        zh: `${e.deviceId} 拒绝或未执行：${what.zh}${detail.zh}`,
        en: `${e.deviceId} refused or did not carry out: ${what.en}${detail.en}`,
      };
    case 'no_answer':
      return {
        zh: `${e.deviceId} 无应答，无法确认是否已${what.zh}，请到现场确认${detail.zh}`,
        en: `no answer from ${e.deviceId}: not known whether it did ${what.en}; check on site${detail.en}`,
      };
  }
}
