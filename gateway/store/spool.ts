import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SpoolFullError } from './errors.js';
import {
  fsyncDir,
  isWholeRecord,
  parseSegmentName,
  readSegmentLines,
  scanLastSegment,
  segmentName,
  writeAll,
  type SegmentPosition,
} from './segment-file.js';
import { legacyRecord } from './legacy-record.js';
import { joined, Slabs } from './slabs.js';
import { realTimers, systemClock, type Clock, type Timers } from '../ports/clock.js';

export interface SpoolOptions {
  dir: string;
  /** Size limit of the files on disk; an append that would pass it is refused. */
  maxBytes: number;
  /**
   * At most one write + fdatasync per window: appends arriving within a window of the last
   * one's start wait for its end and share one (0 = next turn of the event loop). After a quiet
   * spell an append is written at once.
   */
  fsyncIntervalMs?: number;
  /** A segment file is closed and a new one started past this size (default 64 MiB). */
  segmentBytes?: number;
  /**
   * Bytes of records kept in memory for the writer; older ones are read back from disk
   * (default 8 MiB: a few of the writer's requests, and a bound on the heap whatever arrives).
   */
  memoryBytes?: number;
  /** A stored line that cannot be used (disk damage, a legacy record that cannot be converted): it is skipped. */
  onCorrupt?: (detail: string) => void;
  /** Timers and clock for the fsync window (default real ones). */
  timers?: Timers;
  clock?: Clock;
}

/**
 * Consecutive records: `records` holds those with sequence numbers firstSeq..lastSeq
 * (unusable lines skipped). A record is one line of InfluxDB line protocol, without its newline.
 */
export interface SpoolBatch {
  firstSeq: number;
  lastSeq: number;
  readonly records: string[];
  /** How many records (without making `records` from `body`). */
  readonly count: number;
  /**
   * Served from memory: the records as UTF-8, each ended by a newline, as a write request
   * carries them (`records` is then made from it only when asked for).
   */
  readonly body?: Buffer<ArrayBuffer>;
}

/** A batch of `span` records read from disk, the usable ones in `records`. */
function diskBatch(firstSeq: number, span: number, records: string[]): SpoolBatch {
  return { firstSeq, lastSeq: firstSeq + span - 1, records, count: records.length };
}

/**
 * A batch served from memory: its body is a slice of the bytes that were appended (a copy
 * only when it spans appends), with no string per record. Splitting records out of the
 * memory and joining them again for the request made two more copies of every record, each
 * kept until the request was answered.
 */
function memoryBatch(firstSeq: number, count: number, body: Buffer<ArrayBuffer>): SpoolBatch {
  let records: string[] | undefined;
  return {
    firstSeq,
    lastSeq: firstSeq + count - 1,
    count,
    body,
    get records() {
      return (records ??= count === 0 ? [] : body.toString('utf8', 0, body.length - 1).split('\n'));
    },
  };
}

const NEWLINE = 0x0a;

/** Where record `n` (0-based) of newline-ended `data` starts, searching from record `from` at `pos`. */
function recordStart(data: Buffer, n: number, from = 0, pos = 0): number {
  for (let k = from; k < n; k++) pos = data.indexOf(NEWLINE, pos) + 1;
  return pos;
}

interface Segment {
  firstSeq: number;
  /** Complete lines on disk (durable). */
  count: number;
  /** Durable size. */
  bytes: number;
  /** Full: the next append goes to a new segment. */
  sealed?: boolean;
}

interface PendingAppend {
  /** The records' bytes, newline-terminated: encoded once, at append (and kept: see MemoryChunk). */
  data: Buffer<ArrayBuffer>;
  bytes: number;
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Records of one durable write kept for the writer: the bytes that were written, outside the
 * JavaScript heap. Kept as strings (the records the pipeline made are ropes of a dozen parts,
 * about four times their length in heap; joined, one flat string), they lived until the writer
 * had sent them, long enough for the old generation, and with the request's copy they were
 * six tenths of what its full collections freed under load, one full collection every half
 * second (bench/README.md, Alarm latency).
 */
interface MemoryChunk {
  firstSeq: number;
  count: number;
  data: Buffer<ArrayBuffer>;
  bytes: number;
}

/** The spool's memory for records comes in slabs of this size at most (see slabs.ts). */
const SLAB_BYTES = 2 ** 20;
const MIN_SLAB_BYTES = 4096;
const CURSOR = 'cursor';
const LOCK = 'lock';
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const openDirs = new Set<string>();

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The write-ahead log in front of the database: a durable FIFO of records (lines of InfluxDB
 * line protocol) on disk. Lines, not objects: the writer sends them as they are, so nothing is
 * parsed or serialised again between the disk and the database.
 * `append` resolves only once the records are written and fdatasynced; every record gets a
 * sequence number; `commit(seq)` marks everything up to it delivered. See README.md.
 */
export class Spool {
  readonly dir: string;
  private readonly timers: Timers;
  private readonly clock: Clock;
  /** When the last group's write began (clock time). */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private readonly maxBytes: number;
  private readonly fsyncIntervalMs: number;
  private readonly segmentBytes: number;
  private readonly memoryBytes: number;
  private readonly onCorrupt: ((detail: string) => void) | undefined;

