// Memory: a gateway with 10,000 configured meters takes 5,000 readings/s (an NB-IoT platform
// bridge publishing for all of them over 20 connections) for `loadS` seconds, then keeps
// going for a soak of `soakS` seconds. RSS of the gateway's process, sampled every second.
// The gateway runs in a child process of its own, so that its RSS is its own and not the
// bench's.
//   node dist/bench/memory.js [--quick]      (INFLUX_URL to use a running InfluxDB)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashPassword } from '../broker/password.js';
import { startGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/files/paths.js';
import { loadSiteInThread } from '../gateway/config/site-thread.js';
import { countInInflux } from './influx-count.js';
import { BENCH_PASSWORD, publish, until } from './publisher-run.js';

export interface MemoryResult {
  devices: number;
  ratePerS: number;
  loadS: number;
  soakS: number;
  /** RSS and live JS heap (after a full GC) of the started gateway before any reading. */
  idleRssMb: number;
  idleHeapMb: number;
  /** Live JS heap (after a full GC) once the soak is over: should be close to idleHeapMb. */
  afterHeapMb: number;
  /** RSS at the end of the load, and the highest seen during it. */
  rssMb: number;
  rssMaxMb: number;
  /** RSS at the start and at the end of the soak (means of the first and last 10 % of its samples), and its growth. */
  soakStartMb: number;
  soakEndMb: number;
  soakGrowthMb: number;
  soakMaxMb: number;
  /** Readings sent, accepted and in InfluxDB afterwards: all three must be equal. */
  sent: number;
  accepted: number;
  inInflux: number;
}

interface ChildArgs {
  influxUrl: string;
  devices: number;
  rate: number;
  loadS: number;
  soakS: number;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

// eslint-disable-next-line max-lines-per-function -- a bench scenario script run in its own process: start, load, sample memory, stop, read top to bottom
async function child(args: ChildArgs): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-memory-'));
  const database = `memory_${Date.now()}`;
  const hash = await hashPassword(BENCH_PASSWORD);
  const devices = Array.from(
    { length: args.devices },
    (_, i) =>
      `  - { id: m${i}, kind: water_meter, protocol: mqtt, publish_interval_s: 60, place: { building: b${i % 10}, floor: "${1 + (i % 30)}" }, connection: {} }`,
  ).join('\n');
  const buildings = Array.from(
    { length: 10 },
    (_, b) => `  - { id: b${b}, name: B${b}, floors: { lowest: 1, highest: 30 } }`,
  ).join('\n');
  // Written to a file and loaded as `dutyroom start` loads it (in a thread of its own: the
  // YAML parser's garbage would otherwise stay in this process's RSS).
  const file = join(dir, 'memory.yaml');
  writeFileSync(
    file,
    `site: { id: bench, name: Bench }
data_dir: ${dir}
http: { host: 127.0.0.1, port: 0 }
broker:
  host: 127.0.0.1
  mqtt_port: 0
  accounts: [{ username: nbiot, password_hash: "${hash}", publish: ["dutyroom/bench/#"] }]
storage: { url: ${args.influxUrl}, database: ${database}, batch_size: 5000, flush_interval_ms: 200 }
buildings:
${buildings}
devices:
${devices}
`,
  );
  const { config } = await loadSiteInThread(file, {});
  const gw = await startGateway({ config, baseDir: dir, logger: pino({ level: 'warn' }) });
  try {
    await gw.adapter.waitReady();
    // Live heap = heap after a full collection (the child runs with --expose-gc): unlike RSS,
    // which follows when V8 chooses to collect, it shows whether anything is kept that should not be.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const idle = process.memoryUsage();
    const pub = publish(gw.brokerUrl, args.devices, 1_000_000, 'bench', {
      rate: args.rate,
      seconds: args.loadS + args.soakS,
      username: 'nbiot',
      connections: 20,
    });
    const start = await pub.started;
    const samples: { t: number; rss: number }[] = [];
    const timer = setInterval(
      () => samples.push({ t: (performance.now() - start) / 1000, rss: process.memoryUsage().rss }),
      1000,
    );
    const { sent } = await pub.done;
    const accepted = async () => (await gw.metrics.readingsAccepted.get()).values[0]?.value ?? 0;
    const stored = async () => (await gw.metrics.pointsWritten.get()).values[0]?.value ?? 0;
    await until(async () => (await accepted()) >= sent && (await stored()) >= sent, 120_000).catch(() => undefined);
    clearInterval(timer);
    gc?.();
    const after = process.memoryUsage();
    const load = samples.filter((s) => s.t <= args.loadS);
    const soak = samples.filter((s) => s.t > args.loadS && s.t <= args.loadS + args.soakS);
    const tenth = Math.max(1, Math.floor(soak.length / 10));
    const soakStart = mean(soak.slice(0, tenth).map((s) => s.rss));
    const soakEnd = mean(soak.slice(-tenth).map((s) => s.rss));
    return {
      devices: args.devices,
      ratePerS: args.rate,
      loadS: args.loadS,
      soakS: args.soakS,
      idleRssMb: mb(idle.rss),
      idleHeapMb: mb(idle.heapUsed),
      afterHeapMb: mb(after.heapUsed),
      rssMb: mb(load.at(-1)?.rss ?? 0),
      rssMaxMb: mb(Math.max(...load.map((s) => s.rss))),
      soakStartMb: mb(soakStart),
      soakEndMb: mb(soakEnd),
      soakGrowthMb: mb(soakEnd - soakStart),
      soakMaxMb: mb(Math.max(...soak.map((s) => s.rss))),
      sent,
      accepted: await accepted(),
      inInflux: await countInInflux(args.influxUrl, database, 'water_meter', 'total_m3'),
    };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the memory bench in a process of its own. */
export async function benchMemory(influxUrl: string, quick: boolean): Promise<MemoryResult> {
  const args: ChildArgs = { influxUrl, devices: 10_000, rate: 5000, loadS: quick ? 5 : 60, soakS: quick ? 5 : 600 };
  const proc = spawn(
    process.execPath,
    ['--expose-gc', projectPath('dist', 'bench', 'memory.js'), '--child', JSON.stringify(args)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += String(d)));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`memory bench exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as MemoryResult;
}

if (process.argv[1]?.endsWith('memory.js')) {
  const at = process.argv.indexOf('--child');
  if (at >= 0) {
    console.log(JSON.stringify(await child(JSON.parse(process.argv[at + 1]!) as ChildArgs)));
  } else {
    const { startInfluxd } = await import('../gateway/store/influxd.js');
    const influx = process.env.INFLUX_URL
      ? { url: process.env.INFLUX_URL, stop: async () => {} }
      : await startInfluxd({ dataDir: mkdtempSync(join(tmpdir(), 'bench-influx-')) });
    try {
      console.log(JSON.stringify(await benchMemory(influx.url, process.argv.includes('--quick'))));
    } finally {
      await influx.stop();
    }
  }
}
