// End to end as devices send: a burst of readings as fast as the broker takes them (a fleet
// or a bridge replaying what it buffered during an outage), at QoS 1 or QoS 0, into the
// gateway as users run it (bench/gateway-process.ts): 100 meters each with its own login and
// connection, or one bridge login carrying 5,000 devices on one connection. The gateway's RSS
// is sampled every 100 ms throughout; the highest sample is the figure. Every reading sent
// must be in InfluxDB.
//   node dist/bench/burst.js [--quick] [--qos 0|1] [--bridge]    (INFLUX_URL to use a running InfluxDB)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../broker/password.js';
import { countInInflux } from './influx-count.js';
import { startGatewayProcess } from './gateway-process.js';
import { BENCH_PASSWORD, publish, sampler } from './publisher-run.js';
import { writeSiteFile } from './site-file.js';

export interface BurstResult {
  qos: 0 | 1;
  /** One bridge login on one connection for all the devices, or a login and connection each. */
  bridge: boolean;
  devices: number;
  /** The gateway's V8 heap limit (app/launch.ts), as it said at start. */
  heapLimitMb: number;
  readings: number;
  /** RSS of the started gateway before the burst, and the highest sample (every 100 ms) during it. */
  idleRssMb: number;
  peakRssMb: number;
  accepted: number;
  stored: number;
  inInflux: number;
  rejected: number;
  /** Readings/s fsynced, and confirmed by InfluxDB, from the first publish. */
  acceptedPerS: number;
  storedPerS: number;
  gatewayCpuUsPerReading: number;
}

export interface BurstOptions {
  qos: 0 | 1;
  devices: number;
  perDevice: number;
  bridge?: boolean;
}

const BRIDGE = 'nbiot';

function siteFile(dir: string, influxUrl: string, database: string, hash: string, opts: BurstOptions): string {
  const login = opts.bridge ? '{}' : `{ password_hash: "${hash}" }`;
  return writeSiteFile('burst', {
    dir,
    influxUrl,
    database,
    accounts: [`{ username: ${BRIDGE}, password_hash: "${hash}", publish: ["dutyroom/bench/#"] }`],
    devices: Array.from(
      { length: opts.devices },
      (_, i) => `{ id: m${i}, kind: water_meter, protocol: mqtt, place: { building: b1 }, connection: ${login} }`,
    ),
  });
}

/** 1,000,000 readings: 100 meters × 10,000, or 5,000 bridged devices × 200 (50,000 in --quick). */
export function burstSize(quick: boolean, bridge: boolean): { devices: number; perDevice: number } {
  const devices = Number(process.env.BENCH_DEVICES ?? (bridge ? (quick ? 1000 : 5000) : quick ? 20 : 100));
  return { devices, perDevice: Math.round((quick ? 50_000 : 1_000_000) / devices) };
}

export async function benchBurst(influxUrl: string, opts: BurstOptions): Promise<BurstResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-burst-'));
  const database = `burst_q${opts.qos}${opts.bridge ? '_bridge' : ''}_${Date.now()}`;
  const file = siteFile(dir, influxUrl, database, await hashPassword(BENCH_PASSWORD), opts);
  const gw = await startGatewayProcess(file);
  try {
    const idleRssMb = gw.rss().samples.at(-1)?.rssMb ?? 0;
    gw.resetPeak();
    const cpu0 = gw.cpuUs();
    const pub = publish(gw.brokerUrl, opts.devices, opts.perDevice, 'bench', {
      qos: opts.qos,
      ...(opts.bridge ? { username: BRIDGE, connections: 1 } : {}),
    });
    const start = await pub.started;
    // Every 100 ms: /metrics costs the gateway a little each time.
    const progress = sampler(() => gw.counts(), 100);
    const { sent } = await pub.done;
    const acceptedAt = await progress.firstAt((c) => c.accepted + c.rejected >= sent, 600_000);
    const storedAt = await progress.firstAt((c) => c.stored >= sent - c.rejected, 600_000);
    await progress.stop();
    const cpuUs = gw.cpuUs() - cpu0;
    const counts = await gw.counts();
    return {
      qos: opts.qos,
      bridge: opts.bridge ?? false,
      devices: opts.devices,
      heapLimitMb: gw.heapLimitMb,
      readings: sent,
      idleRssMb,
      peakRssMb: gw.rss().peakMb,
      ...counts,
      inInflux: await countInInflux(influxUrl, database, 'water_meter', 'total_m3'),
      acceptedPerS: Math.round(sent / ((acceptedAt - start) / 1000)),
      storedPerS: Math.round(sent / ((storedAt - start) / 1000)),
      gatewayCpuUsPerReading: Math.round((cpuUs / sent) * 10) / 10,
    };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('burst.js')) {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--qos');
  const qos = (at >= 0 ? Number(process.argv[at + 1]) : 1) as 0 | 1;
  const influx = await (await import('./bench-influx.js')).benchInflux();
  try {
    const bridge = process.argv.includes('--bridge');
    console.log(JSON.stringify(await benchBurst(influx.url, { qos, bridge, ...burstSize(quick, bridge) })));
  } finally {
    await influx.stop();
  }
}