  private segments: Segment[] = [];
  /** Open for appending; always the last of `segments` when set. */
  private active: { seg: Segment; fh: FileHandle } | undefined;
  private nextSeq = 1;
  private committed = 0;
  private persisted = 0;
  private diskBytes = 0;
  private isFull = false;
  private failure: Error | undefined;
  private opened = false;
  private closed = false;

  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushTimer: unknown;
  private flushing: Promise<void> | undefined;
  private cursorChain: Promise<void> = Promise.resolve();

  private memory: MemoryChunk[] = [];
  private memoryUsed = 0;
  private readonly slabs: Slabs;
  private readPos: { firstSeq: number; pos: SegmentPosition } | undefined;

  /** Called after each group of appends became durable (the writer's cue). */
  onAppended: (() => void) | undefined;
  /** Called when an append is refused for lack of space (for the spool_full gauge). */
  onRefused: (() => void) | undefined;

  constructor(opts: SpoolOptions) {
    if (!(opts.maxBytes > 0))
      throw new Error(`spool maxBytes must be a positive number of bytes, got ${opts.maxBytes}`);
    this.dir = resolve(opts.dir);
    this.timers = opts.timers ?? realTimers;
    this.clock = opts.clock ?? systemClock;
    this.maxBytes = opts.maxBytes;
    this.fsyncIntervalMs = opts.fsyncIntervalMs ?? 20;
    // Whole segments are freed at once: keep them small against the limit.
    this.segmentBytes = Math.max(
      4096,
      Math.min(opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, Math.floor(opts.maxBytes / 8)),
    );
    this.memoryBytes = opts.memoryBytes ?? 8 * 2 ** 20;
    // Eight slabs or more: a slab comes back only once all of it is delivered.
    const slabBytes = Math.min(SLAB_BYTES, Math.max(MIN_SLAB_BYTES, Math.floor(this.memoryBytes / 8)));
    this.slabs = new Slabs(slabBytes, Math.ceil(this.memoryBytes / slabBytes));
    this.onCorrupt = opts.onCorrupt;
  }

  /** Records appended and not yet committed. */
  get depth(): number {
    return this.nextSeq - 1 - this.committed;
  }
  /** Bytes of the segment files on disk (what the size limit counts). */
  get bytes(): number {
    return this.diskBytes;
  }
  /** True from a refusal for lack of space until space is freed. */
  get full(): boolean {
    return this.isFull;
  }
  /** Sequence number of the last durable record (0 when none ever). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }
  get committedSeq(): number {
    return this.committed;
  }
  get limitBytes(): number {
    return this.maxBytes;
  }
  /** Set when the disk failed in a way the spool could not undo: appends are refused. */
  get error(): Error | undefined {
    return this.failure;
  }

  async open(): Promise<void> {
    if (this.opened) throw new Error(`spool ${this.dir} is already open`);
    await mkdir(this.dir, { recursive: true });
    await this.lock();
    this.committed = await this.readCursor();
    this.persisted = this.committed;

    const names = (await readdir(this.dir)).flatMap((n) => {
      const seq = parseSegmentName(n);
      return seq === undefined ? [] : [seq];
    });
    names.sort((a, b) => a - b);
    for (let i = 0; i < names.length; i++) {
      const firstSeq = names[i]!;
      const path = join(this.dir, segmentName(firstSeq));
      const next = names[i + 1];
      if (next !== undefined) {
        // Segments are contiguous: a closed one holds exactly the records up to the next.
        this.segments.push({ firstSeq, count: next - firstSeq, bytes: (await stat(path)).size });
      } else {
        const { count, validBytes, size } = await scanLastSegment(path);
        if (validBytes < size) {
          // A torn or damaged last line: its append never resolved, so it was never accepted.
          await truncate(path, validBytes);
          this.onCorrupt?.(`${path}: dropped ${size - validBytes} bytes of an unfinished last write`);
        }
        this.segments.push({ firstSeq, count, bytes: validBytes });
      }
    }
    const last = this.segments.at(-1);
    this.nextSeq = Math.max(this.committed + 1, last ? last.firstSeq + last.count : 1);
    const first = this.segments[0];
    if (first && first.firstSeq - 1 > this.committed) this.committed = first.firstSeq - 1;
    this.diskBytes = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    this.opened = true;
    await this.dropDelivered();
  }

