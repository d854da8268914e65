import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Alarm, AlarmEventType } from '../../rules/alarms/lifecycle.js';
import { EventLog } from '../files/event-log.js';

// The alarms' own event log: one line per change, each with the alarm as it is after the
// change, fsynced before the change is announced. A restarted gateway folds it back to the
// latest state of every alarm, so nothing raised is raised twice and no acknowledgement is
// lost. (A file of our own rather than InfluxDB: alarm state must come back even when the
// database is the thing that is down.)

export interface JournalEntry {
  seq: number;
  at: number;
  type: AlarmEventType;
  alarm: Alarm;
}

type Change = Omit<JournalEntry, 'seq'>;

/** Closed alarms older than this are dropped when the journal is compacted at start. */
const KEEP_CLOSED_MS = 24 * 3600 * 1000;

export class AlarmJournal {
  private log: EventLog<Change>;

  constructor(readonly file: string) {
    this.log = new EventLog(file);
  }

  /** Reads the journal back: the latest state of each alarm, and its entries in order. Compacts it. */
  async open(
    now: number,
    onCorrupt?: (line: number, detail: string) => void,
  ): Promise<{ alarms: Alarm[]; entries: JournalEntry[] }> {
    const all = await this.log.open(onCorrupt);
    await this.log.close();
    const latest = new Map<string, JournalEntry>();
    for (const { seq, record } of all) latest.set(record.alarm.id, { seq, ...record });
    const kept = [...latest.values()]
      .filter((e) => e.alarm.status !== 'closed' || now - (e.alarm.closedAt ?? 0) < KEEP_CLOSED_MS)
      .sort((a, b) => a.seq - b.seq);
    const tmp = join(dirname(this.file), '.alarms.tmp');
    await writeFile(tmp, kept.map(({ seq, ...record }) => JSON.stringify({ seq, record }) + '\n').join(''), {
      flush: true,
    });
    await rename(tmp, this.file);
    this.log = new EventLog(this.file);
    await this.log.open();
    return { alarms: kept.map((e) => e.alarm), entries: kept };
  }

  /** Appends the changes and resolves once they are on disk, with their sequence numbers. */
  async append(changes: Change[]): Promise<JournalEntry[]> {
    return (await this.log.append(changes)).map(({ seq, record }) => ({ seq, ...record }));
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
