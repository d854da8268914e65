// Modbus poll capacity: SDM630 meters polled every second by the real poller, in a process
// of its own with the launcher's memory flags (bench/modbus-poller.ts), from simulated
// converters in another process (each converter a TCP endpoint with many unit ids, as a
// TCP-to-RS-485 gateway is), stepping the number of devices up until more than
// 1 % of the polls are missed. A poll is missed unless it produced a good reading: skipped
// (the previous one still running), failed or partly failed, or not made at all (backed off).
// The coarse ramp is then bisected between the last level that held and the first that did
// not, and the level found is run again (a spread, not one lucky or unlucky step). Each step
// carries the gateway's CPU per device-poll (robust to the shared machine's speed swings, as
// long as the level holds) and a CPU reference figure taken just before it.
//   node dist/bench/modbus.js [--quick]        (or BENCH_QUICK=1)
//   node dist/bench/modbus.js --devices 3000   one step of 3000 devices (BENCH_PROFILE=dir profiles its window;
//   BENCH_GATEWAY_NODE_ARGS adds Node.js flags to the poller's)
// BENCH_MODBUS_IN_FLIGHT sets the requests in flight per converter (default 1, the
// adapter's default: most converters cannot take a second request while one is on the bus).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../app/launch.js';
import { planReads } from '../gateway/adapters/modbus/plan.js';
import { projectPath } from '../gateway/files/paths.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { cpuReference } from './cpu-reference.js';
import type { PollerArgs, PollerResult } from './modbus-poller.js';

export interface PollStep {
  devices: number;
  /** Grid slots in the measured window: devices × seconds. */
  expectedPolls: number;
  /** Polls of the window that produced a good reading. */
  goodPolls: number;
  /** Slots skipped because the device's previous poll was still running. */
  skipped: number;
  /** Requests that failed (timeout, exception, connection, protocol) in the window. */
  failedRequests: number;
  missedPct: number;
  /** Registers read per second by the polls that counted. */
  registersPerS: number;
  /** CPU the gateway process (the poller) used, in % of one core. */
  gatewayCpuPct: number;
  /** CPU the simulated converters' process used, in % of one core (null where /proc is missing). */
  simulatorCpuPct: number | null;
  /** Slowest poll of the window (from its slot to its last answer), ms: how close to the period it came. */
  maxPollMs: number;
  /** Gateway CPU (user + system) per good poll of the window, µs: what a device-poll costs, whatever the machine's load. */
  gatewayCpuUsPerPoll: number;
  /** The simulated converters' CPU per good poll, µs (null where /proc is missing). */
  simulatorCpuUsPerPoll: number | null;
  /** bench/cpu-reference.ts just before the step (rounds/s, one core): the machine's speed at that moment. */
  cpuReference: number;
  /** Which part of the search the step belongs to. */
  phase: 'ramp' | 'bisect' | 'repeat';
}

/** Every run of one device count: how much the result moves from one run to the next. */
export interface PollSpread {
  devices: number;
  runs: number;
  missedPct: { min: number; max: number };
  gatewayCpuUsPerPoll: { min: number; max: number };
  cpuReference: { min: number; max: number };
}

export interface ModbusBench {
  steps: PollStep[];
  /** Most devices polled at 1 Hz with ≤ 1 % missed in every run of that count. */
  sustained: number;
  /** The runs of the sustained count and of the first count above it that failed. */
  spread: PollSpread[];
  /** Gateway CPU per device-poll over the steps that held (median, min, max), µs. */
  gatewayCpuUsPerPoll: { median: number; min: number; max: number };
  registersPerPoll: number;
  requestsPerPoll: number;
  unitsPerEndpoint: number;
  inFlightPerEndpoint: number;
  secondsPerStep: number;
}

const UNITS_PER_ENDPOINT = 50;
const IN_FLIGHT = Number(process.env.BENCH_MODBUS_IN_FLIGHT ?? 1);
const TIMEOUT_MS = 1000;

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS = 100;

/** User + system CPU time of a process in clock ticks, from /proc; null elsewhere. */
function childTicks(pid: number | undefined): number | null {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Runs the poller (bench/modbus-poller.ts) as `dutyroom start` runs the gateway: the launcher's
 * memory flags and environment. `onWindow` is called as it opens and closes its window.
 */
function runPoller(args: PollerArgs, onWindow: (edge: 'open' | 'close') => void): Promise<PollerResult> {
  const child = spawn(
    process.execPath,
    [
      ...GATEWAY_NODE_FLAGS,
      // --trace-gc and the like; a later V8 flag stands instead of an earlier one.
      ...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      projectPath('dist', 'bench', 'modbus-poller.js'),
      JSON.stringify(args),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...GATEWAY_ENV } },
  );
  let result: PollerResult | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { window: 'open' | 'close' } | PollerResult;
    if ('window' in m) onWindow(m.window);
    else result = m;
  });
  return new Promise<PollerResult>((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 && result ? resolve(result) : reject(new Error(`the Modbus poller exited (${code})`)),
    ),
  );
}

