import type { AedesOptions } from 'aedes';
import { holdBack, notKept } from './consumer.js';
import type { BrokerContext } from './context.js';
import { payloadBuffer } from './packets.js';

/**
 * After an authorised message went to the subscribers. QoS 0 and 2 are handed over here (the
 * QoS 2 PUBREC is written after this callback, so it waits like the QoS 1 PUBACK in
 * authorize-publish.ts); QoS 0 does not wait: nothing is acknowledged to the publisher.
 */
export function published(ctx: BrokerContext): Required<AedesOptions>['published'] {
  return (packet, client, done) => {
    const consumer = ctx.local;
    if (!consumer || ctx.handedOver.has(packet) || !consumer.wants(packet.topic)) return done(null);
    const handover = consumer.deliver(packet.topic, payloadBuffer(packet), packet.qos);
    if (handover && client) {
      const flags = holdBack(ctx, consumer, client);
      if (flags) ctx.settlements.add(consumer, handover.done, client, flags, handover.index);
    }
    if (handover && packet.qos === 2) {
      return ctx.waiting.add(handover.done, (value) => {
        if (client && consumer.notKept(value, handover.index)) {
          // The PUBREC is written after this callback: closing first means it never goes.
          notKept(ctx, client, packet.topic);
          client.close();
        }
        done(null);
      });
    }
    done(null);
  };
}
