import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { Acl, type BrokerAccount } from './acl.js';
import type { BrokerOptions, BrokerStats, RunningBroker } from './broker.js';
import { realTimers, type Timers } from '../gateway/ports/clock.js';
import { spawnWithOwnHeap } from './heap-flags.js';
import { Inbox } from './thread-inbox.js';
import type { BrokerState, FromWorker, ToWorker, WorkerOptions } from './thread-protocol.js';
import type { ComponentHealth } from './types.js';
import { backoffDelay } from '../rules/backoff.js';

/**
 * The broker thread's old generation at most (its live heap stayed under 30 MB through a
 * million-reading burst at 100 connections: bench/burst.ts). Its share of the gateway's bound
 * memory; past it the thread dies and is restarted (the devices reconnect and send again).
 * V8's heap flags would take precedence over these under the launcher (app/launch.ts) and give
 * this thread the gateway's 96 MiB and 2 MiB semi-spaces: the thread is made with them cleared
 * (heap-flags.ts). Its own limits took 14-29 MB off the peak RSS of a million-reading QoS 1
 * burst (bench/README.md, Memory).
 */
export const BROKER_OLD_GENERATION_MB = 64;

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
  /** What the waits before a restart run on (default: the real timers). */
  timers?: Timers;
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
  const thread = new BrokerThread(opts, supervise);
  await thread.start();
  return thread.handle();
}

interface Running {
  worker: Worker;
  tell: (m: ToWorker) => void;
  exited: Promise<number>;
}

/** The broker's worker thread as the gateway's thread sees it, across restarts. */
class BrokerThread {
  private readonly logger: Logger;
  private readonly timers: Timers;
  /** The gateway logger's destination: the worker's log lines go out through it, as if written here. */
  private readonly destination: { write?: (line: string) => void } | undefined;
  private readonly inbox = new Inbox();
  private accounts: BrokerAccount[];
  private state: BrokerState | undefined;
  private ports: BrokerHandle['ports'] | undefined;
  private url = '';
  /** Why the thread is down while it is being restarted. */
  private down: string | undefined;
  private closing: Promise<void> | undefined;
  private restarts = 0;
  private current!: Running;
  /** The gateway's own publishes waiting for the worker's answer (they fail if it dies). */
  private readonly publishing = new Map<number, { resolve(): void; reject(err: Error): void }>();
  private publishIds = 0;

  constructor(
    private readonly opts: BrokerOptions,
    private readonly supervise: BrokerSupervision,
  ) {
    this.logger = opts.logger ?? pino({ enabled: false });
    this.timers = supervise.timers ?? realTimers;
    this.destination = (this.logger as unknown as Record<symbol, { write?: (line: string) => void } | undefined>)[
      pino.symbols.streamSym
    ];
    this.accounts = opts.accounts;
  }

  async start(): Promise<void> {
    this.current = await this.spawnWorker();
  }

  private workerOptions(): WorkerOptions {
    const { opts, ports, logger } = this;
    return {
      host: opts.host,
      // A restart binds the ports the first start got (devices were told those).
      mqttPort: ports?.mqtt ?? opts.mqttPort,
      ...((ports?.ws ?? opts.wsPort) !== undefined ? { wsPort: ports?.ws ?? opts.wsPort } : {}),
      ...(opts.tls ? { tls: { ...opts.tls, port: ports?.tls ?? opts.tls.port } } : {}),
      accounts: this.accounts,
      ...(opts.gatewayOnly ? { gatewayOnly: opts.gatewayOnly } : {}),
      maxPayloadBytes: opts.maxPayloadBytes,
      ...(opts.limits ? { limits: opts.limits } : {}),
      log: { level: logger.isLevelEnabled('fatal') ? logger.level : 'silent', bindings: logger.bindings() },
    };
  }

  /** One worker: resolves once it listens; its exit after that is the supervisor's business. */
  private async spawnWorker(): Promise<Running> {
    // A young generation of V8's default size in a second isolate cost 10-15 MB more RSS at
    // 10,000 devices (bench/memory.ts), and a smaller one showed no cost in throughput.
    const worker = spawnWithOwnHeap(
      () =>
        new Worker(workerFile(), {
          workerData: this.workerOptions(),
          resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: BROKER_OLD_GENERATION_MB },
        }),
    );
    const running: Running = {
      worker,
      tell: (m) => worker.postMessage(m),
      exited: new Promise<number>((resolve) => worker.once('exit', (code) => resolve(code))),
    };
    const failure: { message?: string } = {};
    try {
      await this.listen(running, failure);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    void running.exited.then((code) => this.exited(code, failure.message));
    const consumer = this.inbox.consumer;
    if (consumer) running.tell({ type: 'consumer', filters: [...consumer.subscriptions] });
    return running;
  }

