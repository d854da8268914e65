import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { BrokerStats } from '../broker/broker.js';
import { startBrokerThread, type SupervisedBroker } from '../broker/thread.js';
import type { RunningDrill } from '../rules/alarms/drill.js';
import { gatewayOnlyFilters } from '../rules/events/topics.js';
import type { SystemSnapshot } from '../rules/alarms/system.js';
import type { HandoverEvent } from '../rules/incidents/handover.js';
import type { Reading } from '../rules/model/reading.js';
import type { ReportDrill } from '../rules/reports/meter-report.js';
import type { AdapterContext } from './adapters/adapter.js';
import { ADAPTERS } from './adapters/list.js';
import { ModbusAdapter } from './adapters/modbus/adapter.js';
import { MqttAdapter } from './adapters/mqtt/adapter.js';
import { AdapterSet } from './adapters/set.js';
import { AlarmJournal } from './alarms/journal.js';
import { AlarmRuntime } from './alarms/runtime.js';
import { SilenceBook } from './alarms/silences.js';
import { brokerAccounts } from './broker-accounts.js';
import { CommandLog } from './commands-log.js';
import type { SiteConfig } from './config/schema.js';
import { startEvents, type RunningEvents } from './events/start.js';
import { EventLog } from './files/event-log.js';
import type { HealthSource } from './health.js';
import { build } from './http/app.js';
import type { DrillService } from './http/drills.js';
import { HandoverDesk } from './incidents/handovers.js';
import { createAnnouncer, createNotifier } from './incidents/notify.js';
import { PhotoStore } from './incidents/photos.js';
import { placeOf } from './incidents/place.js';
import { loadPlaybooks } from './incidents/playbooks.js';
import { IncidentRuntime, type IncidentRecord } from './incidents/runtime.js';
import { Metrics } from './metrics.js';
import { Pipeline } from './pipeline/pipeline.js';
import { realTimers, systemClock, type Clock, type Timers } from './ports/clock.js';
import { loadPayloadProfiles, type PayloadProfile } from './profiles/payload.js';
import { loadRegisterProfiles, type RegisterProfile } from './profiles/profile.js';
import { DeviceRegistry } from './registry.js';
import { HeatingReportScheduler } from './reports/heating-scheduler.js';
import { runMeterReport, type MeterReportRequest } from './reports/run-meter-report.js';
import { MeterReportScheduler } from './reports/scheduler.js';
import { openStore, type OpenedStore } from './store/open-store.js';
import { SystemWatch } from './system-watch.js';

export interface GatewayOptions {
  config: SiteConfig;
  /** Folder of the config file; data_dir and TLS files are relative to it. */
  baseDir: string;
  logger?: Logger;
  clock?: Clock;
  /** Listen on these instead of the config's ports (0 = any free port; tests). */
  httpPort?: number;
  mqttPort?: number;
  wsPort?: number;
  /** The drill running now, if any, with the devices it plays: alarms on those are the drill's (I1), others real. */
  activeDrill?: () => RunningDrill | undefined;
  /** Timers in the clock's time (a ScaledClock's for the demo at --speed N); real timers by default. */
  timers?: Timers;
  /** Drills on a simulated estate (the demo); without it the drill routes answer 503. */
  drills?: DrillService;
}

export interface RunningGateway {
  config: SiteConfig;
  httpUrl: string;
  /** The HTTP API itself (fastify: `inject()` for tests, its route catalogue). */
  http: FastifyInstance;
  /** URL devices use: the embedded broker, or the external one. */
  brokerUrl: string;
  broker: SupervisedBroker | undefined;
  store: OpenedStore;
  registry: DeviceRegistry;
  metrics: Metrics;
  profiles: Map<string, PayloadProfile>;
  pipeline: Pipeline;
  /** Every protocol's adapter, in the order of ./adapters/list.ts. */
  adapters: AdapterSet;
  /** The MQTT and Modbus adapters by name (tests and the demo look into them). */
  adapter: MqttAdapter;
  modbus: ModbusAdapter;
  alarms: AlarmRuntime;
  incidents: IncidentRuntime;
  /** Alarms and incidents on the broker (gateway/events); undefined when `events.enabled` is false. */
  events: RunningEvents | undefined;
  /** Scheduled meter-anomaly reports; undefined when the database speaks no InfluxQL. */
  reports: MeterReportScheduler | undefined;
  /** The daily heating report to head office in the heating season (S000 篇八 四.2(4)). */
  heatingReports: HeatingReportScheduler;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * The broker thread keeps its own counts; each scrape of /metrics adds what they grew by since
 * the last, so every refusal shows in the gateway's metrics: oversized payloads (TCP and
 * WebSocket) also as refused readings of protocol mqtt.
 */
