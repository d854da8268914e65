import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { BrokerStats } from '../broker/broker.js';
import { startBrokerThread, type SupervisedBroker } from '../broker/thread.js';
import { ModbusAdapter } from './adapters/modbus/adapter.js';
import { MqttAdapter } from './adapters/mqtt/adapter.js';
import { loadPayloadProfiles, type PayloadProfile } from './profiles/payload.js';
import { TopicDirectory } from './adapters/mqtt/topics.js';
import { realTimers, systemClock, type Clock, type Timers } from './clock.js';
import type { SiteConfig } from './config/schema.js';
import { AlarmJournal } from './alarms/journal.js';
import { AlarmRuntime } from './alarms/runtime.js';
import { SilenceBook } from './alarms/silences.js';
import { CommandLog } from './commands-log.js';
import { EventLog } from './event-log.js';
import { createAnnouncer, createNotifier } from './incidents/notify.js';
import { runMeterReport, type MeterReportRequest } from './reports/meter-report.js';
import { MeterReportScheduler } from './reports/scheduler.js';
import { HeatingReportScheduler } from './reports/heating-scheduler.js';
import type { ReportDrill } from '../rules/reports/meter-report.js';
import { loadPlaybooks } from './incidents/playbooks.js';
import { IncidentRuntime, type IncidentRecord } from './incidents/runtime.js';
import { HandoverDesk } from './incidents/handovers.js';
import { PhotoStore } from './incidents/photos.js';
import type { HandoverEvent } from '../rules/incidents/handover.js';
import { brokerAccounts } from './broker-accounts.js';
import type { HealthSource } from './health.js';
import type { RunningDrill } from '../rules/alarms/drill.js';
import type { Reading } from '../rules/model/reading.js';
import { placeOf } from './incidents/place.js';
import { SystemWatch } from './system-watch.js';
import type { SystemSnapshot } from '../rules/alarms/system.js';
import type { FastifyInstance } from 'fastify';
import { build } from './http/app.js';
import type { DrillService } from './http/drills.js';
import { Metrics } from './metrics.js';
import { Pipeline } from './pipeline/pipeline.js';
import { loadRegisterProfiles } from './profiles/profile.js';
import { DeviceRegistry, type DeviceStatus } from './registry.js';
import { openStore, type OpenedStore } from './store-setup.js';

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
  adapter: MqttAdapter;
  modbus: ModbusAdapter;
  alarms: AlarmRuntime;
  incidents: IncidentRuntime;
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

