import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Estate } from '../simulators/estate/estate.js';
import { startEstateDriver, type RunningDriver } from '../simulators/estate/driver.js';
import type { EstateControl } from '../simulators/estate/types.js';
import { startModbusFleet, type RunningModbusFleet } from '../simulators/modbus/fleet.js';
import { startMqttSimulator, type RunningMqttSimulator } from '../simulators/mqtt/publisher.js';
import { ScaledClock } from '../gateway/clock.js';
import { realTimers } from '../gateway/ports/clock.js';
import type { SiteConfig } from '../gateway/config/schema.js';
import { loadRegisterProfiles, type RegisterProfile } from '../gateway/profiles/profile.js';
import { loadSite } from '../gateway/config/site.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { createDrills } from './drills.js';
import { backfillSite } from './history.js';
import type { DrillController } from '../simulators/drill/controller.js';

/** The demo estate's passwords, as written (hashed) in config/demo-site.yaml. Demo only. */
export const DEMO_LOGINS = {
  users: [
    { username: 'admin', password: 'dutyroom-admin', role: 'admin' },
    { username: 'duty', password: 'dutyroom-duty', role: 'operator' },
    { username: 'viewer', password: 'dutyroom-view', role: 'viewer' },
  ],
  devicePassword: 'demo-device',
  accounts: { zigbee2mqtt: 'demo-bridge', 'nbiot-platform': 'demo-nbiot', 'bms-screen': 'dutyroom-view' } as Record<
    string,
    string
  >,
  apiToken: 'demo-token-grafana',
};

export interface DemoOptions {
  file: string;
  /** Simulated seconds per real second, for the gateway and the devices alike. */
  speed: number;
  env?: NodeJS.ProcessEnv;
  /** The estate's seed (default 2026): the same seed, the same estate. */
  seed?: number;
  /** Simulated epoch ms to start at (default: now). */
  start?: number;
  /** Print the banner (default true). */
  banner?: boolean;
  /** The gateway's logger (default: pino at LOG_LEVEL or info). */
  logger?: Logger;
  /**
   * Days of meter history with planted anomalies to write before the live readings, so the
   * meter-anomaly reports have something to show (default 0; `dutyroom demo` asks for 35).
   * Written once per data directory: its ground truth is <data_dir>/history/truth.json.
   */
  historyDays?: number;
}

export interface RunningDemo {
  gateway: RunningGateway;
  /** The simulated estate: drills inject faults here. */
  estate: EstateControl;
  /** The simulated clock the gateway and the devices share. */
  clock: ScaledClock;
  mqtt: RunningMqttSimulator;
  modbus: RunningModbusFleet;
  /** Scripted scenarios on the estate (`dutyroom drill …`, /api/drills). */
  drills: DrillController;
  stop(): Promise<void>;
}

/**
 * Gateway + local InfluxDB + the simulated estate (every device of the site file) on the
 * real protocols: Modbus converters the gateway polls, MQTT devices publishing to its broker.
 * One scaled clock drives both sides.
 */
