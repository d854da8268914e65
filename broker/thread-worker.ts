// The embedded broker's worker thread (started by broker/thread.ts): aedes, its listeners and
// its logins run here, and the messages the gateway wants go to the gateway's thread in
// batches (see Outbox). This file is the thread's program, so it is where the real clock and
// timers are chosen (a clock cannot cross from the gateway's thread).
import { hostname } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { every, realTime } from '../gateway/ports/clock.js';
import { startBroker, type RunningBroker } from './broker.js';
import type { BrokerState, FromWorker, ToWorker, WorkerOptions } from './thread-protocol.js';
import { Filters, Outbox } from './thread-outbox.js';

const STATE_EVERY_MS = 250;

const port = parentPort!;
const opts = workerData as WorkerOptions;
const send = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const logger = pino(
  { level: opts.log.level, base: { pid: process.pid, hostname: hostname(), ...opts.log.bindings } },
  { write: (line: string) => send({ type: 'log', line }) },
);

const outbox = new Outbox(send);

async function run(): Promise<void> {
  let broker: RunningBroker;
  try {
    broker = await startBroker({ ...opts, logger, clock: realTime });
  } catch (err) {
    // The gateway's thread stops this one once it has read why.
    return send({ type: 'failed', message: (err as Error).message });
  }

  const state = (): BrokerState => ({ stats: broker.stats(), health: broker.health() });
  let last = JSON.stringify(state());
  send({ type: 'started', ports: broker.ports, url: broker.url, ...state() });
  // The gateway reads the broker's health and counters synchronously: it keeps the latest.
  const stopTicker = every(realTime, STATE_EVERY_MS, () => {
    const now = state();
    const text = JSON.stringify(now);
    if (text === last) return;
    last = text;
    send({ type: 'state', ...now });
  });

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'done':
        return outbox.answered(m.id, m.congestion, m.notKept);
      case 'congestion':
        outbox.gatewayCongestion = m.congestion;
        return;
      case 'consumer': {
        // Batches already sent stay held: the gateway's thread answers each of them, once the
        // readings it took are accepted (the ones it gets after this it answers at once).
        if (!m.filters) return broker.setLocalConsumer(undefined);
        const filters = new Filters(m.filters);
        return broker.setLocalConsumer({
          subscriptions: m.filters,
          wants: (topic) => filters.wants(topic),
          deliver: (topic, payload, qos) => {
            const handover = outbox.add(topic, payload, qos);
            return qos > 0 || outbox.congested ? handover : undefined;
          },
          notKept: (value, index) => value instanceof Set && value.has(index),
          congested: () => outbox.congested,
          overloaded: () => outbox.overloaded,
        });
      }
      case 'accounts':
        return broker.setAccounts(m.accounts);
      case 'publish':
        return void broker
          .publish(m.topic, Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength), {
            retain: m.retain,
          })
          .then(
            () => send({ type: 'published', id: m.id }),
            (err: Error) => send({ type: 'published', id: m.id, error: err.message }),
          );
      case 'close':
        stopTicker();
        outbox.settleAll();
        return void broker.close().then(() => send({ type: 'closed' }));
    }
  });
}

void run();
