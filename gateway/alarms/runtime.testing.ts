import type { Reading } from '../../rules/model/reading.js';
import { parseConfig } from '../config/load.js';

// What the alarm runtime's tests share: a small site and its readings.

/** A pump room with a leak sensor, and a lift (in building b2 unless `liftBuilding` says). */
export function alarmSite(liftBuilding = 'b2') {
  return parseConfig(
    `
site: { id: s1, name: S }
buildings:
  - { id: b1, name: B1, floors: { lowest: -1, highest: 10 }, rooms: [{ id: pr, floor: B1, type: pump_room }] }
  - { id: b2, name: B2, floors: { lowest: 1, highest: 3 } }
devices:
  - { id: leak-1, kind: leak_sensor, protocol: mqtt, publish_interval_s: 60, place: { building: b1, room: pr } }
  - { id: lift-a, kind: lift, protocol: mqtt, publish_interval_s: 5, place: { building: ${liftBuilding} } }
`,
    't.yaml',
    { env: {} },
  );
}

export const T0 = Date.parse('2026-11-22T10:00:00Z');

export const reading = (deviceId: string, kind: Reading['kind'], ts: number, fields: Reading['fields']): Reading => ({
  deviceId,
  kind,
  ts,
  fields,
  quality: 'good',
});