function countBrokerRefusals(broker: SupervisedBroker, metrics: Metrics): void {
  const last: Partial<Record<keyof BrokerStats, number>> = {};
  const grew = (key: keyof BrokerStats, now: BrokerStats) => {
    const d = Math.max(0, now[key] - (last[key] ?? 0));
    last[key] = now[key];
    return d;
  };
  metrics.onScrape(() => {
    const s = broker.stats();
    const add = (reason: string, n: number) => n > 0 && metrics.mqttRefused.inc({ reason }, n);
    const throttled = grew('throttledLogins', s);
    add('login_throttled', throttled);
    add('login_refused', grew('refusedLogins', s) - throttled);
    add('connection_refused', grew('refusedConnections', s));
    add('cut_before_login', grew('cutBeforeLogin', s));
    add('publish_refused', grew('refusedPublishes', s));
    add('subscribe_refused', grew('refusedSubscribes', s));
    add('not_kept', grew('notKept', s));
    add('protocol_error', grew('protocolErrors', s));
    const oversized = grew('oversized', s);
    if (oversized > 0) metrics.reject('mqtt', 'oversized', oversized);
  });
}

/** What the start steps share. Each step registers how to stop what it started. */
interface Startup {
  opts: GatewayOptions;
  config: SiteConfig;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metrics: Metrics;
  profiles: { payload: Map<string, PayloadProfile>; register: Map<string, RegisterProfile> };
  /** A path under the site's data_dir. */
  data(...parts: string[]): string;
  onStop(fn: () => Promise<void>): void;
  /** Stops everything started, the last first; a failing stop is logged and the others still run. */
  stop(): Promise<void>;
}

/** Answers the rules need from parts started after them: set once those exist. */
interface LateLinks {
  /** Why a device is unreachable because of the gateway's own link. */
  linkDown?: (deviceId: string) => string | undefined;
  /** The gateway's own state, for its system alarms. */
  snapshot?: () => SystemSnapshot;
}

