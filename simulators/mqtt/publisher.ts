import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttDeviceConfig, SiteConfig } from '../../gateway/ports/site.js';
import type { PayloadProfile } from '../../gateway/profiles/payload.js';
import { readingTopic, topicMatches } from '../../gateway/ports/topics.js';
import type { ObservationSink } from '../estate/driver.js';
import type { Fields, Observation } from '../estate/types.js';

export interface MqttSimulatorOptions {
  /** Broker URL (the embedded one, or an external broker). */
  url: string;
  config: SiteConfig;
  profiles: Map<string, PayloadProfile>;
  /** Password of a broker login (device id or account username); undefined = cannot log in. */
  passwordOf: (username: string) => string | undefined;
  /** Only these devices (ids); all MQTT devices when absent. */
  only?: readonly string[];
}

export interface RunningMqttSimulator extends ObservationSink {
  /** Messages published so far. */
  published(): number;
  /** The devices it publishes for (MQTT devices that have a way to log in). */
  devices(): string[];
  stop(): Promise<void>;
}

interface Target {
  client: MqttClient;
  topic: string;
  profile: PayloadProfile;
}

/**
 * The site's MQTT devices on the wire: each observation of the simulated estate is published
 * in the payload its device's profile describes (the profile's mapping run backwards), with
 * the observation's time, logged in as the device itself or, for devices behind a bridge
 * (zigbee2mqtt, the NB-IoT operator platform), as the broker account allowed to publish on
 * their topic. A dark device publishes nothing, as a dead one would.
 */
export async function startMqttSimulator(opts: MqttSimulatorOptions): Promise<RunningMqttSimulator> {
  const { config } = opts;
  const clients = new Map<string, Promise<MqttClient>>();
  const targets = new Map<string, Target>();
  let count = 0;
  const run = randomUUID().slice(0, 8);

  const clientFor = (username: string): Promise<MqttClient> => {
    let c = clients.get(username);
    if (!c) {
      c = mqtt.connectAsync(opts.url, {
        username,
        password: opts.passwordOf(username),
        clientId: `sim-${username}-${run}`,
        reconnectPeriod: 1000,
      });
      clients.set(username, c);
    }
    return c;
  };
  const closeAll = async () => {
    const settled = await Promise.allSettled(clients.values());
    await Promise.all(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.endAsync()] : [])));
  };

  const mqttDevices = config.devices.filter(
    (d): d is MqttDeviceConfig => d.protocol === 'mqtt' && (!opts.only || opts.only.includes(d.id)),
  );
  try {
    await Promise.all(
      mqttDevices.map(async (d) => {
        const profile = opts.profiles.get(d.profile);
        if (!profile) throw new Error(`simulator: device ${d.id} has no payload profile "${d.profile}"`);
        const topic = d.connection.topic ?? readingTopic(config.site.id, d.id);
        const login = loginFor(d, topic, config);
        if (!login) return; // nobody may publish for it: the gateway shows it offline, as it should
        targets.set(d.id, { client: await clientFor(login), topic, profile });
      }),
    );
  } catch (err) {
    await closeAll();
    throw err;
  }

  return {
    apply(obs: Observation) {
      const t = targets.get(obs.deviceId);
      if (!t || !('fields' in obs)) return;
      t.client.publish(t.topic, JSON.stringify(payloadOf(obs.fields, obs.ts, t.profile)), { qos: 1 });
      count++;
    },
    published: () => count,
    devices: () => [...targets.keys()],
    stop: closeAll,
  };
}

/** The device's own login, or the broker account whose publish filters cover its topic. */
function loginFor(d: MqttDeviceConfig, topic: string, config: SiteConfig): string | undefined {
  if (d.connection.password_hash) return d.connection.username ?? d.id;
  return config.broker.accounts.find((a) => a.publish.some((f) => topicMatches(f, topic)))?.username;
}

/** The payload with the observation's time where the profile reads it (canonical `ts`, zigbee2mqtt `last_seen`). */
export function payloadOf(fields: Fields, ts: number, profile: PayloadProfile): Record<string, unknown> {
  const out = encode(fields, profile);
  const key = profile.timestamp?.field;
  if (key) out[key] = profile.canonical ? ts : new Date(ts).toISOString();
  return out;
}

/** Canonical fields → the payload the profile reads (its mapping backwards). */
export function encode(fields: Fields, profile: PayloadProfile): Record<string, unknown> {
  if (profile.canonical) return { ...fields };
  const out: Record<string, unknown> = {};
  for (const [key, m] of Object.entries(profile.fields)) {
    let v = fields[m.to];
    if (v === undefined) continue;
    if (typeof v === 'boolean' && m.invert) v = !v;
    if (typeof v === 'number' && (m.scale !== 1 || m.offset !== 0)) v = (v - m.offset) / m.scale;
    if (m.map) v = (Object.entries(m.map).find(([, to]) => to === v)?.[0] ?? v) as typeof v;
    out[key] = v;
  }
  if (profile.unknown_keys === 'ignore') out.linkquality = 120; // bridges add keys such profiles ignore
  return out;
}
