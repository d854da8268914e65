import mqtt, { type MqttClient } from 'mqtt';
import { floorsOf, type MqttDeviceConfig, type SiteConfig } from '../../gateway/config/schema.js';
import { readingTopic } from '../../gateway/adapters/mqtt/topics.js';
import type { PayloadProfile } from '../../gateway/adapters/mqtt/profile.js';
import { topicMatches } from '../../broker/acl.js';
import { hashSeed, seededRandom } from '../random.js';
import { initialState, published, step, type SimDevice, type State } from './behaviour.js';

export interface MqttSimulatorOptions {
  /** Broker URL (the embedded one, or an external broker). */
  url: string;
  config: SiteConfig;
  profiles: Map<string, PayloadProfile>;
  /** Password of a broker login (device id or account username); undefined = cannot log in. */
  passwordOf: (username: string) => string | undefined;
  /** Simulated seconds per real second (publish intervals shrink by the same factor). */
  speed?: number;
  seed?: number;
  /** Only these devices (ids); all MQTT devices when absent. */
  only?: string[];
}

export interface RunningMqttSimulator {
  /** Messages published so far. */
  published(): number;
  stop(): Promise<void>;
}

/**
 * Publishes for every MQTT device of the site, in the payload its profile describes (the
 * profile's mapping run backwards), logged in as the device itself or, for devices behind a
 * bridge such as zigbee2mqtt, as the broker account allowed to publish on their topic.
 */
export async function startMqttSimulator(opts: MqttSimulatorOptions): Promise<RunningMqttSimulator> {
  const { config } = opts;
  const speed = opts.speed ?? 1;
  const seed = opts.seed ?? 1;
  const clients = new Map<string, MqttClient>();
  const timers: NodeJS.Timeout[] = [];
  let count = 0;
  const hourFmt = new Intl.DateTimeFormat('en-GB', { timeZone: config.site.timezone, hour: 'numeric', hourCycle: 'h23' });

  const clientFor = async (username: string): Promise<MqttClient> => {
    let c = clients.get(username);
    if (!c) {
      c = await mqtt.connectAsync(opts.url, { username, password: opts.passwordOf(username), clientId: `sim-${username}-${seed}`, reconnectPeriod: 1000 });
      clients.set(username, c);
    }
    return c;
  };

  const mqttDevices = config.devices.filter((d): d is MqttDeviceConfig => d.protocol === 'mqtt' && (!opts.only || opts.only.includes(d.id)));
  for (const d of mqttDevices) {
    const building = config.buildings.find((b) => b.id === d.place.building)!;
    const levels = floorsOf(building).map((f) => f.level);
    const sim: SimDevice = {
      id: d.id,
      kind: d.kind,
      vacant: building.units.find((u) => u.id === d.place.unit)?.vacant ?? false,
      floors: { lowest: Math.min(...levels), highest: Math.max(...levels) },
      nominalVoltage: d.nominal_voltage_v ?? 220,
    };
    const profile = opts.profiles.get(d.profile);
    if (!profile) throw new Error(`simulator: device ${d.id} has no payload profile "${d.profile}"`);
    const topic = d.connection.topic ?? readingTopic(config.site.id, d.id);
    const login = loginFor(d, topic, config);
    if (!login) continue; // nobody may publish for it: the gateway will show it offline, as it should
    const client = await clientFor(login);
    const rnd = seededRandom(hashSeed(seed, d.id));
    let state: State = initialState(sim, rnd);
    const periodMs = (d.publish_interval_s * 1000) / speed;
    const publish = () => {
      const hour = Number(hourFmt.format(new Date()));
      state = step(sim, state, d.publish_interval_s, hour, rnd);
      client.publish(topic, JSON.stringify(encode(published(state), profile)), { qos: 1 });
      count++;
    };
    publish();
    timers.push(setInterval(publish, periodMs));
  }

  return {
    published: () => count,
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...clients.values()].map((c) => c.endAsync()));
    },
  };
}

/** The device's own login, or the broker account whose publish filters cover its topic. */
function loginFor(d: MqttDeviceConfig, topic: string, config: SiteConfig): string | undefined {
  if (d.connection.password_hash) return d.connection.username ?? d.id;
  return config.broker.accounts.find((a) => a.publish.some((f) => topicMatches(f, topic)))?.username;
}

/** Canonical fields → the payload the profile reads (its mapping backwards). */
export function encode(fields: State, profile: PayloadProfile): Record<string, unknown> {
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
