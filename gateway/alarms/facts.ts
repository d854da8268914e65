import type { DeviceFacts, SiteFacts } from '../../rules/site-facts.js';
import { floorsOf, type SiteConfig } from '../config/schema.js';
import type { ThresholdConfig } from '../../rules/thresholds.js';

/** One per site config: the alarms, the incidents and the dashboard read the same facts (at 10,000 devices a copy each was 1.5 MB of heap). */
const built = new WeakMap<SiteConfig, SiteFacts>();

/** What the rules need to know of the estate, from the site file. */
export function siteFacts(config: SiteConfig): SiteFacts {
  let facts = built.get(config);
  if (!facts) built.set(config, (facts = buildSiteFacts(config)));
  return facts;
}

function buildSiteFacts(config: SiteConfig): SiteFacts {
  const buildings = new Map(config.buildings.map((b) => [b.id, b]));
  const devices = new Map<string, DeviceFacts>();
  for (const d of config.devices) {
    const b = buildings.get(d.place.building)!;
    const unit = d.place.unit ? b.units.find((u) => u.id === d.place.unit) : undefined;
    const room = d.place.room ? b.rooms.find((r) => r.id === d.place.room) : undefined;
    const floor = d.place.floor ?? unit?.floor ?? room?.floor;
    const levels = floorsOf(b).map((f) => f.level);
    devices.set(d.id, {
      id: d.id,
      kind: d.kind,
      building: b.id,
      ...(floor !== undefined ? { floor } : {}),
      ...(d.place.unit ? { unit: d.place.unit } : {}),
      ...(d.place.room ? { room: d.place.room } : {}),
      ...(room ? { roomType: room.type } : {}),
      vacant: unit?.vacant ?? false,
      ...(d.feeder ? { feeder: d.feeder } : {}),
      ...(d.circuit ? { circuit: d.circuit } : {}),
      ...(d.kind === 'electricity_meter' ? { nominalVoltage: d.nominal_voltage_v ?? 220 } : {}),
      ...(d.role ? { role: d.role } : {}),
      ...(d.drain_pump ? { drainPump: d.drain_pump } : {}),
      ...(d.kind === 'lift' ? { floorRange: { lowest: Math.min(...levels), highest: Math.max(...levels) } } : {}),
      intervalS: d.protocol === 'mqtt' ? d.publish_interval_s : d.poll_interval_s,
    });
  }
  const tradingHours = new Map(
    config.buildings.map((b) => [b.id, b.trading_hours ? { tradingHours: b.trading_hours } : {}]),
  );
  return {
    site: config.site.id,
    timezone: config.site.timezone,
    devices,
    buildings: tradingHours,
    ...(config.thresholds ? { thresholds: config.thresholds as ThresholdConfig } : {}),
  };
}
