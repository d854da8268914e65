// End-to-end ingest: simulated meters publishing over MQTT (their own process) → broker →
// gateway (validation, rules, spool fsync) → InfluxDB. Readings/s accepted (fsynced in the
// spool) and stored (confirmed by InfluxDB), and the count InfluxDB holds afterwards.
//   node dist/bench/ingest.js [--quick] [--external]     (INFLUX_URL to use a running InfluxDB;
//   BENCH_DEVICES, BENCH_PER_DEVICE, BENCH_SECONDS, BENCH_BATCH (storage.batch_size), BENCH_PROFILE=dir for a CPU profile)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashPassword } from '../broker/password.js';
import { parseConfig } from '../gateway/config/load.js';
import { startGateway } from '../gateway/gateway.js';
import { BENCH_PASSWORD, publish, sampler } from './publisher-run.js';
import { countInInflux } from './influx-count.js';
import { profileWindow } from './profile.js';

export interface IngestResult {
  broker: 'embedded' | 'external';
  devices: number;
  readings: number;
  /** Readings/s fsynced in the spool, from the first publish to the last acceptance. */
  accepted: number;
  /** Readings/s confirmed by InfluxDB, from the first publish to the last confirmation. */
  stored: number;
  /** Points InfluxDB holds for the run afterwards (a count query): must equal `readings`. */
  inInflux: number;
  /** Rejected readings (any reason): must be 0. */
  rejected: number;
  /** How long the load generator took to send everything, and its own CPU time. */
  publisher: { sentMs: number; cpuMs: number };
  gatewayCpuUsPerReading: number;
  /** Batches written to InfluxDB and the mean time of one (driver.write: line protocol and the request). */
  storeWrites: { batches: number; meanMs: number };
}

export interface IngestOptions {
  devices: number;
  /** Readings per device at most… */
  perDevice: number;
  /** …or until this many seconds of sending have passed. */
  seconds?: number;
  /** An external broker (mosquitto) instead of the embedded one. */
  externalUrl?: string;
}

// eslint-disable-next-line max-lines-per-function -- a bench scenario script: set up the site, run the load, measure, tear down, read top to bottom
export async function benchIngest(influxUrl: string, opts: IngestOptions): Promise<IngestResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-bench-'));
  const hash = await hashPassword(BENCH_PASSWORD);
  const database = `bench_${opts.externalUrl ? 'ext' : 'emb'}_${Date.now()}`;
  const devices = Array.from(
    { length: opts.devices },
    (_, i) =>
      `  - { id: m${i}, kind: water_meter, protocol: mqtt, place: { building: b1 }, connection: { password_hash: "${hash}" } }`,
  ).join('\n');
  const config = parseConfig(
    `site: { id: bench, name: Bench }
data_dir: ${dir}
http: { host: 127.0.0.1, port: 0 }
broker: { host: 127.0.0.1, mqtt_port: 0${opts.externalUrl ? `, embedded: false, url: "${opts.externalUrl}"` : ''} }
storage: { url: ${influxUrl}, database: ${database}, batch_size: ${process.env.BENCH_BATCH ?? 5000}, flush_interval_ms: 200 }
buildings: [{ id: b1, name: B1, floors: { lowest: 1, highest: 2 } }]
devices:
${devices}
`,
    'bench.yaml',
    { env: {} },
  );
  const gw = await startGateway({ config, baseDir: dir, logger: pino({ level: 'warn' }) });
  try {
    await gw.adapter.waitReady();
    const value = async (m: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await m.get()).values.reduce((s, v) => s + v.value, 0);
    const counts = async () => ({
      accepted: await value(gw.metrics.readingsAccepted),
      rejected: await value(gw.metrics.readingsRejected),
      stored: await value(gw.metrics.pointsWritten),
    });
    const pub = publish(
      gw.brokerUrl,
      opts.devices,
      opts.perDevice,
      'bench',
      opts.seconds ? { seconds: opts.seconds } : {},
    );
    const start = await pub.started;
    const stopProfile = await profileWindow(`ingest-${opts.externalUrl ? 'external' : 'embedded'}`);
    const cpu = process.cpuUsage();
    const progress = sampler(counts);
    const published = await pub.done;
    const total = published.sent;
    // Refusals count as done, so that a broken run ends with its count instead of a timeout.
    const acceptedAt = await progress.firstAt((c) => c.accepted + c.rejected >= total, 600_000);
    const storedAt = await progress.firstAt((c) => c.stored >= total - c.rejected, 600_000);
    await progress.stop();
    const { user, system } = process.cpuUsage(cpu);
    await stopProfile();
    const rejected = (await counts()).rejected;
    const writes = (await gw.metrics.storeWriteSeconds.get()).values;
    const sum = writes.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const count = writes.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    return {
      publisher: { sentMs: published.sentMs, cpuMs: published.cpuMs },
      // The gateway's own CPU (all its threads) per reading, from first publish to last confirmation: steadier than rates on a shared machine.
      gatewayCpuUsPerReading: Math.round(((user + system) / total) * 10) / 10,
      storeWrites: { batches: count, meanMs: Math.round((1000 * sum) / Math.max(1, count)) },
      broker: opts.externalUrl ? 'external' : 'embedded',
      devices: opts.devices,
      readings: total,
      accepted: Math.round(total / ((acceptedAt - start) / 1000)),
      stored: Math.round(total / ((storedAt - start) / 1000)),
      inInflux: await countInInflux(influxUrl, database, 'water_meter', 'total_m3'),
      rejected,
    };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('ingest.js')) {
  const quick = process.argv.includes('--quick');
  const influx = await (await import('./bench-influx.js')).benchInflux();
  let mosquitto: { url: string; stop(): Promise<void> } | undefined;
  try {
    if (process.argv.includes('--external')) mosquitto = await (await import('./mosquitto.js')).startMosquitto();
    const devices = Number(process.env.BENCH_DEVICES ?? (quick ? 20 : 100));
    const perDevice = Number(process.env.BENCH_PER_DEVICE ?? (quick ? 500 : 25_000));
    const seconds = Number(process.env.BENCH_SECONDS ?? 0);
    console.log(
      JSON.stringify(
        await benchIngest(influx.url, {
          devices,
          perDevice,
          ...(seconds ? { seconds } : {}),
          ...(mosquitto ? { externalUrl: mosquitto.url } : {}),
        }),
      ),
    );
  } finally {
    await mosquitto?.stop();
    await influx.stop();
  }
}
