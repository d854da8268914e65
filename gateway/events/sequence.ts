import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// The site's event sequence numbers, never reused across restarts: the file holds the end of
// the block of numbers this run may use; a block is reserved (written, fsynced) before any
// number in it goes out. A crash then skips at most the rest of a block: a consumer sees a
// jump, never the same number twice for two events. A restart starts at the next block, and
// the site's `online` status says where (firstSeq), so a consumer can tell a restart from a
// loss.

const BLOCK = 1000;

export class EventSequence {
  private next: number;
  private reservedTo: number;
  /** The first number this run hands out. */
  readonly first: number;

  constructor(private readonly file: string) {
    let saved: number;
    try {
      saved = Number((JSON.parse(readFileSync(file, 'utf8')) as { reservedTo?: unknown }).reservedTo) || 0;
    } catch {
      saved = 0; // no file yet (or unreadable): start at 1
    }
    this.next = saved + 1;
    this.reservedTo = saved;
    this.first = this.next;
  }

  /** The next number (reserving a new block first when this one is used up). */
  take(): number {
    if (this.next > this.reservedTo) this.reserve(this.next + BLOCK - 1);
    return this.next++;
  }

  private reserve(to: number): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ reservedTo: to }) + '\n', { flush: true });
    renameSync(tmp, this.file);
    this.reservedTo = to;
  }
}
