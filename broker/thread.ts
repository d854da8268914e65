import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Acl } from './acl.js';
import type { BrokerOptions, BrokerStats, LocalConsumer, RunningBroker } from './broker.js';
import {
  payloadAt,
  type Batch,
  type BrokerState,
  type FromWorker,
  type ToWorker,
  type WorkerOptions,
} from './thread-protocol.js';
import type { ComponentHealth } from './types.js';
import { backoffDelay } from '../rules/backoff.js';

/** The embedded broker as the gateway uses it, wherever it runs. */
export type BrokerHandle = Omit<RunningBroker, 'aedes'>;

/** Restarting the broker thread when it dies on its own. */
export interface BrokerSupervision {
  /** First wait before a restart; doubles while restarts fail (default 200 ms). */
  firstBackoffMs?: number;
  /** The longest wait (default 10 s). */
  maxBackoffMs?: number;
  /** Each restart: attempt number, why it died, whether it came back (else why not). */
  onRestart?: (e: { attempt: number; exit: string; ok: boolean; error?: string }) => void;
}

/** The broker thread handle, with what its supervisor knows. */
export type SupervisedBroker = BrokerHandle & {
  /** Restarts after the thread died on its own. */
  readonly restarts: number;
  /** For tests: ends the thread as a crash would (the supervisor then restarts it). */
  crash(): Promise<void>;
};

/**
 * Starts the embedded broker in a worker thread of its own. The gateway's thread then does
 * only the gateway's work: aedes's share (reading the sockets, parsing MQTT, topic matching)
 * was a third of the gateway's CPU at tens of thousands of readings a second, and on two
 * cores the second one sat partly idle. The in-process consumer works as with `startBroker`:
 * it gets the wanted publishes (in batches of at most 1,000, see thread-outbox.ts), and a
 * QoS 1 PUBACK waits until what its `deliver` returned has settled.
 *
 * When the thread dies on its own (an exception in aedes, out of memory), it is started again
 * on the same ports with the same accounts and consumer, after a capped backoff: devices
 * reconnect and send again what was not acknowledged (the connections died with it).
 *
 * Rejects (with the thread stopped) if a port is taken.
 */
