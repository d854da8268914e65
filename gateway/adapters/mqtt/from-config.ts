import type { AdapterKind } from '../adapter.js';
import { MqttAdapter } from './adapter.js';
import { TopicDirectory } from './topics.js';

/** The MQTT adapter of a site: its devices' topics, the broker, the ingest limits of the site file. */
export const mqttAdapter: AdapterKind = {
  protocol: 'mqtt',
  component: 'mqtt',
  create: ({ config, clock, timers, metrics, logger, profiles, broker, pipeline }) =>
    new MqttAdapter({
      url: broker.url,
      ...(broker.local
        ? { local: broker.local }
        : {
            ...(config.broker.username ? { username: config.broker.username } : {}),
            ...(config.broker.password ? { password: config.broker.password } : {}),
          }),
      clientId: `dutyroom-gateway-${config.site.id}`,
      topics: new TopicDirectory(
        config.site.id,
        config.devices.flatMap((d) => (d.protocol === 'mqtt' ? [d] : [])),
        profiles.payload,
      ),
      maxPayloadBytes: config.broker.max_payload_bytes,
      maxFutureS: config.ingest.max_future_s,
      maxAgeH: config.ingest.max_age_h,
      clock,
      timers,
      metrics,
      logger,
      congested: () => pipeline.congested(),
      overloaded: () => pipeline.overloaded(),
      refusing: () => pipeline.refusing(),
    }),
};
