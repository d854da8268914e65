import { statfs } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { SystemSnapshot } from '../rules/alarms/system.js';
import type { RejectReason } from '../rules/model/reading.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { HealthSource } from './health.js';

// What the gateway knows of itself, gathered for its system alarms (rules/alarms/system.ts):
// the store's and the spool's health, the broker's, the Modbus lines on which nothing answers,
// the data disk's free space (read every 10 s: statfs is a system call), and jumps of the
// system clock against a monotonic one.

export interface SystemWatchOptions {
  clock: Clock;
  dataDir: string;
  minFreeBytes: number;
  store: readonly HealthSource[];
  /** Why the pipeline refuses readings now (its last append refused), if it does. */
  refusing: () => RejectReason | undefined;
  broker?: { health(): { status: string; detail?: string }; restarts: number };
  lastBrokerRestartAt: () => number | undefined;
  modbusLinesDown: () => { line: string; devices: number }[];
  /** The system's wall clock and a monotonic one (tests set them; default the system clock and performance.now). */
  wall?: () => number;
  monotonic?: () => number;
}

export class SystemWatch {
  private disk: SystemSnapshot['disk'];
  private diskReadAt = Number.NEGATIVE_INFINITY;
  private readonly wall: () => number;
  private readonly mono: () => number;
  private lastWall: number;
  private lastMono: number;
  private jump: SystemSnapshot['clockJump'];

  constructor(private readonly opts: SystemWatchOptions) {
    this.wall = opts.wall ?? (() => systemClock.now());
    this.mono = opts.monotonic ?? (() => performance.now());
    this.lastWall = this.wall();
    this.lastMono = this.mono();
  }

  snapshot(): SystemSnapshot {
    this.watchClock();
    this.readDisk();
    const { opts } = this;
    const store = opts.store.find((h) => h.component === 'store')?.health();
    const spool = opts.store.find((h) => h.component === 'spool')?.health();
    // The pipeline says so from a refused append until one succeeds; the spool says whether it still cannot take more.
    const reason = spool?.status !== 'ok' ? opts.refusing() : undefined;
    const refusing =
      reason === 'spool_full' || reason === 'spool_error'
        ? { reason, ...(reason === 'spool_error' && spool?.detail ? { detail: spool.detail } : {}) }
        : undefined;
    const broker = opts.broker?.health();
    const lastRestartAt = opts.lastBrokerRestartAt();
    return {
      ...(typeof store?.downSince === 'number' ? { store: { downSince: store.downSince } } : { store: {} }),
      ...(spool && typeof spool.bytes === 'number' && typeof spool.maxBytes === 'number'
        ? {
            spool: {
              bytes: spool.bytes,
              maxBytes: spool.maxBytes,
              ...(refusing ? { refusing } : {}),
              ...(typeof spool.oldestAgeS === 'number' ? { oldestAgeS: spool.oldestAgeS } : {}),
            },
          }
        : {}),
      ...(opts.broker
        ? {
            broker: {
              ...(broker?.status === 'down' ? { down: broker.detail ?? 'down' } : {}),
              restarts: opts.broker.restarts,
              ...(lastRestartAt !== undefined ? { lastRestartAt } : {}),
            },
          }
        : {}),
      modbusLinesDown: opts.modbusLinesDown(),
      ...(this.disk ? { disk: this.disk } : {}),
      ...(this.jump ? { clockJump: this.jump } : {}),
    };
  }

  /** The wall clock against the monotonic one since the last look: a difference is a jump (someone set the clock). */
  private watchClock(): void {
    const wall = this.wall();
    const mono = this.mono();
    const jumped = wall - this.lastWall - (mono - this.lastMono);
    if (Math.abs(jumped) >= 5000) this.jump = { ms: jumped, at: this.opts.clock.now() };
    this.lastWall = wall;
    this.lastMono = mono;
  }

  private readDisk(): void {
    const now = this.mono();
    if (now - this.diskReadAt < 10_000) return;
    this.diskReadAt = now;
    statfs(this.opts.dataDir).then(
      (s) =>
        (this.disk = { path: this.opts.dataDir, freeBytes: s.bavail * s.bsize, floorBytes: this.opts.minFreeBytes }),
      () => undefined,
    );
  }
}
