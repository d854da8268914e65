import type { Client, PublishPacket } from 'aedes';
import type { Socket } from 'node:net';

// Small readings of aedes's objects that its types leave loose.

export function payloadBytes(packet: PublishPacket): number {
  const p = packet.payload as Buffer | string | undefined;
  if (p === undefined) return 0;
  return typeof p === 'string' ? Buffer.byteLength(p) : p.length;
}

export function payloadBuffer(packet: PublishPacket): Buffer {
  const p = packet.payload as Buffer | string | undefined;
  return p === undefined ? Buffer.alloc(0) : typeof p === 'string' ? Buffer.from(p) : p;
}

export function remoteOf(client: Client): string | undefined {
  return (client.conn as Partial<Socket>).remoteAddress ?? client.req?.socket.remoteAddress;
}
