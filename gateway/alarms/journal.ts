import { mkdir, open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Alarm, AlarmEventType } from '../../rules/alarms/lifecycle.js';

// The alarms' own event log: one JSON line per change, each with the alarm as it is after
// the change, fsynced before the change is announced. A restarted gateway folds it back to
// the latest state of every alarm, so nothing raised is raised twice and no
// acknowledgement is lost. (A file of our own rather than InfluxDB: alarm state must come
// back even when the database is the thing that is down.)

export interface JournalEntry {
  seq: number;
  at: number;
  type: AlarmEventType;
  alarm: Alarm;
}

/** Closed alarms older than this are dropped when the journal is compacted at start. */
const KEEP_CLOSED_MS = 24 * 3600 * 1000;

export class AlarmJournal {
  private fh: FileHandle | undefined;
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Reads the journal back: the latest state of each alarm, and the entries in order. Compacts it. */
  async open(now: number, onCorrupt?: (line: number, detail: string) => void): Promise<{ alarms: Alarm[]; entries: JournalEntry[] }> {
    await mkdir(dirname(this.file), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const latest = new Map<string, JournalEntry>();
    const entries: JournalEntry[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const e = JSON.parse(line) as JournalEntry;
        entries.push(e);
        latest.set(e.alarm.id, e);
        this.seq = Math.max(this.seq, e.seq);
      } catch (err) {
        // A torn last line (a crash mid-write): that change was never announced.
        onCorrupt?.(i + 1, (err as Error).message);
      }
    });
    const kept = [...latest.values()].filter((e) => e.alarm.status !== 'closed' || now - (e.alarm.closedAt ?? 0) < KEEP_CLOSED_MS).sort((a, b) => a.seq - b.seq);
    const tmp = join(dirname(this.file), '.alarms.tmp');
    await writeFile(tmp, kept.map((e) => JSON.stringify(e) + '\n').join(''), { flush: true });
    await rename(tmp, this.file);
    this.fh = await open(this.file, 'a');
    return { alarms: kept.map((e) => e.alarm), entries: kept };
  }

  /** Appends the changes and resolves once they are on disk; returns them with their sequence numbers. */
  append(changes: { type: AlarmEventType; at: number; alarm: Alarm }[]): Promise<JournalEntry[]> {
    if (!this.fh) return Promise.reject(new Error('alarm journal is not open'));
    const entries = changes.map((c) => ({ seq: ++this.seq, at: c.at, type: c.type, alarm: c.alarm }));
    if (entries.length === 0) return Promise.resolve(entries);
    const fh = this.fh;
    const done = this.chain.then(async () => {
      await fh.write(entries.map((e) => JSON.stringify(e) + '\n').join(''));
      await fh.datasync();
    });
    this.chain = done.catch(() => undefined);
    return done.then(() => entries);
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close();
    this.fh = undefined;
  }
}
