import { floorsOf, type ModbusDeviceConfig, type SiteConfig } from '../../gateway/config/schema.js';
import type { RegisterProfile } from '../../gateway/profiles/profile.js';
import { initialState, step, type SimDevice, type State } from '../mqtt/behaviour.js';
import { hashSeed, seededRandom } from '../random.js';
import { startModbusServer, type ModbusServer } from './server.js';

// The site's Modbus TCP devices brought to life: one simulated converter per host:port of
// the site file, hosting every unit id configured behind it, its registers updated on each
// device's poll interval with the same plain behaviour the MQTT simulator uses. RTU devices
// need a serial line and are left to the RTU tests.

export interface ModbusFleetOptions {
  config: SiteConfig;
  profiles: ReadonlyMap<string, RegisterProfile>;
  /** Simulated seconds per real second. */
  speed?: number;
  seed?: number;
  /** Only these devices (ids); all Modbus TCP devices when absent. */
  only?: string[];
}

export interface RunningModbusFleet {
  /** One server per `host:port` of the site file. */
  servers: ReadonlyMap<string, ModbusServer>;
  /** The server and unit id simulating a device (drills inject faults through it). */
  deviceAt(id: string): { server: ModbusServer; unitId: number } | undefined;
  stop(): Promise<void>;
}

export async function startModbusFleet(opts: ModbusFleetOptions): Promise<RunningModbusFleet> {
  const { config } = opts;
  const speed = opts.speed ?? 1;
  const seed = opts.seed ?? 1;
  const hourFmt = new Intl.DateTimeFormat('en-GB', { timeZone: config.site.timezone, hour: 'numeric', hourCycle: 'h23' });
  const devices = config.devices.filter(
    (d): d is ModbusDeviceConfig => d.protocol === 'modbus' && d.connection.transport === 'tcp' && (!opts.only || opts.only.includes(d.id)),
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
  const where = new Map<string, { server: ModbusServer; unitId: number }>();
  const timers: NodeJS.Timeout[] = [];
  const stop = async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all([...servers.values()].map((s) => s.close()));
  };

  try {
    for (const [key, g] of groups) {
      const sims = g.devices.map((d) => {
        const profile = opts.profiles.get(d.profile);
        if (!profile) throw new Error(`simulator: device ${d.id} has no register profile "${d.profile}"`);
        const rnd = seededRandom(hashSeed(seed, d.id));
        const sim = simDevice(d, config, profile);
        return { d, profile, sim, rnd, state: initialState(sim, rnd) };
      });
      let server: ModbusServer;
      try {
        server = await startModbusServer({
          host: g.host,
          port: g.port,
          devices: sims.map((s) => ({ unitId: s.d.connection.unit_id, profile: s.profile, values: inProfile(s.state, s.profile) })),
        });
      } catch (err) {
        throw new Error(`simulator: cannot listen on ${key} for Modbus devices ${g.devices.map((d) => d.id).join(', ')}: ${(err as Error).message}`, { cause: err });
      }
      servers.set(key, server);
      for (const s of sims) {
        where.set(s.d.id, { server, unitId: s.d.connection.unit_id });
        const advance = () => {
          s.state = step(s.sim, s.state, s.d.poll_interval_s, Number(hourFmt.format(new Date())), s.rnd);
          server.set(s.d.connection.unit_id, inProfile(s.state, s.profile));
        };
        timers.push(setInterval(advance, (s.d.poll_interval_s * 1000) / speed));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return { servers, deviceAt: (id) => where.get(id), stop };
}

function simDevice(d: ModbusDeviceConfig, config: SiteConfig, profile: RegisterProfile): SimDevice {
  const building = config.buildings.find((b) => b.id === d.place.building)!;
  const levels = floorsOf(building).map((f) => f.level);
  return {
    id: d.id,
    kind: d.kind,
    vacant: building.units.find((u) => u.id === d.place.unit)?.vacant ?? false,
    floors: { lowest: Math.min(...levels), highest: Math.max(...levels) },
    nominalVoltage: d.nominal_voltage_v ?? 220,
    phases: 'voltage_l3_v' in profile.fields ? 3 : 1,
  };
}

/** The simulated values the device's registers can hold (behaviour keys it lacks are dropped). */
function inProfile(state: State, profile: RegisterProfile): State {
  return Object.fromEntries(Object.entries(state).filter(([k]) => k in profile.fields));
}