/**
 * Starts one site's gateway: InfluxDB (a local influxd when no URL is set) behind the
 * durable spool, the embedded broker (or an external one), the protocol adapters, the HTTP API.
 * Everything started is stopped again by `stop()`, in reverse order.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const s = startup(opts);
  try {
    const registry = new DeviceRegistry(s.config, s.clock);
    s.metrics.devicesConfigured.set(s.config.devices.length);
    const store = await openDatabase(s);
    const links: LateLinks = {};
    const alarms = await startAlarms(s, links);
    const { incidents, handovers } = await startIncidents(s, alarms);
    const reports = startReports(s, store, incidents, alarms);
    const pipeline = newPipeline(s, registry, store, alarms, incidents);
    const broker = await startBroker(s);
    const events = publishEvents(s, broker, alarms, incidents);
    const adapters = startAdapters(s, broker, pipeline);
    const commandLog = await openCommandLog(s);
    links.linkDown = (id) => adapters.linkDown(id);
    links.snapshot = watchSystem(s, store, pipeline, broker, adapters);
    const parts = { registry, store, alarms, incidents, handovers, reports, pipeline, broker, adapters, commandLog };
    const http = await startHttp(s, parts);
    s.logger.info(
      { http: http.url, broker: broker.url, site: s.config.site.id, devices: s.config.devices.length },
      'gateway started',
    );
    return {
      config: s.config,
      httpUrl: http.url,
      http: http.app,
      brokerUrl: broker.url,
      broker: broker.embedded,
      store,
      registry,
      metrics: s.metrics,
      profiles: s.profiles.payload,
      pipeline,
      adapters,
      adapter: adapters.list.find((a) => a instanceof MqttAdapter)!,
      modbus: adapters.list.find((a) => a instanceof ModbusAdapter)!,
      alarms,
      incidents,
      events,
      reports: reports.meters,
      heatingReports: reports.heating,
      logger: s.logger,
      stop: () => s.stop(),
    };
  } catch (err) {
    await s.stop();
    throw err;
  }
}

function startup(opts: GatewayOptions): Startup {
  const logger = opts.logger ?? pino({ name: 'dutyroom', level: process.env.LOG_LEVEL ?? 'info' });
  const stops: (() => Promise<void>)[] = [];
  return {
    opts,
    config: opts.config,
    clock: opts.clock ?? systemClock,
    timers: opts.timers ?? realTimers,
    logger,
    metrics: new Metrics({ processMetrics: true }),
    profiles: { payload: loadPayloadProfiles(), register: loadRegisterProfiles() },
    data: (...parts) => resolve(opts.baseDir, opts.config.data_dir, ...parts),
    onStop: (fn) => void stops.push(fn),
    stop: async () => {
      for (const stop of stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (err) {
          logger.error({ err }, 'error while stopping');
        }
      }
    },
  };
}

async function openDatabase(s: Startup): Promise<OpenedStore> {
  const { config, opts, metrics, logger, clock } = s;
  const store = await openStore({ config, baseDir: opts.baseDir, metrics, logger, clock });
  s.onStop(() => store.close());
  return store;
}

async function startAlarms(s: Startup, links: LateLinks): Promise<AlarmRuntime> {
  const { config, clock, opts } = s;
  const alarms = new AlarmRuntime({
    config,
    clock,
    journal: new AlarmJournal(s.data('alarms', 'journal.jsonl')),
    silences: new SilenceBook(s.data('alarms', 'silences.json')),
    linkDown: (id) => links.linkDown?.(id),
    system: () => links.snapshot?.() ?? {},
    logger: s.logger.child({ component: 'rules' }),
    ...(opts.activeDrill ? { activeDrill: opts.activeDrill } : {}),
  });
  await alarms.start();
  s.onStop(() => alarms.stop());
  return alarms;
}

async function startIncidents(
  s: Startup,
  alarms: AlarmRuntime,
): Promise<{ incidents: IncidentRuntime; handovers: HandoverDesk }> {
  const { config, clock, opts } = s;
  const activeDrill = opts.activeDrill;
  const incidents = new IncidentRuntime({
    config,
    clock,
    log: new EventLog<IncidentRecord>(s.data('incidents', 'events.jsonl')),
    playbooks: loadPlaybooks(undefined, config.playbooks ?? {}),
    alarms,
    live: (id) => alarms.liveOf(id),
    ...(activeDrill ? { activeDrill: () => activeDrill()?.id } : {}),
    notify: createNotifier({
      channels: config.notifications.channels,
      attempts: config.notifications.attempts,
      now: () => clock.now(),
      placeOf: placeOf(config),
    }),
    logger: s.logger.child({ component: 'incidents' }),
  });
  await incidents.start();
  s.onStop(() => incidents.stop());
  const handovers = new HandoverDesk({
    log: new EventLog<HandoverEvent>(s.data('incidents', 'handovers.jsonl')),
    incidents,
    rota: config.shifts,
    timeZone: config.site.timezone,
    now: () => clock.now(),
  });
  await handovers.start();
  s.onStop(() => handovers.stop());
  return { incidents, handovers };
}

interface Reports {
  run: (req: MeterReportRequest) => ReturnType<typeof runMeterReport>;
  /** Scheduled meter-anomaly reports; undefined when the database speaks no InfluxQL. */
  meters: MeterReportScheduler | undefined;
  heating: HeatingReportScheduler;
}

/** Meter-anomaly reports (issue 8): on demand through the API, daily and monthly by schedule; the daily heating report. */
function startReports(s: Startup, store: OpenedStore, incidents: IncidentRuntime, alarms: AlarmRuntime): Reports {
  const { config, clock, timers } = s;
  const announce = () =>
    createAnnouncer({
      channels: config.notifications.channels,
      attempts: config.notifications.attempts,
      now: () => clock.now(),
    });
  const run = (req: MeterReportRequest) =>
    runMeterReport({
      ...req,
      config,
      driver: store.driver,
      now: clock.now(),
      drills: reportDrills(s.opts.drills),
      profiles: s.profiles.register,
    });
  const meters = new MeterReportScheduler({
    config,
    dir: s.data('reports'),
    clock,
    timers,
    run,
    announce: announce(),
    log: s.logger.child({ component: 'reports' }),
    link: (name) => `/api/reports/meters/stored/${name}?format=html`,
  });
  if (store.driver.influxql) {
    meters.start();
    s.onStop(() => meters.stop());
  }
  // The daily heating report (zero report included) from the incidents and alarms, which need no database.
  const heating = new HeatingReportScheduler({
    config,
    dir: s.data('reports'),
    clock,
    timers,
    incidents: () => incidents.list(),
    alarms: () => alarms.list(),
    announce: announce(),
    log: s.logger.child({ component: 'heating_reports' }),
    link: (date) => `/api/reports/heating/${date}?format=html`,
  });
  heating.start();
  s.onStop(() => heating.stop());
  return { run, meters: store.driver.influxql ? meters : undefined, heating };
}

