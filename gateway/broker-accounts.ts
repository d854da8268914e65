import type { BrokerAccount } from '../broker/acl.js';
import { deviceTopicFilter } from './ports/topics.js';
import type { SiteConfig } from './config/schema.js';

/**
 * Broker logins from the site file: every MQTT device that has a password (it may publish
 * only under its own name, plus its own extra topic), and the service accounts as written.
 * Devices without a password publish through a bridge account (zigbee2mqtt) or not at all.
 */
export function brokerAccounts(config: SiteConfig): BrokerAccount[] {
  const site = config.site.id;
  const devices: BrokerAccount[] = config.devices.flatMap((d) => {
    if (d.protocol !== 'mqtt' || !d.connection.password_hash) return [];
    const own = deviceTopicFilter(site, d.id);
    return [
      {
        username: d.connection.username ?? d.id,
        passwordHash: d.connection.password_hash,
        publish: d.connection.topic ? [own, d.connection.topic] : [own],
        subscribe: [own],
      },
    ];
  });
  const services: BrokerAccount[] = config.broker.accounts.map((a) => ({
    username: a.username,
    passwordHash: a.password_hash,
    publish: a.publish,
    subscribe: a.subscribe,
  }));
  return [...devices, ...services];
}
