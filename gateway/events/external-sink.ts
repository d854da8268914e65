import mqtt, { type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Timers } from '../ports/clock.js';
import { topicMatches } from '../ports/topics.js';
import type { BusSink } from './sink.js';

// An external broker (Mosquitto, EMQX, a broker cluster head office shares) as the events'
// sink: an MQTT connection of its own, beside the MQTT adapter's, because it carries the
// site's last will (`offline` on dutyroom/<site>/status, retained) and publishes where the
// adapter only reads. Messages go at QoS 1 and only while connected (the publisher's outbox
// keeps them otherwise); what mqtt.js took and the broker has not acknowledged it sends again
// after a reconnect. At each connection the publisher reads the site's retained states
// (subscribing for `settleMs` after the SUBACK) to clear those of alarms that closed while
// the gateway was away.

export interface ExternalSinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  will: { topic: string; payload: Buffer };
  timers: Timers;
  logger: Logger;
  /** How long after the SUBACK retained messages are collected (default 1000 ms). */
  settleMs?: number;
  clientOptions?: IClientOptions;
}

export function externalSink(o: ExternalSinkOptions): BusSink {
  const listeners: (() => void)[] = [];
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    ...(o.username ? { username: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: { topic: o.will.topic, payload: o.will.payload, qos: 1, retain: true },
    ...o.clientOptions,
  });
  client.on('connect', () => {
    o.logger.info('events: connected to the external broker');
    for (const fn of listeners) fn();
  });
  client.on('error', (err) => o.logger.warn({ err: err.message }, 'events: external broker error'));
  return {
    publish: async (topic, payload, { retain }) => void (await client.publishAsync(topic, payload, { qos: 1, retain })),
    connected: () => client.connected,
    onConnect: (fn) => void listeners.push(fn),
    retainedTopics: (filter) => retainedTopics(client, filter, o.timers, o.settleMs ?? 1000),
    close: () => client.endAsync(),
  };
}

/** Topics holding a non-empty retained message under `filter`, as the broker sends them on subscribing. */
async function retainedTopics(client: mqtt.MqttClient, filter: string, timers: Timers, settleMs: number) {
  const found = new Set<string>();
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (packet.retain && payload.length > 0 && topicMatches(filter, topic)) found.add(topic);
  };
  client.on('message', onMessage);
  try {
    await client.subscribeAsync(filter, { qos: 0 });
    await new Promise<void>((resolve) => timers.setTimeout(resolve, settleMs));
    await client.unsubscribeAsync(filter);
  } finally {
    client.removeListener('message', onMessage);
  }
  return [...found];
}