/** The drills run so far, for the reports to tell a drill's readings from real ones. */
function reportDrills(drills: DrillService | undefined): ReportDrill[] {
  const s = drills?.status();
  const all = s ? [...s.history, ...(s.current ? [s.current] : [])] : [];
  return all.map((d) => ({
    id: d.id,
    scenario: d.scenario,
    title: d.title,
    from: d.startedAt,
    ...(d.endedAt !== undefined ? { to: d.endedAt } : {}),
  }));
}

function newPipeline(
  s: Startup,
  registry: DeviceRegistry,
  store: OpenedStore,
  alarms: AlarmRuntime,
  incidents: IncidentRuntime,
): Pipeline {
  // The rules take each reading first; then a hold of incident evidence on its device breaks if it no longer shows.
  const observe = (r: Reading) => {
    alarms.observe(r);
    incidents.observe(r.deviceId);
  };
  const { config, metrics, logger, clock } = s;
  return new Pipeline({ site: config.site.id, registry, store, metrics, logger, clock, observe });
}

interface Broker {
  /** URL devices use: the embedded broker, or the external one. */
  url: string;
  embedded: SupervisedBroker | undefined;
  lastRestartAt(): number | undefined;
  /** Called after each restart of the embedded broker thread. */
  onRestart: (() => void)[];
}

async function startBroker(s: Startup): Promise<Broker> {
  const { config } = s;
  if (!config.broker.embedded) {
    if (!config.broker.url) throw new Error('broker.embedded is false but no broker.url (or MQTT_URL) is set');
    return { url: config.broker.url, embedded: undefined, lastRestartAt: () => undefined, onRestart: [] };
  }
  let lastRestartAt: number | undefined;
  const onRestart: (() => void)[] = [];
  const broker = await startBrokerThread(embeddedBrokerOptions(s), {
    // Restarted with backoff if it dies; devices reconnect and send again what was not acknowledged.
    onRestart: (e) => {
      s.metrics.restarts.inc({ component: 'broker', outcome: e.ok ? 'ok' : 'failed' });
      if (e.ok) lastRestartAt = s.clock.now();
      if (e.ok) for (const fn of onRestart) fn();
    },
  });
  s.onStop(() => broker.close());
  countBrokerRefusals(broker, s.metrics);
  return {
    url: `mqtt://127.0.0.1:${broker.ports.mqtt}`,
    embedded: broker,
    lastRestartAt: () => lastRestartAt,
    onRestart,
  };
}

/** Alarms and incidents on the broker (issue 21): retained states, the event stream, the site's status. */
function publishEvents(
  s: Startup,
  broker: Broker,
  alarms: AlarmRuntime,
  incidents: IncidentRuntime,
): RunningEvents | undefined {
  if (!s.config.events.enabled) return undefined;
  const events = startEvents({
    config: s.config,
    clock: s.clock,
    timers: s.timers,
    logger: s.logger.child({ component: 'events' }),
    metrics: s.metrics,
    sequenceFile: s.data('events', 'sequence.json'),
    alarms,
    incidents,
    ...(broker.embedded ? { embedded: broker.embedded } : {}),
    url: broker.url,
  });
  broker.onRestart.push(() => events.brokerRestarted());
  s.onStop(() => events.stop());
  return events;
}

/** The embedded broker as the site file sets it up; no login of the gateway's own: the adapter takes the messages in-process. */
function embeddedBrokerOptions(s: Startup): Parameters<typeof startBrokerThread>[0] {
  const { config, opts } = s;
  const { tls, limits } = config.broker;
  return {
    host: config.broker.host,
    mqttPort: opts.mqttPort ?? config.broker.mqtt_port,
    ...(opts.wsPort !== undefined || config.broker.ws_port !== undefined
      ? { wsPort: opts.wsPort ?? config.broker.ws_port }
      : {}),
    ...(tls
      ? {
          tls: {
            port: tls.port,
            cert: readFileSync(resolve(opts.baseDir, tls.cert_file)),
            key: readFileSync(resolve(opts.baseDir, tls.key_file)),
          },
        }
      : {}),
    accounts: brokerAccounts(config),
    gatewayOnly: gatewayOnlyFilters(config.site.id),
    maxPayloadBytes: config.broker.max_payload_bytes,
    limits: {
      preAuthPacketBytes: limits.pre_auth_packet_bytes,
      connectTimeoutMs: limits.connect_timeout_s * 1000,
      maxConnections: limits.max_connections,
      connectionsPerSecond: limits.connections_per_second_per_address,
      connectionBurst: limits.connection_burst_per_address,
      failedLoginsPerMinute: limits.failed_logins_per_minute_per_address,
    },
    logger: s.logger.child({ component: 'broker' }),
  };
}

