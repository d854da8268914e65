import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { startInfluxd, type InfluxdProcess } from '../gateway/store/influxd.js';
import { DEVICE_PASSWORD, testSite, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 16: never acknowledge what is not kept. A 1 MiB spool, the database down, 20,000
// QoS 1 readings from a real mqtt.js device (it keeps what was not acknowledged and sends it
// again after reconnecting). The spool fills; from then on the gateway acknowledges nothing
// it could not keep. When the database is back, every reading the device was told was kept
// is in InfluxDB exactly once, and the device is left with nothing unsent.

const N = 20_000;
let influx: InfluxdProcess | undefined;
let gw: RunningGateway | undefined;
afterAll(async () => {
  await gw?.stop();
  await influx?.stop();
});

describe('spool full, database down (issue 16)', () => {
  it(`${N.toLocaleString('en')} QoS 1 readings: none acknowledged that was not kept, every one stored exactly once once the database is back`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-full-influxd-'));
    influx = await startInfluxd({ dataDir });
    const port = Number(new URL(influx.url).port);
    gw = await startGateway({
      ...testSite({ influxUrl: influx.url, database: 'spool_full', spoolMaxBytes: 1 << 20, fsyncIntervalMs: 0 }),
      logger: pino({ level: 'silent' }),
    });
    await gw.adapter.waitReady();
    await influx.stop(); // the database goes down

    const device = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'wm-101',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 100,
      connectTimeout: 5000,
    });
    let acked = 0;
    let closes = 0;
    device.on('close', () => closes++);
    const start = systemClock.now() - N * 1000;
    const sent: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const payload = JSON.stringify({ ts: start + i * 1000, total_m3: 1000 + i / 1000, flow_m3h: 0.06 });
      sent.push(device.publishAsync('dutyroom/testsite/wm-101/reading', payload, { qos: 1 }).then(() => void acked++));
    }
    // The spool fills and refuses: readings are no longer acknowledged.
    await waitFor(
      () => gw!.broker!.stats().notKept > 0 || null,
      'the gateway refusing readings it cannot keep',
      60_000,
    );
    const ackedWhileFull = acked;
    expect(ackedWhileFull).toBeLessThan(N);
    const spool = gw.store.healthSources.find((h) => h.component === 'spool')?.health();

    // The database returns: the spool drains, the device's resends are taken and acknowledged
    // (mqtt.js sends its unacknowledged messages again one at a time, each after the last's
    // PUBACK: a PUBACK waits for the fsync, so this test fsyncs without the group-commit wait).
    influx = await startInfluxd({ dataDir, port });
    await Promise.all(sent);
    expect(acked).toBe(N);
    // mqtt.js keeps what was not acknowledged in `outgoing`: nothing is left.
    expect(Object.keys((device as unknown as { outgoing: Record<string, unknown> }).outgoing)).toEqual([]);
    await device.endAsync();

    const count = await waitFor(
      async () => {
        const res = await fetch(
          `${influx!.url}/query?db=spool_full&q=${encodeURIComponent("SELECT count(total_m3) FROM water_meter WHERE device = 'wm-101'")}`,
        );
        const n =
          ((await res.json()) as { results: { series?: { values: [string, number][] }[] }[] }).results[0]?.series?.[0]
            ?.values[0]?.[1] ?? 0;
        return n >= N ? n : null;
      },
      'every reading in InfluxDB',
      120_000,
    );
    expect(count).toBe(N);
    const stats = gw.broker!.stats();
    console.log(
      `spool full: ${N} sent, ${ackedWhileFull} acknowledged before the database returned (spool: ${JSON.stringify(spool)}), ${stats.notKept} deliveries not kept and not acknowledged over ${closes} closed connections; ${acked} acknowledged and ${count} stored in the end`,
    );
  }, 300_000);
});
