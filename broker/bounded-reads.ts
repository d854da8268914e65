import type { Duplex } from 'node:stream';

/**
 * How much aedes takes from the connections at a time. aedes reads everything a connection
 * has buffered (`read(null)`) and handles every packet in it before it can be paused, and
 * reads again only once they are all done (at QoS 1: acknowledged after the fsync). At a
 * hundred busy connections that was a hundred reads of 64 KiB, some 70,000 QoS 1 packets in
 * the broker thread's heap at once (bench/burst.ts); but one connection (a bridge carrying
 * thousands of devices) needs large reads, as each read waits a whole fsync. So a budget
 * over all connections: a read takes up to READ_MOST while the bytes being handled stay
 * under READ_BUDGET, and READ_LEAST past it so that every connection moves. The rest waits
 * in the socket and in TCP, where it costs the gateway nothing. Half a MiB rather than one: with
 * fewer packets waiting for their fsync in the broker's heap, each scavenge copies less, and a
 * 400,000-reading QoS 1 burst from 100 devices was stored 2-7 % faster in five alternating
 * pairs (bench/burst.ts; a bridge on one connection, which reads READ_MOST, the same).
 */
export const READ_BUDGET = 512 * 1024;
/**
 * Twice the socket's default high-water mark: a read this large raises that connection's mark
 * to it, so a connection that keeps its reads full (a bridge) buffers up to about 192 KiB in
 * its stream, and a bridge on one connection moves about 1,300 readings per fsync instead of 700.
 */
export const READ_MOST = 128 * 1024;
export const READ_LEAST = 4 * 1024;

/** The bytes the connections' reads are being handled, against READ_BUDGET. */
export class ReadBudget {
  taken = 0;
  constructor(
    readonly total = READ_BUDGET,
    readonly most = READ_MOST,
    readonly least = READ_LEAST,
  ) {}
  /** What one more read may take now. */
  allowance(): number {
    return Math.max(this.least, Math.min(this.most, this.total - this.taken));
  }
}

/** The part of an aedes client this needs (not in aedes's types: see consumer.ts holdBack). */
export interface BatchReader {
  _parsingBatch: number;
  _paused?: boolean;
  _nextBatch(): void;
  _parser?: { parse(buf: Buffer): unknown };
}

/**
 * Makes `read()` without a size return the buffered bytes up to what `budget` allows, as one
 * buffer; they count against it until the connection reads again (its packets are done) or closes. When
 * more is left (or the part held no whole packet), aedes would not ask again until more
 * bytes arrive, and none may come: asked on its behalf, on the next turn, while it is idle
 * and not paused.
 *
 * One buffer across chunks on every Node.js line: aedes reads once per 'readable' event and
 * expects the whole buffer, as Node.js returned it up to 24. Node.js 26 returns one chunk per
 * `read()`, and a WebSocket client, whose CONNECT arrives as several frames, never got its
 * CONNACK. A read of a given size is whole on every line.
 */
export function boundReads(stream: Duplex, client: BatchReader, budget: ReadBudget): void {
  const read = stream.read.bind(stream);
  let held = 0;
  const release = () => {
    budget.taken -= held;
    held = 0;
  };
  stream.once('close', release);
  // A packet handled at once (QoS 0) lets aedes read again from inside its parser's loop, and
  // the parser cannot take more while it parses: aedes only got away with it because such a
  // read found the buffer empty. Here it finds nothing either, and the rest is asked for next turn.
  let parsing = false;
  const parser = client._parser;
  if (parser) {
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer) => {
      parsing = true;
      try {
        return parse(buf);
      } finally {
        parsing = false;
      }
    };
  }
  const more = () => {
    if (client._parsingBatch === 0 && !client._paused && stream.readableLength > 0 && !stream.destroyed)
      client._nextBatch();
  };
  // aedes asks with null (everything), which the types do not name.
  stream.read = (size?: number) => {
    if (size != null) return read(size) as unknown;
    if (parsing) {
      if (stream.readableLength > 0) setImmediate(more);
      return null;
    }
    release();
    const n = Math.min(stream.readableLength, budget.allowance());
    if (n === 0) return read() as unknown;
    held = n;
    budget.taken += n;
    if (stream.readableLength > n) setImmediate(more);
    return read(n) as unknown;
  };
}
