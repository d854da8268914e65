import type { Point } from './types.js';

/**
 * The spool is at its size limit (or the disk is full): the points were NOT accepted.
 * Nothing already accepted is dropped to make room; the caller counts the refusal.
 */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

/**
 * The database refused these points for good (a malformed point, a field type conflict):
 * retrying cannot help. The writer sets them aside in the spool's rejected file instead of
 * blocking every reading behind them. Transient failures (database down, timeouts, auth)
 * are plain Errors and are retried.
 */
export class StoreRejectedError extends Error {
  override readonly name = 'StoreRejectedError';
  constructor(
    message: string,
    /** The points refused; the others of the batch were written. */
    readonly points: Point[],
  ) {
    super(message);
  }
}
