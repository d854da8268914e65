import type { Logger } from 'pino';
import {
  alarmEvent,
  alarmState,
  incidentEvent,
  incidentState,
  publishedChange,
  siteStatus,
  type EventSite,
} from '../../rules/events/build.js';
import { eventsJsonSchema } from '../../rules/events/json-schema.js';
import type { EventTopics } from '../../rules/events/topics.js';
import type { AlarmView } from '../../rules/alarms/view.js';
import type { Incident } from '../../rules/incidents/incident.js';
import type { Playbook } from '../../rules/incidents/playbook.js';
import { describeEvent } from '../../rules/incidents/report.js';
import type { JournalEntry } from '../alarms/journal.js';
import type { IncidentChange } from '../incidents/runtime.js';
import type { Clock } from '../ports/clock.js';
import { Outbox, type OutboxLimits, type OutMessage } from './outbox.js';
import type { BusSink } from './sink.js';

// Alarms and incidents on the bus (issue 21): each open alarm's and incident's state retained
// on its own topic (an empty retained message once it closes), and every alarm change and
// incident event on the site's event topic with a sequence number. The runtimes announce
// their changes once they are on disk; this turns them into messages and puts them in the
// outbox, and never makes the alarm path wait for the bus. Each time the sink (re)connects,
// the site's status, the schema and the state of every open alarm and incident are published
// again (retained), and retained states of what is no longer open are cleared, so a consumer
// converges whatever was lost while the bus was down.

export interface AlarmSource {
  subscribe(listener: (e: JournalEntry) => void): () => void;
  list(): AlarmView[];
  get(id: string): AlarmView | undefined;
}

export interface IncidentSource {
  subscribe(listener: (c: IncidentChange) => void): () => void;
  list(filter: { status: 'open' }): Incident[];
  get(id: string): { incident: Incident; playbook: Playbook };
  playbook(id: string): Playbook | undefined;
}

export interface EventPublisherOptions {
  site: EventSite;
  topics: EventTopics;
  sink: BusSink;
  alarms: AlarmSource;
  incidents: IncidentSource;
  clock: Clock;
  /** The site's sequence numbers (sequence.ts); a plain counter from 1 when absent. */
  sequence?: { first: number; take(): number };
  limits?: OutboxLimits;
  /** Messages handed to the sink and not yet acknowledged, at most (default 64). */
  inFlight?: number;
  logger: Logger;
}

export interface EventPublisherStats {
  queued: number;
  queuedBytes: number;
  inFlight: number;
  published: number;
  droppedEvents: number;
  droppedStates: number;
  /** Messages the sink failed to deliver after taking them (the bus went down under them). */
  failed: number;
  lastSeq: number;
}

const DEFAULT_LIMITS: OutboxLimits = { messages: 10_000, bytes: 16 * 1024 * 1024 };
const EMPTY = Buffer.alloc(0);

export class EventPublisher {
  private readonly outbox: Outbox;
  private readonly sequence: { first: number; take(): number };
  private readonly unsubscribe: (() => void)[] = [];
  private inFlight = 0;
  private published = 0;
  private failed = 0;
  private lastSeq = 0;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(private readonly opts: EventPublisherOptions) {
    this.outbox = new Outbox(opts.limits ?? DEFAULT_LIMITS);
    let n = 0;
    this.sequence = opts.sequence ?? { first: 1, take: () => ++n };
  }

  start(): void {
    const { alarms, incidents, sink } = this.opts;
    this.unsubscribe.push(alarms.subscribe((e) => this.alarmChanged(e)));
    this.unsubscribe.push(incidents.subscribe((c) => this.incidentChanged(c)));
    sink.onConnect(() => void this.resync());
    if (sink.connected()) void this.resync();
  }

  stats(): EventPublisherStats {
    return {
      queued: this.outbox.length,
      queuedBytes: this.outbox.bytes,
      inFlight: this.inFlight,
      published: this.published,
      droppedEvents: this.outbox.dropped.events,
      droppedStates: this.outbox.dropped.states,
      failed: this.failed,
      lastSeq: this.lastSeq,
    };
  }

