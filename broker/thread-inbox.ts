import type { LocalConsumer } from './consumer.js';
import { payloadAt, type Batch, type Congestion, type ToWorker } from './thread-protocol.js';

/**
 * The gateway thread's side of the handoff (thread-outbox.ts is the worker's): hands each
 * batch to the consumer, answers it once what the consumer returned has settled, and tells
 * the worker when the consumer's congestion changes.
 */
export class Inbox {
  consumer: LocalConsumer | undefined;
  /** What the worker was last told of the consumer's congestion. */
  private told: Congestion = 'clear';

  /** A new worker starts knowing nothing of the consumer's congestion. */
  reset(): void {
    this.told = 'clear';
  }

  /** Hands a batch to the consumer; answers once what it returned has settled, naming the messages it could not keep. */
  deliver(batch: Batch, tell: (m: ToWorker) => void): void {
    const c = this.consumer;
    const notKept: number[] = [];
    // Only the id is kept until the answer: the batch's topics and bytes go once handed over.
    const id = batch.id;
    const answer = () =>
      tell({ type: 'done', id, congestion: this.congestionNow(c), ...(notKept.length ? { notKept } : {}) });
    if (!c) return answer();
    const pending = handOver(c, batch);
    if (pending.size === 0) return answer();
    // Held back from the next message on, not only once this batch is done.
    const was = this.told;
    if (this.congestionNow(c) !== was) tell({ type: 'congestion', congestion: this.told });
    let left = pending.size;
    for (const [p, messages] of pending) {
      const settled = (value: unknown) => {
        for (let k = 0; k < messages.length; k += 2) if (c.notKept(value, messages[k + 1]!)) notKept.push(messages[k]!);
        if (--left === 0) answer();
      };
      p.then(settled, () => settled(undefined));
    }
  }

  private congestionNow(c: LocalConsumer | undefined): Congestion {
    const now = !c?.congested?.() ? 'clear' : c.overloaded?.() ? 'overloaded' : 'congested';
    return (this.told = now);
  }
}

/**
 * Each message to the consumer; the handed-over ones by the promise that settles them (the
 * consumer's readings of one turn share one), so one reaction each. Per promise, flat pairs
 * (message, index): tens of thousands of messages can be in flight, and a pair object each
 * showed in the heap.
 */
function handOver(c: LocalConsumer, batch: Batch): Map<PromiseLike<unknown>, number[]> {
  const pending = new Map<PromiseLike<unknown>, number[]>();
  for (let i = 0; i < batch.topics.length; i++) {
    const h = c.deliver(batch.topics[i]!, payloadAt(batch.data, batch.ends, i), batch.qos[i] as 0 | 1 | 2);
    if (!h) continue;
    const list = pending.get(h.done);
    if (list) list.push(i, h.index);
    else pending.set(h.done, [i, h.index]);
  }
  return pending;
}
