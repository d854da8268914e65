import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { writeLocalUrl } from './cli-database.js';
import { realTimers, type Clock, type Timers } from '../ports/clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { Point, StoreDriver } from './driver.js';
import { createStore, Influx1Driver, Influx2Driver, startInfluxd, type InfluxdProcess } from './index.js';

/** The store as the gateway holds it: durable append, queries, health, and a close that also stops a private influxd. */
export interface OpenedStore {
  readonly driver: StoreDriver;
  readonly healthSources: HealthSource[];
  /** The private influxd this gateway started (no `storage.url`), else undefined. */
  readonly influxd: InfluxdProcess | undefined;
  /** The database URL in use. */
  readonly url: string;
  append(points: Point[]): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  config: SiteConfig;
  baseDir: string;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** The spool's and the writer's timers (default real ones); a private influxd always runs on real time. */
  timers?: Timers;
}

/**
 * Chooses the driver from `storage`, starts a private influxd under `<data_dir>/influxdb`
 * when no database URL is configured, and opens the spool (`<data_dir>/spool` unless set),
 * which replays whatever an earlier run left in it.
 */
export async function openStore(opts: OpenStoreOptions): Promise<OpenedStore> {
  const { config, baseDir, logger } = opts;
  const storage = config.storage;
  const dataDir = resolve(baseDir, config.data_dir);
  const log = logger.child({ component: 'store' });

  let influxd: InfluxdProcess | undefined;
  let url = storage.url;
  if (!url) {
    influxd = await startLocalInfluxd(opts, dataDir);
    url = influxd.url;
    log.info(
      { url, dataDir: influxd.dataDir },
      'started a local influxd (set storage.url or INFLUX_URL to use your own InfluxDB)',
    );
    // Command-line tools (reports, history backfill) find it here while the gateway runs.
    await writeLocalUrl(config, baseDir, url);
  }

  try {
    const driver = driverFor(storage, url);
    const spoolDir = resolve(baseDir, storage.spool.dir ?? resolve(dataDir, 'spool'));
    await mkdir(spoolDir, { recursive: true });
    const store = createStore(storeOptions(opts, driver, spoolDir, log));
    await store.open();
    return {
      driver,
      healthSources: influxd ? [...store.healthSources, influxdHealth(influxd)] : store.healthSources,
      influxd,
      url,
      append: (points) => store.append(points),
      async close() {
        try {
          await store.close();
        } finally {
          await influxd?.stop();
        }
      },
    };
  } catch (err) {
    await influxd?.stop();
    throw err;
  }
}

/** The spool and the writer as the site file sets them, on the gateway's clock and timers. */
function storeOptions(
  opts: OpenStoreOptions,
  driver: StoreDriver,
  spoolDir: string,
  log: Logger,
): Parameters<typeof createStore>[0] {
  const storage = opts.config.storage;
  const timers = opts.timers ?? realTimers;
  return {
    driver,
    spool: {
      dir: spoolDir,
      maxBytes: storage.spool.max_bytes,
      fsyncIntervalMs: storage.spool.fsync_interval_ms,
      onCorrupt: (detail) => log.error({ detail }, 'damaged spool line skipped'),
      timers,
      clock: opts.clock,
    },
    metrics: opts.metrics,
    log,
    writer: {
      batchSize: storage.batch_size,
      flushIntervalMs: storage.flush_interval_ms,
      timers: {
        setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
        clearTimeout: (h) => timers.clearTimeout(h),
        now: () => opts.clock.now(),
      },
    },
  };
}

/** A private influxd under `<data_dir>/influxdb`, restarted when it dies. */
function startLocalInfluxd(opts: OpenStoreOptions, dataDir: string): Promise<InfluxdProcess> {
  const { metrics, logger } = opts;
  const influxLog = logger.child({ component: 'influxd' });
  return startInfluxd({
    dataDir: resolve(dataDir, 'influxdb'),
    log: (line) => influxLog.debug(line),
    // Nobody is on hand to start it again at 3 a.m.: the gateway does, with backoff; the spool keeps the readings meanwhile.
    supervise: {
      onRestart: (e) => {
        metrics.restarts.inc({ component: 'influxd', outcome: e.ok ? 'ok' : 'failed' });
        if (e.ok) influxLog.warn({ attempt: e.attempt, exit: e.exit }, `local influxd died (${e.exit}); restarted`);
        else
          influxLog.error(
            { attempt: e.attempt, exit: e.exit, err: e.error },
            `local influxd died (${e.exit}); restart failed, trying again`,
          );
      },
    },
  });
}

function driverFor(storage: SiteConfig['storage'], url: string): StoreDriver {
  return storage.driver === 'influxdb1'
    ? new Influx1Driver({
        url,
        database: storage.database,
        ...(storage.username ? { username: storage.username } : {}),
        ...(storage.password ? { password: storage.password } : {}),
      })
    : // The config check guarantees org, bucket and token for influxdb2.
      new Influx2Driver({ url, org: storage.org!, bucket: storage.bucket!, token: storage.token! });
}

/** The private influxd in /health: up, or down and being restarted, with its restarts. */
function influxdHealth(local: InfluxdProcess): HealthSource {
  return {
    component: 'influxd',
    health: () => {
      const restarts = {
        restarts: local.restarts,
        ...(local.lastExit ? { lastExit: `${new Date(local.lastExit.at).toISOString()} ${local.lastExit.how}` } : {}),
      };
      return local.down
        ? {
            status: 'down',
            detail: `the local influxd is down (${local.lastExit?.how ?? 'stopped'}); restarting`,
            ...restarts,
          }
        : { status: 'ok', url: local.url, ...restarts };
    },
  };
}
