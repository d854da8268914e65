import type { Logger } from 'pino';
import type { FieldValue, Reading } from '../../rules/model/reading.js';
import type { SiteConfig } from '../config/schema.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { RegisterProfile } from '../profiles/profile.js';
import type { PayloadProfile } from '../profiles/payload.js';
import type { Clock, Timers } from '../ports/clock.js';
import type { DeviceStatus } from '../registry.js';
import type { CommandResult } from './modbus/command.js';
import type { LocalBroker } from './mqtt/adapter.js';

// What the gateway's core knows of a protocol. Polled adapters (Modbus) and service adapters
// (MQTT) look the same from here: the core starts them, stops them, asks their health, and asks
// each whether a device of its own is unreachable because the gateway's link is down. Nothing
// in gateway.ts names a protocol; a new one is a folder and one line in ./list.ts.

/** Hands a reading downstream; the promise (if any) settles once it is accepted or refused. */
export type Emit = (reading: Reading) => PromiseLike<unknown> | void;

/** A line (endpoint, port, bus) on which every device that was asked is silent. */
export interface LineDown {
  line: string;
  devices: number;
}

export interface Adapter extends HealthSource {
  /** The name in /health and in logs ('mqtt', 'modbus'). */
  readonly component: string;
  /** The site file's `protocol` of the devices this adapter serves. */
  readonly protocol: string;
  /** Starts taking readings (connects, subscribes, polls); returns at once: health tells how it goes. */
  start(emit: Emit): void;
  /** Stops; emits nothing once the promise has settled. */
  stop(): Promise<void>;
  health(): ComponentHealth;
  /**
   * Why one of its devices cannot be heard because the gateway's own link is down (the broker
   * connection, a Modbus line), in words for the duty engineer; undefined when the link is up.
   * The offline alarm then blames the link, not the device.
   */
  linkDown(deviceId: string): string | undefined;
  /** Lines on which no device answers: the converter or the cable, for the system alarms. */
  linesDown(): LineDown[];
  /** What it adds to a device's status in the devices API (Modbus: its polling stats). */
  deviceStatus(deviceId: string): Partial<DeviceStatus> | undefined;
  /** Writes one field of a device (Modbus only so far); rejects with a CommandError. */
  command?(deviceId: string, field: string, value: FieldValue): Promise<CommandResult>;
  /** The fields of one of its devices that may be written. */
  writableFields?(deviceId: string): string[];
}

/** Everything an adapter may need from the gateway to be built from the site file. */
export interface AdapterContext {
  config: SiteConfig;
  clock: Clock;
  timers: Timers;
  metrics: Metrics;
  /** Already a child logger named after the adapter's component. */
  logger: Logger;
  profiles: { register: ReadonlyMap<string, RegisterProfile>; payload: Map<string, PayloadProfile> };
  /** Where MQTT devices publish: the embedded broker (in-process) or an external one. */
  broker: { url: string; local?: LocalBroker };
  /** The pipeline's state, for adapters that can slow their devices down. */
  pipeline: { congested(): boolean; overloaded(): boolean; refusing(): boolean };
}

/** One protocol: the name its devices carry in the site file, and how its adapter is built. */
export interface AdapterKind {
  readonly protocol: string;
  /** Its component name (the logger's too). */
  readonly component: string;
  create(ctx: AdapterContext): Adapter;
}
