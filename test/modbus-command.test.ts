import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ModbusAdapter } from '../gateway/adapters/modbus/adapter.js';
import type { CommandError } from '../gateway/adapters/modbus/command.js';
import { systemClock } from '../gateway/ports/clock.js';
import type { ModbusDeviceConfig } from '../gateway/config/schema.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { Metrics } from '../gateway/metrics.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import type { Reading } from '../rules/model/reading.js';
import { startModbusRtuServer } from '../simulators/modbus/rtu-server.js';
import { startModbusServer, type ModbusServer, type SimulatedDevice } from '../simulators/modbus/server.js';
import { cleanupEach, modbusDevice, nullModem, quietLogger, waitFor } from './modbus-helpers.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb, waitFor as waitUntil } from './support/site.js';

// Commands through the API, the gateway's Modbus line and a real Modbus TCP server: a unit's
// valve is closed and read back; a field no profile declares writable is refused before
// anything goes on the wire; every command is recorded with who and when.

const profiles = loadRegisterProfiles();
let server: ModbusServer;
let gw: RunningGateway;
let cookie: string;

beforeAll(async () => {
  server = await startModbusServer({
    devices: [
      {
        unitId: 1,
        profile: profiles.get('generic-water-meter')!,
        values: { total_m3: 12.5, flow_m3h: 0.3, valve_open: true },
      },
      { unitId: 2, profile: profiles.get('eastron-sdm630')!, values: { voltage_l1_v: 230 } },
      {
        unitId: 3,
        profile: profiles.get('generic-pump-controller')!,
        values: { run_command: false, running: false, fault: false },
      },
    ],
  });
  const extra = [
    `  - { id: wm-valve, kind: water_meter, protocol: modbus, profile: generic-water-meter, poll_interval_s: 1, place: { building: b1, unit: u102 }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 1 } }`,
    `  - { id: em-1, kind: electricity_meter, protocol: modbus, profile: eastron-sdm630, poll_interval_s: 1, place: { building: b1 }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 2 } }`,
    `  - { id: sump-pump, kind: pump, role: sump, protocol: modbus, profile: generic-pump-controller, poll_interval_s: 1, place: { building: b1, room: pump-room }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 3 } }`,
  ].join('\n');
  const { config, baseDir } = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('commands'), extra });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
  const login = await fetch(`${gw.httpUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'duty', password: DEVICE_PASSWORD }),
  });
  cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  await waitUntil(() => gw.registry.get('wm-valve')?.online, 'the valve meter polled');
});

afterAll(async () => {
  await gw?.stop();
  await server?.close();
});

const send = async (device: string, body: unknown, auth: Record<string, string> = { cookie, origin: gw.httpUrl }) => {
  const res = await fetch(`${gw.httpUrl}/api/devices/${device}/commands`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('device commands', () => {
  it("closes a unit's water valve over Modbus and reads it back", async () => {
    const before = server.requests(1).length;
    const res = await send('wm-valve', {
      field: 'valve_open',
      value: false,
      comment: '空置房走水，先关阀 vacant flat running water',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      deviceId: 'wm-valve',
      field: 'valve_open',
      written: false,
      readBack: false,
      by: 'duty',
    });
    const writes = server
      .requests(1)
      .slice(before)
      .filter((r) => r.function === 5);
    expect(writes).toEqual([expect.objectContaining({ function: 5, start: 0, count: 1, outcome: 'data' })]);
    await waitUntil(
      () => gw.registry.get('wm-valve')?.lastReading?.fields.valve_open === false,
      'the next poll to show the valve closed',
    );
  });

  it('starts a sump pump from the duty room', async () => {
    const res = await send('sump-pump', {
      field: 'run_command',
      value: true,
      comment: '集水井高水位，手动启泵 sump high, starting the pump',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ written: true, readBack: true });
  });

  it('refuses a field that is not writable, naming the writable ones, with nothing sent', async () => {
    const before = server.requests(2).length;
    const res = await send('em-1', { field: 'voltage_l1_v', value: 0 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: 'not_writable',
      message: 'em-1 (eastron-sdm630) cannot be commanded to set "voltage_l1_v"; writable fields: none',
    });
    expect(
      server
        .requests(2)
        .slice(before)
        .filter((r) => r.function >= 5),
    ).toEqual([]);
  });

  it('refuses a wrong value, an MQTT device, an unknown device and a viewer, each clearly', async () => {
    expect((await send('wm-valve', { field: 'valve_open', value: 'shut' })).body).toMatchObject({ error: 'bad_value' });
    expect((await send('wm-101', { field: 'valve_open', value: false })).body).toMatchObject({
      error: 'not_modbus',
      message: 'wm-101 reports over MQTT: the gateway sends commands to Modbus devices only',
    });
    expect((await send('ghost', { field: 'valve_open', value: false })).status).toBe(404);
    expect(
      (await send('wm-valve', { field: 'valve_open', value: true }, { authorization: `Bearer ${BRIDGE_PASSWORD}` }))
        .status,
    ).toBe(403);
  });

  it('keeps the record of every command, newest first, with who, why and the outcome', async () => {
    const res = await fetch(`${gw.httpUrl}/api/devices/wm-valve/commands`, {
      headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` },
    });
    const { commands } = (await res.json()) as {
      commands: { by: string; outcome: string; value: unknown; comment?: string }[];
    };
    expect(commands.map((c) => `${c.by} ${String(c.value)} ${c.outcome}`)).toEqual([
      'duty shut refused',
      'duty false done',
    ]);
    expect(commands[1]!.comment).toBe('空置房走水，先关阀 vacant flat running water');
    // On disk in the data dir, one JSON line per command.
    const file = join(gw.config.data_dir, 'commands', 'commands.jsonl');
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(4);
  });
});

