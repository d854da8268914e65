import { StoreRejectedError } from './errors.js';
import { unstorable } from './influx-schema.js';
import { pointLine } from './line-protocol.js';
import type { Point, StoreDriver } from './driver.js';

// The one way points become what InfluxDB receives: checked (`unstorable`), made into lines of
// line protocol, sent by a driver's writeLines. The spool's records are these lines, and
// writers outside the spool (history backfill, tests) go through writePoints, so a point is
// checked, encoded and sent the same way whichever road it takes.

export interface StorableLines {
  /** The lines of the points that can be stored, in their order. */
  lines: string[];
  /** Points that cannot be stored at all, with the first reason. */
  refused: Point[];
  reason?: string;
}

export function storableLines(points: Point[]): StorableLines {
  const lines: string[] = [];
  const refused: Point[] = [];
  let reason: string | undefined;
  for (const p of points) {
    const why = unstorable(p);
    if (why === undefined) lines.push(pointLine(p));
    else {
      reason ??= why;
      refused.push(p);
    }
  }
  return reason === undefined ? { lines, refused } : { lines, refused, reason };
}

/**
 * Writes points straight to the database (no spool): the storable ones in one request, then
 * StoreRejectedError (with the others) if some cannot be stored.
 */
export async function writePoints(driver: Pick<StoreDriver, 'name' | 'writeLines'>, points: Point[]): Promise<void> {
  const { lines, refused, reason } = storableLines(points);
  if (lines.length > 0) await driver.writeLines(lines);
  if (refused.length > 0) {
    throw new StoreRejectedError(`${driver.name}: ${refused.length} point(s) cannot be stored: ${reason}`, [], refused);
  }
}
