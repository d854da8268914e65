import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.js';
import type { HqBoard } from './board.js';
import type { HqConfig } from './config.js';
import { route, subscriptions } from './topics.js';

// Follows the sites on the shared broker: a persistent session (clean: false, a stable
// client id) with QoS 1 subscriptions, so the broker keeps what the sites publish while head
// office is away and hands it over when it is back. Every message goes to the board.

export interface Follower {
  connected(): boolean;
  stop(): Promise<void>;
}

export function clientOptions(cfg: HqConfig['broker'], baseDir: string): IClientOptions {
  const file = (p: string | undefined) => (p === undefined ? undefined : readFileSync(resolve(baseDir, p)));
  return {
    clientId: cfg.client_id,
    clean: false,
    reconnectPeriod: 2000,
    ...(cfg.username !== undefined ? { username: cfg.username } : {}),
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    ...(cfg.tls
      ? {
          ...(cfg.tls.ca ? { ca: file(cfg.tls.ca) } : {}),
          ...(cfg.tls.cert ? { cert: file(cfg.tls.cert) } : {}),
          ...(cfg.tls.key ? { key: file(cfg.tls.key) } : {}),
          rejectUnauthorized: cfg.tls.reject_unauthorized,
        }
      : {}),
  };
}

export function follow(opts: {
  config: HqConfig;
  baseDir: string;
  board: HqBoard;
  clock: Clock;
  logger: Logger;
}): Follower {
  const { config, board, clock, logger } = opts;
  const client: MqttClient = mqtt.connect(config.broker.url, clientOptions(config.broker, opts.baseDir));
  const filters = subscriptions(config);
  client.on('connect', (connack) => {
    // A session the broker kept already holds the subscriptions; subscribing again is harmless
    // and covers a site added to hq.yaml since.
    logger.info({ sessionPresent: connack.sessionPresent }, 'hq: connected to the shared broker');
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (err) logger.error({ err }, 'hq: subscribe failed');
    });
  });
  client.on('message', (topic, payload) => {
    const routed = route(config, topic, payload.toString('utf8'), clock.now());
    if (!routed) return;
    if ('refused' in routed) {
      board.refused++;
      logger.warn({ topic, why: routed.refused }, 'hq: message refused');
      return;
    }
    board.apply(routed.site, routed.message);
  });
  client.on('error', (err) => logger.warn({ err: err.message }, 'hq: broker connection'));
  return {
    connected: () => client.connected,
    stop: async () => {
      await client.endAsync();
    },
  };
}
