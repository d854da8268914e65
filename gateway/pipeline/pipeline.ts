import type { Logger } from 'pino';
import type { Reading, RejectReason } from '../../rules/model/reading.js';
import type { Clock } from '../clock.js';
import { ThrottledLog } from '../log-throttle.js';
import type { Metrics } from '../metrics.js';
import type { DeviceRegistry } from '../registry.js';
import type { Point } from '../store/types.js';
import { toPoint } from './point.js';

export type IngestResult = { accepted: true } | { accepted: false; reason: RejectReason; detail: string };

/** The part of the store the pipeline needs: a durable append. */
export interface DurableAppend {
  /** Resolves once the points are fsynced (accepted); rejects with `SpoolFullError` when full. */
  append(points: Point[]): Promise<void>;
}

/**
 * Where every Reading goes, whatever adapter made it: live state first (so the duty room
 * sees it even if storage is in trouble) and the rules, then the durable spool in front of
 * InfluxDB.
 */
export class Pipeline {
  private readonly warn: ThrottledLog;

  constructor(
    private readonly deps: {
      site: string;
      registry: DeviceRegistry;
      store: DurableAppend;
      metrics: Metrics;
      logger: Logger;
      clock: Clock;
      /** Sees every reading of a known device as it arrives (the rules), before it is stored. */
      observe?: (reading: Reading) => void;
    },
  ) {
    this.warn = new ThrottledLog(deps.logger, deps.clock);
  }

  ingest(reading: Reading): Promise<IngestResult> {
    const { registry, metrics, store, site } = this.deps;
    const place = registry.place(reading.deviceId);
    if (!place) {
      metrics.reject('pipeline', 'unknown_device');
      return Promise.resolve({ accepted: false, reason: 'unknown_device', detail: `no device "${reading.deviceId}" in the site configuration` });
    }
    registry.observe(reading);
    this.deps.observe?.(reading);
    return store.append([toPoint(site, place, reading)]).then(
      (): IngestResult => {
        metrics.readingsAccepted.inc();
        return { accepted: true };
      },
      (err: Error): IngestResult => {
        const full = err.name === 'SpoolFullError';
        const reason: RejectReason = full ? 'spool_full' : 'spool_error';
        metrics.reject('pipeline', reason);
        // Loud on purpose: a full or broken spool means readings are being refused.
        this.warn.warn(reason, { err: err.message, device: reading.deviceId }, full ? 'SPOOL FULL: reading refused (database down too long? see /health)' : 'spool write failed: reading refused');
        return { accepted: false, reason, detail: err.message };
      },
    );
  }
}