async function step(devices: number, seconds: number, settleS: number, phase: PollStep['phase']): Promise<PollStep> {
  const reference = cpuReference();
  const servers = Math.ceil(devices / UNITS_PER_ENDPOINT);
  const child = spawn(
    process.execPath,
    [projectPath('dist', 'bench', 'modbus-servers.js'), String(servers), String(UNITS_PER_ENDPOINT)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { ports: number[] }).ports);
    });
    child.once('exit', (code) => reject(new Error(`modbus servers exited (${code})`)));
  });
  const simulator: { open?: number | null; close?: number | null } = {};
  const poller = await runPoller(
    {
      devices,
      ports,
      unitsPerEndpoint: UNITS_PER_ENDPOINT,
      inFlight: IN_FLIGHT,
      timeoutMs: TIMEOUT_MS,
      seconds,
      settleS,
    },
    (edge) => (simulator[edge] = childTicks(child.pid)),
  );
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  const { good } = poller;
  const expected = devices * seconds;
  const plan = planReads(loadRegisterProfiles().get('eastron-sdm630')!);
  const registers = plan.reduce((n, r) => n + r.count, 0);
  const simulatorUs =
    simulator.open == null || simulator.close == null ? null : ((simulator.close - simulator.open) * 1e6) / CLOCK_TICKS;
  return {
    devices,
    expectedPolls: expected,
    goodPolls: good,
    skipped: poller.skipped,
    failedRequests: poller.failed,
    missedPct: Math.round((Math.max(0, expected - good) / expected) * 1000) / 10,
    registersPerS: Math.round((good / seconds) * registers),
    gatewayCpuPct: Math.round(poller.cpuUs / 10 / poller.windowMs),
    simulatorCpuPct: simulatorUs === null ? null : Math.round(simulatorUs / 10 / poller.windowMs),
    maxPollMs: poller.maxPollMs,
    gatewayCpuUsPerPoll: Math.round(poller.cpuUs / Math.max(1, good)),
    simulatorCpuUsPerPoll: simulatorUs === null ? null : Math.round(simulatorUs / Math.max(1, good)),
    cpuReference: reference,
    phase,
  };
}

const RAMP = [250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 16000];
const QUICK_RAMP = [100, 400];
/** The bisection stops when the bracket is this narrow (devices), or this fraction of the level. */
const RESOLUTION = 250;
const RESOLUTION_FRACTION = 0.05;
/** Runs of the level found (the first included). */
const REPEATS = 3;

const passes = (s: PollStep) => s.missedPct <= 1;

/** Min and max of a list of numbers. */
const range = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });

function spreadOf(steps: PollStep[], devices: number): PollSpread {
  const runs = steps.filter((s) => s.devices === devices);
  return {
    devices,
    runs: runs.length,
    missedPct: range(runs.map((r) => r.missedPct)),
    gatewayCpuUsPerPoll: range(runs.map((r) => r.gatewayCpuUsPerPoll)),
    cpuReference: range(runs.map((r) => r.cpuReference)),
  };
}

/**
 * The search: the coarse ramp up to the first level missing more than 1 %, a bisection of the
 * bracket, then the best level and the first failing one run again. Sustained is the highest
 * level whose every run held.
 */
export async function benchModbus(quick: boolean): Promise<ModbusBench> {
  const steps: PollStep[] = [];
  const seconds = quick ? 3 : 15;
  const run = async (n: number, phase: PollStep['phase']) => {
    const s = await step(n, seconds, quick ? 1 : 3, phase);
    steps.push(s);
    if (process.env.BENCH_VERBOSE) console.error(JSON.stringify(s));
    return s;
  };
  let held = 0;
  let failed: number | undefined;
  for (const n of quick ? QUICK_RAMP : RAMP) {
    if (!passes(await run(n, 'ramp'))) {
      failed = n;
      break;
    }
    held = n;
  }
  let top = failed;
  while (!quick && top !== undefined && top - held > Math.max(RESOLUTION, held * RESOLUTION_FRACTION)) {
    const mid = Math.round((held + top) / 2 / 50) * 50;
    if (passes(await run(mid, 'bisect'))) held = mid;
    else top = failed = mid;
  }
  const levels = [held, failed].filter((n): n is number => n !== undefined && n > 0);
  if (!quick) for (let i = 1; i < REPEATS; i++) for (const n of levels) await run(n, 'repeat');
  // The highest level, up to the one the search settled on, whose every run held.
  const heldEveryTime = (n: number) => steps.filter((s) => s.devices === n).every(passes);
  const sustained = Math.max(0, ...steps.map((s) => s.devices).filter((n) => n <= held && heldEveryTime(n)));
  const plan = planReads(loadRegisterProfiles().get('eastron-sdm630')!);
  const perPoll = steps
    .filter(passes)
    .map((s) => s.gatewayCpuUsPerPoll)
    .sort((a, b) => a - b);
  return {
    steps,
    sustained,
    spread: levels.map((n) => spreadOf(steps, n)),
    gatewayCpuUsPerPoll: {
      median: perPoll[Math.floor((perPoll.length - 1) / 2)] ?? 0,
      ...(perPoll.length ? range(perPoll) : { min: 0, max: 0 }),
    },
    registersPerPoll: plan.reduce((n, r) => n + r.count, 0),
    requestsPerPoll: plan.length,
    unitsPerEndpoint: UNITS_PER_ENDPOINT,
    inFlightPerEndpoint: IN_FLIGHT,
    secondsPerStep: seconds,
  };
}

const devicesAt = process.argv.indexOf('--devices');
if (process.argv[1]?.endsWith('modbus.js') && devicesAt > 0) {
  // One step on its own (profiling, trying a change): BENCH_PROFILE=dir writes its window's CPU profile.
  console.log(JSON.stringify(await step(Number(process.argv[devicesAt + 1]), 15, 3, 'ramp'), null, 1));
} else if (process.argv[1]?.endsWith('modbus.js')) {
  console.log(
    JSON.stringify(await benchModbus(process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'), null, 1),
  );
}
