import type { AedesOptions } from 'aedes';
import type { BrokerContext } from './context.js';

/** A subscription is granted when every topic it could deliver lies inside the login's subscribe filters. */
export function authorizeSubscribe(ctx: BrokerContext): Required<AedesOptions>['authorizeSubscribe'] {
  return (client, sub, done) => {
    const account = ctx.loginOf.get(client);
    if (account && ctx.acl.canSubscribe(account.username, sub.topic)) {
      ctx.qos1Readers.granted(sub.topic, sub.qos);
      return done(null, sub);
    }
    ctx.counts.refusedSubscribes++;
    ctx.throttled.warn(
      `subscribe:${account?.username ?? ''}:${client.id}`,
      { username: account?.username, clientId: client.id, topic: sub.topic },
      'broker subscription refused',
    );
    // A null subscription is granted as QoS 128 (failure) in the SUBACK; the client stays.
    done(null, null);
  };
}
