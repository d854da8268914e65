import type { DeviceFacts, SiteFacts } from '../site-facts.js';
import { feederChain } from '../site-facts.js';

// Who is powered by what, for the incident rules (S001 篇3 停电预案 step 4: check every lift on
// the lost supply). A device is fed by a meter above it in its feeder chain; a building's
// incomer also feeds every device of the building that names no incomer of its own above it
// (a lift whose feeder was never written down is still checked when the building goes dark).

const isIncomer = (d: DeviceFacts | undefined) => d?.kind === 'electricity_meter' && d.circuit === 'incomer';

/** Whether `supply` powers `deviceId`. */
export function feeds(facts: SiteFacts, supply: string, deviceId: string): boolean {
  if (supply === deviceId) return false;
  const chain = feederChain(facts, deviceId);
  if (chain.includes(supply)) return true;
  const s = facts.devices.get(supply);
  if (!isIncomer(s)) return false;
  const d = facts.devices.get(deviceId);
  return d !== undefined && d.building === s!.building && !chain.some((id) => isIncomer(facts.devices.get(id)));
}

/** Every device `supply` powers, in site order. */
export function fedBy(facts: SiteFacts, supply: string): DeviceFacts[] {
  return [...facts.devices.values()].filter((d) => feeds(facts, supply, d.id));
}

/** Every device of a building, or of the site when none is named. */
export function inBuilding(facts: SiteFacts, building: string | undefined): DeviceFacts[] {
  return [...facts.devices.values()].filter((d) => building === undefined || d.building === building);
}
