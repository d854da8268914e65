import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SiteConfig } from '../gateway/config/schema.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { Estate } from '../simulators/estate/estate.js';
import { testSiteConfig } from '../simulators/estate/test-site.testing.js';
import type { Fields, Observation } from '../simulators/estate/types.js';
import { startModbusFleet, type RunningModbusFleet } from '../simulators/modbus/fleet.js';
import { startMqttSimulator, type RunningMqttSimulator } from '../simulators/mqtt/publisher.js';
import { freePort } from './support/mosquitto.js';
import { DEVICE_PASSWORD, uniqueDb, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Every simulator read by the gateway through its real protocol: the small test estate (one
// device of each kind, over MQTT canonical, zigbee2mqtt and Modbus SDM630, SDM120, TUF-2000M,
// Grundfos CIM, lift terminal, boiler, water meter profiles) on its own converters and the
// gateway's embedded broker. The estate is fed to the transports by hand, so what the gateway
// reads can be compared with exactly what the simulators were given. mbpoll (Debian) checks
// the SDM630 registers independently of our codec.

const execFileP = promisify(execFile);
const MBPOLL = ['/usr/bin/mbpoll', '/usr/local/bin/mbpoll'].find((p) => existsSync(p));
const registerProfiles = loadRegisterProfiles();

let config: SiteConfig;
let estate: Estate;
let fleet: RunningModbusFleet;
let gateway: RunningGateway;
let mqttSim: RunningMqttSimulator;
const ports = new Map<number, number>();
/** What each device was last given on the wire. */
const given = new Map<string, Observation>();

function deliver(obs: Observation[]): void {
  for (const o of obs) {
    fleet.apply(o);
    mqttSim.apply(o);
    given.set(o.deviceId, o);
  }
}

/** The estate a second on (it moves in whole simulated seconds), kept in step with the real clock. */
function tick(): void {
  deliver(estate.advance(Math.max(systemClock.now(), estate.now()) + 1_000));
}

/** The gateway's live view of a device (what /api/devices serves). */
function device(id: string): {
  online: boolean;
  lastReading: { ts: string; fields: Fields } | null;
  poll?: { online: boolean };
} {
  const d = gateway.registry.get(id)!;
  const poll = gateway.modbus.deviceStats().get(id);
  return { online: d.online, lastReading: d.lastReading, ...(poll ? { poll } : {}) };
}

beforeAll(async () => {
  for (const p of [15520, 15521, 15522, 15523, 15524, 15525]) ports.set(p, await freePort());
  config = testSiteConfig((p) => ports.get(p) ?? p);
  const baseDir = mkdtempSync(join(tmpdir(), 'dutyroom-sim-'));
  config.data_dir = join(baseDir, 'data');
  config.storage = {
    ...config.storage,
    url: inject('influxUrl'),
    database: uniqueDb('simulators'),
    flush_interval_ms: 50,
  };
  config.http = { ...config.http, host: '127.0.0.1' };
  config.broker = { ...config.broker, host: '127.0.0.1' };
  // Polled every second, so the faults below show within a few seconds.
  for (const d of config.devices) if (d.protocol === 'modbus') d.poll_interval_s = 1;

  estate = new Estate({ config, profiles: registerProfiles, seed: 11, start: systemClock.now() });
  fleet = await startModbusFleet({ config, profiles: registerProfiles, estate });
  gateway = await startGateway({ config, baseDir, httpPort: 0, mqttPort: 0, logger: pino({ level: 'silent' }) });
  await gateway.adapter.waitReady();
  mqttSim = await startMqttSimulator({
    url: gateway.brokerUrl,
    config,
    profiles: gateway.profiles,
    passwordOf: () => DEVICE_PASSWORD,
  });
  deliver(estate.advance(estate.now()));
}, 60_000);

afterAll(async () => {
  await mqttSim?.stop();
  await gateway?.stop();
  await fleet?.stop();
});

describe('simulators read through the real protocols', () => {
  it('every device of every kind reaches the gateway with the values it was given (to the register resolution)', async () => {
    expect(new Set(config.devices.map((d) => d.kind)).size).toBe(7);
    const devices = await waitFor(
      async () => {
        const all = config.devices.map((d) => ({ id: d.id, ...device(d.id) }));
        return all.every((d) => d.online && d.lastReading) ? all : null;
      },
      'every simulated device online in the gateway',
      30_000,
    );
    for (const d of devices) {
      const sent = given.get(d.id)!;
      expect('fields' in sent, d.id).toBe(true);
      const got = d.lastReading!.fields;
      expect(Object.keys(got).length, d.id).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(got)) {
        const want = (sent as { fields: Fields }).fields[name];
        if (typeof value === 'number') expect(value, `${d.id}.${name}`).toBeCloseTo(Number(want), 1);
        else expect(value, `${d.id}.${name}`).toBe(want);
      }
    }
    // MQTT devices carry the observation's own time.
    expect(Date.parse(device('lift-a').lastReading!.ts)).toBe(given.get('lift-a')!.ts);
  });

  it('mbpoll reads the simulated SDM630 voltages as the datasheet encodes them (function 04, float32 ABCD at 0x0000/0x0002/0x0004)', async () => {
    if (!MBPOLL)
      throw new Error(
        'mbpoll is not installed: run `npm run setup` (it installs the Debian packages mbpoll and mosquitto-clients)',
      );
    const port = ports.get(15520)!;
    // -t 3:float input registers as 32-bit floats, -B high word first, -0 -r 0 wire address 0, 3 values.
    const { stdout } = await execFileP(MBPOLL, [
      '-m',
      'tcp',
      '-p',
      String(port),
      '-a',
      '1',
      '-t',
      '3:float',
      '-B',
      '-0',
      '-r',
      '0',
      '-c',
      '3',
      '-1',
      '-o',
      '2',
      '127.0.0.1',
    ]);
    const values = new Map(
      [...stdout.matchAll(/^\[(\d+)\]:\s+(-?[\d.]+(?:e[-+]?\d+)?)/gim)].map((m) => [Number(m[1]), Number(m[2])]),
    );
    expect([...values.keys()]).toEqual([0, 2, 4]);
    const sent = (given.get('inc') as { fields: Fields }).fields;
    expect(values.get(0)).toBeCloseTo(Number(sent.voltage_l1_v), 3);
    expect(values.get(2)).toBeCloseTo(Number(sent.voltage_l2_v), 3);
    expect(values.get(4)).toBeCloseTo(Number(sent.voltage_l3_v), 3);
    for (const v of values.values()) expect(v).toBeGreaterThan(200);
  });

  it('faults travel over the wire: a wet Zigbee sensor, cut circuits at 0 V, an unpowered pump silent, lift terminals on battery', async () => {
    estate.inject('leak-1', { type: 'leak' });
    estate.inject('pump-circ', { type: 'power_cut' });
    estate.inject('lift-circ', { type: 'power_cut' });
    tick();
    expect(given.get('booster')).toMatchObject({ dark: true, why: 'unpowered' });
    await waitFor(() => device('leak-1').lastReading?.fields.wet === true, 'leak-1 wet in the gateway');
    await waitFor(() => device('pump-circ').lastReading?.fields.voltage_l1_v === 0, 'pump-circ at 0 V');
    await waitFor(() => device('booster').poll?.online === false, 'the booster (Modbus, unpowered) not answering');
    expect(device('inc').poll?.online).toBe(true);
    // Lift terminals report on their battery, over MQTT and over Modbus alike: the cars stand still.
    tick();
    await waitFor(
      () => device('lift-b').lastReading?.fields.direction === 'stopped' && device('lift-b').poll?.online,
      'lift-b answering, stopped',
    );
    expect(device('lift-a').lastReading!.fields.direction).toBe('stopped');

    estate.clearAll();
    tick();
    await waitFor(() => device('booster').poll?.online === true, 'the booster answering again', 30_000);
    await waitFor(() => Number(device('pump-circ').lastReading?.fields.voltage_l1_v) > 200, 'pump-circ voltage back');
    await waitFor(() => device('leak-1').lastReading?.fields.wet === false, 'leak-1 dry again');
  }, 60_000);
});