/**
 * Starts one site's gateway: InfluxDB (a local influxd when no URL is set) behind the
 * durable spool, the embedded broker (or an external one), the MQTT and Modbus adapters, the HTTP API.
 * Everything started is stopped again by `stop()`, in reverse order.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? pino({ name: 'dutyroom', level: process.env.LOG_LEVEL ?? 'info' });
  const metrics = new Metrics({ processMetrics: true });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
  };

  try {
    const profiles = loadPayloadProfiles();
    const topics = new TopicDirectory(
      config.site.id,
      config.devices.flatMap((d) => (d.protocol === 'mqtt' ? [d] : [])),
      profiles,
    );
    const registry = new DeviceRegistry(config, clock);
    metrics.devicesConfigured.set(config.devices.length);

    const store = await openStore({ config, baseDir: opts.baseDir, metrics, logger, clock });
    stops.push(() => store.close());

    // Set once the adapters exist: a device is unreachable because of the gateway's own link.
    let linkDown: (deviceId: string) => string | undefined = () => undefined;
    // Set once every part exists: the gateway's own state, for its system alarms.
    const system: { snapshot?: () => SystemSnapshot } = {};
    let lastBrokerRestartAt: number | undefined;
    const alarms = new AlarmRuntime({
      config,
      clock,
      journal: new AlarmJournal(resolve(opts.baseDir, config.data_dir, 'alarms', 'journal.jsonl')),
      silences: new SilenceBook(resolve(opts.baseDir, config.data_dir, 'alarms', 'silences.json')),
      linkDown: (id) => linkDown(id),
      system: () => system.snapshot?.() ?? {},
      logger: logger.child({ component: 'rules' }),
      ...(opts.activeDrill ? { activeDrill: opts.activeDrill } : {}),
    });
    await alarms.start();
    stops.push(() => alarms.stop());

    const incidents = new IncidentRuntime({
      config,
      clock,
      log: new EventLog<IncidentRecord>(resolve(opts.baseDir, config.data_dir, 'incidents', 'events.jsonl')),
      playbooks: loadPlaybooks(undefined, config.playbooks ?? {}),
      alarms,
      live: (id) => alarms.liveOf(id),
      ...(opts.activeDrill ? { activeDrill: () => opts.activeDrill!()?.id } : {}),
      notify: createNotifier({
        channels: config.notifications.channels,
        attempts: config.notifications.attempts,
        now: () => clock.now(),
        placeOf: placeOf(config),
      }),
      logger: logger.child({ component: 'incidents' }),
    });
    await incidents.start();
    stops.push(() => incidents.stop());
    const handovers = new HandoverDesk({
      log: new EventLog<HandoverEvent>(resolve(opts.baseDir, config.data_dir, 'incidents', 'handovers.jsonl')),
      incidents,
      rota: config.shifts,
      timeZone: config.site.timezone,
      now: () => clock.now(),
    });
    await handovers.start();
    stops.push(() => handovers.stop());

    // Meter-anomaly reports (issue 8): on demand through the API, daily and monthly by schedule.
    const reportDrills = (): ReportDrill[] => {
      const s = opts.drills?.status();
      const all = s ? [...s.history, ...(s.current ? [s.current] : [])] : [];
      return all.map((d) => ({
        id: d.id,
        scenario: d.scenario,
        title: d.title,
        from: d.startedAt,
        ...(d.endedAt !== undefined ? { to: d.endedAt } : {}),
      }));
    };
    const registerProfiles = loadRegisterProfiles();
    const runReport = (req: MeterReportRequest) =>
      runMeterReport({
        ...req,
        config,
        driver: store.driver,
        now: clock.now(),
        drills: reportDrills(),
        profiles: registerProfiles,
      });
    const scheduler = new MeterReportScheduler({
      config,
      dir: resolve(opts.baseDir, config.data_dir, 'reports'),
      clock,
      timers: opts.timers ?? realTimers,
      run: runReport,
      announce: createAnnouncer({
        channels: config.notifications.channels,
        attempts: config.notifications.attempts,
        now: () => clock.now(),
      }),
      log: logger.child({ component: 'reports' }),
      link: (name) => `/api/reports/meters/stored/${name}?format=html`,
    });
    if (store.driver.influxql) {
      scheduler.start();
      stops.push(() => scheduler.stop());
    }
    // The daily heating report (zero report included) from the incidents and alarms, which need no database.
    const heatingReports = new HeatingReportScheduler({
      config,
      dir: resolve(opts.baseDir, config.data_dir, 'reports'),
      clock,
      timers: opts.timers ?? realTimers,
      incidents: () => incidents.list(),
      alarms: () => alarms.list(),
      announce: createAnnouncer({
        channels: config.notifications.channels,
        attempts: config.notifications.attempts,
        now: () => clock.now(),
      }),
      log: logger.child({ component: 'heating_reports' }),
      link: (date) => `/api/reports/heating/${date}?format=html`,
    });
    heatingReports.start();
    stops.push(() => heatingReports.stop());

    // The rules take each reading first; then a hold of incident evidence on its device breaks if it no longer shows.
    const observe = (r: Reading) => {
      alarms.observe(r);
      incidents.observe(r.deviceId);
    };
    const pipeline = new Pipeline({ site: config.site.id, registry, store, metrics, logger, clock, observe });

    let broker: SupervisedBroker | undefined;
    let brokerUrl: string;
    if (config.broker.embedded) {
      // No login of the gateway's own: the adapter takes the messages from aedes in-process.
      const tls = config.broker.tls;
      broker = await startBrokerThread(
        {
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
          maxPayloadBytes: config.broker.max_payload_bytes,
          limits: {
            preAuthPacketBytes: config.broker.limits.pre_auth_packet_bytes,
            connectTimeoutMs: config.broker.limits.connect_timeout_s * 1000,
            maxConnections: config.broker.limits.max_connections,
            connectionsPerSecond: config.broker.limits.connections_per_second_per_address,
            connectionBurst: config.broker.limits.connection_burst_per_address,
            failedLoginsPerMinute: config.broker.limits.failed_logins_per_minute_per_address,
          },
          logger: logger.child({ component: 'broker' }),
        },
        // Restarted with backoff if it dies; devices reconnect and send again what was not acknowledged.
        {
          onRestart: (e) => {
            metrics.restarts.inc({ component: 'broker', outcome: e.ok ? 'ok' : 'failed' });
            if (e.ok) lastBrokerRestartAt = clock.now();
          },
        },
      );
      stops.push(() => broker!.close());
      brokerUrl = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
      countBrokerRefusals(broker, metrics);
    } else {
      if (!config.broker.url) throw new Error('broker.embedded is false but no broker.url (or MQTT_URL) is set');
      brokerUrl = config.broker.url;
    }

    const adapter = new MqttAdapter({
      url: brokerUrl,
      ...(broker
        ? { local: broker }
        : {
            ...(config.broker.username ? { username: config.broker.username } : {}),
            ...(config.broker.password ? { password: config.broker.password } : {}),
          }),
      clientId: `dutyroom-gateway-${config.site.id}`,
      topics,
      maxPayloadBytes: config.broker.max_payload_bytes,
      maxFutureS: config.ingest.max_future_s,
      maxAgeH: config.ingest.max_age_h,
      clock,
      metrics,
      logger: logger.child({ component: 'mqtt' }),
      congested: () => pipeline.congested,
      refusing: () => pipeline.refusing !== undefined,
    });
    // The pipeline's promise lets the embedded broker hold a QoS 1 PUBACK until the reading is accepted.
    adapter.start((reading) => pipeline.ingest(reading));
    stops.push(() => adapter.stop());

    const modbus = new ModbusAdapter({
      devices: config.devices.flatMap((d) => (d.protocol === 'modbus' ? [d] : [])),
      profiles: registerProfiles,
      clock,
      ...(opts.timers ? { timers: opts.timers } : {}),
      metrics,
      logger: logger.child({ component: 'modbus' }),
    });
    modbus.start((reading) => void pipeline.ingest(reading));
    stops.push(() => modbus.stop());

    const commandLog = new CommandLog(resolve(opts.baseDir, config.data_dir, 'commands', 'commands.jsonl'));
    await commandLog.open();
    stops.push(() => commandLog.close());

    linkDown = (id) => {
      if (registry.device(id)?.protocol === 'mqtt')
        return adapter.health().status === 'ok' ? undefined : 'the gateway is not connected to the MQTT broker';
      const line = modbus.deviceStats().get(id)?.endpoint;
      const endpoints = (modbus.health().endpoints ?? []) as { endpoint: string; connected: boolean }[];
      return line && endpoints.some((e) => e.endpoint === line && !e.connected)
        ? `the gateway cannot open Modbus line ${line}`
        : undefined;
    };

    const watch = new SystemWatch({
      clock,
      dataDir: resolve(opts.baseDir, config.data_dir),
      minFreeBytes: config.storage.min_free_mb * 1024 * 1024,
      store: store.healthSources,
      refusing: () => pipeline.refusing,
      ...(broker ? { broker } : {}),
      lastBrokerRestartAt: () => lastBrokerRestartAt,
      modbusLinesDown: () => modbus.linesDown(),
    });
    system.snapshot = () => watch.snapshot();

    const health: HealthSource[] = [
      adapter,
      modbus,
      alarms,
      incidents,
      ...store.healthSources,
      ...(store.driver.influxql ? [scheduler] : []),
      heatingReports,
    ];
    const withPolling = (d: DeviceStatus, stats: ReturnType<ModbusAdapter['deviceStats']>): DeviceStatus => {
      const poll = d.protocol === 'modbus' ? stats.get(d.id) : undefined;
      return poll ? { ...d, poll } : d;
    };
    if (broker) health.unshift({ component: 'broker', health: () => broker!.health() });
    const app = await build({
      config,
      clock,
      metrics,
      health,
      devices: {
        list: () => {
          const stats = modbus.deviceStats();
          const all = registry.list().map((d) => withPolling(d, stats));
          metrics.devicesOnline.set(all.filter((d) => d.online).length);
          return all;
        },
        get: (id) => {
          const d = registry.get(id);
          return d && withPolling(d, modbus.deviceStats());
        },
      },
      readings: store.driver,
      ingest: (reading) => pipeline.ingest(reading),
      alarms,
      incidents,
      handovers,
      photos: new PhotoStore(resolve(opts.baseDir, config.data_dir, 'incidents', 'photos')),
      commands: {
        run: (id, field, value) => modbus.command(id, field, value),
        writable: (id) => modbus.writableFields(id),
        log: commandLog,
      },
      ...(store.driver.influxql
        ? { reports: { run: runReport, stored: () => scheduler.list(), read: (name: string) => scheduler.read(name) } }
        : {}),
      heatingReports,
      ...(opts.drills ? { drills: opts.drills } : {}),
      logger: logger.child({ component: 'http' }),
    });
    stops.push(() => app.close());
    await app.listen({ host: config.http.host, port: opts.httpPort ?? config.http.port });
    const address = app.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    logger.info(
      { http: httpUrl, broker: brokerUrl, site: config.site.id, devices: config.devices.length },
      'gateway started',
    );

    const reports = store.driver.influxql ? scheduler : undefined;
    return {
      config,
      httpUrl,
      http: app,
      brokerUrl,
      broker,
      store,
      registry,
      metrics,
      profiles,
      pipeline,
      adapter,
      modbus,
      alarms,
      incidents,
      reports,
      heatingReports,
      logger,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
