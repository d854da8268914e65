import type { Reading } from '../../rules/model/reading.js';

/**
 * Where readings produced outside the live pipeline (the simulated history backfill) are
 * handed; the promise resolves once they are stored. The gateway's implementation is
 * ../pipeline/store-sink.ts.
 */
export interface ReadingSink {
  write(readings: readonly Reading[]): Promise<void>;
}
