import { LocalTime } from '../../rules/local-time.js';
import type { MeterFacts } from '../../rules/reports/meter-model.js';
import type { Reading } from '../../rules/model/reading.js';
import { hashSeed, seededRandom } from '../random.js';
import type { GroundTruth, Plant } from './plan.js';

// Readings of water and electricity meters over weeks, shaped like a residential estate's:
// mornings and evenings busy, nights quiet, weekends heavier, now and then a family away
// for a few days or a busy day, a night-time flush; vacant units use nothing; building mains
// and incomers never stop. Plants from plan.ts are laid over that. Each hour's use is
// counted in the readings inside that hour (the :15, :30 and :45 ones), so hourly counter
// differences are exactly the hour's use.

const HOUR = 3_600_000;

/** Share of a day's use per local hour (flats). */
const FLAT_SHAPE = [
  0.01, 0, 0, 0, 0, 0.01, 0.08, 0.12, 0.08, 0.04, 0.03, 0.04, 0.06, 0.03, 0.02, 0.02, 0.03, 0.06, 0.09, 0.1, 0.08, 0.06,
  0.03, 0.01,
];
/** Relative flow per local hour of a building main or an incomer (never zero). */
const MAIN_SHAPE = [
  0.4, 0.3, 0.3, 0.3, 0.35, 0.5, 1.2, 1.6, 1.4, 1, 0.9, 1, 1.2, 1, 0.9, 0.9, 1, 1.3, 1.6, 1.7, 1.5, 1.2, 0.9, 0.6,
];

export interface MeterSeries {
  meter: MeterFacts;
  /** The first counter value. */
  initial: number;
  /** The counter wraps here. */
  span: number;
  /** Use per hour from `start` (index 0), before the plants that change counting (stuck, gaps, drops). */
  hourly: Float64Array;
}

function plantsOf(truth: GroundTruth, id: string): Plant[] {
  return truth.planted.filter((p) => p.meter === id);
}

/** A meter's own scale, drawn once: a main's or incomer's size, a flat's daily use, its standing load. */
interface MeterScale {
  water: boolean;
  mainScale: number;
  flatDaily: number;
  baseKw: number;
}

/** The current local day's draws: how busy, a holiday under way, its quiet hour and night flush. */
interface DayDraws {
  key: string;
  factor: number;
  holidayLeft: number;
  quietHour: number;
  nightFlushHour: number;
}

const within = (p: Plant, ts: number) => ts >= p.from && ts < p.to;

/** Each meter's hourly use over the whole history, plants that change use included. */
export function meterSeries(meter: MeterFacts, truth: GroundTruth, local: LocalTime): MeterSeries {
  const rnd = seededRandom(hashSeed(truth.seed, meter.id));
  const hours = Math.ceil((truth.end - truth.start) / HOUR);
  const hourly = new Float64Array(hours);
  const water = meter.kind === 'water_meter';
  const plants = plantsOf(truth, meter.id);
  const scale: MeterScale = {
    water,
    mainScale: water ? 0.5 + rnd() * 1.5 : 20 + rnd() * 40,
    flatDaily: water ? 0.25 + rnd() * 0.25 : 4 + rnd() * 6,
    baseKw: 0.03 + rnd() * 0.05,
  };
  const day: DayDraws = { key: '', factor: 1, holidayLeft: 0, quietHour: -1, nightFlushHour: -1 };
  for (let i = 0; i < hours; i++) {
    const ts = truth.start + i * HOUR;
    const { date, hour } = local.parts(ts);
    if (date !== day.key) drawDay(day, date, rnd);
    const use = baseUse(meter, scale, day, plants, ts, hour, rnd);
    hourly[i] = plantedUse(use, plants, ts, hour);
  }
  const { initial, span } = counterStart(meter, truth, plants, hourly, rnd);
  return { meter, initial, span, hourly };
}

/** A new local day: its busyness (weekends heavier, now and then a busy day), holidays, quiet hour, night flush. */
function drawDay(day: DayDraws, date: string, rnd: () => number): void {
  day.key = date;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  day.factor = (0.7 + rnd() * 0.6) * (weekday === 0 || weekday === 6 ? 1.15 : 1);
  if (rnd() < 1 / 30) day.factor *= 1.8;
  if (day.holidayLeft > 0) day.holidayLeft--;
  else if (rnd() < 1 / 60) day.holidayLeft = 2 + Math.floor(rnd() * 3);
  day.quietHour = 9 + Math.floor(rnd() * 8);
  day.nightFlushHour = rnd() < 0.1 ? 2 + Math.floor(rnd() * 3) : -1;
}

/** The hour's use before plants add to it: mains never stop, vacant units use nothing, flats follow their day. */
function baseUse(
  meter: MeterFacts,
  scale: MeterScale,
  day: DayDraws,
  plants: Plant[],
  ts: number,
  hour: number,
  rnd: () => number,
): number {
  if (meter.unit === undefined) return scale.mainScale * MAIN_SHAPE[hour]! * (0.85 + rnd() * 0.3);
  if (meter.vacant) return 0;
  const spike = plants.find((p) => p.kind === 'consumption_spike' && within(p, ts));
  const away = day.holidayLeft > 0 && !spike;
  const factor = spike ? spike.params.factor! : away ? 0 : day.factor;
  const busy = hour === day.quietHour || (hour >= 9 && hour <= 22 && rnd() < 0.25) ? 0 : 1;
  let use = scale.flatDaily * factor * FLAT_SHAPE[hour]! * (0.4 + rnd() * 1.2) * (spike ? 1 : busy);
  if (!scale.water) use += scale.baseKw;
  else if (hour === day.nightFlushHour && !away) use += 0.006;
  return use;
}

