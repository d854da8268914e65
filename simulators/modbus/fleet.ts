import type { ModbusDeviceConfig, SiteConfig } from '../../gateway/ports/site.js';
import type { RegisterProfile } from '../../gateway/profiles/profile.js';
import type { ObservationSink } from '../estate/driver.js';
import type { EstateControl, Fields, Observation } from '../estate/types.js';
import { startModbusServer, type ModbusServer } from './server.js';

// The site's Modbus TCP devices on the wire: one simulated converter per host:port of the
// site file, hosting every unit id configured behind it. Registers hold what the simulated
// estate last observed for the device, encoded with its register profile; a dark device
// (unpowered, or silent) stops answering, as a dead slave does. A write the gateway sends (a
// vacant flat's valve closed from the incident page) reaches the estate's device, which acts
// on it: its registers show the new state at once and its flow stops, so the command's
// read-back and the readings after it are the simulated device's own answer. RTU devices
// need a serial line and are left to the RTU tests.

export interface ModbusFleetOptions {
  config: SiteConfig;
  profiles: ReadonlyMap<string, RegisterProfile>;
  /** The estate whose devices these are: their registers start from its current observations. */
  estate: EstateControl;
  /** Only these devices (ids); all Modbus TCP devices when absent. */
  only?: readonly string[];
  /** A write the estate's device could not act on (its model takes no such command): the registers keep what was written until its next observation. */
  onRefusedWrite?: (deviceId: string, err: Error) => void;
}

export interface RunningModbusFleet extends ObservationSink {
  /** One server per `host:port` of the site file. */
  servers: ReadonlyMap<string, ModbusServer>;
  /** The server and unit id simulating a device (tests write raw registers through it). */
  deviceAt(id: string): { server: ModbusServer; unitId: number } | undefined;
  stop(): Promise<void>;
}

interface Unit {
  server: ModbusServer;
  unitId: number;
  profile: RegisterProfile;
  offline: boolean;
}

/** Where the fleet keeps its servers and which device answers behind each unit. */
interface Fleet {
  servers: Map<string, ModbusServer>;
  units: Map<string, Unit>;
  /** `host:port/unit id` → the device behind it. */
  byUnit: Map<string, string>;
}

/** One converter on the wire: a `host:port` and the devices configured behind it. */
interface Converter {
  host: string;
  port: number;
  devices: ModbusDeviceConfig[];
}

export async function startModbusFleet(opts: ModbusFleetOptions): Promise<RunningModbusFleet> {
  const fleet: Fleet = { servers: new Map(), units: new Map(), byUnit: new Map() };
  const apply = (obs: Observation) => applyObservation(fleet, obs);
  const onWrite = writesFor(fleet, opts, apply);
  const stop = async () => {
    await Promise.all([...fleet.servers.values()].map((s) => s.close()));
  };
  try {
    for (const [key, converter] of convertersOf(opts)) await openConverter(fleet, opts, key, converter, onWrite(key));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    servers: fleet.servers,
    deviceAt: (id) => {
      const u = fleet.units.get(id);
      return u && { server: u.server, unitId: u.unitId };
    },
    apply,
    stop,
  };
}

/** The site's Modbus TCP devices (or the `only` ones), grouped by the `host:port` they sit behind. */
function convertersOf(opts: ModbusFleetOptions): Map<string, Converter> {
  const devices = opts.config.devices.filter(
    (d): d is ModbusDeviceConfig =>
      d.protocol === 'modbus' && d.connection.transport === 'tcp' && (!opts.only || opts.only.includes(d.id)),
  );
  const groups = new Map<string, Converter>();
  for (const d of devices) {
    const host = d.connection.host ?? '127.0.0.1';
    const port = d.connection.port ?? 502;
    const key = `${host}:${port}`;
    const g = groups.get(key) ?? { host, port, devices: [] };
    g.devices.push(d);
    groups.set(key, g);
  }
  return groups;
}

/** An observation reaches the device's registers: dark stops the unit answering, fields fill its registers. */
function applyObservation(fleet: Fleet, obs: Observation): void {
  const u = fleet.units.get(obs.deviceId);
  if (!u) return;
  const dark = 'dark' in obs;
  if (dark !== u.offline) {
    u.server.setOffline(u.unitId, dark);
    u.offline = dark;
  }
  if ('fields' in obs) u.server.set(u.unitId, inProfile(obs.fields, u.profile));
}

/** The device behind a unit takes the write: the estate acts on it, and the registers show what it now reports. */
function writesFor(
  fleet: Fleet,
  opts: ModbusFleetOptions,
  apply: (obs: Observation) => void,
): (key: string) => (unitId: number, fields: Fields) => void {
  return (key) => (unitId, fields) => {
    const id = fleet.byUnit.get(`${key}/${unitId}`);
    if (!id) return;
    try {
      for (const [field, value] of Object.entries(fields)) opts.estate.command(id, field, value);
      apply(opts.estate.observe(id));
    } catch (err) {
      opts.onRefusedWrite?.(id, err as Error);
    }
  };
}

/** One converter's server, its units' registers starting from the estate's current observations. */
async function openConverter(
  fleet: Fleet,
  opts: ModbusFleetOptions,
  key: string,
  g: Converter,
  onWrite: (unitId: number, fields: Fields) => void,
): Promise<void> {
  const initial = g.devices.map((d) => {
    const profile = opts.profiles.get(d.profile);
    if (!profile) throw new Error(`simulator: device ${d.id} has no register profile "${d.profile}"`);
    fleet.byUnit.set(`${key}/${d.connection.unit_id}`, d.id);
    return { d, profile, obs: opts.estate.observe(d.id) };
  });
  let server: ModbusServer;
  try {
    server = await startModbusServer({
      host: g.host,
      port: g.port,
      devices: initial.map((i) => ({
        unitId: i.d.connection.unit_id,
        profile: i.profile,
        values: 'fields' in i.obs ? inProfile(i.obs.fields, i.profile) : {},
      })),
      onWrite,
    });
  } catch (err) {
    throw new Error(
      `simulator: cannot listen on ${key} for Modbus devices ${g.devices.map((d) => d.id).join(', ')}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  fleet.servers.set(key, server);
  for (const i of initial) {
    const unit: Unit = { server, unitId: i.d.connection.unit_id, profile: i.profile, offline: false };
    fleet.units.set(i.d.id, unit);
    if ('dark' in i.obs) {
      server.setOffline(unit.unitId, true);
      unit.offline = true;
    }
  }
}

/** The observed fields the device's registers can hold (a TUF-2000M has no leak flag). */
function inProfile(fields: Fields, profile: RegisterProfile): Fields {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => k in profile.fields));
}
