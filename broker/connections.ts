import type { Aedes } from 'aedes';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BrokerContext } from './context.js';
import { boundReads, ReadBudget, type BatchReader } from './bounded-reads.js';
import { guardStream, PacketGuard } from './doors.js';
import { remoteOf } from './packets.js';

// A PUBLISH carries its topic (up to 64 KiB), packet id and properties besides the payload.
const PACKET_HEADROOM = 70 * 1024;

/** Admits a new connection at the door: turned away if its address comes too fast, else guarded and handed to aedes. */
export type Admit = (stream: Duplex, address: string, req?: IncomingMessage) => void;

export function admitter(ctx: BrokerContext, aedes: Aedes): Admit {
  const budget = new ReadBudget();
  return (stream, address, req) => {
    if (!ctx.rate.take(address)) {
      ctx.counts.refusedConnections++;
      ctx.throttled.warn(
        `rate:${address}`,
        { remote: address },
        'broker connection refused: too many new connections from this address',
      );
      stream.destroy();
      return;
    }
    const guard = new PacketGuard(ctx.limits.preAuthPacketBytes, ctx.maxPayloadBytes + PACKET_HEADROOM);
    ctx.guards.set(stream, guard);
    guardStream(stream, guard, (cut) => {
      if (cut.reason === 'oversized') ctx.counts.oversized++;
      else ctx.counts.cutBeforeLogin++;
      ctx.throttled.warn(
        `cut:${address}:${cut.reason}`,
        { remote: address, reason: cut.reason, declared: cut.declared },
        cut.reason === 'oversized'
          ? 'broker connection cut: a packet larger than the payload limit'
          : 'broker connection cut before login',
      );
    });
    const client = aedes.handle(stream, req) as unknown as BatchReader;
    boundReads(stream, client, budget);
  };
}

/** Counts the connections closed for breaking the protocol; a socket reset is the network's doing, not the client's. */
export function countProtocolErrors(ctx: BrokerContext, aedes: Aedes): void {
  const protocolError = (err: Error) =>
    !/ECONNRESET|EPIPE|ETIMEDOUT/.test(err.message) && void ctx.counts.protocolErrors++;
  aedes.on('clientError', (client, err) => {
    protocolError(err);
    ctx.logger.debug({ clientId: client.id, err: err.message }, 'broker client error');
  });
  aedes.on('connectionError', (client, err) => {
    protocolError(err);
    ctx.logger.debug({ remote: remoteOf(client), err: err.message }, 'broker connection error');
  });
}
