// Raw limits of this machine, measured with the same load generator as the end-to-end runs:
// - MQTT publish → subscribe through a broker (aedes, or mosquitto when installed) with no
//   processing: a plain mqtt.js subscriber in this process counts the messages;
// - broker intake: the same publishers into aedes with nothing subscribed, messages counted
//   in-process (the `published` hook): the ceiling of the embedded broker's in-process path;
// - InfluxDB write of pre-built line protocol in 5,000-line batches (the store driver's writeLines).
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { Influx1Driver } from '../gateway/store/influx1.js';
import { publish } from './publisher-run.js';

export interface RawOptions {
  devices: number;
  perDevice: number;
  /** QoS of the publishes (0 unless said). */
  qos?: 0 | 1;
}

async function withAedes<T>(opts: { onPublished?: () => void }, run: (url: string) => Promise<T>): Promise<T> {
  const broker = await Aedes.createBroker({
    published: (packet, _client, done) => {
      if (packet.topic.startsWith('dutyroom/')) opts.onPublished?.();
      done(null);
    },
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await run(`mqtt://127.0.0.1:${(server.address() as { port: number }).port}`);
  } finally {
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
  }
}

/** Messages/s from the first publish until the last arrived (`got` counts them). */
async function countedRun(url: string, opts: RawOptions, got: () => number): Promise<number> {
  const pub = publish(url, opts.devices, opts.perDevice, 'raw', { qos: opts.qos ?? 0 });
  const start = await pub.started;
  const { sent } = await pub.done;
  const deadline = performance.now() + 120_000;
  let last = got();
  let lastAt = performance.now();
  // Until everything arrived, or nothing more for 2 s (a broker may drop QoS 0 under load).
  while (got() < sent && performance.now() < deadline && performance.now() - lastAt < 2000) {
    await new Promise((r) => setTimeout(r, 5));
    if (got() !== last) [last, lastAt] = [got(), performance.now()];
  }
  return Math.round(got() / ((lastAt - start) / 1000));
}

/** Publish → subscribe through `url` (a broker already running), one mqtt.js subscriber here. */
export async function rawPubSub(url: string, opts: RawOptions): Promise<number> {
  const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  let got = 0;
  sub.on('message', () => got++);
  await sub.subscribeAsync('dutyroom/#', { qos: 0 });
  try {
    return await countedRun(url, opts, () => got);
  } finally {
    await sub.endAsync();
  }
}

export function rawAedesPubSub(opts: RawOptions): Promise<number> {
  return withAedes({}, (url) => rawPubSub(url, opts));
}

export function rawAedesIntake(opts: RawOptions): Promise<number> {
  let got = 0;
  return withAedes({ onPublished: () => got++ }, (url) => countedRun(url, opts, () => got));
}

/**
 * Pre-built line protocol in 5,000-line batches, one request at a time, through the driver's
 * writeLines: the one write path the writer uses, so this measures the database and that path.
 */
export async function rawInflux(url: string, batches: number): Promise<number> {
  const driver = new Influx1Driver({ url, database: 'raw', timeoutMs: 60_000 });
  await driver.connect();
  const base = Date.now() * 1000 - 3_600_000_000;
  const bodies = Array.from({ length: batches }, (_, b) =>
    Array.from(
      { length: 5000 },
      (_, i) =>
        `water_meter,site=raw,building=b1,device=m${i % 100} total_m3=${i}.5,flow_m3h=0.5 ${base + b * 5000 + i}`,
    ),
  );
  const start = performance.now();
  try {
    for (const lines of bodies) await driver.writeLines(lines);
  } finally {
    await driver.close();
  }
  return Math.round((batches * 5000) / ((performance.now() - start) / 1000));
}
