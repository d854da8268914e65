// The gateway as users run it: `dutyroom start --config FILE` (the launcher in
// dist/app/cli.js, with the V8 limits it sets) in a process of its own, so that its memory
// is its own. Its RSS is read from /proc every 100 ms for as long as it runs (the highest
// value is what a small box must have room for, not the value at the end); its counts come
// from its /metrics, as a monitoring system would read them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { projectPath } from '../gateway/files/paths.js';

export interface GatewayCounts {
  accepted: number;
  rejected: number;
  stored: number;
}

export interface RssSample {
  /** ms since the process started. */
  t: number;
  rssMb: number;
}

export interface GatewayProcess {
  brokerUrl: string;
  httpUrl: string;
  /** V8's heap limit the gateway said it runs with (app/launch.ts), in MiB. */
  heapLimitMb: number;
  pid: number;
  counts(): Promise<GatewayCounts>;
  /** The process's own CPU time (all threads) so far, in µs, from /proc. */
  cpuUs(): number;
  /** RSS samples so far (every 100 ms) and the highest. */
  rss(): { samples: RssSample[]; peakMb: number };
  /** From now on, the peak starts afresh (the samples are kept). */
  resetPeak(): void;
  stop(): Promise<void>;
}

const SAMPLE_MS = 100;
const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

function readRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

function readCpuUs(pid: number): number {
  // utime and stime (fields 14 and 15) in clock ticks; the command name may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function announced(child: ChildProcess): Promise<{ httpUrl: string; brokerUrl: string; heapLimitMb: number }> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + String(d)).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /API (\S+)\s+MQTT (\S+)\s+\(heap limit (\d+) MiB\)/.exec(out);
      if (m) resolve({ httpUrl: m[1]!, brokerUrl: m[2]!, heapLimitMb: Number(m[3]) });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before starting: ${err.trim()}`)));
  });
}

/** RSS of process `pid` every SAMPLE_MS, and the highest since the last reset. */
function rssSampler(pid: number) {
  const born = performance.now();
  const state = { samples: [] as RssSample[], peakKb: 0, stop: () => {} };
  const sample = () => {
    try {
      const kb = readRssKb(pid);
      state.peakKb = Math.max(state.peakKb, kb);
      state.samples.push({ t: Math.round(performance.now() - born), rssMb: mb(kb) });
    } catch {
      // The process has just gone.
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  state.stop = () => {
    sample();
    clearInterval(timer);
  };
  return state;
}

/** Starts `dutyroom start --config file` and waits until it says where it listens. */
export async function startGatewayProcess(file: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  // As users run it: `dutyroom start`, which re-executes itself with the gateway's memory
  // limits (app/launch.ts). BENCH_GATEWAY_NODE_ARGS runs it under `node ARGS` (--trace-gc…;
  // a heap size given there stands instead of the launcher's).
  const cli = projectPath('dist', 'app', 'cli.js');
  const nodeArgs = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, cli, 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn', ...env },
  });
  // Where the gateway's own output goes when a bench needs it (e.g. with --trace-gc in BENCH_GATEWAY_NODE_ARGS).
  if (process.env.BENCH_GATEWAY_STDOUT) child.stdout!.pipe(createWriteStream(process.env.BENCH_GATEWAY_STDOUT));
  if (process.env.BENCH_GATEWAY_STDERR) child.stderr!.pipe(createWriteStream(process.env.BENCH_GATEWAY_STDERR));
  const rss = rssSampler(child.pid!);
  let stopping = false;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let errTail = '';
  child.stderr!.on('data', (d: Buffer) => (errTail = (errTail + String(d)).slice(-8000)));
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`[bench] the gateway died (${code ?? signal}):\n${errTail}`);
  });
  try {
    const { httpUrl, brokerUrl, heapLimitMb } = await announced(child);
    return {
      httpUrl,
      brokerUrl,
      heapLimitMb,
      pid: child.pid!,
      async counts() {
        const text = await fetch(`${httpUrl}/metrics`)
          .then((r) => r.text())
          .catch(async (err: Error) => {
            // Most often the gateway has died: say why (its last words), not only that the socket closed.
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            throw new Error(`reading the gateway's /metrics: ${err.message}\n${errTail}`);
          });
        return {
          accepted: sumMetric(text, 'dutyroom_readings_accepted_total'),
          rejected: sumMetric(text, 'dutyroom_readings_rejected_total'),
          stored: sumMetric(text, 'dutyroom_points_written_total'),
        };
      },
      cpuUs: () => readCpuUs(child.pid!),
      rss: () => ({ samples: rss.samples, peakMb: mb(rss.peakKb) }),
      resetPeak: () => void (rss.peakKb = 0),
      async stop() {
        rss.stop();
        stopping = true;
        child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (err) {
    rss.stop();
    child.kill('SIGKILL');
    throw err;
  }
}
