// The topic scheme devices publish to: dutyroom/<site>/<device id>/reading. The gateway
// subscribes to it and the simulators publish on it, so it is written once, here. A device
// (or a bridge such as zigbee2mqtt) may publish to one extra topic of its own, named in its
// connection.

export const readingTopic = (site: string, deviceId: string): string => `dutyroom/${site}/${deviceId}/reading`;
export const siteReadingFilter = (site: string): string => `dutyroom/${site}/+/reading`;
/** Everything a device may publish under its own name (readings now, status/events later). */
export const deviceTopicFilter = (site: string, deviceId: string): string => `dutyroom/${site}/${deviceId}/#`;