/** One adapter per protocol of ./adapters/list.ts, each handing its readings to the pipeline. */
function startAdapters(s: Startup, broker: Broker, pipeline: Pipeline): AdapterSet {
  const ctx: AdapterContext = {
    config: s.config,
    clock: s.clock,
    timers: s.timers,
    metrics: s.metrics,
    logger: s.logger,
    profiles: s.profiles,
    broker: { url: broker.url, ...(broker.embedded ? { local: broker.embedded } : {}) },
    pipeline: {
      congested: () => pipeline.congested,
      overloaded: () => pipeline.overloaded,
      refusing: () => pipeline.refusing !== undefined,
    },
  };
  const adapters = AdapterSet.create(ADAPTERS, ctx);
  s.onStop(() => adapters.stop());
  // The pipeline's promise lets the embedded broker hold a QoS 1 PUBACK until the reading is accepted.
  adapters.start((reading) => pipeline.ingest(reading));
  return adapters;
}

async function openCommandLog(s: Startup): Promise<CommandLog> {
  const log = new CommandLog(s.data('commands', 'commands.jsonl'));
  await log.open();
  s.onStop(() => log.close());
  return log;
}

/** The gateway's own state (disk, spool, broker, lines), read by the system alarms. */
function watchSystem(
  s: Startup,
  store: OpenedStore,
  pipeline: Pipeline,
  broker: Broker,
  adapters: AdapterSet,
): () => SystemSnapshot {
  const watch = new SystemWatch({
    clock: s.clock,
    dataDir: s.data(),
    minFreeBytes: s.config.storage.min_free_mb * 1024 * 1024,
    store: store.healthSources,
    refusing: () => pipeline.refusing,
    ...(broker.embedded ? { broker: broker.embedded } : {}),
    lastBrokerRestartAt: () => broker.lastRestartAt(),
    modbusLinesDown: () => adapters.linesDown(),
  });
  return () => watch.snapshot();
}

interface Parts {
  registry: DeviceRegistry;
  store: OpenedStore;
  alarms: AlarmRuntime;
  incidents: IncidentRuntime;
  handovers: HandoverDesk;
  reports: Reports;
  pipeline: Pipeline;
  broker: Broker;
  adapters: AdapterSet;
  commandLog: CommandLog;
}

async function startHttp(s: Startup, p: Parts): Promise<{ app: FastifyInstance; url: string }> {
  const { config, clock, metrics, opts } = s;
  const { registry, store, alarms, incidents, handovers, reports, pipeline, adapters } = p;
  const app = await build({
    config,
    clock,
    metrics,
    health: healthSources(p),
    devices: {
      list: () => {
        const all = registry.list().map((d) => adapters.withAdapterStatus(d));
        metrics.devicesOnline.set(all.filter((d) => d.online).length);
        return all;
      },
      get: (id) => {
        const d = registry.get(id);
        return d && adapters.withAdapterStatus(d);
      },
    },
    readings: store.driver,
    ingest: (reading) => pipeline.ingest(reading),
    alarms,
    incidents,
    handovers,
    photos: new PhotoStore(s.data('incidents', 'photos')),
    commands: {
      run: (id, field, value) => adapters.command(id, field, value),
      writable: (id) => adapters.writableFields(id),
      log: p.commandLog,
    },
    ...(reports.meters ? { reports: meterReportsApi(reports, reports.meters) } : {}),
    heatingReports: reports.heating,
    ...(opts.drills ? { drills: opts.drills } : {}),
    logger: s.logger.child({ component: 'http' }),
  });
  s.onStop(() => app.close());
  await app.listen({ host: config.http.host, port: opts.httpPort ?? config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return { app, url: `http://127.0.0.1:${port}` };
}

function meterReportsApi(reports: Reports, stored: MeterReportScheduler) {
  return { run: reports.run, stored: () => stored.list(), read: (name: string) => stored.read(name) };
}

/** What /health lists, in this order: the broker, the adapters, the rules, the store, the reports. */
function healthSources(p: Parts): HealthSource[] {
  const embedded = p.broker.embedded;
  return [
    ...(embedded ? [{ component: 'broker', health: () => embedded.health() }] : []),
    ...p.adapters.list,
    p.alarms,
    p.incidents,
    ...p.store.healthSources,
    ...(p.reports.meters ? [p.reports.meters] : []),
    p.reports.heating,
  ];
}
