import { topicMatches } from './acl.js';
import { packPayloads, type Batch, type Congestion } from './thread-protocol.js';

// The broker thread's side of the handoff to the gateway's thread (see broker/thread.ts).

/**
 * Messages handed to the gateway's thread and not yet dealt with, above which the broker
 * holds publishers back even if the gateway has not said it is congested: the gateway's
 * thread may be too busy to say so, and the batches would pile up in its message queue.
 */
export const MAX_IN_FLIGHT = 10_000;
/** The same in bytes (payloads and topics): a few large messages weigh as much as many small ones. */
export const MAX_IN_FLIGHT_BYTES = 2 * 2 ** 20;
// Topics remembered by the consumer's filter (a site has a few thousand devices).
const FILTER_CACHE_MAX = 50_000;
/**
 * Messages per batch at most. One turn of the broker's event loop can parse tens of
 * thousands of messages (a 64 KiB read from each of a hundred connections): sent in parts,
 * the gateway's thread works on the first while the broker parses the rest.
 */
export const BATCH_MAX = 1000;

/** Whether a topic matches one of the consumer's MQTT filters; answers are cached per topic. */
export class Filters {
  private readonly exact = new Set<string>();
  private readonly wild: string[] = [];
  private readonly known = new Map<string, boolean>();
  constructor(filters: string[]) {
    for (const f of filters) {
      if (f.includes('+') || f.includes('#')) this.wild.push(f);
      else this.exact.add(f);
    }
  }
  wants(topic: string): boolean {
    const hit = this.known.get(topic);
    if (hit !== undefined) return hit;
    const yes = this.exact.has(topic) || this.wild.some((f) => topicMatches(f, topic));
    if (this.known.size >= FILTER_CACHE_MAX) this.known.clear();
    this.known.set(topic, yes);
    return yes;
  }
}

interface Open {
  id: number;
  /** Until sent; then only `count` is kept. */
  topics: string[];
  count: number;
  payloads: Buffer[];
  qos: number[];
  /** Payload bytes, and payload and topic bytes together (what counts against MAX_IN_FLIGHT_BYTES). */
  bytes: number;
  weight: number;
  /** Resolves with the indices of the messages the gateway could not keep (undefined: it kept them all). */
  done: Promise<ReadonlySet<number> | undefined>;
  resolve: (notKept: ReadonlySet<number> | undefined) => void;
}

/** The batches on their way to the gateway's thread, and the answers it sends back. */
export class Outbox {
  private open: Open | undefined;
  private readonly sent = new Map<number, Open>();
  private nextId = 1;
  /** Messages sent and not yet answered, and their bytes. */
  inFlight = 0;
  inFlightBytes = 0;
  /** What the gateway said last. */
  gatewayCongestion: Congestion = 'clear';

  constructor(private readonly send: (batch: Batch, transfer: ArrayBuffer[]) => void) {}

  /** Queues a message; `done` settles with its batch, `index` is its place there (see answered). */
  add(topic: string, payload: Buffer, qos: number): { done: Promise<ReadonlySet<number> | undefined>; index: number } {
    let b = this.open;
    if (!b) {
      let resolve!: Open['resolve'];
      const done = new Promise<ReadonlySet<number> | undefined>((r) => (resolve = r));
      b = this.open = {
        id: this.nextId++,
        topics: [],
        count: 0,
        payloads: [],
        qos: [],
        bytes: 0,
        weight: 0,
        done,
        resolve,
      };
      setImmediate(() => this.open === b && this.flush());
    }
    const index = b.count++;
    b.topics.push(topic);
    b.payloads.push(payload);
    b.qos.push(qos);
    b.bytes += payload.length;
    b.weight += payload.length + topic.length;
    this.inFlight++;
    this.inFlightBytes += payload.length + topic.length;
    const done = b.done;
    if (b.count >= BATCH_MAX) this.flush();
    return { done, index };
  }

  get congested(): boolean {
    return (
      this.gatewayCongestion !== 'clear' || this.inFlight > MAX_IN_FLIGHT || this.inFlightBytes > MAX_IN_FLIGHT_BYTES
    );
  }

  /** When the gateway says so, or twice past the limits: every publisher is held, light ones too (consumer.ts holdBack). */
  get overloaded(): boolean {
    return (
      this.gatewayCongestion === 'overloaded' ||
      this.inFlight > 2 * MAX_IN_FLIGHT ||
      this.inFlightBytes > 2 * MAX_IN_FLIGHT_BYTES
    );
  }

  answered(id: number, congestion: Congestion, notKept?: readonly number[]): void {
    this.gatewayCongestion = congestion;
    const b = this.sent.get(id);
    if (!b) return;
    this.sent.delete(id);
    this.inFlight -= b.count;
    this.inFlightBytes -= b.weight;
    b.resolve(notKept?.length ? new Set(notKept) : undefined);
  }

  /** The broker is closing: nothing sent and unanswered was kept (the connections go anyway, unacknowledged). */
  settleAll(): void {
    for (const [id, b] of [...this.sent])
      this.answered(
        id,
        'clear',
        Array.from({ length: b.count }, (_, i) => i),
      );
  }

  private flush(): void {
    const b = this.open!;
    this.open = undefined;
    const { data, ends } = packPayloads(b.payloads, b.bytes);
    const batch: Batch = { type: 'batch', id: b.id, topics: b.topics, qos: Uint8Array.from(b.qos), ends, data };
    b.payloads = [];
    b.topics = [];
    b.qos = [];
    this.sent.set(b.id, b);
    this.send(batch, [data]);
  }
}
