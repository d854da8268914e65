// npm run bench — ingest throughput against the raw limits of this machine, in one run.
//   node dist/bench/run.js [--quick]
// Writes bench/results/<date>.json and .md. Not part of npm test.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { parseConfig } from '../gateway/config/load.js';
import { startGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/paths.js';
import { startInfluxd } from '../gateway/store/influxd.js';
import { benchLatency } from './latency.js';
import { benchModbus } from './modbus.js';
import { benchRules } from './rules.js';

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
// Publishing clients: aedes spreads its work per client, so the same load from 100 clients
// is slower than from 20 (both are realistic: many meters, or a few bridges).
const DEVICES = Number(process.env.BENCH_DEVICES ?? (quick ? 20 : 100));
const PER_DEVICE = quick ? 500 : 3000;
const PASSWORD = 'bench-password';
const publisherJs = projectPath('dist', 'bench', 'publisher.js');

async function publish(url: string, devices: number, perDevice: number, site: string): Promise<{ sent: number; sentMs: number }> {
  const { stdout } = await run(process.execPath, [publisherJs, url, String(devices), String(perDevice), PASSWORD, site, '0'], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now();
}

/** Raw limit 1: aedes with no auth, no processing: publisher process → broker → one subscriber. */
async function rawMqtt(): Promise<number> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  let got = 0;
  let first = 0;
  sub.on('message', () => {
    if (got++ === 0) first = performance.now();
  });
  await sub.subscribeAsync('dutyroom/#', { qos: 0 });
  const total = DEVICES * PER_DEVICE;
  const pub = publish(url, DEVICES, PER_DEVICE, 'raw');
  const end = await until(() => got >= total, 120_000);
  await pub;
  await sub.endAsync();
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  return total / ((end - first) / 1000);
}

/** Raw limit 2: InfluxDB write of pre-built line protocol in 5,000-line batches. */
async function rawInflux(url: string): Promise<number> {
  await fetch(`${url}/query?q=${encodeURIComponent('CREATE DATABASE raw')}`, { method: 'POST' });
  const batches = quick ? 20 : 100;
  const base = Date.now() * 1000 - 3_600_000_000;
  const bodies = Array.from({ length: batches }, (_, b) =>
    Array.from({ length: 5000 }, (_, i) => `water_meter,site=raw,building=b1,device=m${i % 100} total_m3=${i}.5,flow_m3h=0.5 ${base + b * 5000 + i}`).join('\n'),
  );
  const start = performance.now();
  for (const body of bodies) {
    const res = await fetch(`${url}/write?db=raw&precision=u`, { method: 'POST', body });
    if (res.status !== 204) throw new Error(`influx write ${res.status}: ${await res.text()}`);
  }
  return (batches * 5000) / ((performance.now() - start) / 1000);
}

/** End to end: devices → embedded broker → gateway (validation, spool fsync) → InfluxDB. */
async function endToEnd(influxUrl: string): Promise<{ accepted: number; stored: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-bench-'));
  const { hashPassword } = await import('../broker/password.js');
  const hash = await hashPassword(PASSWORD);
  const devices = Array.from({ length: DEVICES }, (_, i) => `  - { id: m${i}, kind: water_meter, protocol: mqtt, place: { building: b1 }, connection: { password_hash: "${hash}" } }`).join('\n');
  const config = parseConfig(
    `site: { id: bench, name: Bench }
data_dir: ${dir}
http: { host: 127.0.0.1, port: 0 }
broker: { host: 127.0.0.1, mqtt_port: 0 }
storage: { url: ${influxUrl}, database: bench, batch_size: 5000, flush_interval_ms: 200 }
buildings: [{ id: b1, name: B1, floors: { lowest: 1, highest: 2 } }]
devices:
${devices}
`,
    'bench.yaml',
    { env: {} },
  );
  const gw = await startGateway({ config, baseDir: dir, logger: pino({ level: 'warn' }) });
  await gw.adapter.waitReady();
  const total = DEVICES * PER_DEVICE;
  const accepted = async () => (await gw.metrics.readingsAccepted.get()).values[0]?.value ?? 0;
  const written = async () => (await gw.metrics.pointsWritten.get()).values[0]?.value ?? 0;
  const start = performance.now();
  const pub = publish(gw.brokerUrl, DEVICES, PER_DEVICE, 'bench');
  const acceptedAt = await until(async () => (await accepted()) >= total, 300_000);
  const storedAt = await until(async () => (await written()) >= total, 300_000);
  await pub;
  await gw.stop();
  return { accepted: total / ((acceptedAt - start) / 1000), stored: total / ((storedAt - start) / 1000) };
}

const influx = process.env.INFLUX_URL ? { url: process.env.INFLUX_URL, stop: async () => {} } : await startInfluxd({ dataDir: mkdtempSync(join(tmpdir(), 'bench-influx-')) });
try {
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    quick,
    readings: DEVICES * PER_DEVICE,
    raw: { mqttMsgPerS: Math.round(await rawMqtt()), influxPointsPerS: Math.round(await rawInflux(influx.url)) },
    endToEnd: await endToEnd(influx.url),
    rules: benchRules(quick),
    alarmLatency: await benchLatency(influx.url, quick),
    modbus: await benchModbus(quick),
  };
  const e2e = { accepted: Math.round(result.endToEnd.accepted), stored: Math.round(result.endToEnd.stored) };
  const limit = Math.min(result.raw.mqttMsgPerS, result.raw.influxPointsPerS);
  const md = `# Bench ${result.date}${quick ? ' (quick)' : ''}

Machine: ${result.machine.cpus} × ${result.machine.model}, ${result.machine.memGiB} GiB, Node ${result.machine.node}

| measure | readings/s |
|---|---|
| raw MQTT (aedes, no auth, pub→sub, QoS 0) | ${result.raw.mqttMsgPerS} |
| raw InfluxDB write (5,000-line batches) | ${result.raw.influxPointsPerS} |
| end to end, accepted (fsynced in the spool) | ${e2e.accepted} (${Math.round((100 * e2e.accepted) / limit)} % of min raw) |
| end to end, stored (confirmed by InfluxDB) | ${e2e.stored} (${Math.round((100 * e2e.stored) / limit)} % of min raw) |

${DEVICES} devices × ${PER_DEVICE} readings, publishers in a separate process, embedded broker with auth and ACL.

| rule core (observe + evaluate, demo site's rules, one core) | ${result.rules.readingsPerS} readings/s |
|---|---|
| alarm latency, leak payload → SSE event, under ${result.alarmLatency.backgroundPerS} readings/s background | p50 ${result.alarmLatency.p50Ms} ms, p99 ${result.alarmLatency.p99Ms} ms, max ${result.alarmLatency.maxMs} ms (${result.alarmLatency.samples} samples) |
| Modbus poll capacity (SDM630s at 1 Hz, ≤ 1 % of polls missed) | ${result.modbus.sustained} devices × ${result.modbus.registersPerPoll} registers = ${result.modbus.steps.find((s) => s.devices === result.modbus.sustained)?.registersPerS ?? 0} registers/s |

Modbus: ${result.modbus.requestsPerPoll} requests per poll, ${result.modbus.unitsPerEndpoint} unit ids per simulated converter (its own process), ${result.modbus.inFlightPerEndpoint} request(s) in flight per converter, ${result.modbus.secondsPerStep} s per step; missed = not a good reading (skipped, failed, backed off).

| devices | missed | skipped | failed requests | slowest poll | gateway CPU | simulator CPU |
|---|---|---|---|---|---|---|
${result.modbus.steps.map((s) => `| ${s.devices} | ${s.missedPct} % | ${s.skipped} | ${s.failedRequests} | ${s.maxPollMs} ms | ${s.gatewayCpuPct} % | ${s.simulatorCpuPct ?? '?'} % |`).join('\n')}
`;
  const dir = projectPath('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = result.date.slice(0, 19).replace(/[:T]/g, '-');
  writeFileSync(join(dir, `${stamp}${quick ? '-quick' : ''}.json`), JSON.stringify({ ...result, endToEnd: e2e }, null, 2));
  writeFileSync(join(dir, `${stamp}${quick ? '-quick' : ''}.md`), md);
  console.log(md);
} finally {
  await influx.stop();
}
