import type { Logger } from 'pino';
import type { Reading, RejectReason } from '../../rules/model/reading.js';
import type { Clock } from '../clock.js';
import { ThrottledLog } from '../ports/log-throttle.js';
import type { Metrics } from '../metrics.js';
import type { DeviceRegistry, Place } from '../registry.js';
import type { Point } from '../store/driver.js';
import { pointTags, pointWithTags } from './point.js';

export type IngestResult = { accepted: true } | { accepted: false; reason: RejectReason; detail: string };

/**
 * Refusals of readings we could take later (the spool is full or failing): the sender must
 * keep them and send them again. Never acknowledged (no PUBACK, HTTP 503). Other refusals
 * (a bad payload, an unknown device) are final.
 */
const RETRY_LATER: ReadonlySet<RejectReason> = new Set(['spool_full', 'spool_error']);

/** Whether any of these outcomes is a reading we did not keep and could take later. */
export function notKept(outcome: unknown): boolean {
  if (Array.isArray(outcome)) return outcome.some(notKept);
  const r = outcome as IngestResult | undefined;
  return r !== undefined && r !== null && r.accepted === false && RETRY_LATER.has(r.reason);
}

/** The part of the store the pipeline needs: a durable append. */
export interface DurableAppend {
  /** Resolves once the points are fsynced (accepted); rejects with `SpoolFullError` when full. */
  append(points: Point[]): Promise<void>;
}

const ACCEPTED: IngestResult = Object.freeze({ accepted: true });

/**
 * Readings on their way into the spool (taken, not yet fsynced) above which the pipeline is
 * `congested` and the adapters hold publishers back. A few turns of the event loop at full
 * speed: enough to keep the disk busy, and little enough that a burst (a bridge replaying an
 * hour of buffered readings) waits in TCP buffers instead of the heap, and the event loop
 * keeps turning for the writer, the rules' timers and the HTTP API.
 */
export const CONGESTED_READINGS = 10_000;

/**
 * Readings per append at most. One turn of the event loop can bring tens of thousands of
 * readings (a read of every busy connection): appended in parts, each part's readings become
 * line protocol straight away instead of all of them waiting as objects. A quarter of the
 * young generation's worth (about 2 KB of objects a reading, 2 MiB semi-spaces): kept for a
 * whole turn, most readings outlived a scavenge, so V8 took the places that make them (the
 * decoder, the pipeline) for places of long-lived objects and allocated there in the old
 * generation directly; full collections ran twice as often (bench/README.md, Alarm latency).
 */
export const APPEND_MAX = 250;

/** Readings of one turn of the event loop, appended to the spool together. */
interface Batch {
  points: Point[];
  result: Promise<IngestResult>;
  settle: (r: IngestResult) => void;
  /** A device of the batch, for the log line of a refusal. */
  device: string;
}

/**
 * Where every Reading goes, whatever adapter made it: live state first (so the duty room
 * sees it even if storage is in trouble) and the rules, then the durable spool in front of
 * InfluxDB.
 *
 * The readings of one turn of the event loop go to the spool in one append and share one
 * outcome: at tens of thousands of readings a second, a promise, a spool entry and a metric
 * update per reading cost more than the fsync they wait for. The spool's group commit makes
 * them wait no longer than before.
 */
export class Pipeline {
  private readonly warn: ThrottledLog;
  private batch: Batch | undefined;
  /** Readings taken and not yet fsynced or refused. */
  private unsettled = 0;
  /** Why the last append was refused, until one succeeds again: the spool is refusing. */
  private refusal: RejectReason | undefined;
  private readonly tags = new Map<string, { place: Place; tags: Readonly<Record<string, string>> }>();

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

  /** Readings taken and not yet accepted (fsynced) or refused. */
  get waiting(): number {
    return this.unsettled + (this.batch?.points.length ?? 0);
  }

  /** The spool refuses readings now (full or failing): set by a refused append, cleared by the next one that succeeds. */
  get refusing(): RejectReason | undefined {
    return this.refusal;
  }

  /** So many readings wait for the spool that publishers should be held back (see CONGESTED_READINGS). */
  get congested(): boolean {
    return this.waiting > CONGESTED_READINGS;
  }

  /** Twice as many: light publishers are held back too (broker/consumer.ts holdBack). */
  get overloaded(): boolean {
    return this.waiting > 2 * CONGESTED_READINGS;
  }

  ingest(reading: Reading): Promise<IngestResult> {
    const { registry, metrics, site } = this.deps;
    const place = registry.place(reading.deviceId);
    if (!place) {
      metrics.reject('pipeline', 'unknown_device');
      return Promise.resolve({
        accepted: false,
        reason: 'unknown_device',
        detail: `no device "${reading.deviceId}" in the site configuration`,
      });
    }
    registry.observe(reading);
    this.deps.observe?.(reading);
    let batch = this.batch;
    if (!batch) {
      let settle!: (r: IngestResult) => void;
      const result = new Promise<IngestResult>((resolve) => (settle = resolve));
      const b = (batch = this.batch = { points: [], result, settle, device: reading.deviceId });
      setImmediate(() => this.batch === b && this.append());
    }
    batch.points.push(pointWithTags(this.sharedTags(site, reading.deviceId, place), reading));
    const result = batch.result;
    if (batch.points.length >= APPEND_MAX) this.append();
    return result;
  }

  /**
   * One frozen tags object per device while its place stays the same: the spool's serialiser
   * and the line protocol remember their text per tags object instead of redoing it per point.
   */
  private sharedTags(site: string, deviceId: string, place: Place): Record<string, string> {
    const known = this.tags.get(deviceId);
    // The registry keeps one Place object per device: the same object, the same tags.
    if (known?.place === place) return known.tags;
    const shared = Object.freeze(pointTags(site, place, deviceId));
    this.tags.set(deviceId, { place, tags: shared });
    return shared;
  }

  private append(): void {
    const batch = this.batch!;
    this.batch = undefined;
    const { metrics, store } = this.deps;
    const points = batch.points;
    const n = points.length;
    // Only their devices wait for the answer: the points themselves, kept until the fsync,
    // lived long enough for the garbage collector to move them to the old generation, and
    // its full collections were a large part of the gateway's time under a burst.
    const devices = points.map((p) => p.tags.device);
    batch.points = [];
    this.unsettled += n;
    store.append(points).then(
      () => {
        this.unsettled -= n;
        this.refusal = undefined;
        metrics.readingsAccepted.inc(n);
        batch.settle(ACCEPTED);
      },
      (err: Error) => {
        this.unsettled -= n;
        const full = err.name === 'SpoolFullError';
        const reason: RejectReason = full ? 'spool_full' : 'spool_error';
        this.refusal = reason;
        // Counted under the protocol each reading came by (the batch mixes them).
        const byProtocol = new Map<string, number>();
        for (const device of devices) {
          const protocol = this.deps.registry.device(device ?? '')?.protocol ?? 'unknown';
          byProtocol.set(protocol, (byProtocol.get(protocol) ?? 0) + 1);
        }
        for (const [protocol, count] of byProtocol) metrics.reject(protocol, reason, count);
        // Loud on purpose: a full or broken spool means readings are being refused.
        this.warn.warn(
          reason,
          { err: err.message, device: batch.device, readings: n },
          full
            ? 'SPOOL FULL: readings refused and not acknowledged; their senders keep them and send again (database down too long? see /health)'
            : 'spool write failed: readings refused and not acknowledged; their senders keep them and send again',
        );
        batch.settle({ accepted: false, reason, detail: err.message });
      },
    );
  }
}
