// The load generator, run as its own process (so it does not share the gateway's event loop):
//   node dist/bench/publisher.js '{"url":…,"devices":100,"perDevice":3000,"password":…,"site":"bench","qos":0,"rate":0}'
// Optional: "connections" + "username": that many connections logged in as one bridge account
// (an NB-IoT platform) publishing for all the devices, instead of one login per device.
// Device i publishes canonical readings of meter m<i> (ts = an hour ago + k ms, so every
// reading is a distinct InfluxDB point), as fast as the broker takes them (rate 0: 100
// packets per socket write, the devices interleaved) or `rate` readings/s in all, paced every
// 10 ms; "seconds" ends it early. Prints one JSON line: what it sent, how long it took, its
// own CPU time.
import { publishPacket, WireClient } from './mqtt-wire.js';

interface Args {
  url: string;
  devices: number;
  perDevice: number;
  password: string;
  site: string;
  qos?: 0 | 1;
  rate?: number;
  connections?: number;
  username?: string;
  /** Stop after this many seconds even if perDevice is not reached (a sustained load of fixed length). */
  seconds?: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
const qos = args.qos ?? 0;
const rate = args.rate ?? 0;
const base = Date.now() - 3_600_000;
const bridged = args.username !== undefined;
const connections = bridged ? Math.min(args.connections ?? 20, args.devices) : args.devices;
const CHUNK = 100;
// QoS 1: at most this many PUBACKs outstanding per connection, as a device's send window; a
// bridge's connection carries thousands of devices' messages and keeps many more in flight
// (MQTT.js, which zigbee2mqtt uses, sets no limit; a packet identifier allows 65,535).
const WINDOW = bridged ? 20_000 : 1000;

const clients: WireClient[] = [];
for (let from = 0; from < connections; from += 50) {
  // 50 logins at a time: the broker checks passwords (scrypt) two at a time anyway.
  const batch = Array.from({ length: Math.min(50, connections - from) }, (_, j) => {
    const c = from + j;
    return WireClient.connect(
      args.url,
      `bench-${bridged ? 'c' : 'm'}${c}`,
      bridged ? args.username! : `m${c}`,
      args.password,
    );
  });
  clients.push(...(await Promise.all(batch)));
}
const topics = Array.from({ length: args.devices }, (_, i) => `dutyroom/${args.site}/m${i}/reading`);
const nextId = new Array<number>(connections).fill(0);
const sentOn = new Array<number>(connections).fill(0);

function encode(device: number, from: number, count: number): Buffer {
  const c = device % connections;
  const parts: Buffer[] = [];
  for (let k = from; k < from + count; k++) {
    nextId[c] = (nextId[c]! % 65535) + 1;
    parts.push(
      publishPacket(
        topics[device]!,
        `{"ts":${base + k},"total_m3":${(k / 1000).toFixed(3)},"flow_m3h":0.5}`,
        qos,
        nextId[c],
      ),
    );
  }
  sentOn[c]! += count;
  return Buffer.concat(parts);
}

async function window(c: number): Promise<void> {
  while (qos === 1 && sentOn[c]! - clients[c]!.pubacks > WINDOW) await new Promise((r) => setTimeout(r, 1));
}

// The parent starts its clock here: logins (scrypt on the broker) are not part of a rate.
console.log(JSON.stringify({ connected: clients.length }));
const started = performance.now();
const cpuStart = process.cpuUsage();
const total = args.devices * args.perDevice;
const deadline = args.seconds ? started + args.seconds * 1000 : Infinity;
let sent = 0;
if (rate > 0) {
  while (sent < total && performance.now() < deadline) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    // Reading s belongs to device s % devices, as its reading number floor(s / devices).
    const perConnection = new Map<number, Buffer[]>();
    for (; sent < due; sent++) {
      const d = sent % args.devices;
      const c = d % connections;
      let list = perConnection.get(c);
      if (!list) perConnection.set(c, (list = []));
      list.push(encode(d, Math.floor(sent / args.devices), 1));
    }
    for (const [c, list] of perConnection) void clients[c]!.write(Buffer.concat(list));
    await new Promise((r) => setTimeout(r, 10));
  }
} else {
  for (let k = 0; k < args.perDevice && performance.now() < deadline; k += CHUNK) {
    const count = Math.min(CHUNK, args.perDevice - k);
    sent += count * args.devices;
    const drains: Promise<void>[] = [];
    for (let d = 0; d < args.devices; d++) {
      await window(d % connections);
      const drained = clients[d % connections]!.write(encode(d, k, count));
      if (drained) drains.push(drained);
    }
    await Promise.all(drains);
    // Let the sockets' reads (PUBACKs, PINGRESPs) in between rounds.
    await new Promise((r) => setImmediate(r));
  }
}
if (qos === 1) {
  const ackDeadline = performance.now() + 60_000;
  while (clients.reduce((s, c) => s + c.pubacks, 0) < sent && performance.now() < ackDeadline)
    await new Promise((r) => setTimeout(r, 5));
}
const sentMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
const pubacks = clients.reduce((s, c) => s + c.pubacks, 0);
await Promise.all(clients.map((c) => c.end()));
console.log(
  JSON.stringify({ sent, sentMs: Math.round(sentMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000), pubacks }),
);
