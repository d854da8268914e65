import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

// V8's heap-size flags win over a worker's resourceLimits: a process started with the
// launcher's limits (app/launch.ts) would give the broker's isolate the gateway's own old
// space and semi-spaces, whatever the broker asks for. The flags are read once, when an
// isolate's heap is configured, so clearing them while the worker's isolate is made and
// putting them back once it runs gives that isolate its own limits and changes nothing else.

type HeapFlag = 'max-old-space-size' | 'max-semi-space-size';

/** The heap-size flags among the given V8/Node options, with the value each ends with (the last one given wins, as in V8). */
export function heapFlagsGiven(options: readonly string[]): Map<HeapFlag, string> {
  const given = new Map<HeapFlag, string>();
  for (let i = 0; i < options.length; i++) {
    const m = /^--(max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size)(?:=(.*))?$/.exec(options[i]!);
    if (!m) continue;
    const flag = m[1]!.replaceAll('_', '-') as HeapFlag;
    const value = m[2] ?? options[i + 1];
    if (value !== undefined && /^\d+$/.test(value)) given.set(flag, value);
  }
  return given;
}

/** The options this process runs with, in the order Node.js applies them: NODE_OPTIONS's, then its command line's. */
function processOptions(): string[] {
  return [...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), ...process.execArgv];
}

/**
 * Creates a worker whose isolate takes its own resourceLimits even where the process was
 * started with heap-size flags: the flags are cleared (0 is V8's "not set") until the worker
 * is online or gone, then set back to what the process was started with.
 */
export function spawnWithOwnHeap(
  spawn: () => Worker,
  given: ReadonlyMap<HeapFlag, string> = heapFlagsGiven(processOptions()),
  set: (flags: string) => void = setFlagsFromString,
): Worker {
  if (given.size === 0) return spawn();
  for (const flag of given.keys()) set(`--${flag}=0`);
  let worker: Worker;
  try {
    worker = spawn();
  } catch (err) {
    restore(given, set);
    throw err;
  }
  let restored = false;
  const once = (): void => {
    if (restored) return;
    restored = true;
    restore(given, set);
  };
  worker.once('online', once);
  worker.once('error', once);
  worker.once('exit', once);
  return worker;
}

function restore(given: ReadonlyMap<HeapFlag, string>, set: (flags: string) => void): void {
  for (const [flag, value] of given) set(`--${flag}=${value}`);
}
