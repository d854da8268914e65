import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../../broker/acl.js';
import type { MqttDeviceConfig } from '../../config/schema.js';
import { loadPayloadProfiles } from '../../profiles/payload.js';
import { TopicDirectory } from './topics.js';

// wants() decides, without a topic matcher, which messages the embedded broker hands the
// adapter in-process: it must match exactly what the adapter subscribes to elsewhere.

const devices = [
  { id: 'wm-1', kind: 'water_meter', profile: 'canonical', connection: {} },
  { id: 'leak-1', kind: 'leak_sensor', profile: 'zigbee2mqtt-leak', connection: { topic: 'zigbee2mqtt/leak-1' } },
] as unknown as MqttDeviceConfig[];
const topics = new TopicDirectory('s1', devices, loadPayloadProfiles());

describe('TopicDirectory.wants', () => {
  it('is true exactly for the topics its subscriptions match', () => {
    const candidates = [
      'dutyroom/s1/wm-1/reading',
      'dutyroom/s1/ghost/reading',
      'dutyroom/s1//reading',
      'dutyroom/s1/wm-1/status',
      'dutyroom/s1/a/b/reading',
      'dutyroom/s1/reading',
      'dutyroom/s2/wm-1/reading',
      'dutyroom/s1/wm-1/reading/x',
      'zigbee2mqtt/leak-1',
      'zigbee2mqtt/leak-2',
      'zigbee2mqtt/leak-1/set',
      '$SYS/broker/heartbeat',
      'dutyroom/s1/wm-1/readings',
    ];
    for (const t of candidates) {
      expect(topics.wants(t), t).toBe(topics.subscriptions().some((f) => topicMatches(f, t)));
    }
  });
});
