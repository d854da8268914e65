import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { startModbusServer, type ModbusServer } from '../simulators/modbus/server.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';

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
      { unitId: 1, profile: profiles.get('generic-water-meter')!, values: { total_m3: 12.5, flow_m3h: 0.3, valve_open: true } },
      { unitId: 2, profile: profiles.get('eastron-sdm630')!, values: { voltage_l1_v: 230 } },
      { unitId: 3, profile: profiles.get('generic-pump-controller')!, values: { run_command: false, running: false, fault: false } },
    ],
  });
  const extra = [
    `  - { id: wm-valve, kind: water_meter, protocol: modbus, profile: generic-water-meter, poll_interval_s: 1, place: { building: b1, unit: u102 }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 1 } }`,
    `  - { id: em-1, kind: electricity_meter, protocol: modbus, profile: eastron-sdm630, poll_interval_s: 1, place: { building: b1 }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 2 } }`,
    `  - { id: sump-pump, kind: pump, role: sump, protocol: modbus, profile: generic-pump-controller, poll_interval_s: 1, place: { building: b1, room: pump-room }, connection: { host: 127.0.0.1, port: ${server.port}, unit_id: 3 } }`,
  ].join('\n');
  const { config, baseDir } = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('commands'), extra });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
  const login = await fetch(`${gw.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: DEVICE_PASSWORD }) });
  cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  await waitFor(() => gw.registry.get('wm-valve')?.online, 'the valve meter polled');
});

afterAll(async () => {
  await gw?.stop();
  await server?.close();
});

const send = async (device: string, body: unknown, auth: Record<string, string> = { cookie }) => {
  const res = await fetch(`${gw.httpUrl}/api/devices/${device}/commands`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('device commands', () => {
  it("closes a unit's water valve over Modbus and reads it back", async () => {
    const before = server.requests(1).length;
    const res = await send('wm-valve', { field: 'valve_open', value: false, comment: '空置房走水，先关阀 vacant flat running water' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ deviceId: 'wm-valve', field: 'valve_open', written: false, readBack: false, by: 'duty' });
    const writes = server.requests(1).slice(before).filter((r) => r.function === 5);
    expect(writes).toEqual([expect.objectContaining({ function: 5, start: 0, count: 1, outcome: 'data' })]);
    await waitFor(() => gw.registry.get('wm-valve')?.lastReading?.fields.valve_open === false, 'the next poll to show the valve closed');
  });

  it('starts a sump pump from the duty room', async () => {
    const res = await send('sump-pump', { field: 'run_command', value: true, comment: '集水井高水位，手动启泵 sump high, starting the pump' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ written: true, readBack: true });
  });

  it('refuses a field that is not writable, naming the writable ones, with nothing sent', async () => {
    const before = server.requests(2).length;
    const res = await send('em-1', { field: 'voltage_l1_v', value: 0 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'not_writable', message: 'em-1 (eastron-sdm630) cannot be commanded to set "voltage_l1_v"; writable fields: none' });
    expect(server.requests(2).slice(before).filter((r) => r.function >= 5)).toEqual([]);
  });

  it('refuses a wrong value, an MQTT device, an unknown device and a viewer, each clearly', async () => {
    expect((await send('wm-valve', { field: 'valve_open', value: 'shut' })).body).toMatchObject({ error: 'bad_value' });
    expect((await send('wm-101', { field: 'valve_open', value: false })).body).toMatchObject({ error: 'not_modbus', message: '"wm-101" is not a Modbus device of this gateway' });
    expect((await send('ghost', { field: 'valve_open', value: false })).status).toBe(404);
    expect((await send('wm-valve', { field: 'valve_open', value: true }, { authorization: `Bearer ${BRIDGE_PASSWORD}` })).status).toBe(403);
  });

  it('keeps the record of every command, newest first, with who, why and the outcome', async () => {
    const res = await fetch(`${gw.httpUrl}/api/devices/wm-valve/commands`, { headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` } });
    const { commands } = (await res.json()) as { commands: { by: string; outcome: string; value: unknown; comment?: string }[] };
    expect(commands.map((c) => `${c.by} ${String(c.value)} ${c.outcome}`)).toEqual(['duty shut refused', 'duty false done']);
    expect(commands[1]!.comment).toBe('空置房走水，先关阀 vacant flat running water');
  });
});
