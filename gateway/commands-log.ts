import type { FieldValue } from '../rules/model/reading.js';
import { EventLog } from './files/event-log.js';

// Every command sent to a device, with who, when, why and what came of it: an fsynced,
// append-only record (`<data_dir>/commands/commands.jsonl`), kept in memory for the API.
// A valve closed from the duty room must be traceable to a person afterwards, refusals too.

export interface CommandRecord {
  /** Epoch ms the command was asked for. */
  at: number;
  /** The user's login name, or the API token's name. */
  by: string;
  via?: 'session' | 'token';
  deviceId: string;
  field: string;
  value: FieldValue;
  comment?: string;
  /**
   * done: written and read back as written; unconfirmed: written, but the read-back shows
   * something else or failed; refused: nothing was sent; failed: the device did not take it.
   */
  outcome: 'done' | 'unconfirmed' | 'refused' | 'failed';
  /** Why it was refused or failed (a CommandError code, or `unavailable`). */
  error?: string;
  readBack?: FieldValue | null;
  detail?: string;
}

/** Where commands are recorded; the HTTP API needs nothing else of it. */
export interface CommandJournal {
  /** Resolves once the record is on disk. */
  add(r: CommandRecord): Promise<void>;
  /** A device's commands, newest first. */
  of(deviceId: string, limit?: number): CommandRecord[];
}

export class CommandLog implements CommandJournal {
  private readonly log: EventLog<CommandRecord>;
  private readonly records: CommandRecord[] = [];

  constructor(readonly file: string) {
    this.log = new EventLog(file);
  }

  /** Reads back what earlier runs recorded; call once before add(). */
  async open(): Promise<void> {
    for (const { record } of await this.log.open()) this.records.push(record);
  }

  async add(r: CommandRecord): Promise<void> {
    await this.log.append([r]);
    this.records.push(r);
  }

  of(deviceId: string, limit = 100): CommandRecord[] {
    const out: CommandRecord[] = [];
    for (let i = this.records.length - 1; i >= 0 && out.length < limit; i--) {
      if (this.records[i]!.deviceId === deviceId) out.push(this.records[i]!);
    }
    return out;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
