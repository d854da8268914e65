import type { ComponentHealth, HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import { Spool, type SpoolOptions } from './spool.js';
import type { Point, StoreDriver } from './driver.js';
import { storableLines } from './write-points.js';
import { StoreWriter, type StoreWriterOptions, type WriterLog } from './writer.js';

export { SpoolFullError, StoreRejectedError } from './errors.js';
export { Influx1Driver, type Influx1Options } from './influx1.js';
export { Influx2Driver, type Influx2Options } from './influx2.js';
export { findInfluxd, startInfluxd, type InfluxdProcess, type StartInfluxdOptions } from './influxd.js';
export { Spool, type SpoolBatch, type SpoolOptions } from './spool.js';
export type {
  AggregateQuery,
  AggregateRow,
  Aggregation,
  Point,
  ReadingsQuery,
  StoreDriver,
  StoredRow,
} from './driver.js';
export { storableLines, writePoints } from './write-points.js';
export { StoreWriter, type StoreWriterOptions, type WriterLog } from './writer.js';

export interface CreateStoreOptions {
  driver: StoreDriver;
  spool: SpoolOptions;
  metrics?: Metrics;
  log?: WriterLog;
  /** Batch size, flush interval, backoff, timers: see StoreWriterOptions. */
  writer?: Omit<StoreWriterOptions, 'spool' | 'driver' | 'metrics' | 'log'>;
}

/** What the gateway holds: a durable append in front of the database, and the database for queries. */
export interface Store {
  readonly driver: StoreDriver;
  readonly spool: Spool;
  readonly writer: StoreWriter;
  /** `store` and `spool`, for /health. */
  readonly healthSources: HealthSource[];
  /** Recovers the spool and starts writing its backlog. A database that is down does not stop it. */
  open(): Promise<void>;
  /**
   * Resolves once the points are fsynced in the spool as line protocol (accepted);
   * SpoolFullError when full. A point that cannot be stored (see `unstorable`) is kept in
   * the rejected file instead, and counts as accepted: it is not lost, and retrying it would
   * not help.
   */
  append(points: Point[]): Promise<void>;
  health(): { store: ComponentHealth; spool: ComponentHealth };
  /** Writes what it can within `drainMs` (default 10 s), then closes; the rest waits in the spool. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

export function createStore(opts: CreateStoreOptions): Store {
  const spool = new Spool(opts.spool);
  const writer = new StoreWriter({
    ...opts.writer,
    spool,
    driver: opts.driver,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  let state: 'new' | 'open' | 'closed' = 'new';
  return {
    driver: opts.driver,
    spool,
    writer,
    healthSources: writer.healthSources,
    async open() {
      if (state !== 'new') throw new Error('store already opened');
      await spool.open();
      state = 'open';
      // Connecting is the writer's job: a database that is down at start only makes /health
      // say so, while readings keep going into the spool.
      writer.start();
    },
    append(points) {
      const { lines, refused, reason } = storableLines(points);
      if (refused.length === 0) return spool.append(lines);
      const entries = refused.map((point) => ({ point }));
      // After the spool took the others: a refused append refuses all of them, kept nowhere.
      return spool.append(lines).then(() =>
        writer.setAside(`cannot be stored: ${reason}`, entries).catch((err: Error) => {
          // The points are in the log line then: not lost, though not in the file.
          opts.log?.error(
            { err: err.message, reason, points: refused },
            'store: could not keep readings that cannot be stored in the rejected file',
          );
        }),
      );
    },
    health: () => ({ store: writer.storeHealth.health(), spool: writer.spoolHealth.health() }),
    async close(closeOpts) {
      if (state !== 'open') return;
      state = 'closed';
      await writer.stop(closeOpts?.drainMs ?? 10_000);
      await spool.close();
      await opts.driver.close();
    },
  };
}
