import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LocalConsumer } from '../../../broker/broker.js';
import { ReceiveStamps } from '../../clock.js';
import type { ComponentHealth } from '../../health.js';
import { ThrottledLog } from '../../ports/log-throttle.js';
import type { Metrics } from '../../metrics.js';
import { notKept } from '../../pipeline/pipeline.js';
import { realTimers, type Clock, type Timers } from '../../ports/clock.js';
import type { Adapter, Emit, LineDown } from '../adapter.js';
import { decodeMessage, type DecodeLimits } from './decode.js';
import type { TopicDirectory } from './topics.js';

/** The embedded broker, seen from the adapter: it hands messages over in-process. */
export interface LocalBroker {
  setLocalConsumer(consumer: LocalConsumer | undefined): void;
}

export interface MqttAdapterOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the embedded or an external broker (for health and logs when `local`). */
  url: string;
  /**
   * The embedded broker: take its messages in-process instead of connecting to `url` as an
   * MQTT client. A QoS 1 PUBACK (QoS 2 PUBREC) then goes to the device only once the
   * pipeline accepted (fsynced) or refused the message's readings.
   */
  local?: LocalBroker;
  username?: string;
  password?: string;
  /** Stable id, so a persistent session keeps QoS 1 messages while the gateway restarts. */
  clientId: string;
  topics: TopicDirectory;
  maxPayloadBytes: number;
  maxFutureS: number;
  maxAgeH: number;
  clock: Clock;
  /** For waitReady's deadline (default: the real ones). */
  timers?: Timers;
  metrics: Metrics;
  logger: Logger;
  /** Extra mqtt.js options (TLS CA, keepalive…). */
  clientOptions?: IClientOptions;
  /**
   * True while the pipeline is far behind (see Pipeline.congested): the adapter then takes a
   * connection's next packets only once the last message's readings are accepted, so that a
   * flood waits in TCP buffers (the publisher slows down) instead of piling up in memory.
   */
  congested?: () => boolean;
  /** True while the pipeline is twice as far behind: light publishers are held back too (broker/consumer.ts). */
  overloaded?: () => boolean;
  /** True while the pipeline refuses readings (the spool is full or failing; see Pipeline.refusing). */
  refusing?: () => boolean;
}

/**
 * The MQTT service adapter: takes the site's device topics from the embedded broker
 * in-process, or subscribes to them at an external broker; decodes every message with its
 * device's payload profile and emits one Reading per valid item. A bad payload is counted
 * and logged; the adapter carries on.
 */
export class MqttAdapter implements Adapter {
  readonly component = 'mqtt';
  readonly protocol = 'mqtt';
  private client: MqttClient | undefined;
  private connected = false;
  /** Connected and the subscriptions granted: messages will flow. */
  private isReady = false;
  /** Those waiting in waitReady. */
  private readonly onReady = new Set<() => void>();
  private lastError: string | undefined;
  private messages = 0;
  /** Readings received since the counter was last updated (see countReceived). */
  private received = 0;
  private readonly stamps: ReceiveStamps;
  private readonly limits: DecodeLimits;
  private readonly warn: ThrottledLog;

  constructor(private readonly opts: MqttAdapterOptions) {
    this.stamps = new ReceiveStamps(opts.clock);
    this.limits = { maxPayloadBytes: opts.maxPayloadBytes, oldest: 0, newest: 0, maxBatch: 1000 };
    this.warn = new ThrottledLog(opts.logger, opts.clock);
  }

  /** Starts connecting; resolves at once (the broker may come later: health tells). */
  start(emit: Emit): void {
    if (this.opts.local) this.takeFromEmbedded(this.opts.local, emit);
    else this.subscribe(emit);
  }

  private takeFromEmbedded(local: LocalBroker, emit: Emit): void {
    const { opts } = this;
    local.setLocalConsumer({
      subscriptions: opts.topics.subscriptions(),
      wants: (topic) => opts.topics.wants(topic),
      deliver: (topic, payload, qos) => {
        const pending = this.onMessage(topic, payload, emit);
        // QoS 1 and 2 are answered once accepted; QoS 0 waits only to push back a flood.
        return pending && (qos > 0 || opts.congested?.()) ? { done: pending, index: 0 } : undefined;
      },
      // A reading the spool could not take now: no PUBACK, the device sends it again.
      notKept: (value) => notKept(value),
      ...(opts.congested ? { congested: opts.congested } : {}),
      ...(opts.overloaded ? { overloaded: opts.overloaded } : {}),
    });
    this.connected = true;
    this.setReady(true);
    opts.logger.info('MQTT adapter takes messages from the embedded broker in-process');
  }