// The adapter alone against the simulators: what goes on the wire, in which order, over TCP and RTU.
const onCleanup = cleanupEach();

function adapterOn(devices: ModbusDeviceConfig[]): { adapter: ModbusAdapter; readings: Reading[] } {
  const adapter = new ModbusAdapter({
    devices,
    profiles,
    clock: systemClock,
    metrics: new Metrics(),
    logger: quietLogger,
  });
  const readings: Reading[] = [];
  adapter.start((r) => readings.push(r));
  onCleanup(() => adapter.stop());
  return { adapter, readings };
}

async function simulator(devices: SimulatedDevice[]): Promise<ModbusServer> {
  const s = await startModbusServer({ devices });
  onCleanup(() => s.close());
  return s;
}

const commandError = (p: Promise<unknown>): Promise<CommandError> =>
  p.then(
    () => {
      throw new Error('expected the command to be refused');
    },
    (err: CommandError) => err,
  );

describe('ModbusAdapter.command against the simulators', () => {
  it('starts a Grundfos pump over TCP: bit 1 of control register 100 changed, the remote-control bit 0 kept; the next poll shows it', async () => {
    const s = await simulator([
      { unitId: 1, profile: profiles.get('grundfos-cim')!, values: { run_command: false, running: false } },
    ]);
    s.setRaw(1, 3, 100, [0b01]); // commissioned for remote control
    const { adapter, readings } = adapterOn([
      modbusDevice({
        id: 'booster',
        kind: 'pump',
        profile: 'grundfos-cim',
        host: s.host,
        port: s.port,
        unitId: 1,
        intervalS: 0.2,
      }),
    ]);
    await waitFor(() => readings.length, 2000, 'the first poll');
    expect(readings[0]!.fields.run_command).toBe(false);

    const result = await adapter.command('booster', 'run_command', true);
    expect(result).toMatchObject({
      deviceId: 'booster',
      field: 'run_command',
      written: true,
      readBack: true,
      confirmed: true,
    });
    expect(Math.abs(result.at - systemClock.now())).toBeLessThan(2000);
    expect(
      s
        .requests(1)
        .filter((r) => r.function >= 5)
        .map((r) => [r.function, r.start, r.values]),
    ).toEqual([[6, 100, [0b11]]]);
    const n = readings.length;
    await waitFor(
      () => readings.slice(n).find((r) => r.fields.run_command === true),
      2000,
      'a poll showing the run command',
    );
  });

  it('refuses a field that is not writable with a clear error, and nothing goes on the wire', async () => {
    const s = await simulator([{ unitId: 2, profile: profiles.get('eastron-sdm630')!, values: { voltage_l1_v: 230 } }]);
    const { adapter } = adapterOn([
      modbusDevice({
        id: 'em-1',
        kind: 'electricity_meter',
        profile: 'eastron-sdm630',
        host: s.host,
        port: s.port,
        unitId: 2,
        intervalS: 1,
      }),
    ]);
    const err = await commandError(adapter.command('em-1', 'voltage_l1_v', 0));
    expect(err).toMatchObject({
      code: 'not_writable',
      message: 'em-1 (eastron-sdm630) cannot be commanded to set "voltage_l1_v"; writable fields: none',
    });
    expect((await commandError(adapter.command('wm-101', 'valve_open', false))).code).toBe('not_modbus');
    expect(s.requests(2).filter((r) => r.function >= 5)).toEqual([]);
  });

  it('goes ahead of a backlog of polls on the line (one request at a time), then the polls carry on', async () => {
    const meter = profiles.get('generic-water-meter')!;
    const units = [1, 2, 3, 4, 5, 6, 7, 8];
    const s = await simulator(
      units.map((unitId) => ({ unitId, profile: meter, values: { total_m3: unitId, valve_open: true } })),
    );
    // Slower than the line can carry at this interval, so that polls queue however they are spread.
    for (const u of units) s.setDelay(u, 80);
    const { adapter } = adapterOn(
      units.map((u) =>
        modbusDevice({
          id: `wm-${u}`,
          kind: 'water_meter',
          profile: 'generic-water-meter',
          host: s.host,
          port: s.port,
          unitId: u,
          intervalS: 0.5,
        }),
      ),
    );
    const queued = () => (adapter.health().endpoints as { queued: number }[])[0]!.queued;
    await waitFor(() => queued() >= 6, 3000, 'polls waiting for the line');
    const waiting = queued();
    const before = s.requests().length;

    expect(await adapter.command('wm-8', 'valve_open', false)).toMatchObject({ readBack: false, confirmed: true });
    const after = s.requests().slice(before);
    // At most the poll already on the wire answers first; then the write and its read-back, back to back.
    const write = after.findIndex((r) => r.function === 5);
    expect(write).toBeLessThanOrEqual(1);
    expect(after[write]).toMatchObject({ unitId: 8, start: 0, values: [false] });
    expect(after[write + 1]).toMatchObject({ unitId: 8, function: 1, start: 0, count: 1 });
    expect(waiting).toBeGreaterThanOrEqual(6);
    await waitFor(
      () => s.requests().length >= before + write + 2 + waiting,
      3000,
      'the waiting polls to go out after the command',
    );
  });

  it('a unit that does not answer: device_error with the Modbus failure, and the others keep being polled', async () => {
    const meter = profiles.get('generic-water-meter')!;
    const s = await simulator([
      { unitId: 1, profile: meter, values: { valve_open: true } },
      { unitId: 2, profile: meter, values: { valve_open: true } },
    ]);
    s.setOffline(1, true);
    const { adapter, readings } = adapterOn([
      modbusDevice({
        id: 'wm-dead',
        kind: 'water_meter',
        profile: 'generic-water-meter',
        host: s.host,
        port: s.port,
        unitId: 1,
        intervalS: 0.2,
        timeoutMs: 150,
      }),
      modbusDevice({
        id: 'wm-ok',
        kind: 'water_meter',
        profile: 'generic-water-meter',
        host: s.host,
        port: s.port,
        unitId: 2,
        intervalS: 0.2,
        timeoutMs: 150,
      }),
    ]);
    const err = await commandError(adapter.command('wm-dead', 'valve_open', false));
    expect(err.code).toBe('device_error');
    expect(err.message).toBe(
      'wm-dead did not take the write of valve_open to coil 0 (it may have been carried out all the same: check the next reading): no answer from unit 1 within 150 ms',
    );
    const n = readings.filter((r) => r.deviceId === 'wm-ok').length;
    await waitFor(
      () => readings.filter((r) => r.deviceId === 'wm-ok').length >= n + 2,
      2000,
      'the healthy meter polled on',
    );
  });

  it('over RTU (a CIM 200 on RS-485): the write and read-back go out one at a time and the pump starts', async () => {
    const [gatewaySide, deviceSide] = await nullModem(onCleanup);
    const sim = await startModbusRtuServer({
      path: deviceSide,
      devices: [{ unitId: 1, profile: profiles.get('grundfos-cim')!, values: { run_command: false, running: false } }],
    });
    onCleanup(() => sim.close());
    sim.setRaw(1, 3, 100, [0b01]);
    sim.setDelay(1, 30);
    const { adapter, readings } = adapterOn([
      modbusDevice({
        id: 'sump-pump',
        kind: 'pump',
        profile: 'grundfos-cim',
        transport: 'rtu',
        serialPort: gatewaySide,
        baudRate: 9600,
        unitId: 1,
        intervalS: 0.25,
        timeoutMs: 500,
      }),
    ]);
    await waitFor(() => readings.length, 3000, 'the first poll over RTU');
    expect(await adapter.command('sump-pump', 'run_command', true)).toMatchObject({ readBack: true, confirmed: true });
    expect(
      sim
        .requests(1)
        .filter((r) => r.function === 6)
        .map((r) => [r.start, r.values, r.outcome]),
    ).toEqual([[100, [0b11], 'data']]);
    // Nobody talks over a slave still answering: every request waits out the 30 ms answer before it.
    const log = sim.requests(1);
    for (let i = 1; i < log.length; i++) expect(log[i]!.at - log[i - 1]!.at).toBeGreaterThanOrEqual(25);
    expect(await adapter.command('sump-pump', 'run_command', false)).toMatchObject({
      readBack: false,
      confirmed: true,
    });
    expect(
      sim
        .requests(1)
        .filter((r) => r.function === 6)
        .map((r) => r.values),
    ).toEqual([[0b11], [0b01]]);
  });
});
