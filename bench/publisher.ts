// A load generator run as its own process (so it does not share the gateway's event loop):
//   node dist/bench/publisher.js URL DEVICES PER_DEVICE PASSWORD SITE QOS [RATE]
// Each simulated meter logs in as itself and publishes canonical readings as fast as the
// broker takes them (or RATE readings/s in all, paced every 10 ms); prints one JSON line
// with what it sent and how long it took.
import mqtt from 'mqtt';

const [url, devicesArg, perDeviceArg, password, site, qosArg, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 0);
const devices = Number(devicesArg);
const perDevice = Number(perDeviceArg);
const qos = Number(qosArg ?? 0) as 0 | 1;
const base = Date.now() - 3_600_000;

const clients = await Promise.all(
  Array.from({ length: devices }, (_, i) => mqtt.connectAsync(url!, { username: `m${i}`, password, reconnectPeriod: 0, clientId: `bench-m${i}` })),
);
const started = performance.now();
if (rate > 0) {
  // Paced: every 10 ms, as many readings as the rate allows, spread over the devices.
  let sent = 0;
  const total = devices * perDevice;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      const i = sent % devices;
      const k = Math.floor(sent / devices);
      clients[i]!.publish(`dutyroom/${site}/m${i}/reading`, `{"ts":${base + k},"total_m3":${(k / 1000).toFixed(3)},"flow_m3h":0.5}`, { qos });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
} else await Promise.all(
  clients.map(async (c, i) => {
    const topic = `dutyroom/${site}/m${i}/reading`;
    for (let k = 0; k < perDevice; k++) {
      const payload = `{"ts":${base + k},"total_m3":${(k / 1000).toFixed(3)},"flow_m3h":0.5}`;
      if (qos === 1) await c.publishAsync(topic, payload, { qos });
      else c.publish(topic, payload, { qos });
      // Yield now and then so all clients interleave.
      if (k % 200 === 199) await new Promise((r) => setImmediate(r));
    }
  }),
);
const sentMs = performance.now() - started;
await Promise.all(clients.map((c) => c.endAsync()));
console.log(JSON.stringify({ sent: devices * perDevice, sentMs }));
