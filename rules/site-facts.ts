import type { DeviceKind } from './model/fields.js';
import type { FieldValue, Reading } from './model/reading.js';
import type { ThresholdConfig } from './thresholds.js';

// What the rules know of the estate (built by the gateway from the site file) and of each
// device's live values. Plain data: the rules read it, the runtime builds and feeds it.

/** The kinds of rooms devices sit in (a leak in a lift shaft or pit adds "send the lifts up"). */
export const ROOM_TYPES = [
  'pump_room',
  'switch_room',
  'boiler_room',
  'lift_shaft',
  'lift_machine_room',
  'sump_pit',
  'garage',
  'lobby',
  'plant_room',
  'other',
] as const;
export type RoomType = (typeof ROOM_TYPES)[number];

/** What a pump is for (sump and secondary-water pumps failing is critical). */
export const PUMP_ROLES = ['sump', 'secondary_water', 'heating_circulation', 'fire', 'drainage', 'other'] as const;

export interface DeviceFacts {
  id: string;
  kind: DeviceKind;
  building: string;
  floor?: string;
  unit?: string;
  room?: string;
  roomType?: RoomType;
  /** In a unit marked vacant (空置房). */
  vacant: boolean;
  /** The electricity meter that feeds it. */
  feeder?: string;
  circuit?: 'incomer' | 'sub_circuit';
  /** Electricity meters: phase voltage (220 in China). */
  nominalVoltage?: number;
  /** Pumps: sump, secondary_water, heating_circulation, … */
  role?: string;
  /** Sump level sensors: the pump that drains the pit. */
  drainPump?: string;
  /** Lifts: the lowest and highest floor numbers it serves (no floor 0). */
  floorRange?: { lowest: number; highest: number };
  /** Seconds between expected readings. */
  intervalS: number;
}

export interface SiteFacts {
  site: string;
  /** IANA time zone of the site (night windows are local). Default Asia/Shanghai. */
  timezone?: string;
  devices: ReadonlyMap<string, DeviceFacts>;
  /** Buildings with shops: their local trading hours (HH:MM; `to` before `from` runs past midnight). */
  buildings?: ReadonlyMap<string, { tradingHours?: { from: string; to: string } }>;
  thresholds?: ThresholdConfig;
}

/** One device's latest value of every field, each with its own time, and when it was last heard. */
export interface Live {
  fields: Map<string, { value: FieldValue; ts: number }>;
  heardAt: number;
}

/** Folds a reading into a device's live values (in place; the engine owns them); a late reading never overwrites a newer value. */
export function observe(live: Live | undefined, r: Reading, receivedAt: number): Live {
  const next: Live = live ?? { fields: new Map(), heardAt: receivedAt };
  next.heardAt = Math.max(next.heardAt, receivedAt);
  // The entries are updated in place rather than replaced: at tens of thousands of readings a
  // second a new entry per field (and Object.entries' pairs) was a tenth of the gateway's
  // allocation, and a device heard every few seconds turns each replaced entry into old-space
  // garbage. Whoever reads a live value copies it (evidence, the incidents' checks).
  const fields = r.fields;
  for (const field in fields) {
    const value = fields[field]!;
    const prev = next.fields.get(field);
    if (!prev) next.fields.set(field, { value, ts: r.ts });
    else if (prev.ts <= r.ts) {
      prev.value = value;
      prev.ts = r.ts;
    }
  }
  return next;
}

export function num(live: Live | undefined, field: string): number | undefined {
  const v = live?.fields.get(field)?.value;
  return typeof v === 'number' ? v : undefined;
}

export function bool(live: Live | undefined, field: string): boolean | undefined {
  const v = live?.fields.get(field)?.value;
  return typeof v === 'boolean' ? v : undefined;
}

export function str(live: Live | undefined, field: string): string | undefined {
  const v = live?.fields.get(field)?.value;
  return typeof v === 'string' ? v : undefined;
}

/** The feeder meters above a device, nearest first (the config forbids loops). */
export function feederChain(facts: SiteFacts, id: string): string[] {
  const chain: string[] = [];
  let next = facts.devices.get(id)?.feeder;
  while (next !== undefined && !chain.includes(next)) {
    chain.push(next);
    next = facts.devices.get(next)?.feeder;
  }
  return chain;
}
