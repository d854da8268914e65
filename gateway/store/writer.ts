import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { backoffDelay } from '../../rules/backoff.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import { StoreRejectedError } from './errors.js';
import type { Spool, SpoolBatch } from './spool.js';
import type { StoreDriver } from './driver.js';
import { realTime, type ClockAndTimers } from '../ports/clock.js';

/** The part of pino the writer uses. */
export interface WriterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StoreWriterOptions {
  spool: Spool;
  driver: StoreDriver;
  metrics?: Metrics;
  log?: WriterLog;
  /** Time, injected so that tests drive backoff and flush intervals without sleeping (default real). */
  timers?: ClockAndTimers;
  /**
   * Points per write (default 5000): a write goes as soon as this many wait. A writer that is
   * behind sends up to CATCH_UP times as many in one request (see readNext).
   */
  batchSize?: number;
  /** A partial batch is written once its oldest point has waited this long (default 1000). */
  flushIntervalMs?: number;
  /** Retry delay after the first failure, doubled each time up to maxBackoffMs (250 → 30 000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The store is `degraded` while the oldest unwritten point is older than this (default 60 s). */
  lagWarnMs?: number;
  /** Where points the database refuses for good are kept (default <spool dir>/rejected.jsonl). */
  rejectedFile?: string;
}

const REJECTED_RECENT_MS = 15 * 60_000;

/**
 * A writer that is behind sends up to this many batches' worth in one request. Under a heavy
 * load one turn of the gateway's event loop can take a second (it reads every busy
 * connection once per turn), and a write's answer is taken once per turn: with one batch per
 * request the writer would fall further behind the more there is to do. InfluxDB takes
 * requests of tens of thousands of lines well (its default body limit is 25 MB).
 */
export const CATCH_UP = 8;

/**
 * Drains the spool into the database, in order, one batch in flight at a time. A failed
 * batch stays first in line and is retried with capped exponential backoff; the spool is
 * committed only after the database confirmed the write.
 */
export class StoreWriter {
  private readonly spool: Spool;
  private readonly driver: StoreDriver;
  private readonly timers: ClockAndTimers;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly lagWarnMs: number;
  private readonly rejectedFile: string;

  private running = false;
  private draining = false;
  private connected = false;
  private inflight: Promise<void> | undefined;
  private flushTimer: unknown;
  private retryTimer: unknown;
  private retryAt: number | undefined;
  private retryBatch: SpoolBatch | undefined;
  /** Up to this sequence number requests are one batch each (the database refused a catch-up request). */
  private narrowUntil = 0;
  /** Set-asides, one at a time (the rejected file gets whole lines). */
  private setAsideChain: Promise<void> = Promise.resolve();
  private failures = 0;
  private lastError: Error | undefined;
  private downSince: number | undefined;
  private lastRejectedAt: number | undefined;
  private rejectedPoints = 0;
  private lastCommit: Promise<void> = Promise.resolve();
  /** The batch after the one in flight, read ahead; see readAhead(). */
  private ahead: { after: number; batch: Promise<SpoolBatch | null> } | undefined;
  /** (last sequence number of an appended group, when it became durable), oldest first. */
  private arrivals: { seq: number; at: number }[] = [];
  private idleWaiters: (() => void)[] = [];

  readonly storeHealth: HealthSource = { component: 'store', health: () => this.health() };
  readonly spoolHealth: HealthSource = { component: 'spool', health: () => this.spoolState() };

  constructor(private readonly opts: StoreWriterOptions) {
    this.spool = opts.spool;
    this.driver = opts.driver;
    this.timers = opts.timers ?? realTime;
    this.batchSize = opts.batchSize ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.lagWarnMs = opts.lagWarnMs ?? 60_000;
    this.rejectedFile = opts.rejectedFile ?? join(opts.spool.dir, 'rejected.jsonl');
  }

  /** A connect or a batch write is in flight (tests wait for this to settle). */
  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Both components for /health. */
  get healthSources(): HealthSource[] {
    return [this.storeHealth, this.spoolHealth];
  }

