import { Gauge, Counter } from 'prom-client';
import type { Logger } from 'pino';
import { siteStatus } from '../../rules/events/build.js';
import { eventTopics } from '../../rules/events/topics.js';
import type { SiteConfig } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import type { Clock, Timers } from '../ports/clock.js';
import { embeddedSink, type EmbeddedBroker } from './embedded-sink.js';
import { externalSink } from './external-sink.js';
import { eventSite } from './place.js';
import { EventPublisher, type AlarmSource, type IncidentSource } from './publisher.js';
import { EventSequence } from './sequence.js';
import type { BusSink } from './sink.js';

// Wires the event publisher (publisher.ts) for a site: the embedded broker or an external one,
// the sequence file under data_dir, and its counters on /metrics.

export interface EventsDeps {
  config: SiteConfig;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metrics: Metrics;
  /** The file of the site's sequence numbers (under data_dir). */
  sequenceFile: string;
  alarms: AlarmSource;
  incidents: IncidentSource;
  /** The embedded broker; absent: the external one at `url`. */
  embedded?: EmbeddedBroker;
  url: string;
}

export interface RunningEvents {
  publisher: EventPublisher;
  /** The embedded broker thread came back with an empty memory: publish every state again. */
  brokerRestarted(): void;
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 3000;

export function startEvents(d: EventsDeps): RunningEvents {
  const { config, clock, logger } = d;
  const site = eventSite(config);
  const topics = eventTopics(config.site.id);
  const embedded = d.embedded ? embeddedSink(d.embedded) : undefined;
  const sink: BusSink =
    embedded ??
    externalSink({
      url: d.url,
      clientId: `dutyroom-events-${config.site.id}`,
      ...(config.broker.username ? { username: config.broker.username } : {}),
      ...(config.broker.password ? { password: config.broker.password } : {}),
      will: {
        topic: topics.status,
        payload: Buffer.from(JSON.stringify(siteStatus(site.site, 'offline', clock.now(), site.timeZone))),
      },
      timers: d.timers,
      logger,
    });
  const publisher = new EventPublisher({
    site,
    topics,
    sink,
    alarms: d.alarms,
    incidents: d.incidents,
    clock,
    sequence: new EventSequence(d.sequenceFile),
    limits: { messages: config.events.outbox_messages, bytes: config.events.outbox_bytes },
    // aedes may finish two publishes in flight out of order (a retained one stores first): one
    // at a time through the broker thread keeps the stream's order. Over one MQTT connection
    // the external broker takes them in the order they were written.
    inFlight: embedded ? 1 : 64,
    logger,
  });
  countOnScrape(d.metrics, publisher);
  publisher.start();
  return {
    publisher,
    brokerRestarted: () => embedded?.restarted(),
    stop: async () => {
      // `offline` and what waits get a few seconds to reach the broker; a stuck bus does not hold the stop.
      let timer: unknown;
      const late = new Promise<void>((resolve) => (timer = d.timers.setTimeout(resolve, STOP_WAIT_MS)));
      await Promise.race([publisher.stop(), late]);
      d.timers.clearTimeout(timer);
      await sink.close();
    },
  };
}

function countOnScrape(metrics: Metrics, publisher: EventPublisher): void {
  const registers = [metrics.registry];
  const queued = new Gauge({
    name: 'dutyroom_events_queued',
    help: 'Alarm and incident messages waiting for the broker (outbox), and handed to it but not yet acknowledged.',
    labelNames: ['where'] as const,
    registers,
  });
  const published = new Counter({
    name: 'dutyroom_events_published_total',
    help: 'Alarm and incident messages the broker took (states and events).',
    registers,
  });
  const dropped = new Counter({
    name: 'dutyroom_events_dropped_total',
    help: 'Alarm and incident messages dropped: outbox full (events: a gap in the sequence; states: published again), or failed when the bus went down.',
    labelNames: ['reason'] as const,
    registers,
  });
  const last = { published: 0, droppedEvents: 0, droppedStates: 0, failed: 0 };
  metrics.onScrape(() => {
    const s = publisher.stats();
    queued.set({ where: 'outbox' }, s.queued);
    queued.set({ where: 'in_flight' }, s.inFlight);
    const grow = (key: keyof typeof last, add: (n: number) => void) => {
      if (s[key] > last[key]) add(s[key] - last[key]);
      last[key] = s[key];
    };
    grow('published', (n) => published.inc(n));
    grow('droppedEvents', (n) => dropped.inc({ reason: 'outbox_full_event' }, n));
    grow('droppedStates', (n) => dropped.inc({ reason: 'outbox_full_state' }, n));
    grow('failed', (n) => dropped.inc({ reason: 'bus_down' }, n));
  });
}
