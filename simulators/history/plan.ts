import type { AnomalyKind, MeterFacts } from '../../rules/reports/meter-model.js';
import { hashSeed, seededRandom } from '../random.js';

// Which meters get which planted anomaly, when: the ground truth the report is tested
// against. Each planted meter carries exactly one, so a finding can be matched to its plant;
// every other meter behaves normally (holidays, busy days, a night-time flush included), so
// flags on them are false positives. A counter wrap is planted too: the report must list it
// as a rollover, never as an anomaly.

export type PlantKind = AnomalyKind | 'counter_rollover';

export interface Plant {
  meter: string;
  kind: PlantKind;
  /** Epoch ms. */
  from: number;
  to: number;
  /** The numbers the generator uses (rate, factor, drop). */
  params: Record<string, number>;
}

export interface GroundTruth {
  seed: number;
  /** Epoch ms of the first and after the last reading; readings every intervalS. */
  start: number;
  end: number;
  intervalS: number;
  timeZone: string;
  meters: string[];
  planted: Plant[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Which meters each kind may be planted in. */
function eligible(kind: PlantKind, m: MeterFacts): boolean {
  const occupiedUnit = m.unit !== undefined && !m.vacant;
  switch (kind) {
    case 'vacant_unit_flow':
      return m.vacant && m.kind === 'water_meter';
    case 'vacant_unit_power':
      return m.vacant && m.kind === 'electricity_meter';
    case 'continuous_flow':
    case 'night_flow_high':
      return occupiedUnit && m.kind === 'water_meter';
    case 'stuck_meter':
    case 'consumption_spike':
    case 'counter_rollback':
    case 'counter_rollover':
      return occupiedUnit;
    case 'data_gap':
      return !m.vacant;
  }
}

const ORDER: PlantKind[] = [
  'vacant_unit_flow',
  'vacant_unit_power',
  'stuck_meter',
  'continuous_flow',
  'night_flow_high',
  'consumption_spike',
  'counter_rollback',
  'counter_rollover',
  'data_gap',
];

export interface PlanOptions {
  meters: MeterFacts[];
  start: number;
  end: number;
  intervalS: number;
  timeZone: string;
  seed: number;
  /** Plants per kind (default: 1 % of the eligible meters, at least 2, as far as meters allow). */
  perKind?: number;
  /** Plant counter wraps (default true; not when the history must end at live counters). */
  wraps?: boolean;
}

export function planAnomalies(o: PlanOptions): GroundTruth {
  const rnd = seededRandom(hashSeed(o.seed, 'plants'));
  const days = Math.floor((o.end - o.start) / DAY);
  const used = new Set<string>();
  const planted: Plant[] = [];
  const pickDay = (min: number, maxFromEnd: number) => min + Math.floor(rnd() * Math.max(1, days - maxFromEnd - min));
  const dayFrom = (min: number, maxFromEnd: number) => o.start + pickDay(min, maxFromEnd) * DAY;
  for (const kind of ORDER) {
    if (kind === 'counter_rollover' && o.wraps === false) continue;
    const pool = o.meters.filter((m) => !used.has(m.id) && eligible(kind, m));
    const want = o.perKind ?? Math.max(2, Math.round(pool.length * 0.01));
    for (let i = 0; i < want && pool.length > 0 && days >= 20; i++) {
      const m = pool.splice(Math.floor(rnd() * pool.length), 1)[0]!;
      used.add(m.id);
      const { from, to, params } = plantWindow(kind, rnd, dayFrom);
      planted.push({ meter: m.id, kind, from, to: Math.min(to, o.end), params });
    }
  }
  return {
    seed: o.seed,
    start: o.start,
    end: o.end,
    intervalS: o.intervalS,
    timeZone: o.timeZone,
    meters: o.meters.map((m) => m.id),
    planted,
  };
}

/**
 * When one plant of `kind` happens and its numbers. `dayFrom(min, maxFromEnd)` draws the
 * start of a day at least `min` days in and `maxFromEnd` days before the end; the draws
 * come in this order, so the plan stays the same for the same seed.
 */
function plantWindow(
  kind: PlantKind,
  rnd: () => number,
  dayFrom: (min: number, maxFromEnd: number) => number,
): Pick<Plant, 'from' | 'to' | 'params'> {
  const params: Record<string, number> = {};
  let from: number;
  let to: number;
  switch (kind) {
    case 'vacant_unit_flow':
    case 'vacant_unit_power':
      from = dayFrom(1, 5);
      to = from + (2 + Math.floor(rnd() * 3)) * DAY;
      params.per_day = kind === 'vacant_unit_flow' ? 0.05 + rnd() * 0.25 : 1 + rnd() * 2;
      break;
    case 'stuck_meter':
      from = dayFrom(8, 10);
      to = from + (8 + Math.floor(rnd() * 4)) * DAY;
      break;
    case 'continuous_flow':
      from = dayFrom(2, 6);
      to = from + (2 + Math.floor(rnd() * 3)) * DAY;
      params.leak_m3h = 0.012 + rnd() * 0.02;
      break;
    case 'night_flow_high':
      from = dayFrom(8, 7);
      to = from + (3 + Math.floor(rnd() * 4)) * DAY;
      params.night_m3h = 0.02 + rnd() * 0.03;
      break;
    case 'consumption_spike':
      from = dayFrom(16, 1);
      to = from + DAY;
      params.factor = 5 + rnd() * 3;
      break;
    case 'counter_rollback':
      from = dayFrom(2, 1) + Math.floor(rnd() * 24) * HOUR;
      to = from;
      params.keep = 0.3 + rnd() * 0.4;
      break;
    case 'counter_rollover':
      from = dayFrom(3, 2) + Math.floor(rnd() * 24) * HOUR;
      to = from;
      break;
    case 'data_gap':
      from = dayFrom(1, 3) + Math.floor(rnd() * 24) * HOUR;
      to = from + (6 + Math.floor(rnd() * 43)) * HOUR;
      break;
  }
  return { from, to, params };
}
