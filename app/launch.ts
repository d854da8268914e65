import { getHeapStatistics } from 'node:v8';

// The gateway's memory limits. A gateway lives on a small box beside other services, and a
// flood of replayed readings after an outage is exactly when it must not swell: without
// limits V8 lets each heap grow to a quarter of the machine's memory before it collects in
// earnest, and glibc gives each thread its own arenas (bench/README.md, Memory).
// One place for them: `dutyroom start` re-executes itself with them (same process id, so
// service managers see no difference) however it was started (the `dutyroom` bin,
// `npm start`, `node dist/app/cli.js start`).

/**
 * V8's limits for the gateway's main isolate (the broker's thread has its own: broker/thread.ts),
 * and one thread for V8's background work (concurrent marking, parallel scavenges, sweeping)
 * instead of four. Those threads serve both isolates, and on a small box's two cores four of
 * them took the cores from the broker's and the gateway's threads in the middle of a burst:
 * an alarm waited for another thread's collection (bench/README.md, Garbage collection).
 */
export const GATEWAY_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2', '--v8-pool-size=1'] as const;
/** The allocator's settings: one malloc arena for all threads instead of eight per core (the threads rarely allocate at once). */
export const GATEWAY_ENV = { MALLOC_ARENA_MAX: '1' } as const;

const MARK = 'DUTYROOM_LIMITS_SET';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Whoever started the process chose a heap size themselves: theirs stands. */
function heapChosen(): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return given.some((a) => a.startsWith('--max-old-space-size'));
}

/**
 * Re-executes this process with the gateway's limits unless it already runs with them (or with
 * a heap size its starter chose). Returns what it did; on a Node.js without `process.execve`
 * (before 22.15) the gateway runs without them and says so.
 */
export function relaunchWithLimits(): 'relaunching' | 'set' | 'chosen' | 'unsupported' {
  if (process.env[MARK] === '1') return 'set';
  if (heapChosen()) return 'chosen';
  const p = process as unknown as { execve?: Execve };
  if (typeof p.execve !== 'function') return 'unsupported';
  const args = [process.execPath, ...process.execArgv, ...GATEWAY_NODE_FLAGS, ...process.argv.slice(1)];
  p.execve(process.execPath, args, { ...process.env, ...GATEWAY_ENV, [MARK]: '1' });
  return 'relaunching'; // not reached: execve replaces the process
}

/** The heap limit this process runs with, in MiB (for the start-up line). */
export function heapLimitMb(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}