  /**
   * Resolves once every record is on disk and fdatasynced: only then is a reading accepted.
   * Rejects with SpoolFullError when the size limit would be passed; nothing already
   * accepted is ever dropped to make room. A record must not contain a newline (the store's
   * line protocol never does: see influx-schema.ts `unstorable`).
   */
  append(records: string[]): Promise<void> {
    if (!this.opened || this.closed) return Promise.reject(new Error(`spool ${this.dir} is not open`));
    if (this.failure) return Promise.reject(this.failure);
    if (records.length === 0) return Promise.resolve();
    const data = this.slabs.take(`${records.join('\n')}\n`);
    const bytes = data.length;
    if (this.diskBytes + this.pendingBytes + bytes > this.maxBytes) {
      this.slabs.refused(data);
      this.isFull = true;
      this.onRefused?.();
      return Promise.reject(
        new SpoolFullError(
          `spool full: ${mib(this.diskBytes + this.pendingBytes)} of ${mib(this.maxBytes)} in ${this.dir} waiting for the database; ${records.length} reading(s) refused`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ data, bytes, count: records.length, resolve, reject });
      this.pendingBytes += bytes;
      this.scheduleFlush();
    });
  }

  /** Writes and fdatasyncs everything appended so far now, without waiting for the interval. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      this.timers.clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.scheduleFlush();
    });
    return this.flushing;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing) return; // a running flush loop picks new appends up
    // Counted from the last group's start, not from this append: a sender that waits for each
    // acknowledgement before sending more (a bridge on one connection) waits out one window
    // per group, not a window on top of each write.
    const wait = Math.min(
      this.fsyncIntervalMs,
      Math.max(0, this.lastFlushAt + this.fsyncIntervalMs - this.clock.now()),
    );
    this.flushTimer = this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, wait);
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      this.lastFlushAt = this.clock.now();
      await this.writeGroup(group);
    }
  }

  private async activeSegment(): Promise<{ seg: Segment; fh: FileHandle }> {
    if (this.active) return this.active;
    const last = this.segments.at(-1);
    if (last && !last.sealed && last.firstSeq + last.count === this.nextSeq && last.bytes < this.segmentBytes) {
      this.active = { seg: last, fh: await open(join(this.dir, segmentName(last.firstSeq)), 'a') };
    } else {
      const seg: Segment = { firstSeq: this.nextSeq, count: 0, bytes: 0 };
      const fh = await open(join(this.dir, segmentName(seg.firstSeq)), 'a');
      await fsyncDir(this.dir);
      this.segments.push(seg);
      this.active = { seg, fh };
    }
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    await active?.fh.close();
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    let i = 0;
    while (i < group.length) {
      let active: { seg: Segment; fh: FileHandle };
      try {
        active = await this.activeSegment();
      } catch (err) {
        this.rejectFrom(group, i, err as Error);
        return;
      }
      const { seg, fh } = active;
      // Fill the segment up to its size, whole appends at a time.
      const start = i;
      let bytes = 0;
      let count = 0;
      while (i < group.length) {
        const e = group[i]!;
        if (seg.bytes + bytes > 0 && seg.bytes + bytes + e.bytes > this.segmentBytes) break;
        bytes += e.bytes;
        count += e.count;
        i++;
      }
      if (i === start) {
        seg.sealed = true;
        await this.closeActive();
        continue;
      }
      const part = group.slice(start, i);
      try {
        await writeAll(
          fh,
          part.length === 1
            ? part[0]!.data
            : joined(
                part.map((e) => e.data),
                bytes,
              ),
        );
        await fh.datasync();
      } catch (err) {
        await this.undoWrite(seg, fh, err as Error);
        this.rejectFrom(group, start, err as Error);
        return;
      }
      const firstSeq = this.nextSeq;
      this.nextSeq += count;
      seg.count += count;
      seg.bytes += bytes;
      this.diskBytes += bytes;
      this.pendingBytes -= bytes;
      this.rememberEach(firstSeq, part);
      // The writer hears of the records before their appenders do.
      this.onAppended?.();
      for (const e of part) e.resolve();
      if (seg.bytes >= this.segmentBytes) {
        seg.sealed = true;
        await this.closeActive();
      }
    }
  }

  private rejectFrom(group: PendingAppend[], from: number, err: Error): void {
    const out =
      (err as NodeJS.ErrnoException).code === 'ENOSPC'
        ? new SpoolFullError(`spool disk full (${this.dir}): ${err.message}`)
        : err;
    if (out instanceof SpoolFullError) {
      this.isFull = true;
      this.onRefused?.();
    }
    for (let k = from; k < group.length; k++) {
      this.pendingBytes -= group[k]!.bytes;
      this.slabs.refused(group[k]!.data);
      group[k]!.reject(out);
    }
  }

  /** A failed write may have left part of it in the file: cut back to the durable size. */
  private async undoWrite(seg: Segment, fh: FileHandle, err: Error): Promise<void> {
    try {
      await fh.truncate(seg.bytes);
    } catch (undoErr) {
      this.failure = new Error(
        `spool ${this.dir} is unusable after a failed write (${err.message}) and a failed undo (${(undoErr as Error).message})`,
      );
    }
  }

