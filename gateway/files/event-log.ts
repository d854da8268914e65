import { constants } from 'node:fs';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

// An append-only log of JSON records, one per line, each numbered; `append` resolves once
// the records are fsynced, so whatever was announced after it survives a crash. A torn last
// line (a crash mid-write) was never announced and is skipped on reading. A line
// `{"floor":n}` (written by whoever rewrites the file) says numbers up to n may have been
// handed out already: the log goes on after it even when no record up to n is left.

/**
 * Opened for synchronised data writes where the system has them: a write returns once its
 * data is on disk, one trip to the thread pool instead of a write and then an fdatasync. An
 * alarm waits for this before it is announced, and under load each extra trip also waited
 * for a busy event loop to come round (bench/README.md, Alarm latency).
 */
const DSYNC = constants.O_DSYNC;
const APPEND_FLAGS = DSYNC === undefined ? 'a' : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | DSYNC;

export interface Logged<T> {
  seq: number;
  record: T;
}

/** Records numbered now, and the promise of their write. */
export interface Numbered<T> {
  logged: Logged<T>[];
  /** Resolves once the records are on disk. */
  written: Promise<void>;
}

export class EventLog<T> {
  private fh: FileHandle | undefined;
  private seq = 0;
  private floorRead = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  async open(onCorrupt?: (line: number, detail: string) => void): Promise<Logged<T>[]> {
    await mkdir(dirname(this.file), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const out: Logged<T>[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const e = JSON.parse(line) as Logged<T> | { floor: number };
        // A damaged number would stop the numbering (NaN) or send it back: the line is skipped instead.
        const n = 'floor' in e ? e.floor : e.seq;
        if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a sequence number: ${JSON.stringify(n)}`);
        if ('floor' in e) {
          this.floorRead = true;
          this.seq = Math.max(this.seq, e.floor);
          return;
        }
        out.push(e);
        this.seq = Math.max(this.seq, e.seq);
      } catch (err) {
        onCorrupt?.(i + 1, (err as Error).message);
      }
    });
    this.fh = await open(this.file, APPEND_FLAGS);
    if (text && !text.endsWith('\n')) {
      // Ends the torn line, or the next record would be glued to it and lost at the next open.
      await this.fh.write('\n');
      await this.fh.datasync();
    }
    return out;
  }

  /** The highest number handed out (or read back, or the floor read back). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Whether `open` read a floor line. */
  get hadFloor(): boolean {
    return this.floorRead;
  }

  append(records: T[]): Promise<Logged<T>[]> {
    try {
      const { logged, written } = this.number(records);
      return written.then(() => logged);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * Numbers the records at once and writes them after the ones before: for a caller that
   * shows them before they are on disk (and so must know their numbers now).
   */
  number(records: T[]): Numbered<T> {
    if (!this.fh) throw new Error(`${this.file} is not open`);
    const logged = records.map((record) => ({ seq: ++this.seq, record }));
    if (logged.length === 0) return { logged, written: Promise.resolve() };
    const fh = this.fh;
    const written = this.chain.then(async () => {
      await fh.write(logged.map((e) => JSON.stringify(e) + '\n').join(''));
      if (DSYNC === undefined) await fh.datasync();
    });
    this.chain = written.catch(() => undefined);
    return { logged, written };
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close();
    this.fh = undefined;
  }
}