/** The hour's use with the plants that change use laid over it (leaks, night flow, use in vacant units). */
function plantedUse(base: number, plants: Plant[], ts: number, hour: number): number {
  let use = base;
  for (const p of plants) {
    if (p.kind === 'continuous_flow' && within(p, ts)) use += p.params.leak_m3h!;
    if (p.kind === 'night_flow_high' && within(p, ts)) {
      if (hour >= 2 && hour < 5) use += p.params.night_m3h!;
      if (hour === 15) use = 0; // a quiet hour: this is night flow, not a continuous leak
    }
    if (
      (p.kind === 'vacant_unit_flow' && hour >= 9 && hour < 18) ||
      (p.kind === 'vacant_unit_power' && hour >= 18 && hour < 23)
    ) {
      if (within(p, ts)) use += p.params.per_day! / (p.kind === 'vacant_unit_flow' ? 9 : 5);
    }
  }
  return use;
}

/** The counter's first value and span: a meter planted to wrap starts just short of its span. */
function counterStart(
  meter: MeterFacts,
  truth: GroundTruth,
  plants: Plant[],
  hourly: Float64Array,
  rnd: () => number,
): { initial: number; span: number } {
  const water = meter.kind === 'water_meter';
  const wrap = plants.find((p) => p.kind === 'counter_rollover');
  // A counter wraps at its register's span; one planted to wrap and of unknown span gets a
  // 5-digit register; the others never reach theirs.
  const span = meter.span ?? (wrap ? (water ? 10_000 : 100_000) : Infinity);
  let initial = water ? 100 + rnd() * 2900 : 1000 + rnd() * 29_000;
  if (wrap) {
    let before = 0;
    for (let i = 0; i < (wrap.from - truth.start) / HOUR; i++) before += hourly[i]!;
    initial = span - before - 0.0005;
  }
  return { initial, span };
}

/** Appends every reading of one meter, in time order, to `out`; returns how many. */
export function emitMeter(s: MeterSeries, truth: GroundTruth, out: Reading[]): number {
  const water = s.meter.kind === 'water_meter';
  const counterField = water ? 'total_m3' : 'energy_import_kwh';
  const rateField = water ? 'flow_m3h' : 'power_kw';
  const digits = water ? 1000 : 100;
  let n = 0;
  walk(s, truth, s.initial, (t, counter, rate) => {
    // Rounded as the register shows it, then wrapped: 99 999.996 shows as 0.00, never 100 000.
    const value = Math.round(((Math.round(counter * digits) / digits) % s.span) * digits) / digits;
    out.push({
      deviceId: s.meter.id,
      kind: s.meter.kind,
      ts: t,
      fields: { [counterField]: value, [rateField]: Math.round(rate * 1000) / 1000 },
      quality: 'good',
    });
    n++;
  });
  return n;
}

/**
 * The first counter value that makes the history end at `target` (the value a live meter
 * shows when its history stops), so live readings carry on without a jump. The walk is
 * affine in its start (use adds, a wind-back multiplies); undefined when no start ≥ 0 fits.
 */
export function initialFor(s: MeterSeries, truth: GroundTruth, target: number): number | undefined {
  const f0 = walk(s, truth, 0);
  const slope = walk(s, truth, 1) - f0;
  const initial = (target - f0) / slope;
  return Number.isFinite(initial) && initial >= 0 ? initial : undefined;
}

/** Steps through the history from `initial`; `emit` sees each reading sent (not those of a gap). Returns the last counter value. */
function walk(
  s: MeterSeries,
  truth: GroundTruth,
  initial: number,
  emit?: (t: number, counter: number, rate: number) => void,
): number {
  const stepMs = truth.intervalS * 1000;
  const steps = Math.round(HOUR / stepMs);
  const plants = plantsOf(truth, s.meter.id);
  const gaps = plants.filter((p) => p.kind === 'data_gap');
  const stuck = plants.filter((p) => p.kind === 'stuck_meter');
  const rollback = plants.find((p) => p.kind === 'counter_rollback');
  let counter = initial;
  let rolledBack = false;
  for (let t = truth.start; t < truth.end; t += stepMs) {
    const hourIndex = Math.floor((t - truth.start) / HOUR);
    const k = Math.round((t - truth.start - hourIndex * HOUR) / stepMs);
    const rate = s.hourly[hourIndex] ?? 0;
    // The hour's use lands on its readings after :00 (k = 1 … steps-1).
    if (k > 0 && !stuck.some((p) => t >= p.from && t < p.to)) counter += rate / (steps - 1);
    if (rollback && !rolledBack && t >= rollback.from) {
      counter *= rollback.params.keep!;
      rolledBack = true;
    }
    if (emit && !gaps.some((p) => t >= p.from && t < p.to)) emit(t, counter, rate);
  }
  return counter;
}