  /**
   * One memory chunk per append, as it came: joining them made a second copy of every record,
   * kept until the writer had sent it (long enough to reach the old generation).
   */
  private rememberEach(firstSeq: number, part: PendingAppend[]): void {
    let seq = firstSeq;
    for (const e of part) {
      this.remember(seq, e.count, e.data, e.bytes);
      seq += e.count;
      this.slabs.written(e.data, seq - 1);
    }
  }

  private remember(firstSeq: number, count: number, data: Buffer<ArrayBuffer>, bytes: number): void {
    this.memory.push({ firstSeq, count, data, bytes });
    this.memoryUsed += bytes;
    // Past the budget the oldest records are served from disk again.
    while (this.memoryUsed > this.memoryBytes && this.memory.length > 1) this.forgetOldest();
  }

  private forgetOldest(): void {
    this.memoryUsed -= this.memory.shift()!.bytes;
  }

  /** The first sequence number served from memory. */
  private get memoryStart(): number {
    return this.memory[0]?.firstSeq ?? this.nextSeq;
  }

  /** The next records after `afterSeq`, in order, up to `max`; null when there are none yet. */
  async read(afterSeq: number, max: number): Promise<SpoolBatch | null> {
    const from = Math.max(afterSeq, this.committed) + 1;
    if (from >= this.nextSeq || max < 1) return null;
    return from >= this.memoryStart
      ? this.readMemory(from, max)
      : this.readDisk(from, Math.min(max, this.memoryStart - from));
  }

  private readMemory(from: number, max: number): SpoolBatch {
    const parts: Buffer<ArrayBuffer>[] = [];
    let count = 0;
    let k = 0;
    while (k < this.memory.length && this.memory[k]!.firstSeq + this.memory[k]!.count <= from) k++;
    for (; k < this.memory.length && count < max; k++) {
      const chunk = this.memory[k]!;
      const skip = Math.max(0, from - chunk.firstSeq);
      const take = Math.min(chunk.count - skip, max - count);
      const { data } = chunk;
      const start = recordStart(data, skip);
      const end = skip + take === chunk.count ? data.length : recordStart(data, skip + take, skip, start);
      parts.push(start === 0 && end === data.length ? data : data.subarray(start, end));
      count += take;
    }
    return memoryBatch(from, count, parts.length === 1 ? parts[0]! : joined(parts));
  }

  private async readDisk(from: number, max: number): Promise<SpoolBatch> {
    const lines: string[] = [];
    let seq = from;
    for (const seg of [...this.segments]) {
      if (lines.length >= max) break;
      if (seg.firstSeq + seg.count <= seq) continue;
      const pos = this.readPos?.firstSeq === seg.firstSeq ? this.readPos.pos : undefined;
      const got = await readSegmentLines(this.dir, seg.firstSeq, seg.bytes, seq, max - lines.length, pos);
      for (const line of got.lines) lines.push(line);
      this.readPos = { firstSeq: seg.firstSeq, pos: got.next };
      seq = got.next.seq;
      if (got.lines.length === 0) break;
    }
    return diskBatch(from, lines.length, this.upgrade(lines, from));
  }

