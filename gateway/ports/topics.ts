// The topic scheme devices publish to: dutyroom/<site>/<device id>/reading. The gateway
// subscribes to it and the simulators publish on it, so it is written once, here. A device
// (or a bridge such as zigbee2mqtt) may publish to one extra topic of its own, named in its
// connection.

export const readingTopic = (site: string, deviceId: string): string => `dutyroom/${site}/${deviceId}/reading`;
export const siteReadingFilter = (site: string): string => `dutyroom/${site}/+/reading`;
/** Everything a device may publish under its own name (readings now, status/events later). */
export const deviceTopicFilter = (site: string, deviceId: string): string => `dutyroom/${site}/${deviceId}/#`;

/**
 * Does `filter` match `topic`? MQTT 3.1.1 rules: `+` matches exactly one level, `#` the
 * parent level and any number below it (`a/#` matches `a`), and a filter that starts with a
 * wildcard does not match a topic that starts with `$` (MQTT-4.7.2-1), so `#` never
 * delivers `$SYS/...`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
