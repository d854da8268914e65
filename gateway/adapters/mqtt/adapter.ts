import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Reading } from '../../../rules/model/reading.js';
import { ReceiveStamps, type Clock } from '../../clock.js';
import type { ComponentHealth, HealthSource } from '../../health.js';
import { ThrottledLog } from '../../log-throttle.js';
import type { Metrics } from '../../metrics.js';
import { decodeMessage, type DecodeLimits } from './decode.js';
import type { TopicDirectory } from './topics.js';

export interface MqttAdapterOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the embedded or an external broker. */
  url: string;
  username?: string;
  password?: string;
  /** Stable id, so a persistent session keeps QoS 1 messages while the gateway restarts. */
  clientId: string;
  topics: TopicDirectory;
  maxPayloadBytes: number;
  maxFutureS: number;
  maxAgeH: number;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Extra mqtt.js options (TLS CA, keepalive…). */
  clientOptions?: IClientOptions;
}

/**
 * The MQTT service adapter: subscribes to the site's device topics at the broker (embedded
 * or external, same code), decodes every message with its device's payload profile and emits
 * one Reading per valid item. A bad payload is counted and logged; the adapter carries on.
 */
export class MqttAdapter implements HealthSource {
  readonly component = 'mqtt';
  private client: MqttClient | undefined;
  private connected = false;
  /** Connected and the subscriptions granted: messages will flow. */
  private ready = false;
  private lastError: string | undefined;
  private messages = 0;
  private readonly stamps: ReceiveStamps;
  private readonly warn: ThrottledLog;

  constructor(private readonly opts: MqttAdapterOptions) {
    this.stamps = new ReceiveStamps(opts.clock);
    this.warn = new ThrottledLog(opts.logger, opts.clock);
  }

  /** Starts connecting; resolves at once (the broker may come later: health tells). */
  start(emit: (reading: Reading) => void): void {
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
      if (connack.sessionPresent) {
        this.ready = true;
      } else {
        const subs = Object.fromEntries(opts.topics.subscriptions().map((t) => [t, { qos: 1 as const }]));
        client.subscribe(subs, (err, granted) => {
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          if (err || refused.length) {
            this.lastError = `subscription refused: ${err?.message ?? refused.join(', ')}`;
            opts.logger.error({ err, refused }, 'MQTT adapter: the broker refused a subscription');
          } else {
            this.ready = true;
          }
        });
      }
    });
    client.on('close', () => {
      if (this.connected && this.client) opts.logger.warn({ url: redact(opts.url) }, 'MQTT adapter disconnected; reconnecting');
      this.connected = false;
      this.ready = false;
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.warn.warn('mqtt_error', { err: err.message }, 'MQTT adapter error');
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload, emit));
  }

  private onMessage(topic: string, payload: Buffer, emit: (reading: Reading) => void): void {
    const { opts } = this;
    this.messages++;
    const now = opts.clock.now();
    const limits: DecodeLimits = {
      maxPayloadBytes: opts.maxPayloadBytes,
      oldest: now - opts.maxAgeH * 3_600_000,
      newest: now + opts.maxFutureS * 1000,
      maxBatch: 1000,
    };
    const device = opts.topics.resolve(topic);
    const decoded = decodeMessage(topic, payload, device, () => this.stamps.next(device!.id), limits);
    opts.metrics.readingsReceived.inc({ protocol: 'mqtt' }, decoded.readings.length + decoded.rejections.length);
    for (const r of decoded.rejections) {
      opts.metrics.reject('mqtt', r.reason);
      this.warn.warn(`mqtt_${r.reason}`, { reason: r.reason, topic, device: device?.id }, `MQTT payload refused (${r.reason}): ${r.detail}`);
    }
    for (const reading of decoded.readings) emit(reading);
  }

  /** Resolves once connected and subscribed, or rejects after `timeoutMs`. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.ready && this.client?.connected)) {
      if (Date.now() > deadline) throw new Error(`MQTT adapter not connected to ${redact(this.opts.url)} after ${timeoutMs} ms: ${this.lastError ?? 'no answer'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  health(): ComponentHealth {
    return this.ready
      ? { status: 'ok', broker: redact(this.opts.url), messages: this.messages }
      : { status: 'down', broker: redact(this.opts.url), detail: `${this.connected ? 'connected but not subscribed' : 'not connected to the MQTT broker'}${this.lastError ? `: ${this.lastError}` : ''}`, messages: this.messages };
  }

  async stop(): Promise<void> {
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