  /** Starts draining; what the spool already holds (from before a restart) goes first, at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.spool.depth > 0) this.noteArrival(this.spool.lastSeq, -Infinity);
    this.spool.onAppended = () => {
      this.noteArrival(this.spool.lastSeq, this.timers.now());
      this.updateGauges();
      this.kick();
    };
    this.spool.onRefused = () => this.updateGauges();
    this.updateGauges();
    this.kick();
  }

  /**
   * Stops taking new work: writes what it can until the spool is empty or `deadlineMs` has
   * passed, then waits for the cursor to be persisted. What is left stays in the spool.
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.spool.onAppended = undefined;
    this.spool.onRefused = undefined;
    this.draining = true;
    this.clearFlushTimer();
    // A waiting retry is tried at once (the gateway is going away); later ones keep their
    // backoff, and the deadline bounds the whole effort.
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    await new Promise<void>((resolve) => {
      if (deadlineMs <= 0) return resolve();
      const timer = this.timers.setTimeout(resolve, deadlineMs);
      this.idleWaiters.push(() => {
        this.timers.clearTimeout(timer);
        resolve();
      });
      this.kick();
      this.checkIdle();
    });
    // A write still in flight is left to finish or fail on its own: its points stay in the
    // spool until committed, and the spool ignores commits once closed.
    this.running = false;
    this.draining = false;
    this.idleWaiters = [];
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearFlushTimer();
    await this.lastCommit.catch(() => undefined);
  }

  private noteArrival(seq: number, at: number): void {
    this.arrivals.push({ seq, at });
    // During a long outage: halve the list, each pair keeping the later end and the earlier
    // time. Records then look older than they are, so they are written sooner, never later.
    if (this.arrivals.length > 4096) {
      const merged: { seq: number; at: number }[] = [];
      for (let i = 0; i < this.arrivals.length; i += 2) {
        const a = this.arrivals[i]!;
        const b = this.arrivals[i + 1];
        merged.push(b ? { seq: b.seq, at: a.at } : a);
      }
      this.arrivals = merged;
    }
  }

  private checkIdle(): void {
    if (!this.draining || this.idleWaiters.length === 0) return;
    if (this.spool.depth === 0 && !this.inflight) for (const w of this.idleWaiters.splice(0)) w();
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Decides whether to write now, later (timer), or not at all. */
  private kick(): void {
    if (!this.running || this.inflight || this.retryTimer !== undefined) return;
    const waiting = this.spool.depth;
    if (waiting === 0 && (this.connected || this.draining)) {
      this.clearFlushTimer();
      this.checkIdle();
      return;
    }
    // Connect first (also with nothing to write, so /health knows from the start).
    if (!this.connected) {
      this.inflight = this.connect().finally(() => {
        this.inflight = undefined;
        this.kick();
      });
      return;
    }
    const committed = this.spool.committedSeq;
    while (this.arrivals.length > 0 && this.arrivals[0]!.seq <= committed) this.arrivals.shift();
    const oldest = this.arrivals[0]?.at ?? this.timers.now();
    const due = oldest + this.flushIntervalMs - this.timers.now();
    if (waiting >= this.batchSize || due <= 0 || this.draining) {
      this.clearFlushTimer();
      this.inflight = this.writeNext().finally(() => {
        this.inflight = undefined;
        this.kick();
      });
    } else if (this.flushTimer === undefined) {
      this.flushTimer = this.timers.setTimeout(() => {
        this.flushTimer = undefined;
        this.kick();
      }, due);
    }
  }

  private async connect(): Promise<void> {
    try {
      await this.driver.connect();
      this.connected = true;
      // With a batch waiting, only its write proves the database is back (and resets the
      // backoff); a database that answers but refuses writes must not reset it every time.
      if (!this.retryBatch) this.succeeded();
    } catch (err) {
      this.failed(err as Error);
    }
  }