  /**
   * Lines read back from disk: a damaged one is reported and skipped (sent, it would make the
   * database refuse its whole request). Spools written before the records were line
   * protocol hold JSON points: converted on the way out.
   */
  private upgrade(lines: string[], firstSeq: number): string[] {
    let out: string[] | undefined;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const legacy = line.charCodeAt(0) === 0x7b; /* { */
      if (!legacy && isWholeRecord(line)) {
        out?.push(line);
        continue;
      }
      out ??= lines.slice(0, i);
      const converted = legacy ? legacyRecord(line) : { problem: 'damaged (not a line of line protocol)' };
      if (typeof converted === 'string') out.push(converted);
      else this.onCorrupt?.(`${this.dir}: record ${firstSeq + i} is skipped: ${converted.problem}: ${line}`);
    }
    return out ?? lines;
  }

  /**
   * Marks every record up to `seq` delivered. Resolves once the cursor is persisted and the
   * fully delivered segments are deleted. The cursor may lag after a crash: the records
   * since are then delivered again, which the database absorbs (same point, same value).
   */
  commit(seq: number): Promise<void> {
    // A late confirmation after close: ignored (those records are simply sent again next time).
    if (this.closed) return Promise.resolve();
    if (seq > this.lastSeq) return Promise.reject(new Error(`cannot commit ${seq}: the spool ends at ${this.lastSeq}`));
    if (seq > this.committed) {
      this.committed = seq;
      while (this.memory.length > 0 && this.memory[0]!.firstSeq + this.memory[0]!.count - 1 <= seq) this.forgetOldest();
      this.slabs.delivered(seq);
    }
    // Chained: concurrent commits collapse into one cursor write each time round.
    this.cursorChain = this.cursorChain.then(() => this.persistCursor()).then(() => this.dropDelivered());
    return this.cursorChain;
  }

  private async persistCursor(): Promise<void> {
    const seq = this.committed;
    if (seq === this.persisted) return;
    const tmp = join(this.dir, `${CURSOR}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify({ committedSeq: seq })}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, CURSOR));
    this.persisted = seq;
  }

  /** Deletes the segments whose records are all delivered (as far as the persisted cursor says). */
  private async dropDelivered(): Promise<void> {
    let freed = 0;
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      if (seg.firstSeq + seg.count - 1 > this.persisted) break;
      const isActive = this.active?.seg === seg;
      // The segment being written goes only when nothing is on its way into it.
      if (isActive && (this.flushing || this.pending.length > 0)) break;
      this.segments.shift();
      if (isActive) await this.closeActive();
      if (this.readPos?.firstSeq === seg.firstSeq) this.readPos = undefined;
      await rm(join(this.dir, segmentName(seg.firstSeq)), { force: true });
      this.diskBytes -= seg.bytes;
      freed += seg.bytes;
    }
    if (freed > 0) this.isFull = false;
  }

  private async readCursor(): Promise<number> {
    let text: string;
    try {
      text = await readFile(join(this.dir, CURSOR), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    try {
      const seq = (JSON.parse(text) as { committedSeq?: unknown }).committedSeq;
      if (Number.isSafeInteger(seq) && (seq as number) >= 0) return seq as number;
    } catch {
      // fall through
    }
    // Replaying from the start is safe (the database dedupes): prefer it to guessing.
    this.onCorrupt?.(`${join(this.dir, CURSOR)} is damaged; replaying the whole spool`);
    return 0;
  }

  private async lock(): Promise<void> {
    if (openDirs.has(this.dir)) throw new Error(`spool ${this.dir} is already open in this process`);
    const path = join(this.dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx' });
        openDirs.add(this.dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`spool ${this.dir} is in use by process ${holder} (another gateway on the same data_dir?)`);
      }
      // Left by a process that died: take it over.
      await unlink(path).catch(() => undefined);
    }
    throw new Error(`cannot lock spool ${this.dir}`);
  }

  /** Flushes what is pending, persists the cursor, closes the files. */
  async close(): Promise<void> {
    if (!this.opened || this.closed) return;
    this.closed = true;
    await this.flush();
    await this.cursorChain.catch(() => undefined);
    await this.persistCursor();
    await this.closeActive();
    await unlink(join(this.dir, LOCK)).catch(() => undefined);
    openDirs.delete(this.dir);
  }
}
