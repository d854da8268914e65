import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from '../rules/model/reading.js';

/**
 * The gateway's Prometheus metrics. One instance per gateway (never prom-client's global
 * registry) so tests can build several apps side by side.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly readingsReceived = new Counter({
    name: 'dutyroom_readings_received_total',
    help: 'Readings (or payloads) received from adapters, before validation.',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly readingsRejected = new Counter({
    name: 'dutyroom_readings_rejected_total',
    help: 'Readings or payloads refused, by reason.',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });
  readonly readingsAccepted = new Counter({
    name: 'dutyroom_readings_accepted_total',
    help: 'Readings fsynced in the spool (accepted: they will reach InfluxDB).',
    registers: [this.registry],
  });
  readonly pointsWritten = new Counter({
    name: 'dutyroom_points_written_total',
    help: 'Points confirmed written by the database.',
    registers: [this.registry],
  });
  readonly storeWriteErrors = new Counter({
    name: 'dutyroom_store_write_errors_total',
    help: 'Failed batch writes to the database (the batch stays in the spool and is retried).',
    registers: [this.registry],
  });
  readonly storeWriteSeconds = new Histogram({
    name: 'dutyroom_store_write_seconds',
    help: 'Time to write one batch to the database.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly spoolDepth = new Gauge({
    name: 'dutyroom_spool_depth',
    help: 'Readings in the spool not yet confirmed by the database.',
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({
    name: 'dutyroom_spool_bytes',
    help: 'Bytes the spool holds on disk.',
    registers: [this.registry],
  });
  readonly spoolFull = new Gauge({
    name: 'dutyroom_spool_full',
    help: '1 while the spool is at its size limit and new readings are refused.',
    registers: [this.registry],
  });
  readonly restarts = new Counter({
    name: 'dutyroom_restarts_total',
    help: 'Parts the gateway restarted after they died on their own (influxd, broker), by component and outcome.',
    labelNames: ['component', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly devicesOnline = new Gauge({
    name: 'dutyroom_devices_online',
    help: 'Configured devices not offline (silent no longer than offline_intervals of their interval, default 3).',
    registers: [this.registry],
  });
  readonly devicesConfigured = new Gauge({
    name: 'dutyroom_devices_configured',
    help: 'Devices in the site configuration.',
    registers: [this.registry],
  });

  readonly modbusRequests = new Counter({
    name: 'dutyroom_modbus_requests_total',
    help: 'Modbus read requests, by result: ok, timeout, exception, connection, protocol.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly modbusPollSeconds = new Histogram({
    name: 'dutyroom_modbus_poll_seconds',
    help: 'Time one Modbus device poll took, waiting for its line included.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly modbusPollsSkipped = new Counter({
    name: 'dutyroom_modbus_polls_skipped_total',
    help: 'Modbus polls not started because the previous poll of the device was still running.',
    registers: [this.registry],
  });
  readonly modbusFieldErrors = new Counter({
    name: 'dutyroom_modbus_field_errors_total',
    help: 'Fields left out of a Modbus reading, by error (unknown_code, not_a_number, no_data, bad_data, out_of_range, bad_type).',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });
  readonly modbusDeviceOnline = new Gauge({
    name: 'dutyroom_modbus_device_online',
    help: 'Whether the last poll of a Modbus device got an answer (1) or not (0).',
    labelNames: ['device'] as const,
    registers: [this.registry],
  });
  readonly modbusDeviceErrors = new Counter({
    name: 'dutyroom_modbus_device_errors_total',
    help: 'Failed Modbus requests per device, by failure: timeout, exception, connection, protocol.',
    labelNames: ['device', 'failure'] as const,
    registers: [this.registry],
  });
  readonly modbusConnections = new Counter({
    name: 'dutyroom_modbus_connections_total',
    help: 'Connections opened to Modbus TCP endpoints and serial ports; more than one per line means reconnects.',
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Zero every reason up front so dashboards see the series before the first rejection.
    for (const reason of REJECT_REASONS) this.readingsRejected.inc({ protocol: 'mqtt', reason }, 0);
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'dutyroom_' });
  }

  readonly mqttRefused = new Counter({
    name: 'dutyroom_mqtt_refused_total',
    help: 'What the embedded broker turned away, by reason: login_refused, login_throttled, connection_refused (rate), cut_before_login, publish_refused (ACL or size), subscribe_refused, not_kept (no PUBACK: the spool could not keep it), protocol_error (a malformed packet or an invalid topic: the connection closed).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly httpRefused = new Counter({
    name: 'dutyroom_http_refused_total',
    help: 'HTTP requests answered 4xx or 5xx, by route pattern (none: no such route) and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly scrapeHooks: (() => void)[] = [];

  reject(protocol: string, reason: string, count = 1): void {
    this.readingsRejected.inc({ protocol, reason }, count);
  }

  /** Runs before every scrape: for counts kept elsewhere (the broker thread's), brought in as they grew. */
  onScrape(hook: () => void): void {
    this.scrapeHooks.push(hook);
  }

  /** The exposition text, with every scrape hook run first. */
  async text(): Promise<string> {
    for (const hook of this.scrapeHooks) hook();
    return this.registry.metrics();
  }
}
