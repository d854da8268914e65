import { LocalTime } from '../../rules/local-time.js';
import { localDate, localMidnight } from '../../rules/reports/calendar.js';
import type { Reading } from '../../rules/model/reading.js';
import type { MeterFacts } from '../../rules/reports/meter-model.js';
import type { ReadingSink } from '../../gateway/ports/readings.js';
import { emitMeter, initialFor, meterSeries } from './generate.js';
import { planAnomalies, type GroundTruth } from './plan.js';

// `dutyroom simulate history`: weeks of meter readings handed to a sink (the programs give
// one that writes straight into InfluxDB) in large batches, several in flight (the database,
// not this loop, is the limit), with the planted anomalies' ground truth returned for the
// caller to keep.

export interface BackfillOptions {
  /** The site's meters (the gateway's meterFacts of the site file). */
  meters: MeterFacts[];
  /** The site's time zone: days start at its midnight, night flow is its night. */
  timeZone: string;
  sink: ReadingSink;
  days: number;
  /** Epoch ms; readings stop before it (rounded down to the interval). They start at the local midnight `days` days before. */
  end: number;
  intervalS?: number;
  seed?: number;
  /** Plants per anomaly kind (default: 1 % of eligible meters, at least 2). */
  perKind?: number;
  /**
   * The counter each meter shows at `end` (a simulated estate that carries on live): its
   * history is fitted to end there, so the first live reading is no jump.
   */
  endValues?: (meterId: string) => number | undefined;
  batchSize?: number;
  /** Batches in flight at once. */
  concurrency?: number;
  onProgress?: (written: number) => void;
}

export interface BackfillResult {
  truth: GroundTruth;
  points: number;
  ms: number;
}

const DAY = 86_400_000;

export async function backfillHistory(o: BackfillOptions): Promise<BackfillResult> {
  const started = performance.now();
  const intervalS = o.intervalS ?? 900;
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 3660)
    throw new Error(`days must be a whole number from 1 to 3660, got ${o.days}`);
  if (!Number.isInteger(3600 / intervalS) || 3600 / intervalS < 2)
    throw new Error(`interval must divide an hour into at least 2 readings, got ${intervalS} s`);
  const end = Math.floor(o.end / (intervalS * 1000)) * intervalS * 1000;
  const timeZone = o.timeZone;
  // From a local midnight: the first day is whole (a report of it shows no gap before dawn).
  const start = localMidnight(localDate(end - o.days * DAY, timeZone), timeZone);
  const meters = o.meters;
  const truth = planAnomalies({
    meters,
    start,
    end,
    intervalS,
    timeZone,
    seed: o.seed ?? 1,
    ...(o.perKind !== undefined ? { perKind: o.perKind } : {}),
    wraps: !o.endValues,
  });
  const local = new LocalTime(timeZone);
  const batchSize = o.batchSize ?? 10_000;
  const concurrency = o.concurrency ?? 3;

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let written = 0;
  const send = async (batch: Reading[]) => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const p = o.sink.write(batch).then(
      () => {
        written += batch.length;
        o.onProgress?.(written);
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  let batch: Reading[] = [];
  for (const meter of meters) {
    const series = meterSeries(meter, truth, local);
    const target = o.endValues?.(meter.id);
    // A meter planted to wrap keeps its own start: it must pass the top of its register.
    const wraps = truth.planted.some((p) => p.meter === meter.id && p.kind === 'counter_rollover');
    if (target !== undefined && !wraps) series.initial = initialFor(series, truth, target) ?? series.initial;
    emitMeter(series, truth, batch);
    while (batch.length >= batchSize) {
      await send(batch.slice(0, batchSize));
      batch = batch.slice(batchSize);
    }
  }
  if (batch.length) await send(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { truth, points: written, ms: performance.now() - started };
}
