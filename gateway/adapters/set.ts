import type { FieldValue } from '../../rules/model/reading.js';
import type { DeviceStatus } from '../registry.js';
import type { Adapter, AdapterContext, AdapterKind, Emit, LineDown } from './adapter.js';
import { CommandError, type CommandResult } from './modbus/command.js';

/**
 * The running adapters as one: the core starts, stops and asks them through this, each
 * question going to the adapter whose protocol the device has in the site file.
 */
export class AdapterSet {
  private readonly byProtocol = new Map<string, Adapter>();
  private readonly protocolOf = new Map<string, string>();
  private started: Adapter[] = [];

  constructor(
    readonly list: readonly Adapter[],
    devices: readonly { id: string; protocol: string }[],
  ) {
    for (const a of list) this.byProtocol.set(a.protocol, a);
    for (const d of devices) this.protocolOf.set(d.id, d.protocol);
  }

  /** Builds one adapter per kind, each with a logger of its own. */
  static create(kinds: readonly AdapterKind[], ctx: AdapterContext): AdapterSet {
    const list = kinds.map((k) => k.create({ ...ctx, logger: ctx.logger.child({ component: k.component }) }));
    return new AdapterSet(list, ctx.config.devices);
  }

  /** Starts each in order; stop() stops those started, the last first. */
  start(emit: Emit): void {
    for (const a of this.list) {
      a.start(emit);
      this.started.push(a);
    }
  }

  async stop(): Promise<void> {
    const started = this.started.reverse();
    this.started = [];
    for (const a of started) await a.stop();
  }

  /** The adapter serving a device, if any. */
  of(deviceId: string): Adapter | undefined {
    const protocol = this.protocolOf.get(deviceId);
    return protocol === undefined ? undefined : this.byProtocol.get(protocol);
  }

  linkDown(deviceId: string): string | undefined {
    return this.of(deviceId)?.linkDown(deviceId);
  }

  linesDown(): LineDown[] {
    return this.list.flatMap((a) => a.linesDown());
  }

  /** A device's status with what its adapter adds (Modbus: `poll`). */
  withAdapterStatus(d: DeviceStatus): DeviceStatus {
    const extra = this.of(d.id)?.deviceStatus(d.id);
    return extra ? { ...d, ...extra } : d;
  }

  command(deviceId: string, field: string, value: FieldValue): Promise<CommandResult> {
    const a = this.of(deviceId);
    if (a?.command) return a.command(deviceId, field, value);
    // The HTTP layer refuses devices of other protocols first; this is the same answer.
    return Promise.reject(
      new CommandError(
        'not_modbus',
        `"${deviceId}" is not a Modbus device of this gateway`,
        `"${deviceId}" 不是本网关的 Modbus 设备，无法下发指令`,
      ),
    );
  }

  writableFields(deviceId: string): string[] {
    return this.of(deviceId)?.writableFields?.(deviceId) ?? [];
  }
}