  /** An MQTT client of the broker at `url`, subscribed to the site's topics. */
  private subscribe(emit: Emit): void {
    const { opts } = this;
    const client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      username: opts.username,
      password: opts.password,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...opts.clientOptions,
    });
    this.client = client;
    client.on('connect', (connack) => {
      this.connected = true;
      this.lastError = undefined;
      opts.logger.info({ url: redact(opts.url), sessionPresent: connack.sessionPresent }, 'MQTT adapter connected');
      if (connack.sessionPresent) this.setReady(true);
      else this.subscribeTopics(client);
    });
    client.on('close', () => {
      if (this.connected && this.client)
        opts.logger.warn({ url: redact(opts.url) }, 'MQTT adapter disconnected; reconnecting');
      this.connected = false;
      this.setReady(false);
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.warn.warn('mqtt_error', { err: err.message }, 'MQTT adapter error');
    });
    this.holdWhileBusy(client, emit);
  }

  private subscribeTopics(client: MqttClient): void {
    const { opts } = this;
    const subs = Object.fromEntries(opts.topics.subscriptions().map((t) => [t, { qos: 1 as const }]));
    client.subscribe(subs, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length) {
        this.lastError = `subscription refused: ${err?.message ?? refused.join(', ')}`;
        opts.logger.error({ err, refused }, 'MQTT adapter: the broker refused a subscription');
      } else {
        this.setReady(true);
      }
    });
  }

  /**
   * mqtt.js emits 'message', then asks handleMessage, and takes the connection's next packet
   * (and sends the PUBACK) after its callback: held back while the pipeline is congested, and
   * while it refuses readings. A message then not kept gets no PUBACK: the connection is
   * dropped, and the broker delivers it again after the reconnection (the persistent session
   * keeps it). Waiting for every message would serialise them on the fsync, so in normal
   * running the PUBACK goes at once: a write failure first met by a message already
   * acknowledged loses that message's readings (see the MQTT adapter README).
   */
  private holdWhileBusy(client: MqttClient, emit: Emit): void {
    const { opts } = this;
    let last: PromiseLike<unknown> | void;
    client.on('message', (topic, payload) => {
      last = this.onMessage(topic, payload, emit);
    });
    client.handleMessage = (packet, callback) => {
      const pending = last;
      last = undefined;
      if (!pending || !(opts.congested?.() || opts.refusing?.())) return callback();
      pending.then(
        (outcome) => {
          if (packet.qos === 0 || !notKept(outcome)) return callback();
          this.warn.warn(
            'not_kept',
            { topic: packet.topic },
            'MQTT adapter: a message not kept is not acknowledged; reconnecting so the broker sends it again',
          );
          client.stream.destroy();
          callback(new Error('not kept: the spool cannot take it now'));
        },
        () => callback(),
      );
    };
  }

  private setReady(ready: boolean): void {
    this.isReady = ready;
    if (!ready) return;
    for (const wake of this.onReady) wake();
    this.onReady.clear();
  }

  /** Settles once every reading of the message is accepted or refused (undefined: nothing to wait for). */
  private onMessage(topic: string, payload: Buffer, emit: Emit): PromiseLike<unknown> | void {
    const { opts } = this;
    this.messages++;
    const now = opts.clock.now();
    // One limits object, moved with the clock: decodeMessage keeps nothing of it, and one per message showed in the allocation profile.
    const limits = this.limits;
    limits.oldest = now - opts.maxAgeH * 3_600_000;
    limits.newest = now + opts.maxFutureS * 1000;
    const device = opts.topics.resolve(topic);
    const decoded = decodeMessage(topic, payload, device, () => this.stamps.next(device!.id), limits);
    this.countReceived(decoded.readings.length + decoded.rejections.length);
    for (const r of decoded.rejections) {
      opts.metrics.reject('mqtt', r.reason);
      this.warn.warn(
        `mqtt_${r.reason}`,
        { reason: r.reason, topic, device: device?.id },
        `MQTT payload refused (${r.reason}): ${r.detail}`,
      );
    }
    const { readings } = decoded;
    if (readings.length === 1) return emit(readings[0]!);
    if (readings.length === 0) return;
    const pending: PromiseLike<unknown>[] = [];
    for (const reading of readings) {
      const p = emit(reading);
      if (p) pending.push(p);
    }
    return Promise.all(pending);
  }

  /**
   * Adds to the received-readings counter once per turn of the event loop: prom-client hashes
   * the labels on every increment, which showed in the profile at tens of thousands of messages
   * a second.
   */
  private countReceived(n: number): void {
    if (this.received === 0) {
      setImmediate(() => {
        this.opts.metrics.readingsReceived.inc({ protocol: 'mqtt' }, this.received);
        this.received = 0;
      });
    }
    this.received += n;
  }

  /** Resolves once connected and subscribed, or rejects after `timeoutMs`. */
  waitReady(timeoutMs = 10_000): Promise<void> {
    if (this.isReady) return Promise.resolve();
    const timers = this.opts.timers ?? realTimers;
    return new Promise((resolve, reject) => {
      const wake = () => {
        timers.clearTimeout(timer);
        resolve();
      };
      const timer = timers.setTimeout(() => {
        this.onReady.delete(wake);
        reject(
          new Error(
            `MQTT adapter not connected to ${redact(this.opts.url)} after ${timeoutMs} ms: ${this.lastError ?? 'no answer'}`,
          ),
        );
      }, timeoutMs);
      this.onReady.add(wake);
    });
  }

  /** Every MQTT device is unheard while the gateway itself is off the broker. */
  linkDown(): string | undefined {
    return this.health().status === 'ok' ? undefined : 'the gateway is not connected to the MQTT broker';
  }

  /** One broker, no lines: its loss shows in linkDown and health. */
  linesDown(): LineDown[] {
    return [];
  }

  deviceStatus(): undefined {
    return undefined;
  }

  health(): ComponentHealth {
    if (this.opts.local)
      return this.isReady
        ? { status: 'ok', broker: 'embedded (in-process)', messages: this.messages }
        : { status: 'down', broker: 'embedded (in-process)', detail: 'stopped', messages: this.messages };
    return this.isReady
      ? { status: 'ok', broker: redact(this.opts.url), messages: this.messages }
      : {
          status: 'down',
          broker: redact(this.opts.url),
          detail: `${this.connected ? 'connected but not subscribed' : 'not connected to the MQTT broker'}${this.lastError ? `: ${this.lastError}` : ''}`,
          messages: this.messages,
        };
  }

  async stop(): Promise<void> {
    if (this.opts.local && this.isReady) this.opts.local.setLocalConsumer(undefined);
    this.setReady(false);
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    this.connected = false;
  }
}

/** Never log credentials that may sit in a broker URL. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