  /** Follows the worker's messages; settles once it listens (or failed to). */
  private listen({ worker, tell, exited }: Running, failure: { message?: string }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'batch':
            return this.inbox.deliver(m, tell);
          case 'log':
            return this.destination?.write?.(m.line);
          case 'state':
            this.state = { stats: m.stats, health: m.health };
            return;
          case 'started':
            ({ ports: this.ports, url: this.url } = m);
            this.state = { stats: m.stats, health: m.health };
            return resolve();
          case 'failed':
            return reject(new Error(m.message));
          case 'published':
            return this.answered(m.id, m.error);
          case 'closed':
            return;
        }
      });
      worker.on('error', (err) => {
        failure.message = err.message;
        this.logger.error({ err }, 'the embedded broker thread failed');
        reject(err);
      });
      void exited.then((code) =>
        reject(new Error(`broker: the broker thread exited with code ${code} before it started`)),
      );
    });
  }

  /** A worker that ended after it started, on its own unless the broker is closing: started again. */
  private exited(code: number, failure: string | undefined): void {
    this.failPublishes(`the broker thread stopped (exit code ${code})`);
    if (this.closing) return;
    const why = failure ?? `exited with code ${code}`;
    this.down = why;
    this.logger.error({ code, err: failure }, `the embedded broker thread stopped (${why}); restarting it`);
    void this.restart(why, 1);
  }

  private async restart(why: string, failures: number): Promise<void> {
    const { firstBackoffMs = 200, maxBackoffMs = 10_000, onRestart } = this.supervise;
    await new Promise<void>((r) => this.timers.setTimeout(r, backoffDelay(failures, firstBackoffMs, maxBackoffMs)));
    if (this.closing) return;
    const attempt = ++this.restarts;
    try {
      this.current = await this.spawnWorker();
      this.down = undefined;
      this.inbox.reset();
      onRestart?.({ attempt, exit: why, ok: true });
      this.logger.warn({ attempt, exit: why }, 'the embedded broker thread is running again');
    } catch (err) {
      onRestart?.({ attempt, exit: why, ok: false, error: (err as Error).message });
      await this.restart(why, failures + 1);
    }
  }

  /** Sends a message of the gateway's own through the worker's broker; settles with its answer. */
  private publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    if (this.closing || this.down) return Promise.reject(new Error(`broker: ${this.down ?? 'stopped'}`));
    const id = ++this.publishIds;
    return new Promise<void>((resolve, reject) => {
      this.publishing.set(id, { resolve, reject });
      this.current.tell({ type: 'publish', id, topic, payload, retain });
    });
  }

  private answered(id: number, error: string | undefined): void {
    const p = this.publishing.get(id);
    this.publishing.delete(id);
    if (error) p?.reject(new Error(error));
    else p?.resolve();
  }

  private failPublishes(why: string): void {
    for (const p of this.publishing.values()) p.reject(new Error(why));
    this.publishing.clear();
  }

  /** Asks the worker to close its broker, waits for it (or its end), then ends the thread. */
  private async stop(): Promise<void> {
    const { worker, tell, exited } = this.current;
    const closed = new Promise<void>((resolve) =>
      worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve()),
    );
    tell({ type: 'close' });
    await Promise.race([closed, exited]);
    await worker.terminate();
  }

  handle(): SupervisedBroker {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handle's getters read the live thread
    const t = this;
    return {
      get ports() {
        return t.ports!;
      },
      get url() {
        return t.url;
      },
      get restarts() {
        return t.restarts;
      },
      setAccounts(next) {
        new Acl(next); // a bad list throws here and the old one stays in force
        t.accounts = next;
        t.current.tell({ type: 'accounts', accounts: next });
      },
      setLocalConsumer(next) {
        t.inbox.consumer = next;
        t.current.tell({ type: 'consumer', filters: next ? [...next.subscriptions] : null });
      },
      publish: (topic, payload, { retain }) => t.publish(topic, payload, retain),
      stats: (): BrokerStats => ({ ...t.state!.stats }),
      health: () => t.health(),
      crash: async () => void (await t.current.worker.terminate()),
      close: () => (t.closing ??= t.stop()),
    };
  }

  private health(): ComponentHealth {
    if (this.closing) return { status: 'down', detail: 'broker stopped' };
    if (this.down)
      return { status: 'down', detail: `broker thread stopped (${this.down}); restarting`, restarts: this.restarts };
    return { ...this.state!.health, restarts: this.restarts };
  }
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
