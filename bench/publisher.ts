// A load generator run as its own process (so it does not share the gateway's event loop):
//   node dist/bench/publisher.js URL DEVICES PER_DEVICE PASSWORD SITE QOS
// Each simulated meter logs in as itself and publishes canonical readings as fast as the
// broker takes them; prints one JSON line with what it sent and how long it took.
import mqtt from 'mqtt';

const [url, devicesArg, perDeviceArg, password, site, qosArg] = process.argv.slice(2);
const devices = Number(devicesArg);
const perDevice = Number(perDeviceArg);
const qos = Number(qosArg ?? 0) as 0 | 1;
const base = Date.now() - 3_600_000;

const clients = await Promise.all(
  Array.from({ length: devices }, (_, i) => mqtt.connectAsync(url!, { username: `m${i}`, password, reconnectPeriod: 0, clientId: `bench-m${i}` })),
);
const started = performance.now();
await Promise.all(
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
