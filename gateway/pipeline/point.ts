import type { Reading } from '../../rules/model/reading.js';
import type { Place } from '../registry.js';
import type { Point } from '../store/driver.js';

/**
 * InfluxDB schema: one measurement per device kind; tags site, building, floor, unit, room,
 * device (only those the device has); fields are the canonical fields, plus a string field
 * `quality` when a reading is not good; time in µs.
 */
export function toPoint(site: string, place: Place, reading: Reading): Point {
  return pointWithTags(pointTags(site, place, reading.deviceId), reading);
}

/** A reading as a point under tags already made (pointTags) for its device. */
export function pointWithTags(tags: Record<string, string>, reading: Reading): Point {
  const fields = reading.quality === 'good' ? reading.fields : { ...reading.fields, quality: reading.quality };
  return { measurement: reading.kind, tags, fields, tsUs: Math.round(reading.ts * 1000) };
}

/** The tags of a device's points, in schema order. */
export function pointTags(site: string, place: Place, deviceId: string): Record<string, string> {
  const tags: Record<string, string> = { site, building: place.building };
  if (place.floor !== undefined) tags.floor = place.floor;
  if (place.unit !== undefined) tags.unit = place.unit;
  if (place.room !== undefined) tags.room = place.room;
  tags.device = deviceId;
  return tags;
}
