import type { FieldValue } from '../rules/model/reading.js';
import { EventLog } from './event-log.js';

// Every command sent to a device, with who, when, why and what came of it: an fsynced,
// append-only record (`<data_dir>/commands/commands.jsonl`), kept in memory for the API.

export interface CommandRecord {
  at: number;
  by: string;
  deviceId: string;
  field: string;
  value: FieldValue;
  comment?: string;
  outcome: 'done' | 'refused' | 'failed';
  readBack?: FieldValue | null;
  detail?: string;
}

export class CommandLog {
  private readonly log: EventLog<CommandRecord>;
  private readonly records: CommandRecord[] = [];

  constructor(file: string) {
    this.log = new EventLog(file);
  }

  async open(): Promise<void> {
    for (const { record } of await this.log.open()) this.records.push(record);
  }

  async add(r: CommandRecord): Promise<void> {
    await this.log.append([r]);
    this.records.push(r);
  }

  /** A device's commands, newest first. */
  of(deviceId: string, limit = 100): CommandRecord[] {
    return this.records.filter((r) => r.deviceId === deviceId).slice(-limit).reverse();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