  /** Resolves once nothing waits and nothing is in flight (tests; the stop). */
  drained(): Promise<void> {
    if (this.outbox.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Says `offline` (retained), gives the bus a moment to take what waits, and stops following the runtimes. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    const { site, clock } = this.opts;
    this.put(this.opts.topics.status, siteStatus(site.site, 'offline', clock.now(), site.timeZone), true);
    if (this.opts.sink.connected()) await this.drained();
    this.stopped = true;
  }

  /** Publishes the whole retained picture again: status, schema, every open alarm and incident; clears the rest. */
  async resync(): Promise<void> {
    const { site, topics, clock, alarms, incidents } = this.opts;
    this.outbox.stateLost = false;
    this.put(topics.status, siteStatus(site.site, 'online', clock.now(), site.timeZone, this.sequence.first), true);
    this.put(topics.schema, eventsJsonSchema(), true);
    const alarmTopics = new Set<string>();
    for (const a of alarms.list()) {
      if (a.status !== 'firing' && a.status !== 'cleared') continue;
      alarmTopics.add(topics.alarm(a.id));
      this.put(topics.alarm(a.id), alarmState(a, site), true);
    }
    const incidentTopics = new Set<string>();
    for (const inc of incidents.list({ status: 'open' })) {
      const pb = incidents.playbook(inc.playbook);
      if (!pb) continue;
      incidentTopics.add(topics.incident(inc.id));
      this.put(topics.incident(inc.id), incidentState(inc, pb, clock.now(), site), true);
    }
    if (this.outbox.stateLost) {
      // The open states alone do not fit the outbox: publishing them again would only lose others.
      this.outbox.stateLost = false;
      this.opts.logger.warn(
        { alarms: alarmTopics.size, incidents: incidentTopics.size },
        'events: the states of the open alarms and incidents do not fit the outbox; some were dropped',
      );
    }
    await this.clearStale(topics.alarms, alarmTopics);
    await this.clearStale(topics.incidents, incidentTopics);
  }

  private async clearStale(filter: string, open: Set<string>): Promise<void> {
    try {
      for (const t of await this.opts.sink.retainedTopics(filter)) if (!open.has(t)) this.putRaw(t, EMPTY, true);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, filter }, 'events: could not read the retained states');
    }
  }

  private alarmChanged(e: JournalEntry): void {
    const change = publishedChange(e.type);
    if (!change) return;
    const { site, topics } = this.opts;
    // The runtime's view adds what mutes it (a silence, a lost supply); the entry is the state after this change.
    const view = this.opts.alarms.get(e.alarm.id);
    const state = alarmState(
      { ...e.alarm, ...(view?.inhibitedBy ? { inhibitedBy: view.inhibitedBy } : {}), ...silenced(view) },
      site,
    );
    this.put(topics.events, alarmEvent(this.nextSeq(), e.at, change, state, site.timeZone), false);
    if (state.status === 'closed') this.putRaw(topics.alarm(e.alarm.id), EMPTY, true);
    else this.put(topics.alarm(e.alarm.id), state, true);
  }

  private incidentChanged(c: IncidentChange): void {
    const { site, topics, clock } = this.opts;
    let found: { incident: Incident; playbook: Playbook };
    try {
      found = this.opts.incidents.get(c.incidentId);
    } catch {
      return; // not on the board (any more): nothing to say about it
    }
    const state = incidentState(found.incident, found.playbook, clock.now(), site);
    const text = describeEvent(c.event, found.playbook, found.incident);
    this.put(topics.events, incidentEvent(this.nextSeq(), c.event, state, text, site.timeZone), false);
    if (state.status === 'closed') this.putRaw(topics.incident(c.incidentId), EMPTY, true);
    else this.put(topics.incident(c.incidentId), state, true);
  }

  private nextSeq(): number {
    this.lastSeq = this.sequence.take();
    return this.lastSeq;
  }

  private put(topic: string, payload: unknown, retain: boolean): void {
    this.putRaw(topic, Buffer.from(JSON.stringify(payload)), retain);
  }

  private putRaw(topic: string, payload: Buffer, retain: boolean): void {
    if (this.stopped) return;
    this.outbox.push({ topic, payload, retain });
    this.pump();
  }

  /** Hands waiting messages to the sink, in order, at most `inFlight` unacknowledged at a time. */
  private pump(): void {
    const { sink } = this.opts;
    const window = this.opts.inFlight ?? 64;
    while (this.inFlight < window && sink.connected()) {
      const m = this.outbox.shift();
      if (!m) break;
      this.send(m);
    }
    if (this.outbox.stateLost && this.outbox.length === 0 && sink.connected()) void this.resync();
    if (this.outbox.length === 0 && this.inFlight === 0) for (const r of this.idle.splice(0)) r();
  }

  private send(m: OutMessage): void {
    this.inFlight++;
    this.opts.sink.publish(m.topic, m.payload, { retain: m.retain }).then(
      () => {
        this.inFlight--;
        this.published++;
        this.pump();
      },
      (err: Error) => {
        // The bus went down under it: a state comes back with the resync on reconnect; an event is a gap.
        this.inFlight--;
        this.failed++;
        this.opts.logger.debug({ err: err.message, topic: m.topic }, 'events: publish failed');
        this.pump();
      },
    );
  }
}

function silenced(view: AlarmView | undefined): Pick<AlarmView, 'silencedBy'> {
  return view?.silencedBy ? { silencedBy: view.silencedBy } : {};
}
