import type { DeviceKind } from '../../../rules/model/fields.js';
import type { ModbusDeviceConfig } from '../../config/schema.js';
import type { RegisterProfile } from '../../profiles/profile.js';
import { describeTarget, type LinkTarget } from './link.js';
import { planReads, type ReadRequest } from './plan.js';

// From the site file's Modbus devices to what the poller needs: each device with its
// profile and read plan, grouped by the line (TCP endpoint or serial port) it sits on.
// Every mistake is collected and reported at once, before anything connects.

export const DEFAULT_TCP_PORT = 502;
/** The factory setting of most meters (Eastron, TUF-2000M, Grundfos CIM 200). */
export const DEFAULT_BAUD_RATE = 9600;

export interface PolledDevice {
  id: string;
  kind: DeviceKind;
  profile: RegisterProfile;
  plan: ReadRequest[];
  unitId: number;
  timeoutMs: number;
  intervalMs: number;
  /** Backed off three intervals at most: its loss matters at once (see watchedClosely). */
  watchedClosely: boolean;
  /** The line's name, as in `describeTarget`. */
  line: string;
}

/**
 * Devices whose return must be seen within seconds: an incomer (the power is back), a lift
 * (people may be in it), a sump's level sensor and pump (the basement floods). A site can say
 * otherwise per device (`watch_closely`).
 */
export function watchedClosely(d: Pick<ModbusDeviceConfig, 'kind' | 'circuit' | 'role' | 'watch_closely'>): boolean {
  if (d.watch_closely !== undefined) return d.watch_closely;
  return (
    (d.kind === 'electricity_meter' && d.circuit === 'incomer') ||
    d.kind === 'lift' ||
    d.kind === 'level_sensor' ||
    (d.kind === 'pump' && d.role === 'sump')
  );
}

export interface Line {
  name: string;
  target: LinkTarget;
  devices: PolledDevice[];
}

export class ModbusConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Modbus devices cannot be polled:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ModbusConfigError';
  }
}

/** Resolves profiles and lines; throws ModbusConfigError listing every problem. */
export function resolveModbusDevices(
  devices: readonly ModbusDeviceConfig[],
  profiles: ReadonlyMap<string, RegisterProfile>,
): Map<string, Line> {
  const problems: string[] = [];
  const lines = new Map<string, Line>();
  const ids = new Set<string>();
  for (const d of devices) {
    const who = `device "${d.id}"`;
    if (ids.has(d.id)) problems.push(`${who}: duplicate device id`);
    ids.add(d.id);
    const profile = profileOf(d, profiles, problems);
    const target = profile && targetOf(d, problems);
    if (!profile || !target) continue;
    const name = describeTarget(target);
    const line = lines.get(name) ?? { name, target, devices: [] };
    const clash = speedClash(line, target, who);
    if (clash) {
      problems.push(clash);
      continue;
    }
    lines.set(name, line);
    line.devices.push({
      id: d.id,
      kind: d.kind,
      profile,
      plan: planReads(profile),
      unitId: d.connection.unit_id,
      timeoutMs: d.connection.timeout_ms,
      intervalMs: Math.max(1, Math.round(d.poll_interval_s * 1000)),
      watchedClosely: watchedClosely(d),
      line: name,
    });
  }
  if (problems.length) throw new ModbusConfigError(problems);
  return lines;
}

function profileOf(
  d: ModbusDeviceConfig,
  profiles: ReadonlyMap<string, RegisterProfile>,
  problems: string[],
): RegisterProfile | undefined {
  const who = `device "${d.id}"`;
  const profile = profiles.get(d.profile);
  if (!profile) {
    problems.push(
      `${who}: no register profile "${d.profile}" (known: ${[...profiles.keys()].sort().join(', ') || 'none'}; profiles live in gateway/profiles/)`,
    );
    return undefined;
  }
  if (profile.kind !== d.kind) {
    problems.push(`${who} has kind ${d.kind}, but profile "${profile.name}" is for kind ${profile.kind}`);
    return undefined;
  }
  return profile;
}

function targetOf(d: ModbusDeviceConfig, problems: string[]): LinkTarget | undefined {
  const c = d.connection;
  if (c.transport === 'tcp') {
    if (c.host) return { transport: 'tcp', host: c.host, port: c.port ?? DEFAULT_TCP_PORT };
    problems.push(`device "${d.id}": Modbus TCP needs connection.host`);
    return undefined;
  }
  if (c.serial_port) return { transport: 'rtu', path: c.serial_port, baudRate: c.baud_rate ?? DEFAULT_BAUD_RATE };
  problems.push(`device "${d.id}": Modbus RTU needs connection.serial_port`);
  return undefined;
}

/** One serial line has one speed: a device asking for another is refused. */
function speedClash(line: Line, target: LinkTarget, who: string): string | undefined {
  if (line.target.transport !== 'rtu' || target.transport !== 'rtu' || line.target.baudRate === target.baudRate)
    return undefined;
  const others = line.devices.map((x) => `"${x.id}"`).join(', ');
  return `${who}: ${target.path} runs at ${line.target.baudRate} baud for ${others}, not ${target.baudRate}: one serial line has one speed`;
}
