import type { Duplex } from 'node:stream';

/**
 * Bytes aedes takes from a connection at a time. aedes reads everything a connection has
 * buffered (`read(null)`) and handles every packet in it before it can be paused: at a
 * hundred busy connections that was a hundred reads of 64 KiB, some 70,000 QoS 1 packets
 * held in the broker thread's heap at once (bench/burst.ts). In parts of this size, a paused
 * connection has taken little, and the rest waits in the socket and in TCP, where it costs
 * the gateway nothing.
 */
export const READ_BYTES = 16 * 1024;

/** The part of an aedes client this needs (not in aedes's types: see consumer.ts holdBack). */
export interface BatchReader {
  _parsingBatch: number;
  _paused?: boolean;
  _nextBatch(): void;
}

/**
 * Makes `read()` without a size return the buffered bytes up to `max`, as one buffer. When
 * more is left (or the part held no whole packet), aedes would not ask again until more
 * bytes arrive, and none may come: asked on its behalf, on the next turn, while it is idle
 * and not paused.
 *
 * One buffer across chunks on every Node.js line: aedes reads once per 'readable' event and
 * expects the whole buffer, as Node.js returned it up to 24. Node.js 26 returns one chunk per
 * `read()`, and a WebSocket client, whose CONNECT arrives as several frames, never got its
 * CONNACK. A read of a given size is whole on every line (and `max` stays under the stream's
 * high-water mark, which a larger size would raise).
 */
export function boundReads(stream: Duplex, client: BatchReader, max = READ_BYTES): void {
  const read = stream.read.bind(stream);
  const more = () => {
    if (client._parsingBatch === 0 && !client._paused && stream.readableLength > 0 && !stream.destroyed)
      client._nextBatch();
  };
  // aedes asks with null (everything), which the types do not name.
  stream.read = (size?: number) => {
    if (size != null) return read(size) as unknown;
    const n = Math.min(stream.readableLength, max);
    if (n === 0) return read() as unknown;
    if (stream.readableLength > n) setImmediate(more);
    return read(n) as unknown;
  };
}
