import type { SiteConfig, Text } from '../config/schema.js';

// Where a device is, in the words a duty engineer uses on the phone: building, floor, unit or
// room (by name where the site file gives one), and the device.

const words = (t: Text | undefined, fallback: string) =>
  t === undefined ? { zh: fallback, en: fallback } : typeof t === 'string' ? { zh: t, en: t } : t;

export function placeOf(config: SiteConfig): (deviceId: string) => { zh: string; en: string } {
  const buildings = new Map(config.buildings.map((b) => [b.id, b]));
  const devices = new Map(config.devices.map((d) => [d.id, d]));
  return (deviceId) => {
    const d = devices.get(deviceId);
    const b = d && buildings.get(d.place.building);
    if (!d || !b) return { zh: deviceId, en: deviceId };
    const unit = d.place.unit ? b.units.find((u) => u.id === d.place.unit) : undefined;
    const room = d.place.room ? b.rooms.find((r) => r.id === d.place.room) : undefined;
    const floor = d.place.floor ?? unit?.floor ?? room?.floor;
    const parts = [
      words(b.name, b.id),
      ...(floor ? [{ zh: `${floor} 层`, en: `floor ${floor}` }] : []),
      ...(unit ? [words(unit.name, unit.id)] : []),
      ...(room ? [words(room.name, room.id)] : []),
      { zh: deviceId, en: deviceId },
    ];
    return { zh: parts.map((p) => p.zh).join(' / '), en: parts.map((p) => p.en).join(' / ') };
  };
}
