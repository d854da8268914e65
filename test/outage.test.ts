import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/files/paths.js';
import { startInfluxd, type InfluxdProcess } from '../gateway/store/influxd.js';
import { freePort } from './support/mosquitto.js';
import { DEVICE_HASH, DEVICE_PASSWORD, testSite, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Nothing is lost when the database dies mid-stream, nor when the gateway itself dies with
// readings still in its spool. Each test owns its influxd so it can kill it.

const silent = pino({ level: 'silent' });

async function countRows(
  influx: InfluxdProcess,
  db: string,
  device: string,
): Promise<{ count: number; distinct: number }> {
  const q = encodeURIComponent(`SELECT total_m3 FROM water_meter WHERE device = '${device}'`);
  const res = await fetch(`${influx.url}/query?db=${db}&epoch=u&q=${q}`);
  const body = (await res.json()) as { results: { series?: { values: [number, number][] }[] }[] };
  const values = body.results[0]?.series?.[0]?.values ?? [];
  return { count: values.length, distinct: new Set(values.map((v) => v[0])).size };
}

async function publishSeries(client: MqttClient, device: string, from: number, n: number, base: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await client.publishAsync(
      `dutyroom/testsite/${device}/reading`,
      JSON.stringify({ ts: base + i * 10, total_m3: i }),
      { qos: 1 },
    );
  }
}

describe('database outage: kill influxd mid-stream, keep publishing, restart it', () => {
  let influx: InfluxdProcess;
  beforeAll(async () => {
    influx = await startInfluxd({ dataDir: mkdtempSync(join(tmpdir(), 'influx-outage-')) });
  });
  afterAll(async () => influx?.stop());

  it('stores every reading exactly once', async () => {
    const { config, baseDir } = testSite({ influxUrl: influx.url, database: 'outage' });
    const gw = await startGateway({ config, baseDir, logger: silent });
    await gw.adapter.waitReady();
    const client = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'wm-101',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 0,
    });
    const base = systemClock.now() - 3_600_000;
    try {
      await publishSeries(client, 'wm-101', 0, 300, base);
      await influx.kill();
      await publishSeries(client, 'wm-101', 300, 300, base);
      await waitFor(
        () => gw.store.healthSources.some((h) => h.health().status !== 'ok'),
        'the store to report the database down',
      );
      await influx.restart();
      await publishSeries(client, 'wm-101', 600, 300, base);
      const rows = await waitFor(
        async () => {
          const r = await countRows(influx, 'outage', 'wm-101');
          return r.count >= 900 ? r : null;
        },
        '900 rows after the restart',
        60_000,
      );
      expect(rows).toEqual({ count: 900, distinct: 900 });
      await waitFor(() => gw.store.healthSources.every((h) => h.health().status === 'ok'), 'store healthy again');
    } finally {
      await client.endAsync();
      await gw.stop();
    }
  });
});

describe('gateway killed with a non-empty spool, then restarted', () => {
  let influx: InfluxdProcess;
  let gatewayProc: ChildProcess | undefined;
  const cli = projectPath('dist', 'app', 'cli.js');

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does it)`);
    influx = await startInfluxd({ dataDir: mkdtempSync(join(tmpdir(), 'influx-crash-')) });
  });
  afterAll(async () => {
    gatewayProc?.kill('SIGKILL');
    await influx?.stop();
  });

  function startCli(file: string): ChildProcess {
    const child = spawn(process.execPath, [cli, 'start', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    child.stderr!.on('data', () => {});
    child.stdout!.on('data', () => {});
    return child;
  }

  async function metric(httpUrl: string, name: string): Promise<number> {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : NaN;
  }

  it('replays the spool on restart: every reading once, none lost', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const baseDir = mkdtempSync(join(tmpdir(), 'dutyroom-crash-'));
    const file = join(baseDir, 'site.yaml');
    writeFileSync(file, siteYaml(baseDir, httpPort, mqttPort, influx.url));
    const httpUrl = `http://127.0.0.1:${httpPort}`;

    await influx.kill(); // database down before the gateway even starts
    gatewayProc = startCli(file);
    await waitFor(async () => (await fetch(`${httpUrl}/health`)).status > 0, 'gateway HTTP up');
    const client = await waitFor(
      () =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: 'wm-101',
          password: DEVICE_PASSWORD,
          reconnectPeriod: 0,
        }),
      'device connected',
    );
    const base = systemClock.now() - 3_600_000;
    await publishSeries(client, 'wm-101', 0, 500, base);
    await client.endAsync();
    await waitFor(
      async () => (await metric(httpUrl, 'dutyroom_readings_accepted_total')) === 500,
      '500 readings accepted (fsynced)',
    );
    expect(await metric(httpUrl, 'dutyroom_spool_depth')).toBe(500);
    gatewayProc.kill('SIGKILL');
    await new Promise((r) => gatewayProc!.once('exit', r));

    await influx.restart();
    gatewayProc = startCli(file);
    const rows = await waitFor(
      async () => {
        const r = await countRows(influx, 'crash', 'wm-101');
        return r.count >= 500 ? r : null;
      },
      'the replayed spool in InfluxDB',
      60_000,
    );
    expect(rows).toEqual({ count: 500, distinct: 500 });
    await waitFor(async () => (await metric(httpUrl, 'dutyroom_spool_depth')) === 0, 'spool drained');
    gatewayProc.kill('SIGTERM');
    await new Promise((r) => gatewayProc!.once('exit', r));
    gatewayProc = undefined;
  });
});

/** A one-meter estate as a site file, for the real CLI. */
function siteYaml(baseDir: string, httpPort: number, mqttPort: number, influxUrl: string): string {
  return `
site: { id: testsite, name: Crash test }
data_dir: ${baseDir}/data
http: { host: 127.0.0.1, port: ${httpPort} }
broker: { host: 127.0.0.1, mqtt_port: ${mqttPort} }
storage: { url: ${influxUrl}, database: crash, batch_size: 100, flush_interval_ms: 50, spool: { fsync_interval_ms: 5 } }
buildings:
  - { id: b1, name: B1, floors: { lowest: 1, highest: 2 }, units: [{ id: u101, floor: "1" }] }
devices:
  - { id: wm-101, kind: water_meter, protocol: mqtt, place: { building: b1, unit: u101 }, connection: { password_hash: "${DEVICE_HASH}" } }
`;
}