export async function startBrokerThread(
  opts: BrokerOptions,
  supervise: BrokerSupervision = {},
): Promise<SupervisedBroker> {
  if (!Number.isInteger(opts.maxPayloadBytes) || opts.maxPayloadBytes <= 0) {
    throw new Error(`broker: maxPayloadBytes must be a positive whole number of bytes, got ${opts.maxPayloadBytes}`);
  }
  new Acl(opts.accounts); // a bad account list throws here, before the thread starts
  const logger = opts.logger ?? pino({ enabled: false });
  // The worker's log lines go out through the gateway logger's own destination, as if written here.
  const destination = (logger as unknown as Record<symbol, { write?: (line: string) => void } | undefined>)[
    pino.symbols.streamSym
  ];
  let accounts = opts.accounts;
  let consumer: LocalConsumer | undefined;
  let state: BrokerState | undefined;
  let ports: BrokerHandle['ports'] | undefined;
  let url = '';
  let down: string | undefined;
  let closing: Promise<void> | undefined;
  let restarts = 0;
  let current: Running;
  // What the worker was last told of the consumer's congestion.
  let toldCongested = false;
  const congestedNow = (c: LocalConsumer | undefined) => (toldCongested = c?.congested?.() ?? false);

  interface Running {
    worker: Worker;
    tell: (m: ToWorker) => void;
    exited: Promise<number>;
  }

  /** One worker: resolves once it listens; its exit after that is the supervisor's business. */
  async function spawnWorker(): Promise<Running> {
    const workerOptions: WorkerOptions = {
      host: opts.host,
      // A restart binds the ports the first start got (devices were told those).
      mqttPort: ports?.mqtt ?? opts.mqttPort,
      ...((ports?.ws ?? opts.wsPort) !== undefined ? { wsPort: ports?.ws ?? opts.wsPort } : {}),
      ...(opts.tls ? { tls: { ...opts.tls, port: ports?.tls ?? opts.tls.port } } : {}),
      accounts,
      maxPayloadBytes: opts.maxPayloadBytes,
      ...(opts.limits ? { limits: opts.limits } : {}),
      log: { level: logger.isLevelEnabled('fatal') ? logger.level : 'silent', bindings: logger.bindings() },
    };
    // A young generation of V8's default size in a second isolate cost 10-15 MB more RSS at
    // 10,000 devices (bench/memory.ts), and a smaller one showed no cost in throughput.
    const worker = new Worker(workerFile(), {
      workerData: workerOptions,
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    const tell = (m: ToWorker) => worker.postMessage(m);
    const exited = new Promise<number>((resolve) => worker.once('exit', (code) => resolve(code)));
    let failure: string | undefined;
    const started = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'batch':
            return deliver(m, tell);
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
        failure = err.message;
        logger.error({ err }, 'the embedded broker thread failed');
        reject(err);
      });
      void exited.then((code) =>
        reject(new Error(`broker: the broker thread exited with code ${code} before it started`)),
      );
    });
    try {
      await started;
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    void exited.then((code) => {
      if (closing) return;
      const why = failure ?? `exited with code ${code}`;
      down = why;
      logger.error({ code, err: failure }, `the embedded broker thread stopped (${why}); restarting it`);
      void restart(why, 1);
    });
    if (consumer) tell({ type: 'consumer', filters: [...consumer.subscriptions] });
    return { worker, tell, exited };
  }

  async function restart(why: string, failures: number): Promise<void> {
    await new Promise((r) =>
      setTimeout(r, backoffDelay(failures, supervise.firstBackoffMs ?? 200, supervise.maxBackoffMs ?? 10_000)),
    );
    if (closing) return;
    const attempt = ++restarts;
    try {
      current = await spawnWorker();
      down = undefined;
      toldCongested = false;
      supervise.onRestart?.({ attempt, exit: why, ok: true });
      logger.warn({ attempt, exit: why }, 'the embedded broker thread is running again');
    } catch (err) {
      supervise.onRestart?.({ attempt, exit: why, ok: false, error: (err as Error).message });
      await restart(why, failures + 1);
    }
  }

  /** Hands a batch to the consumer; answers once what it returned has settled, naming the messages it could not keep. */
  function deliver(batch: Batch, tell: (m: ToWorker) => void): void {
    const c = consumer;
    const notKept: number[] = [];
    const answer = () =>
      tell({ type: 'done', id: batch.id, congested: congestedNow(c), ...(notKept.length ? { notKept } : {}) });
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

  current = await spawnWorker();

  return {
    get ports() {
      return ports!;
    },
    get url() {
      return url;
    },
    get restarts() {
      return restarts;
    },

    setAccounts(next) {
      new Acl(next); // a bad list throws here and the old one stays in force
      accounts = next;
      current.tell({ type: 'accounts', accounts: next });
    },

    setLocalConsumer(next) {
      consumer = next;
      current.tell({ type: 'consumer', filters: next ? [...next.subscriptions] : null });
    },

    stats: (): BrokerStats => ({ ...state!.stats }),

    health(): ComponentHealth {
      if (closing) return { status: 'down', detail: 'broker stopped' };
      if (down) return { status: 'down', detail: `broker thread stopped (${down}); restarting`, restarts };
      return { ...state!.health, restarts };
    },

    async crash() {
      await current.worker.terminate();
    },

    close() {
      closing ??= (async () => {
        const { worker, tell, exited } = current;
        const closed = new Promise<void>((resolve) =>
          worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve()),
        );
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
  const file = here.pathname.endsWith('.ts')
    ? new URL('../dist/broker/thread-worker.js', here)
    : new URL('./thread-worker.js', here);
  if (!existsSync(file)) throw new Error(`broker: ${fileURLToPath(file)} is missing: run \`npm run build\` first`);
  return file;
}
