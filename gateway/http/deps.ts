import type { Logger } from 'pino';
import type { Timers } from '../ports/clock.js';
import type { Reading } from '../../rules/model/reading.js';
import type { SiteConfig } from '../config/schema.js';
import type { HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { AggregateQuery, AggregateRow, ReadingsQuery, StoredRow } from '../store/driver.js';
import type { DeviceStatus } from '../registry.js';
import type { IngestResult } from '../pipeline/pipeline.js';
import type { AlarmService } from './alarms.js';
import type { CommandService } from './commands.js';
import type { DrillService } from './drills.js';
import type { PhotoStore } from '../incidents/photos.js';
import type { HandoverService } from './handover.js';
import type { HeatingReportService } from './heating-reports.js';
import type { IncidentRecorder } from './incident-commands.js';
import type { MeterReportService } from './reports.js';

export type { DeviceStatus, Place } from '../registry.js';

/** The site's devices with their live state; the gateway's device registry implements it. */
export interface DeviceDirectory {
  list(): DeviceStatus[];
  get(id: string): DeviceStatus | undefined;
}

export type { IngestResult } from '../pipeline/pipeline.js';

/** Everything the HTTP API reads or calls; `build(deps)` wires nothing else. */
export interface ApiDeps {
  config: SiteConfig;
  clock: { now(): number };
  /** Timers in the clock's time, for the live streams' heartbeats (default real ones). */
  timers?: Timers;
  metrics: Metrics;
  health: HealthSource[];
  devices: DeviceDirectory;
  /** History: raw rows, and rows per interval where the database aggregates (InfluxQL). */
  readings: { query(q: ReadingsQuery): Promise<StoredRow[]>; aggregate?(q: AggregateQuery): Promise<AggregateRow[]> };
  /** Takes a manual reading (a meter read by hand); without it POST /api/readings answers 503. */
  ingest?: (reading: Reading) => Promise<IngestResult>;
  /** Alarms, their acknowledgement and live stream; without it the alarm routes are not there. */
  alarms?: AlarmService;
  /** Commands to devices (valves, pumps); without it POST /api/devices/:id/commands answers 503. */
  commands?: CommandService;
  /** Incidents and their playbooks; without it the incident routes are not there. */
  incidents?: IncidentRecorder;
  /** Where photos from the scene are kept; without it the photo routes are not there. */
  photos?: PhotoStore;
  /** Shift handovers (needs incidents); without it the handover routes are not there. */
  handovers?: HandoverService;
  /** Drills against a simulated estate (the programs give one: app/drills.ts); without it the drill routes say so (503). */
  drills?: DrillService;
  /** Meter-anomaly reports (needs a database that speaks InfluxQL); without it the report routes are not there. */
  reports?: MeterReportService;
  /** The daily heating reports to head office (heating season); without it their routes are not there. */
  heatingReports?: HeatingReportService;
  /** Defaults to a new pino logger; `false` logs nothing (tests). */
  logger?: Logger | false;
}
