// Alarm latency: a zigbee2mqtt leak payload published → the alarm's `firing` event read
// from the SSE stream, while a separate process publishes a steady background load of
// meter readings through the same broker into the same gateway (validation, rules, spool,
// InfluxDB all on). The gateway runs as users run it (`dutyroom start`, bench/gateway-process.ts),
// so that neither this bench's SSE reader nor its MQTT client shares the gateway's event loop.
//   node dist/bench/latency.js [--quick]     (INFLUX_URL to use a running InfluxDB)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hashPassword } from '../broker/password.js';
import { startGatewayProcess } from './gateway-process.js';
import { publish } from './publisher-run.js';
import { writeSiteFile } from './site-file.js';

const PASSWORD = 'bench-password';

export interface LatencyResult {
  backgroundPerS: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The gateway's V8 heap limit (app/launch.ts), as it said at start. */
  heapLimitMb: number;
}

// eslint-disable-next-line max-lines-per-function -- a bench scenario script: set up the site, run the load, measure, tear down, read top to bottom
export async function benchLatency(influxUrl: string, quick: boolean): Promise<LatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-latency-'));
  const hash = await hashPassword(PASSWORD);
  const meters = 20;
  // 300 leaks: the p99 is the third-worst, not the second-worst of 100, which one unlucky
  // scheduling on a shared machine moved by tens of milliseconds from run to run.
  const sensors = quick ? 20 : 300;
  const file = writeSiteFile('latency', {
    dir,
    influxUrl,
    database: `latency_${Date.now()}`,
    accounts: [`{ username: zigbee2mqtt, password_hash: "${hash}", publish: ["zigbee2mqtt/#"] }`],
    devices: [
      ...Array.from(
        { length: meters },
        (_, i) =>
          `{ id: m${i}, kind: water_meter, protocol: mqtt, place: { building: b1 }, connection: { password_hash: "${hash}" } }`,
      ),
      ...Array.from(
        { length: sensors },
        (_, i) =>
          `{ id: leak${i}, kind: leak_sensor, protocol: mqtt, profile: zigbee2mqtt-leak, place: { building: b1 }, connection: { topic: zigbee2mqtt/leak${i} } }`,
      ),
    ],
    more: `api_tokens: [{ name: bench, role: viewer, token_hash: "${hash}" }]
thresholds: { kinds: { leak_sensor: { leak_wet_s: 0 } } }`,
  });
  const gw = await startGatewayProcess(file);
  // Stopped whatever happens: a gateway left running would hold its ports and the next section's CPU.
  try {
    // The load: 40,000 readings/s of meters besides the leak payloads (BENCH_LATENCY_RATE to change it).
    const rate = Number(process.env.BENCH_LATENCY_RATE ?? 40_000);
    const seconds = quick ? 3 : 30;
    const background = publish(gw.brokerUrl, meters, Math.ceil((rate * (seconds + 5)) / meters), 'bench', {
      rate,
    }).done;

    const sse = new AbortController();
    const res = await fetch(`${gw.httpUrl}/api/alarms/stream`, {
      headers: { authorization: `Bearer ${PASSWORD}` },
      signal: sse.signal,
    });
    const reader = res.body!.getReader();
    const firedAt = new Map<string, number>();
    void (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += new TextDecoder().decode(value);
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const e = JSON.parse(data.slice(6)) as { type: string; alarm: { deviceId: string } };
          if (e.type === 'firing') firedAt.set(e.alarm.deviceId, performance.now());
        }
      }
    })();

    const bridge = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'zigbee2mqtt',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    await new Promise((r) => setTimeout(r, 1000)); // let the background load settle in
    const acceptedNow = async () => (await gw.counts()).accepted;
    const acceptedStart = await acceptedNow();
    const windowStart = performance.now();
    const latencies: number[] = [];
    const gap = (seconds * 1000) / sensors;
    for (let i = 0; i < sensors; i++) {
      const id = `leak${i}`;
      const sent = performance.now();
      bridge.publish(`zigbee2mqtt/${id}`, JSON.stringify({ water_leak: true, battery: 90 }), { qos: 1 });
      const deadline = sent + 5000;
      while (!firedAt.has(id) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      latencies.push((firedAt.get(id) ?? Number.POSITIVE_INFINITY) - sent);
      await new Promise((r) => setTimeout(r, Math.max(0, gap - (performance.now() - sent))));
    }
    const backgroundPerS =
      Math.round((await acceptedNow()) - acceptedStart) / ((performance.now() - windowStart) / 1000);
    await bridge.endAsync();
    sse.abort();
    await background.catch(() => undefined);
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]! * 10) / 10;
    return {
      backgroundPerS: Math.round(backgroundPerS),
      samples: latencies.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: at(1),
      heapLimitMb: gw.heapLimitMb,
    };
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('latency.js')) {
  const influx = await (await import('./bench-influx.js')).benchInflux();
  try {
    console.log(JSON.stringify(await benchLatency(influx.url, process.argv.includes('--quick'))));
  } finally {
    await influx.stop();
  }
}