  /**
   * The batch after the committed records: the one read ahead while the previous batch was in
   * flight when it is still the right one and full, else a fresh read.
   */
  private async readNext(): Promise<SpoolBatch | undefined> {
    const after = this.spool.committedSeq;
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead && ahead.after === after) {
      const batch = await ahead.batch.catch(() => null);
      if (batch && batch.lastSeq - batch.firstSeq + 1 >= this.batchSize) return batch;
    }
    return (await this.spool.read(after, this.requestSize(after))) ?? undefined;
  }

  /**
   * While a batch is in flight, reads the next one (from disk, when the writer is far
   * behind), so that the reading overlaps the database's work. Only when a full batch is
   * waiting: that is when the writer is behind (after an outage, or under heavy load), and a
   * partial one would be read again anyway. Still one write in flight, in spool order.
   */
  private readAhead(current: SpoolBatch): void {
    if (this.spool.lastSeq - current.lastSeq < this.batchSize) return;
    const batch = this.spool.read(current.lastSeq, this.requestSize(current.lastSeq));
    batch.catch(() => undefined); // a failed read ahead is simply read again
    this.ahead = { after: current.lastSeq, batch };
  }

  /** How many records the request after `afterSeq` may take. */
  private requestSize(afterSeq: number): number {
    return afterSeq < this.narrowUntil ? this.batchSize : this.batchSize * CATCH_UP;
  }

  private async writeNext(): Promise<void> {
    let batch = this.retryBatch;
    try {
      batch ??= await this.readNext();
      if (!batch) return;
      if (batch.lastSeq < batch.firstSeq)
        throw new Error(`spool ${this.spool.dir}: cannot read the records after ${batch.firstSeq - 1}`);
      if (!this.ahead) this.readAhead(batch);
      const started = performance.now();
      let refused = 0;
      if (batch.count > 0) {
        try {
          await write(this.driver, batch);
        } catch (err) {
          if (!(err instanceof StoreRejectedError)) throw err;
          if (batch.count > this.batchSize && err.lines.length > 0) {
            // InfluxDB refuses a request as a whole (1.x writes the good lines, but does not say
            // which were bad): the same records again one batch per request, so that only the
            // batches holding a bad line are set aside, as without catching up.
            this.narrowUntil = batch.lastSeq;
            return;
          }
          refused = err.lines.length + err.points.length;
          await this.setAside(err.message, [
            ...err.lines.map((line) => ({ line })),
            ...err.points.map((point) => ({ point })),
          ]);
        }
      }
      this.opts.metrics?.storeWriteSeconds.observe((performance.now() - started) / 1000);
      this.opts.metrics?.pointsWritten.inc(batch.count - refused);
      this.succeeded();
      this.retryBatch = undefined;
      // Not awaited: the next batch may go while the cursor is being persisted.
      this.lastCommit = this.spool.commit(batch.lastSeq).then(
        () => this.updateGauges(),
        (err: Error) => {
          this.opts.log?.error(
            { err: err.message, dir: this.spool.dir },
            'spool: could not persist the delivery cursor (records may be sent again after a restart)',
          );
        },
      );
      this.updateGauges();
    } catch (err) {
      if (batch && batch.count > this.batchSize) {
        // A catch-up request that failed (a timeout: the database may be slow rather than
        // down) goes again one batch per request: the same request might never fit in the
        // timeout, and the writer would be stuck on it.
        this.narrowUntil = Math.max(this.narrowUntil, batch.lastSeq);
        this.retryBatch = undefined;
      } else {
        this.retryBatch = batch;
      }
      this.failed(err as Error);
    }
  }

  private succeeded(): void {
    if (this.failures > 0) {
      this.opts.log?.info(
        { driver: this.driver.name, after: this.failures, waiting: this.spool.depth },
        'store: database reachable again, writing the backlog',
      );
    }
    this.failures = 0;
    this.lastError = undefined;
    this.downSince = undefined;
    this.retryAt = undefined;
  }

  private failed(err: Error): void {
    this.failures++;
    // After a failure we cannot know the database kept what connect() did (e.g. dropped).
    this.connected = false;
    this.lastError = err;
    this.downSince ??= this.timers.now();
    this.opts.metrics?.storeWriteErrors.inc();
    const delay = backoffDelay(this.failures, this.minBackoffMs, this.maxBackoffMs);
    this.retryAt = this.timers.now() + delay;
    // First failure and then every 8th: a database down for hours must not flood the log.
    if (this.failures === 1 || this.failures % 8 === 0) {
      this.opts.log?.warn(
        {
          err: err.message,
          driver: this.driver.name,
          attempt: this.failures,
          retryInMs: delay,
          waiting: this.spool.depth,
        },
        'store: write failed; the readings stay in the spool and are retried',
      );
    }
    if (!this.running) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
  }

  /**
   * Readings that cannot be stored (the database refused their lines for good, or a point
   * cannot be written as line protocol at all): kept in a file next to the spool, one JSON
   * object per line (`{"reason", "line"}` or `{"reason", "point"}`), never silently dropped.
   */
  setAside(reason: string, entries: ({ line: string } | { point: object })[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const done = this.setAsideChain.then(() => this.appendRejected(reason, entries));
    this.setAsideChain = done.catch(() => undefined);
    return done;
  }

  private async appendRejected(reason: string, entries: ({ line: string } | { point: object })[]): Promise<void> {
    const fh = await open(this.rejectedFile, 'a');
    try {
      await fh.writeFile(entries.map((e) => JSON.stringify({ reason, ...e })).join('\n') + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.rejectedPoints += entries.length;
    this.lastRejectedAt = this.timers.now();
    this.opts.log?.error(
      { err: reason, points: entries.length, file: this.rejectedFile },
      'store: readings that cannot be stored; they are kept in the rejected file',
    );
  }

  private updateGauges(): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.spoolDepth.set(this.spool.depth);
    m.spoolBytes.set(this.spool.bytes);
    m.spoolFull.set(this.spool.full ? 1 : 0);
  }

  /**
   * down: the last write (or connect) failed; stays down until one succeeds.
   * degraded: writes succeed but the backlog is older than lagWarnMs (catching up after an
   * outage), or the database refused points in the last 15 minutes.
   */
  health(): ComponentHealth {
    const now = this.timers.now();
    const waiting = this.spool.depth;
    const base = { driver: this.driver.name, waiting, rejected: this.rejectedPoints };
    if (this.lastError) {
      const retryIn = this.retryAt !== undefined ? Math.max(0, Math.round((this.retryAt - now) / 1000)) : 0;
      return {
        status: 'down',
        detail: `database write failing since ${new Date(this.downSince ?? now).toISOString()}: ${this.lastError.message}; ${waiting} reading(s) kept in the spool, next try in ${retryIn} s`,
        ...base,
        downSince: this.downSince ?? now,
      };
    }
    const oldest = this.arrivals.find((a) => a.seq > this.spool.committedSeq)?.at;
    if (waiting > 0 && oldest !== undefined && now - oldest > this.lagWarnMs) {
      return { status: 'degraded', detail: `catching up: ${waiting} reading(s) not yet in the database`, ...base };
    }
    if (this.lastRejectedAt !== undefined && now - this.lastRejectedAt < REJECTED_RECENT_MS) {
      return {
        status: 'degraded',
        detail: `${this.rejectedPoints} reading(s) could not be stored; they are kept in ${this.rejectedFile}`,
        ...base,
      };
    }
    return { status: 'ok', ...base };
  }

  /** down: the spool's disk failed; degraded: full (readings refused) or above 90 % of its limit. */
  private spoolState(): ComponentHealth {
    this.updateGauges();
    const s = this.spool;
    const oldest = s.depth > 0 ? this.arrivals.find((a) => a.seq > s.committedSeq)?.at : undefined;
    const base = {
      depth: s.depth,
      bytes: s.bytes,
      maxBytes: s.limitBytes,
      ...(oldest !== undefined && Number.isFinite(oldest)
        ? { oldestAgeS: Math.round((this.timers.now() - oldest) / 1000) }
        : {}),
    };
    if (s.error) return { status: 'down', detail: s.error.message, ...base };
    if (s.full)
      return {
        status: 'degraded',
        detail: `spool full: new readings are refused until the database takes the backlog`,
        ...base,
      };
    if (s.bytes > 0.9 * s.limitBytes) return { status: 'degraded', detail: `spool above 90 % of its limit`, ...base };
    return { status: 'ok', ...base };
  }
}

/** A batch's records in one request: as the bytes they were kept in when the driver takes those. */
function write(driver: StoreDriver, batch: SpoolBatch): Promise<void> {
  const { body } = batch;
  return body !== undefined && driver.writeText
    ? driver.writeText(body, batch.count, () => batch.records)
    : driver.writeLines(batch.records);
}
