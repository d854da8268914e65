import type { AedesOptions, Client, PublishPacket } from 'aedes';
import { holdBack, notKept } from './consumer.js';
import type { BrokerContext } from './context.js';
import { payloadBuffer, payloadBytes } from './packets.js';
import { PUBACK } from './settlements.js';

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
 * message over here, and acknowledging once the consumer is done with it, is the only point
 * where the PUBACK can wait for the reading to be accepted (fsynced).
 *
 * When no client may read the topic at QoS 1 (nobody subscribed to it at QoS 1, and it is not
 * retained), the message goes on through aedes as QoS 0 at once, and the PUBACK is written
 * here once the consumer has kept it (settlements.ts): nobody can tell the difference, and
 * aedes's own QoS 1 path would keep its packet, callbacks and a closure of ours alive until
 * the fsync, and publish it through its offline queues. Otherwise aedes acknowledges it,
 * when the consumer is done.
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
  const flags = holdBack(ctx, consumer, client);
  // A will (published by aedes after its client went) has no packet id and nobody to answer.
  if (packet.messageId !== undefined && !packet.retain && !ctx.qos1Readers.reads(packet.topic)) {
    ctx.settlements.add(consumer, handover.done, client, flags | PUBACK, handover.index, packet.messageId);
    packet.qos = 0;
    return done(null);
  }
  if (flags) ctx.settlements.add(consumer, handover.done, client, flags, handover.index);
  ctx.waiting.add(handover.done, (value) => {
    if (!consumer.notKept(value, handover.index)) return done(null);
    notKept(ctx, client, packet.topic);
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
