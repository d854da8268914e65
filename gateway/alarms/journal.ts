import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Alarm, AlarmEventType } from '../../rules/alarms/lifecycle.js';
import { EventLog } from '../files/event-log.js';

/** Changes shown at most before their record is on disk (default); past it, showing waits for the disk. */
export const SHOWN_AHEAD_MAX = 10_000;

// The alarms' own event log: one line per change, each with the alarm as it is after the
// change, fsynced before the change is told to anything that builds on it (incidents, the
// site's event bus) or answered (an acknowledgement's 2xx). A restarted gateway folds it back
// to the latest state of every alarm, so nothing raised is raised twice and no
// acknowledgement is lost. (A file of our own rather than InfluxDB: alarm state must come
// back even when the database is the thing that is down.)
//
// Screens are shown a change before its record is on disk (gateway/alarms/runtime.ts), with
// its number: up to `shownAheadMax` of them. A crash can lose those records, so a restart
// numbers on from past every number that could have been shown (a `floor` line at the top
// of the compacted file): a reconnecting stream never meets one number for two changes.

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

  constructor(
    readonly file: string,
    /** Changes that may be shown before their record is on disk (the runtime keeps to it). */
    readonly shownAheadMax = SHOWN_AHEAD_MAX,
  ) {
    this.log = new EventLog(file);
  }

  /** Reads the journal back: the latest state of each alarm, and its entries in order. Compacts it. */
  async open(
    now: number,
    onCorrupt?: (line: number, detail: string) => void,
  ): Promise<{ alarms: Alarm[]; entries: JournalEntry[] }> {
    const all = await this.log.open(onCorrupt);
    // A file without a floor line was written by a version that showed nothing ahead (or by none).
    const floor = this.log.lastSeq + (this.log.hadFloor ? this.shownAheadMax : 0);
    await this.log.close();
    const latest = new Map<string, JournalEntry>();
    for (const { seq, record } of all) latest.set(record.alarm.id, { seq, ...record });
    const kept = [...latest.values()]
      .filter((e) => e.alarm.status !== 'closed' || now - (e.alarm.closedAt ?? 0) < KEEP_CLOSED_MS)
      .sort((a, b) => a.seq - b.seq);
    const tmp = join(dirname(this.file), '.alarms.tmp');
    const lines = [{ floor }, ...kept.map(({ seq, ...record }) => ({ seq, record }))];
    await writeFile(tmp, lines.map((l) => JSON.stringify(l) + '\n').join(''), { flush: true });
    await rename(tmp, this.file);
    this.log = new EventLog(this.file);
    await this.log.open();
    return { alarms: kept.map((e) => e.alarm), entries: kept };
  }

  /** Numbers the changes now and writes them after the ones before (`written` resolves once on disk). */
  record(changes: Change[]): { entries: JournalEntry[]; written: Promise<void> } {
    const { logged, written } = this.log.number(changes);
    return { entries: logged.map(({ seq, record }) => ({ seq, ...record })), written };
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
