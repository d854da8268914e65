import { mkdir, readFile } from 'node:fs/promises';
import { writeFileDurably } from '../files/durable-file.js';
import { dirname } from 'node:path';
import type { Silence, SilenceMatch } from '../../rules/alarms/silence.js';

// Silences and maintenance windows, kept in one small JSON file (replaced atomically) so
// they survive a restart. Expired ones are dropped when the book is saved.

export class SilenceBook {
  private silences: Silence[] = [];
  private next = 1;

  constructor(readonly file: string) {}

  async load(now: number): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    try {
      const stored = JSON.parse(await readFile(this.file, 'utf8')) as { next: number; silences: Silence[] };
      this.silences = stored.silences.filter((s) => s.until > now);
      this.next = stored.next;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`cannot read silences from ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  list(now: number): Silence[] {
    return this.silences.filter((s) => s.until > now);
  }

  async add(
    s: { by: string; reason: string; from: number; until: number; maintenance: boolean; match: SilenceMatch },
    now: number,
  ): Promise<Silence> {
    const silence: Silence = { id: `silence-${this.next++}`, ...s };
    this.silences = [...this.list(now), silence];
    await this.save();
    return silence;
  }

  /** Ends a silence now; false when there is no such silence. */
  async remove(id: string, now: number): Promise<boolean> {
    if (!this.list(now).some((s) => s.id === id)) return false;
    this.silences = this.list(now).filter((s) => s.id !== id);
    await this.save();
    return true;
  }

  private async save(): Promise<void> {
    await writeFileDurably(this.file, JSON.stringify({ next: this.next, silences: this.silences }, null, 1));
  }
}
