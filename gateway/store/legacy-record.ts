import { unstorable } from './influx-schema.js';
import { pointLine } from './line-protocol.js';
import type { Point } from './driver.js';

/**
 * A spool record as gateways wrote it before records were line protocol (the JSON of a
 * Point), converted, so that a spool left by an older version is still delivered after an
 * upgrade. `problem` when the line is not such a point or cannot be stored.
 */
export function legacyRecord(line: string): string | { problem: string } {
  let point: Point;
  try {
    point = JSON.parse(line) as Point;
  } catch {
    return { problem: 'not JSON' };
  }
  if (
    point === null ||
    typeof point !== 'object' ||
    typeof point.tags !== 'object' ||
    point.tags === null ||
    typeof point.fields !== 'object' ||
    point.fields === null
  ) {
    return { problem: 'not a point' };
  }
  const why = unstorable(point);
  return why === undefined ? pointLine(point) : { problem: why };
}
