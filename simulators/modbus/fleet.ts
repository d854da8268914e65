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

export async function startModbusFleet(opts: ModbusFleetOptions): Promise<RunningModbusFleet> {
  const { config, estate } = opts;
  const devices = config.devices.filter(
    (d): d is ModbusDeviceConfig =>
      d.protocol === 'modbus' && d.connection.transport === 'tcp' && (!opts.only || opts.only.includes(d.id)),
  );

  const groups = new Map<string, { host: string; port: number; devices: ModbusDeviceConfig[] }>();
  for (const d of devices) {
    const host = d.connection.host ?? '127.0.0.1';
    const port = d.connection.port ?? 502;
    const key = `${host}:${port}`;
    const g = groups.get(key) ?? { host, port, devices: [] };
    g.devices.push(d);
    groups.set(key, g);
  }

  const servers = new Map<string, ModbusServer>();
  const units = new Map<string, Unit>();
  /** `host:port/unit id` → the device behind it. */
  const byUnit = new Map<string, string>();
  const apply = (obs: Observation) => {
    const u = units.get(obs.deviceId);
    if (!u) return;
    const dark = 'dark' in obs;
    if (dark !== u.offline) {
      u.server.setOffline(u.unitId, dark);
      u.offline = dark;
    }
    if ('fields' in obs) u.server.set(u.unitId, inProfile(obs.fields, u.profile));
  };
  /** The device behind a unit takes the write: the estate acts on it, and the registers show what it now reports. */
  const written = (key: string) => (unitId: number, fields: Fields) => {
    const id = byUnit.get(`${key}/${unitId}`);
    if (!id) return;
    try {
      for (const [field, value] of Object.entries(fields)) estate.command(id, field, value);
      apply(estate.observe(id));
    } catch (err) {
      opts.onRefusedWrite?.(id, err as Error);
    }
  };
  const stop = async () => {
    await Promise.all([...servers.values()].map((s) => s.close()));
  };

  try {
    for (const [key, g] of groups) {
      const initial = g.devices.map((d) => {
        const profile = opts.profiles.get(d.profile);
        if (!profile) throw new Error(`simulator: device ${d.id} has no register profile "${d.profile}"`);
        byUnit.set(`${key}/${d.connection.unit_id}`, d.id);
        return { d, profile, obs: estate.observe(d.id) };
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
          onWrite: written(key),
        });
      } catch (err) {
        throw new Error(
          `simulator: cannot listen on ${key} for Modbus devices ${g.devices.map((d) => d.id).join(', ')}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      servers.set(key, server);
      for (const i of initial) {
        const unit: Unit = { server, unitId: i.d.connection.unit_id, profile: i.profile, offline: false };
        units.set(i.d.id, unit);
        if ('dark' in i.obs) {
          server.setOffline(unit.unitId, true);
          unit.offline = true;
        }
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    servers,
    deviceAt: (id) => {
      const u = units.get(id);
      return u && { server: u.server, unitId: u.unitId };
    },
    apply,
    stop,
  };
}

/** The observed fields the device's registers can hold (a TUF-2000M has no leak flag). */
function inProfile(fields: Fields, profile: RegisterProfile): Fields {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => k in profile.fields));
}
