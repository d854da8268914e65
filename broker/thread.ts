import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Acl } from './acl.js';
import type { BrokerOptions, BrokerStats, LocalConsumer, RunningBroker } from './broker.js';
import { payloadAt, type Batch, type BrokerState, type FromWorker, type ToWorker, type WorkerOptions } from './thread-protocol.js';
import type { ComponentHealth } from './types.js';

/** The embedded broker as the gateway uses it, wherever it runs. */
export type BrokerHandle = Omit<RunningBroker, 'aedes'>;

/**
 * Starts the embedded broker in a worker thread of its own. The gateway's thread then does
 * only the gateway's work: aedes's share (reading the sockets, parsing MQTT, topic matching)
 * was a third of the gateway's CPU at tens of thousands of readings a second, and on two
 * cores the second one sat partly idle. The in-process consumer works as with `startBroker`:
 * it gets the wanted publishes (in batches of at most 1,000, see thread-outbox.ts), and a
 * QoS 1 PUBACK waits until the promise its `deliver` returned has settled.
 *
 * Rejects (with the thread stopped) if a port is taken.
 */
export async function startBrokerThread(opts: BrokerOptions): Promise<BrokerHandle> {
  if (!Number.isInteger(opts.maxPayloadBytes) || opts.maxPayloadBytes <= 0) {
    throw new Error(`broker: maxPayloadBytes must be a positive whole number of bytes, got ${opts.maxPayloadBytes}`);
  }
  new Acl(opts.accounts); // a bad account list throws here, before the thread starts
  const logger = opts.logger ?? pino({ enabled: false });
  const workerOptions: WorkerOptions = {
    host: opts.host,
    mqttPort: opts.mqttPort,
    ...(opts.wsPort !== undefined ? { wsPort: opts.wsPort } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    accounts: opts.accounts,
    maxPayloadBytes: opts.maxPayloadBytes,
    log: { level: logger.isLevelEnabled('fatal') ? logger.level : 'silent', bindings: logger.bindings() },
  };
  // A young generation of V8's default size in a second isolate cost 10-15 MB more RSS at
  // 10,000 devices (bench/memory.ts), and a smaller one showed no cost in throughput.
  const worker = new Worker(workerFile(), { workerData: workerOptions, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  const tell = (m: ToWorker) => worker.postMessage(m);
  // The worker's log lines go out through the gateway logger's own destination, as if written here.
  const destination = (logger as unknown as Record<symbol, { write?: (line: string) => void } | undefined>)[pino.symbols.streamSym];

  let consumer: LocalConsumer | undefined;
  let state: BrokerState | undefined;
  let ports: BrokerHandle['ports'] | undefined;
  let url = '';
  let failed: string | undefined;
  let closing: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'batch':
          return deliver(m);
        case 'log':
          return destination?.write?.(m.line);
        case 'state':
          state = { stats: m.stats, health: m.health };
          return;
        case 'started':
          ({ ports, url } = m);
          state = { stats: m.stats, health: m.health };
          return resolve();
        case 'failed':
          return reject(new Error(m.message));
        case 'closed':
          return;
      }
    });
    worker.on('error', (err) => {
      failed = err.message;
      logger.error({ err }, 'the embedded broker thread failed');
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!closing && !failed) {
        failed = `exited with code ${code}`;
        logger.error({ code }, 'the embedded broker thread stopped');
      }
      reject(new Error(`broker: the broker thread exited with code ${code} before it started`));
    });
  });

  // What the worker was last told of the consumer's congestion.
  let toldCongested = false;
  const congestedNow = (c: LocalConsumer | undefined) => (toldCongested = c?.congested?.() ?? false);

  /** Hands a batch to the consumer; answers once what it returned has settled, naming the messages it could not keep. */
  function deliver(batch: Batch): void {
    const c = consumer;
    const notKept: number[] = [];
    const answer = () => tell({ type: 'done', id: batch.id, congested: congestedNow(c), ...(notKept.length ? { notKept } : {}) });
    if (!c) return answer();
    // Messages by the promise that settles them (the consumer's readings of one turn share one), so one reaction each.
    const pending = new Map<PromiseLike<unknown>, [message: number, index: number][]>();
    for (let i = 0; i < batch.topics.length; i++) {
      const h = c.deliver(batch.topics[i]!, payloadAt(batch.data, batch.ends, i), batch.qos[i] as 0 | 1 | 2);
      if (!h) continue;
      const list = pending.get(h.done);
      if (list) list.push([i, h.index]);
      else pending.set(h.done, [[i, h.index]]);
    }
    if (pending.size === 0) return answer();
    // Held back from the next message on, not only once this batch is done.
    const was = toldCongested;
    if (congestedNow(c) !== was) tell({ type: 'congested', congested: toldCongested });
    let left = pending.size;
    for (const [p, messages] of pending) {
      const settled = (value: unknown) => {
        for (const [i, index] of messages) if (c.notKept(value, index)) notKept.push(i);
        if (--left === 0) answer();
      };
      p.then(settled, () => settled(undefined));
    }
  }

  try {
    await started;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  return {
    ports: ports!,
    url,

    setAccounts(accounts) {
      new Acl(accounts); // a bad list throws here and the old one stays in force
      tell({ type: 'accounts', accounts });
    },

    setLocalConsumer(next) {
      consumer = next;
      tell({ type: 'consumer', filters: next ? [...next.subscriptions] : null });
    },

    stats: (): BrokerStats => ({ ...state!.stats }),

    health(): ComponentHealth {
      if (closing) return { status: 'down', detail: 'broker stopped' };
      if (failed) return { status: 'down', detail: `broker thread stopped: ${failed}` };
      return { ...state!.health };
    },

    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve()));
        tell({ type: 'close' });
        await Promise.race([closed, exited]);
        await worker.terminate();
      })();
      return closing;
    },
  };
}

/**
 * The worker's compiled file. Under vitest this module runs from its TypeScript source, but a
 * worker thread loads plain JavaScript: it then takes the build in dist/, which `npm test`
 * makes first.
 */
function workerFile(): URL {
  const here = new URL(import.meta.url);
  const file = here.pathname.endsWith('.ts') ? new URL('../dist/broker/thread-worker.js', here) : new URL('./thread-worker.js', here);
  if (!existsSync(file)) throw new Error(`broker: ${fileURLToPath(file)} is missing: run \`npm run build\` first`);
  return file;
}
