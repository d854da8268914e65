import type { AedesOptions, Client, PublishPacket } from 'aedes';
import { holdBack, notKept } from './consumer.js';
import type { BrokerContext } from './context.js';
import { payloadBuffer, payloadBytes } from './packets.js';

/** A publish is allowed from a logged-in client, within the payload limit, on a topic its login may publish to. */
export function authorizePublish(ctx: BrokerContext): Required<AedesOptions>['authorizePublish'] {
  return (client, packet, done) => {
    const refusal = publishRefusal(ctx, client, packet);
    if (!refusal) return handOverQos1(ctx, client!, packet, done);
    ctx.counts.refusedPublishes++;
    if (refusal.oversized) ctx.counts.oversized++;
    const username = client ? ctx.loginOf.get(client)?.username : undefined;
    ctx.throttled.warn(
      `publish:${username ?? ''}:${client?.id ?? ''}:${refusal.reason}`,
      { username, clientId: client?.id, topic: packet.topic, bytes: payloadBytes(packet), reason: refusal.reason },
      'broker publish refused',
    );
    // MQTT 3.1.1 cannot refuse one PUBLISH, so aedes closes the connection (MQTT-3.3.5-2).
    done(new Error(`publish to "${packet.topic}" refused: ${refusal.reason}`));
  };
}

/**
 * aedes writes a QoS 1 PUBACK right after the publish check, before it publishes: handing the
 * message over here, and answering once the consumer is done with it, is the only point where
 * the PUBACK can wait for the reading to be accepted (fsynced).
 */
function handOverQos1(
  ctx: BrokerContext,
  client: Client,
  packet: PublishPacket,
  done: (error?: Error | null) => void,
): void {
  const consumer = ctx.local;
  if (packet.qos !== 1 || !consumer?.wants(packet.topic)) return done(null);
  ctx.handedOver.add(packet);
  const handover = consumer.deliver(packet.topic, payloadBuffer(packet), 1);
  if (!handover) return done(null);
  holdBack(ctx, consumer, client, handover.done);
  ctx.waiting.add(handover.done, (value) => {
    if (!consumer.notKept(value, handover.index)) return done(null);
    notKept(ctx, client, packet);
    // No PUBACK: aedes closes the connection (MQTT-3.3.5-2) and the device sends the message again.
    done(new Error(`publish to "${packet.topic}" not acknowledged: the gateway cannot keep it now`));
  });
}

function publishRefusal(
  ctx: BrokerContext,
  client: Client | null,
  packet: PublishPacket,
): { reason: string; oversized?: boolean } | undefined {
  // A null client is a will left behind by another broker sharing the persistence; this
  // broker runs alone, so there is nobody to vouch for such a message.
  if (!client) return { reason: 'no client (orphaned will)' };
  const account = ctx.loginOf.get(client);
  if (!account) return { reason: 'not logged in' };
  if (payloadBytes(packet) > ctx.maxPayloadBytes)
    return { reason: `payload over ${ctx.maxPayloadBytes} bytes`, oversized: true };
  if (!ctx.acl.canPublish(account.username, packet.topic)) return { reason: 'topic not allowed for this login' };
  return undefined;
}
