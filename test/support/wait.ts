import { realTime } from '../../gateway/ports/clock.js';

// The one way tests wait for something real (a socket, a child process, a database) to reach
// a state: poll a positive condition, fail naming what was awaited. Virtual time needs no
// waiting (ManualClock); a test that asserts nothing happened first waits here for a signal
// that proves the system got far enough. It polls on the real clock on purpose: what it
// waits for runs in real time.

/**
 * Polls `check` until it returns a truthy value (every `everyMs`, 0 = each turn of the event
 * loop); after `timeoutMs` throws naming `what` and what it last saw.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const deadline = realTime.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (realTime.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await pause(everyMs);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? realTime.setTimeout(resolve, ms) : setImmediate(resolve)));
}

/** A database name of its own for each test file, so files running side by side never meet. */
export function uniqueDb(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}
