import type { MqttDeviceConfig } from '../../config/schema.js';
import { siteReadingFilter } from '../../ports/topics.js';
import type { PayloadProfile } from '../../profiles/payload.js';
import type { TopicDevice } from './decode.js';

/** Maps a topic to the MQTT device that owns it. */
export class TopicDirectory {
  private readonly byId = new Map<string, TopicDevice>();
  private readonly byTopic = new Map<string, TopicDevice>();
  private readonly prefix: string;

  constructor(
    readonly site: string,
    devices: MqttDeviceConfig[],
    profiles: Map<string, PayloadProfile>,
  ) {
    this.prefix = `dutyroom/${site}/`;
    for (const d of devices) {
      const profile = profiles.get(d.profile);
      if (!profile) throw new Error(`device ${d.id}: no payload profile "${d.profile}"`);
      const entry: TopicDevice = { id: d.id, kind: d.kind, profile };
      this.byId.set(d.id, entry);
      if (d.connection.topic) this.byTopic.set(d.connection.topic, entry);
    }
  }

  resolve(topic: string): TopicDevice | undefined {
    const exact = this.byTopic.get(topic);
    if (exact) return exact;
    if (!topic.startsWith(this.prefix) || !topic.endsWith('/reading')) return undefined;
    const id = topic.slice(this.prefix.length, -'/reading'.length);
    return id.includes('/') ? undefined : this.byId.get(id);
  }

  /**
   * Whether a topic matches what the gateway subscribes to (`subscriptions()`), without a
   * topic matcher: the in-process handoff asks this for every message the broker takes.
   */
  wants(topic: string): boolean {
    if (this.byTopic.has(topic)) return true;
    if (!topic.startsWith(this.prefix) || !topic.endsWith('/reading')) return false;
    // `+` matches exactly one level, an empty one included.
    const end = topic.length - '/reading'.length;
    return end >= this.prefix.length && topic.indexOf('/', this.prefix.length) === end;
  }

  /** What the gateway subscribes to: the site's reading topics and every extra device topic. */
  subscriptions(): string[] {
    return [siteReadingFilter(this.site), ...this.byTopic.keys()];
  }
}