export async function runDemo(opts: DemoOptions): Promise<RunningDemo> {
  const { config, baseDir } = loadSite(opts.file, opts.env);
  const registerProfiles = loadRegisterProfiles();
  const clock = new ScaledClock({ speed: opts.speed, ...(opts.start !== undefined ? { start: opts.start } : {}) });
  const estateStart = clock.now();
  const estate = new Estate({ config, profiles: registerProfiles, seed: opts.seed ?? 2026, start: estateStart });
  // The meters' counters as the live estate begins: the history backfilled below ends there.
  const startCounters = opts.historyDays ? meterCounters(config, estate) : new Map<string, number>();
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const parts = await startParts({ config, baseDir, clock, estate, registerProfiles, logger: opts.logger }, stops);
    const { gateway, modbus } = parts;
    const history = opts.historyDays
      ? await backfillOnce(
          config,
          baseDir,
          gateway,
          { end: estateStart, counters: startCounters },
          opts.historyDays,
          opts.seed ?? 2026,
        )
      : undefined;
    if (opts.banner !== false) printBanner(config, gateway, modbus, opts.speed, baseDir, history);
    return { ...parts, estate, clock, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What each meter of the estate shows now. */
function meterCounters(config: SiteConfig, estate: Estate): Map<string, number> {
  const counters = new Map<string, number>();
  for (const d of config.devices) {
    if (d.kind !== 'water_meter' && d.kind !== 'electricity_meter') continue;
    const o = estate.observe(d.id);
    const v = 'fields' in o ? (o.fields.total_m3 ?? o.fields.energy_import_kwh) : undefined;
    if (typeof v === 'number') counters.set(d.id, v);
  }
  return counters;
}

interface PartsOptions {
  config: SiteConfig;
  baseDir: string;
  clock: ScaledClock;
  estate: Estate;
  registerProfiles: Map<string, RegisterProfile>;
  logger: Logger | undefined;
}

/**
 * Starts the demo's parts in order, each stop pushed as it starts: the Modbus converters
 * first (so the gateway's first polls already get answers), the drills, the gateway, the MQTT
 * devices, then the driver that moves the estate on the clock and hands what it shows to both.
 */
async function startParts(
  o: PartsOptions,
  stops: (() => Promise<void> | void)[],
): Promise<Pick<RunningDemo, 'gateway' | 'mqtt' | 'modbus' | 'drills'>> {
  const { config, clock, estate } = o;
  const modbus = await startModbusFleet({ config, profiles: o.registerProfiles, estate });
  stops.push(() => modbus.stop());
  const drills = await createDrills({
    estate,
    clock,
    timers: realTimers,
    site: { id: config.site.id, timezone: config.site.timezone },
    journalFile: resolve(o.baseDir, config.data_dir, 'drills', 'journal.jsonl'),
  });
  stops.push(() => drills.close());
  const gateway = await startGateway({
    config,
    baseDir: o.baseDir,
    clock,
    timers: clock.timers,
    activeDrill: () => drills.runningDrill(),
    drills,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  stops.push(() => gateway.stop());
  const mqtt = await startMqttSimulator({
    url: gateway.brokerUrl,
    config,
    profiles: gateway.profiles,
    passwordOf: (login) => DEMO_LOGINS.accounts[login] ?? DEMO_LOGINS.devicePassword,
  });
  stops.push(() => mqtt.stop());
  const driver: RunningDriver = startEstateDriver({
    estate,
    clock,
    sinks: [modbus, mqtt],
    onError: (err, obs) =>
      gateway.logger.warn({ err, device: obs.deviceId }, 'simulator: could not deliver an observation'),
  });
  stops.push(() => driver.stop());
  driver.tick();
  return { gateway, mqtt, modbus, drills };
}

/**
 * The demo's meter history: written once per data directory, then the scheduled reports that
 * history allows (yesterday's, last month's) are made, as if the gateway had run all along.
 */
async function backfillOnce(
  config: RunningGateway['config'],
  baseDir: string,
  gateway: RunningGateway,
  live: { end: number; counters: Map<string, number> },
  days: number,
  seed: number,
): Promise<string> {
  const dataDir = resolve(baseDir, config.data_dir);
  const truthFile = join(dataDir, 'history', 'truth.json');
  if (existsSync(truthFile)) return `history from an earlier run (${truthFile})`;
  // The history ends where the live estate began, at the counters its meters showed then.
  const r = await backfillSite({
    config,
    driver: gateway.store.driver,
    days,
    end: live.end,
    seed,
    endValues: (id) => live.counters.get(id),
  });
  await mkdir(dirname(truthFile), { recursive: true });
  await writeFile(truthFile, JSON.stringify(r.truth, null, 1));
  await mkdir(join(dataDir, 'reports'), { recursive: true });
  await writeFile(join(dataDir, 'reports', 'since.json'), JSON.stringify({ since: r.truth.start }));
  await gateway.reports?.runDue();
  return `${days} days, ${r.points} readings, ${r.truth.planted.length} planted anomalies (${truthFile})`;
}

function printBanner(
  config: RunningGateway['config'],
  gateway: RunningGateway,
  modbus: RunningModbusFleet,
  speed: number,
  baseDir: string,
  history?: string,
): void {
  const count = (p: string) => config.devices.filter((d) => d.protocol === p).length;
  console.log(`
  dutyroom demo — ${typeof config.site.name === 'string' ? config.site.name : `${config.site.name.zh} ${config.site.name.en}`}
  ─────────────────────────────────────────────────────────────
  API / dashboard   ${gateway.httpUrl}
  devices (JSON)    ${gateway.httpUrl}/api/devices   (log in first, or use the token below)
  health, metrics   ${gateway.httpUrl}/health   ${gateway.httpUrl}/metrics
  MQTT broker       ${gateway.brokerUrl}   (device login: its id / ${DEMO_LOGINS.devicePassword}; read-only: bms-screen / ${DEMO_LOGINS.accounts['bms-screen']})

  logins            ${DEMO_LOGINS.users.map((u) => `${u.username} / ${u.password} (${u.role})`).join('   ')}
  API token         curl -H 'Authorization: Bearer ${DEMO_LOGINS.apiToken}' ${gateway.httpUrl}/api/devices

  simulated estate  ${config.devices.length} devices: ${count('mqtt')} MQTT, ${count('modbus')} Modbus on ${[...modbus.servers.keys()].join(', ')}
  meter reports     ${gateway.httpUrl}/#/reports${history ? `   history: ${history}` : ''}
  time              ${speed === 1 ? 'real time' : `${speed}× real time (simulated clock shared by the gateway and the devices)`}
  Ctrl-C stops everything (readings stay in ${resolve(baseDir, config.data_dir)}).
`);
}
