// Memory: a gateway with 10,000 configured meters takes 5,000 readings/s (an NB-IoT platform
// bridge publishing for all of them over 20 connections) for `loadS` seconds, then keeps
// going for a soak of `soakS` seconds. The gateway runs as users run it, `dutyroom start`
// with the launcher's memory limits (bench/gateway-process.ts), in a process of its own; its
// RSS is read every 100 ms (the highest sample is what a small box must have room for), its
// counts and V8 heap come from its /metrics.
//   node dist/bench/memory.js [--quick]      (INFLUX_URL to use a running InfluxDB)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../broker/password.js';
import { countInInflux } from './influx-count.js';
import { startGatewayProcess, type GatewayProcess, type RssSample } from './gateway-process.js';
import { BENCH_PASSWORD, publish, until } from './publisher-run.js';
import { writeSiteFile } from './site-file.js';

export interface MemoryResult {
  devices: number;
  ratePerS: number;
  loadS: number;
  soakS: number;
  /** The gateway's V8 heap limit (app/launch.ts), as it said at start. */
  heapLimitMb: number;
  /** RSS of the started gateway before any reading. */
  idleRssMb: number;
  /** V8 heap in use as the gateway's /metrics says (dutyroom_nodejs_heap_size_used_bytes; not after a full GC): before any reading, and once the soak is over. */
  idleHeapMb: number;
  afterHeapMb: number;
  /** RSS at the end of the load, and the highest sample (every 100 ms) during it. */
  rssMb: number;
  rssMaxMb: number;
  /** RSS at the start and at the end of the soak (means of the first and last 10 % of its samples), its growth and highest sample. */
  soakStartMb: number;
  soakEndMb: number;
  soakGrowthMb: number;
  soakMaxMb: number;
  /** Readings sent, accepted and in InfluxDB afterwards: all three must be equal. */
  sent: number;
  accepted: number;
  inInflux: number;
}

interface MemoryArgs {
  influxUrl: string;
  devices: number;
  rate: number;
  loadS: number;
  soakS: number;
}

const BRIDGE = 'nbiot';
const BUILDINGS = 10;
const FLOORS = 30;

const mb = (x: number) => Math.round(x);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const highest = (xs: RssSample[]) => Math.max(0, ...xs.map((s) => s.rssMb));

/** The V8 heap in use, in MiB, from the gateway's /metrics (prom-client's default metrics). */
async function heapUsedMb(gw: GatewayProcess): Promise<number> {
  const text = await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
  const m = /^dutyroom_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  if (!m) throw new Error('the gateway’s /metrics has no dutyroom_nodejs_heap_size_used_bytes');
  return Number(m[1]) / 2 ** 20;
}

function siteFile(dir: string, args: MemoryArgs, database: string, hash: string): string {
  return writeSiteFile('memory', {
    dir,
    influxUrl: args.influxUrl,
    database,
    accounts: [`{ username: ${BRIDGE}, password_hash: "${hash}", publish: ["dutyroom/bench/#"] }`],
    buildings: Array.from(
      { length: BUILDINGS },
      (_, b) => `{ id: b${b}, name: B${b}, floors: { lowest: 1, highest: ${FLOORS} } }`,
    ),
    devices: Array.from(
      { length: args.devices },
      (_, i) =>
        `{ id: m${i}, kind: water_meter, protocol: mqtt, publish_interval_s: 60, place: { building: b${i % BUILDINGS}, floor: "${1 + (i % FLOORS)}" }, connection: {} }`,
    ),
  });
}

/** The RSS figures of a run from its samples; `t0` is the sample time (ms) at which publishing began. */
function rssFigures(samples: RssSample[], t0: number, args: MemoryArgs) {
  const loadEnd = t0 + args.loadS * 1000;
  const load = samples.filter((s) => s.t > t0 && s.t <= loadEnd);
  const soak = samples.filter((s) => s.t > loadEnd && s.t <= loadEnd + args.soakS * 1000);
  const tenth = Math.max(1, Math.floor(soak.length / 10));
  const soakStart = mean(soak.slice(0, tenth).map((s) => s.rssMb));
  const soakEnd = mean(soak.slice(-tenth).map((s) => s.rssMb));
  return {
    rssMb: mb(load.at(-1)?.rssMb ?? 0),
    rssMaxMb: mb(highest(load)),
    soakStartMb: mb(soakStart),
    soakEndMb: mb(soakEnd),
    soakGrowthMb: mb(soakEnd - soakStart),
    soakMaxMb: mb(highest(soak)),
  };
}

/** Rejects if process `pid` ends before `stop()` (a gateway out of memory must end the run, not leave it waiting). */
function watchExit(pid: number) {
  let watching = true;
  // Settles only by rejecting: once stopped, it resolves to nothing anyone awaits.
  const died = (async () => {
    while (watching && existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 100));
    if (watching) throw new Error('the gateway died during the run (its last words are above)');
  })() as Promise<never>;
  died.catch(() => undefined);
  return { died, stop: () => void (watching = false) };
}

async function run(args: MemoryArgs): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-memory-'));
  const database = `memory_${Date.now()}`;
  const gw = await startGatewayProcess(siteFile(dir, args, database, await hashPassword(BENCH_PASSWORD)));
  try {
    const idleRssMb = gw.rss().samples.at(-1)?.rssMb ?? 0;
    const idleHeapMb = await heapUsedMb(gw);
    const pub = publish(gw.brokerUrl, args.devices, 1_000_000, 'bench', {
      rate: args.rate,
      seconds: args.loadS + args.soakS,
      username: BRIDGE,
      connections: 20,
    });
    await pub.started;
    // Sending begins here: the sample just taken (≤ 100 ms ago) marks the start of the load.
    const t0 = gw.rss().samples.at(-1)?.t ?? 0;
    const watch = watchExit(gw.pid);
    const { sent } = await Promise.race([pub.done, watch.died]).catch((err: unknown) => {
      process.kill(pub.pid);
      throw err;
    });
    watch.stop();
    await until(async () => {
      const c = await gw.counts();
      return c.accepted >= sent && c.stored >= sent;
    }, 120_000).catch(() => undefined);
    const { accepted } = await gw.counts();
    return {
      devices: args.devices,
      ratePerS: args.rate,
      loadS: args.loadS,
      soakS: args.soakS,
      heapLimitMb: gw.heapLimitMb,
      idleRssMb: mb(idleRssMb),
      idleHeapMb: mb(idleHeapMb),
      afterHeapMb: mb(await heapUsedMb(gw)),
      ...rssFigures(gw.rss().samples, t0, args),
      sent,
      accepted,
      inInflux: await countInInflux(args.influxUrl, database, 'water_meter', 'total_m3'),
    };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 10,000 meters at 5,000 readings/s: 60 s of load and a 10-minute soak (5 s each in --quick). */
export async function benchMemory(influxUrl: string, quick: boolean): Promise<MemoryResult> {
  return run({ influxUrl, devices: 10_000, rate: 5000, loadS: quick ? 5 : 60, soakS: quick ? 5 : 600 });
}

if (process.argv[1]?.endsWith('memory.js')) {
  const influx = await (await import('./bench-influx.js')).benchInflux();
  try {
    console.log(JSON.stringify(await benchMemory(influx.url, process.argv.includes('--quick'))));
  } finally {
    await influx.stop();
  }
}
