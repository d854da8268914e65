import { floorsOf, type DeviceConfig, type SiteConfig } from '../../gateway/ports/site.js';
import type { RegisterProfile } from '../../gateway/profiles/profile.js';
import { MODELS } from './models/index.js';
import type { SimDeviceInfo } from './types.js';

/** What the behaviour models need to know about each device of a site file, in file order. */
export function simDevices(
  config: SiteConfig,
  registerProfiles?: ReadonlyMap<string, RegisterProfile>,
): SimDeviceInfo[] {
  return config.devices.map((d) => simDevice(d, config, registerProfiles));
}

function simDevice(
  d: DeviceConfig,
  config: SiteConfig,
  registerProfiles?: ReadonlyMap<string, RegisterProfile>,
): SimDeviceInfo {
  const building = config.buildings.find((b) => b.id === d.place.building);
  if (!building) throw new Error(`simulator: device ${d.id} is in unknown building "${d.place.building}"`);
  const floors = floorsOf(building);
  const levels = floors.map((f) => f.level);
  const unit = d.place.unit ? building.units.find((u) => u.id === d.place.unit) : undefined;
  const room = d.place.room ? building.rooms.find((r) => r.id === d.place.room) : undefined;
  const floorId = d.place.floor ?? unit?.floor ?? room?.floor;
  const floor = floorId === undefined ? undefined : floors.find((f) => f.id === floorId)?.level;
  return {
    id: d.id,
    kind: d.kind,
    building: building.id,
    floors: { lowest: Math.min(...levels), highest: Math.max(...levels) },
    vacant: unit?.vacant ?? false,
    ...(d.feeder ? { feeder: d.feeder } : {}),
    ...(d.circuit ? { circuit: d.circuit } : {}),
    nominalVoltage: d.nominal_voltage_v ?? 220,
    phases: phasesOf(d, registerProfiles),
    ...(d.role ? { role: d.role } : {}),
    intervalS: d.protocol === 'mqtt' ? d.publish_interval_s : d.poll_interval_s,
    ...(floor !== undefined ? { floor } : {}),
    ...(unit ? { unit: unit.id } : {}),
    ...(room ? { room: room.id, roomType: room.type } : {}),
    ...(d.drain_pump ? { drainPump: d.drain_pump } : {}),
    batteryBacked: MODELS[d.kind].batteryBacked,
  };
}

/**
 * Three-phase where the device's register profile has L3 (an SDM630, not an SDM120). An
 * MQTT meter has no register map: a unit's meter is single-phase, a switch-room meter three-phase.
 * Motors (pumps, lift traction) are three-phase.
 */
function phasesOf(d: DeviceConfig, registerProfiles?: ReadonlyMap<string, RegisterProfile>): 1 | 3 {
  if (d.kind === 'pump' || d.kind === 'lift') return 3;
  if (d.kind !== 'electricity_meter') return 1;
  if (d.protocol === 'modbus') {
    const profile = registerProfiles?.get(d.profile);
    if (profile) return 'voltage_l3_v' in profile.fields ? 3 : 1;
    if (/sdm120/i.test(d.profile)) return 1;
  }
  return d.place.unit ? 1 : 3;
}
