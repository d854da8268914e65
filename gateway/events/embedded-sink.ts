import type { BusSink } from './sink.js';

// The embedded broker as the events' sink: messages go through the broker's thread to aedes,
// which keeps the retained ones in its memory. That memory starts empty with the gateway and
// with every restart of the broker thread, so there is nothing stale to clear, and `restarted`
// (from the thread's supervisor) makes the publisher put every state back.

export interface EmbeddedBroker {
  publish(topic: string, payload: Buffer, opts: { retain: boolean }): Promise<void>;
  health(): { status: string };
}

export function embeddedSink(broker: EmbeddedBroker): BusSink & { restarted(): void } {
  const listeners: (() => void)[] = [];
  return {
    publish: (topic, payload, { retain }) => broker.publish(topic, payload, { retain }),
    connected: () => broker.health().status !== 'down',
    onConnect: (fn) => void listeners.push(fn),
    retainedTopics: () => Promise.resolve([]),
    restarted: () => listeners.forEach((fn) => fn()),
    close: () => Promise.resolve(),
  };
}
