import { Filters } from './thread-outbox.js';

/**
 * The filters of every subscription granted at QoS 1 or 2 since the broker started, and
 * whether a topic falls under one: a QoS 1 message nobody may read at QoS 1 can go through
 * aedes as QoS 0 once the consumer has it (authorize-publish.ts), which nobody can tell
 * apart. Never forgotten while the broker runs (an unsubscribe or a disconnect leaves a
 * persistent session's subscription behind, and aedes's memory is the only one it has):
 * once a client reads a topic at QoS 1, its messages take aedes's own QoS 1 path.
 */
export class Qos1Readers {
  private readonly filters: string[] = [];
  private matcher = new Filters([]);

  granted(filter: string, qos: number): void {
    if (qos < 1) return;
    // A shared subscription (`$share/group/filter`) reads the topics of its filter.
    const plain = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
    if (this.filters.includes(plain)) return;
    this.filters.push(plain);
    this.matcher = new Filters(this.filters);
  }

  /** Whether a client may be reading `topic` at QoS 1 or 2. */
  reads(topic: string): boolean {
    return this.filters.length > 0 && this.matcher.wants(topic);
  }
}
