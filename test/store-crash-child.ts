// A stand-in for a gateway process, for test/store-outage.test.ts: it appends a stream of
// points to a store (spool + writer + InfluxDB 1.x driver) and says on stdout how far its
// appends were acknowledged, until the test SIGKILLs it.
//   node store-crash-child.js <spoolDir> <influxUrl> <database> <device>
import { Influx1Driver, createStore } from '../gateway/store/index.js';
import { streamPoint } from './store-stream.js';

const [dir, url, database, device] = process.argv.slice(2) as [string, string, string, string];
const store = createStore({
  driver: new Influx1Driver({ url, database, timeoutMs: 1000 }),
  spool: { dir, maxBytes: 1 << 30, fsyncIntervalMs: 5 },
  writer: { batchSize: 200, flushIntervalMs: 20, minBackoffMs: 50, maxBackoffMs: 200 },
});
await store.open();
for (let i = 0; ; i += 10) {
  await store.append(Array.from({ length: 10 }, (_, k) => streamPoint(device, i + k)));
  process.stdout.write(`acked ${i + 10}\n`);
}
