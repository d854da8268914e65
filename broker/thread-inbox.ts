import type { LocalConsumer } from './consumer.js';
import { payloadAt, type Batch, type ToWorker } from './thread-protocol.js';

/**
 * Messages handed to the consumer per turn of the gateway's event loop, at most. A flood (a
 * fleet replaying its buffer) comes in batches of up to a thousand messages; handed over in
 * one go, they held the thread for tens of milliseconds at a time, and everything else waited:
 * the alarm a leak sensor's message raises, the HTTP API, the writer.
 */
export const SLICE = 200;

/** One batch on its way to the consumer. */
interface Delivery {
  batch: Batch;
  tell: (m: ToWorker) => void;
  /** Answers the batch (in turn: see Inbox.answers). */
  answer: (m: ToWorker) => void;
  consumer: LocalConsumer;
  /** Indices of the messages that wait their turn (after others of their topic), in order. */
  waiting: number[];
  /** How many of `waiting` are handed over. */
  next: number;
  /** Per promise, flat pairs (message, index): see handOver. */
  pending: Map<PromiseLike<unknown>, number[]>;
}

/**
 * The gateway thread's side of the handoff (thread-outbox.ts is the worker's): hands each
 * batch's messages to the consumer, answers the batch once what the consumer returned has
 * settled, and tells the worker when the consumer's congestion changes.
 *
 * A device's messages wait only behind that device's own: a message whose topic has nothing
 * waiting is handed over as it arrives, the others in turn, SLICE a turn. So a leak sensor's
 * one message is not stuck behind ten thousand meter readings, and each topic's messages keep
 * their order.
 */
export class Inbox {
  consumer: LocalConsumer | undefined;
  /** What the worker was last told of the consumer's congestion. */
  private toldCongested = false;
  private readonly queue: Delivery[] = [];
  /** Messages waiting per topic. */
  private readonly waitingOn = new Map<string, number>();
  /**
   * The answers, in the order the batches came: one batch may be done before an earlier one,
   * but the worker acknowledges each batch's QoS 1 messages when it is answered, and MQTT
   * wants a connection's PUBACKs in the order of its PUBLISHes.
   */
  private readonly answers: { tell: (m: ToWorker) => void; m?: ToWorker }[] = [];
  private scheduled = false;

  constructor(private readonly defer: (fn: () => void) => void = setImmediate) {}

  /** A new worker starts knowing nothing of the consumer's congestion. */
  reset(): void {
    this.toldCongested = false;
  }

  /** Messages received and not yet handed to the consumer. */
  get backlog(): number {
    return this.queue.reduce((n, d) => n + d.waiting.length - d.next, 0);
  }

  /** Hands a batch to the consumer; answers once what it returned has settled, naming the messages it could not keep. */
  deliver(batch: Batch, tell: (m: ToWorker) => void): void {
    const slot: { tell: (m: ToWorker) => void; m?: ToWorker } = { tell };
    this.answers.push(slot);
    const answer = (m: ToWorker) => {
      slot.m = m;
      while (this.answers[0]?.m) {
        const head = this.answers.shift()!;
        head.tell(head.m!);
      }
    };
    const consumer = this.consumer;
    if (!consumer) return answer({ type: 'done', id: batch.id, congested: this.congestedNow(undefined) });
    const d: Delivery = { batch, tell, answer, consumer, waiting: [], next: 0, pending: new Map() };
    const { topics } = batch;
    // At most SLICE at once here too: a batch of a thousand devices' first messages (a bridge) waits its turn like any.
    let now = 0;
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]!;
      const ahead = this.waitingOn.get(topic);
      if (ahead === undefined && now < SLICE) {
        this.handOver(d, i);
        now++;
        continue;
      }
      d.waiting.push(i);
      this.waitingOn.set(topic, (ahead ?? 0) + 1);
    }
    if (d.waiting.length === 0) return this.handedOver(d);
    this.queue.push(d);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.work();
    });
  }

  /** Hands over up to SLICE waiting messages, oldest first. */
  private work(): void {
    let budget = SLICE;
    while (budget > 0 && this.queue.length > 0) {
      const d = this.queue[0]!;
      const { topics } = d.batch;
      while (budget > 0 && d.next < d.waiting.length) {
        const i = d.waiting[d.next++]!;
        const topic = topics[i]!;
        const left = this.waitingOn.get(topic)! - 1;
        if (left === 0) this.waitingOn.delete(topic);
        else this.waitingOn.set(topic, left);
        this.handOver(d, i);
        budget--;
      }
      if (d.next < d.waiting.length) break;
      this.queue.shift();
      this.handedOver(d);
    }
    if (this.queue.length > 0) this.schedule();
  }

  /**
   * Message i to the consumer; a handed-over one is remembered by the promise that settles it
   * (the consumer's readings of one turn share one), so one reaction each. Per promise, flat
   * pairs (message, index): tens of thousands of messages can be in flight, and a pair object
   * each showed in the heap.
   */
  private handOver(d: Delivery, i: number): void {
    const { batch } = d;
    const h = d.consumer.deliver(batch.topics[i]!, payloadAt(batch.data, batch.ends, i), batch.qos[i] as 0 | 1 | 2);
    if (!h) return;
    const list = d.pending.get(h.done);
    if (list) list.push(i, h.index);
    else d.pending.set(h.done, [i, h.index]);
  }

  /** Every message of the batch is with the consumer: answer once they have all settled. */
  private handedOver(d: Delivery): void {
    // Only the id is kept until the answer (the closures below hold no `d`): the batch's topics and bytes go once handed over.
    const { consumer: c, pending, tell, answer: reply } = d;
    const id = d.batch.id;
    const notKept: number[] = [];
    const answer = () =>
      reply({ type: 'done', id, congested: this.congestedNow(c), ...(notKept.length ? { notKept } : {}) });
    if (pending.size === 0) return answer();
    // Held back from the next message on, not only once this batch is done.
    const was = this.toldCongested;
    if (this.congestedNow(c) !== was) tell({ type: 'congested', congested: this.toldCongested });
    let left = pending.size;
    for (const [p, messages] of pending) {
      const settled = (value: unknown) => {
        for (let k = 0; k < messages.length; k += 2) if (c.notKept(value, messages[k + 1]!)) notKept.push(messages[k]!);
        if (--left === 0) answer();
      };
      p.then(settled, () => settled(undefined));
    }
  }

  private congestedNow(c: LocalConsumer | undefined): boolean {
    return (this.toldCongested = c?.congested?.() ?? false);
  }
}
