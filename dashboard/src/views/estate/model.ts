import type { Text } from '../../i18n.js';
import type { Alarm, Device, DeviceTopology, Site } from '../../types.js';

// What the estate picture shows for each device, unit and supply, worked out once per
// refresh from the devices, the alarms and the site's supply topology. Plain functions: the
// drawing files only draw.

/** Worst first: a cell shows the worst state of the devices in it. */
export const STATES = ['alarm', 'nopower', 'offline', 'inhibited', 'vacant', 'normal'] as const;
export type CellState = (typeof STATES)[number];

/** Alarms that mean the supply through a meter is gone (DOMAIN §2 Power). */
const SUPPLY_LOST = new Set(['power_cut_external', 'phase_loss', 'circuit_fault_internal', 'breaker_tripped']);
/** Loss of voltage below 78 % of nominal (DL/T 645 失压), when no alarm has said so yet. */
export const LOST_BELOW = 0.78;

export interface Loss {
  /** The meter whose supply is gone at the top of the chain (the cause). */
  root: string;
  /** Why: the alarm's title, or the live voltage. */
  why: Text;
}

export interface EstateModel {
  site: Site;
  devices: Map<string, Device>;
  topo: Map<string, DeviceTopology>;
  /** Firing alarms by device. */
  alarms: Map<string, Alarm[]>;
  /** Meters whose supply is lost (their own loss or one above them), with the root cause. */
  lost: Map<string, Loss>;
  /** Alarm kinds' titles, for the words beside a state. */
  kinds: Record<string, { title: Text }>;
}

/**
 * A value is live only while the device is online and its reading is recent: a reading the
 * device sent (or a buffer replayed) longer ago than its offline rule (offlineAfterSeconds, the
 * gateway's: the rules' offline_intervals of its interval) is stale.
 * The gateway's own times are compared (lastSeen is when it heard the device), not the browser's.
 */
export function isStale(d: Device | undefined): boolean {
  if (!d || !d.online || !d.lastReading) return true;
  const limit = d.offlineAfterSeconds * 1000;
  const heard = d.lastSeen ? Date.parse(d.lastSeen) : NaN;
  return Number.isFinite(heard) && heard - Date.parse(d.lastReading.ts) > limit;
}

/** A field's value if it is live, else undefined (never a stale number drawn as current). */
export function live(d: Device | undefined, field: string): unknown {
  return isStale(d) ? undefined : d!.lastReading!.fields[field];
}

export function buildModel(
  site: Site,
  list: Device[],
  alarms: Alarm[],
  kinds: Record<string, { title: Text }>,
): EstateModel {
  const devices = new Map(list.map((d) => [d.id, d]));
  const topo = new Map((site.devices ?? []).map((t) => [t.id, t]));
  const firing = new Map<string, Alarm[]>();
  for (const a of alarms) if (a.status === 'firing') firing.set(a.deviceId, [...(firing.get(a.deviceId) ?? []), a]);

  // A meter's own loss: an alarm that says so, or a live voltage far below nominal.
  const own = (id: string): Text | undefined => {
    const a = firing.get(id)?.find((x) => SUPPLY_LOST.has(x.kind));
    if (a) return kinds[a.kind]?.title ?? { zh: a.kind, en: a.kind };
    const v = live(devices.get(id), 'voltage_l1_v');
    const nominal = topo.get(id)?.nominalVoltage ?? 220;
    if (typeof v === 'number' && v < LOST_BELOW * nominal) return { zh: `电压 ${v} V`, en: `${v} V` };
    return undefined;
  };
  const lost = new Map<string, Loss>();
  for (const t of topo.values()) {
    if (devices.get(t.id)?.kind !== 'electricity_meter') continue;
    // The cause is the highest lost supply: a dark incomer explains its dark feeders.
    for (const s of [...t.supplies].reverse().concat(t.id)) {
      const why = own(s);
      if (why) {
        lost.set(t.id, { root: s, why });
        break;
      }
    }
  }
  return { site, devices, topo, alarms: firing, lost, kinds };
}

/** The lost supply a device hangs from, if any (its own meter's loss counts for a meter). */
export function lossOf(m: EstateModel, id: string): Loss | undefined {
  for (const s of [...(m.topo.get(id)?.supplies ?? [])].reverse()) {
    const l = m.lost.get(s);
    if (l) return l;
  }
  return m.lost.get(id);
}

export function deviceState(m: EstateModel, id: string): CellState {
  const mine = m.alarms.get(id) ?? [];
  if (mine.some((a) => !a.inhibitedBy && !a.silencedBy)) return 'alarm';
  if (lossOf(m, id)) return 'nopower';
  if (mine.length) return 'inhibited';
  return isStale(m.devices.get(id)) ? 'offline' : 'normal';
}

/** The worst state among devices; a vacant unit with nothing wrong shows as vacant. */
export function cellState(m: EstateModel, ids: string[], vacant = false): CellState {
  const states = ids.map((id) => deviceState(m, id));
  for (const s of STATES) if (s !== 'vacant' && s !== 'normal' && states.includes(s)) return s;
  return vacant ? 'vacant' : 'normal';
}

/** Devices of a building by where they are. */
export function placed(
  m: EstateModel,
  building: string,
): { byUnit: Map<string, Device[]>; byRoom: Map<string, Device[]>; byFloor: Map<string, Device[]>; all: Device[] } {
  const all = [...m.devices.values()].filter((d) => d.place.building === building);
  const byUnit = new Map<string, Device[]>();
  const byRoom = new Map<string, Device[]>();
  // Devices placed on a floor only (no unit, no room); lifts are drawn in their shafts.
  const byFloor = new Map<string, Device[]>();
  for (const d of all) {
    if (d.place.unit) byUnit.set(d.place.unit, [...(byUnit.get(d.place.unit) ?? []), d]);
    else if (d.place.room) byRoom.set(d.place.room, [...(byRoom.get(d.place.room) ?? []), d]);
    else if (d.place.floor && d.kind !== 'lift') byFloor.set(d.place.floor, [...(byFloor.get(d.place.floor) ?? []), d]);
  }
  return { byUnit, byRoom, byFloor, all };
}
