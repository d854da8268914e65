import type { Point } from './driver.js';

/**
 * The spool is at its size limit (or the disk is full): the points were NOT accepted.
 * Nothing already accepted is dropped to make room; the caller counts the refusal.
 */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

/**
 * The database refused these records for good (a field type conflict, a line it cannot
 * parse), or points could not even be made into records: retrying cannot help. The writer
 * sets them aside in the spool's rejected file instead of blocking every reading behind
 * them. Transient failures (database down, timeouts, auth) are plain Errors and are retried.
 */
export class StoreRejectedError extends Error {
  override readonly name = 'StoreRejectedError';
  constructor(
    message: string,
    /** The lines of line protocol refused, as sent; the others of the request were written. */
    readonly lines: string[],
    /** Points that cannot be stored at all (see influx-schema.ts `unstorable`). */
    readonly points: Point[] = [],
  ) {
    super(message);
  }
}
