import type { EventSite, Place } from '../../rules/events/build.js';
import type { SiteConfig, Text } from '../config/schema.js';
import { placeOf } from '../incidents/place.js';

// The site as the event payloads name it: its id, its zone, and where each device is.

const words = (t: Text | undefined, fallback: string) =>
  t === undefined ? { zh: fallback, en: fallback } : typeof t === 'string' ? { zh: t, en: t } : t;

export function eventSite(config: SiteConfig): EventSite {
  const devices = new Map(config.devices.map((d) => [d.id, d]));
  const buildings = new Map(config.buildings.map((b) => [b.id, b]));
  const text = placeOf(config);
  const place = (deviceId: string): Place => {
    const d = devices.get(deviceId);
    if (!d) return { text: text(deviceId) };
    const b = buildings.get(d.place.building);
    const unit = d.place.unit ? b?.units.find((u) => u.id === d.place.unit) : undefined;
    const room = d.place.room ? b?.rooms.find((r) => r.id === d.place.room) : undefined;
    const floor = d.place.floor ?? unit?.floor ?? room?.floor;
    return {
      building: d.place.building,
      ...(floor ? { floor } : {}),
      ...(d.place.unit ? { unit: d.place.unit } : {}),
      ...(d.place.room ? { room: d.place.room } : {}),
      text: text(deviceId),
    };
  };
  return {
    site: config.site.id,
    timeZone: config.site.timezone,
    place,
    building: (id) => ({ building: id, text: words(buildings.get(id)?.name, id) }),
  };
}
