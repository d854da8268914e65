import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { FieldValue } from '../../rules/model/reading.js';
import { CommandError, type CommandResult } from '../adapters/modbus/command.js';
import { CommandLog } from '../commands-log.js';
import type { CommandService } from './commands.js';
import type { DeviceDirectory, DeviceStatus } from './deps.js';
import { TOKENS, bearer, json, session, testApi, type TestApi } from './testing.js';

// The command routes against a stand-in for the Modbus adapter and a real command record in a
// temporary folder: roles, every refusal with its status, the record and the log lines.

const dir = mkdtempSync(join(tmpdir(), 'dutyroom-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const viewer = bearer(TOKENS.dashboard);
const meterbot = bearer(TOKENS.meterbot);

/** What the stand-in adapter does for (device, field). */
type Behaviour = (value: FieldValue) => CommandResult | CommandError;

const AT = Date.parse('2025-01-15T08:00:01.500Z');
const behaviours: Record<string, Behaviour> = {
  'wm-9.valve_open': (value) => ({
    deviceId: 'wm-9',
    field: 'valve_open',
    written: value,
    readBack: value,
    confirmed: true,
    at: AT,
  }),
  'wm-9.total_m3': () =>
    new CommandError(
      'not_writable',
      'wm-9 (generic-water-meter) cannot be commanded to set "total_m3"; writable fields: valve_open',
      'wm-9（generic-water-meter）的「累计流量」total_m3 不可写；可写字段：valve_open',
    ),
  'wm-9.error_code': () =>
    new CommandError(
      'bad_value',
      'error_code: error_code: Invalid input: expected number, received string',
      'error_code 的值不可用',
    ),
  'pump-9.run_command': () =>
    new CommandError(
      'device_error',
      'pump-9 did not take the write of run_command to holding register 100: no answer from unit 1 within 1000 ms',
      'pump-9 未确认',
    ),
  'pump-9.fault': (value) => ({
    deviceId: 'pump-9',
    field: 'fault',
    written: value,
    readBack: !value,
    confirmed: false,
    at: AT,
  }),
};

class FakeCommands implements CommandService {
  readonly calls: string[] = [];
  constructor(readonly log: CommandLog) {}
  async run(deviceId: string, field: string, value: FieldValue): Promise<CommandResult> {
    this.calls.push(`${deviceId}.${field}=${JSON.stringify(value)}`);
    const outcome =
      behaviours[`${deviceId}.${field}`]?.(value) ?? new CommandError('not_writable', `no ${field}`, `无 ${field}`);
    if (outcome instanceof CommandError) throw outcome;
    return outcome;
  }
}

/** The test site's devices plus two Modbus ones (the test site itself has only MQTT devices). */
function withModbus(base: () => DeviceDirectory): DeviceDirectory {
  const modbus = (id: string, kind: DeviceStatus['kind']): DeviceStatus => ({
    id,
    kind,
    protocol: 'modbus',
    place: { building: 'b1' },
    online: true,
    lastSeen: null,
    lastReading: null,
    intervalSeconds: 10,
    offlineAfterSeconds: 30,
  });
  const extra = new Map([
    ['wm-9', modbus('wm-9', 'water_meter')],
    ['pump-9', modbus('pump-9', 'pump')],
  ]);
  return { list: () => [...base().list(), ...extra.values()], get: (id) => extra.get(id) ?? base().get(id) };
}

describe('device commands over HTTP', () => {
  let t: TestApi;
  let commands: FakeCommands;
  let log: CommandLog;
  let file: string;
  let lines: Record<string, unknown>[];

  beforeEach(async () => {
    file = join(mkdtempSync(join(dir, 'case-')), 'commands', 'commands.jsonl');
    log = new CommandLog(file);
    await log.open();
    commands = new FakeCommands(log);
    lines = [];
    const logger = pino(
      { level: 'info' },
      { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
    );
    // The registry is made by testApi, after the directory wrapping it is handed in.
    const made: { registry?: DeviceDirectory } = {};
    t = await testApi({ commands, devices: withModbus(() => made.registry!), logger });
    made.registry = t.registry;
    return () => log.close();
  });

  const send = (id: string, payload: unknown, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: `/api/devices/${id}/commands`,
      headers,
      payload: payload as Record<string, unknown>,
    });
  const commandLines = () => lines.filter((l) => l.command !== undefined).map((l) => l.msg);

  it('viewers may not command (403, nothing sent or recorded); operators and admins may', async () => {
    const denied = await send('wm-9', { field: 'valve_open', value: false }, viewer);
    expect(denied.statusCode).toBe(403);
    expect(json(denied)).toEqual({ error: 'forbidden', message: 'needs role operator' });
    expect(commands.calls).toEqual([]);

    const res = await send(
      'wm-9',
      { field: 'valve_open', value: false, comment: '空置房走水 vacant flat, water running' },
      await session(t.app, 'otto'),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toEqual({
      deviceId: 'wm-9',
      field: 'valve_open',
      written: false,
      readBack: false,
      confirmed: true,
      at: '2025-01-15T08:00:01.500Z',
      by: 'otto',
      comment: '空置房走水 vacant flat, water running',
    });
    expect((await send('wm-9', { field: 'valve_open', value: true }, await session(t.app, 'ada'))).statusCode).toBe(
      200,
    );
    expect((await send('wm-9', { field: 'valve_open', value: false }, meterbot)).statusCode).toBe(200);
    expect(commands.calls).toEqual(['wm-9.valve_open=false', 'wm-9.valve_open=true', 'wm-9.valve_open=false']);
    expect(commandLines()).toEqual([
      'command wm-9.valve_open = false by otto: done',
      'command wm-9.valve_open = true by ada: done',
      'command wm-9.valve_open = false by meterbot: done',
    ]);
  });

  it('refuses clearly: 404 unknown device, 409 an MQTT device or a field not writable, 400 a wrong value, 502 a device that does not answer', async () => {
    const unknown = await send('wm-404', { field: 'valve_open', value: false }, meterbot);
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown)).toMatchObject({ error: 'not_found', message: 'no device "wm-404" in this site' });

    const mqtt = await send('wm-101', { field: 'valve_open', value: false }, meterbot);
    expect(mqtt.statusCode).toBe(409);
    expect(json(mqtt)).toEqual({
      error: 'not_modbus',
      message: 'wm-101 reports over MQTT: the gateway sends commands to Modbus devices only',
      text: {
        zh: 'wm-101 通过 MQTT 上报，网关只能向 Modbus 设备下发指令',
        en: 'wm-101 reports over MQTT: the gateway sends commands to Modbus devices only',
      },
    });

    const notWritable = await send('wm-9', { field: 'total_m3', value: 0 }, meterbot);
    expect(notWritable.statusCode).toBe(409);
    expect(json(notWritable)).toMatchObject({
      error: 'not_writable',
      message: 'wm-9 (generic-water-meter) cannot be commanded to set "total_m3"; writable fields: valve_open',
      text: { zh: 'wm-9（generic-water-meter）的「累计流量」total_m3 不可写；可写字段：valve_open' },
    });

    const badValue = await send('wm-9', { field: 'error_code', value: 'x' }, meterbot);
    expect(badValue.statusCode).toBe(400);
    expect(json(badValue)).toMatchObject({ error: 'bad_value' });

    const silent = await send('pump-9', { field: 'run_command', value: true }, meterbot);
    expect(silent.statusCode).toBe(502);
    expect(json(silent)).toMatchObject({
      error: 'device_error',
      message: expect.stringMatching(/no answer from unit 1/) as unknown,
    });

    // Neither the unknown device nor the MQTT one reached the adapter.
    expect(commands.calls).toEqual(['wm-9.total_m3=0', 'wm-9.error_code="x"', 'pump-9.run_command=true']);
    expect(commandLines()).toEqual([
      'command wm-404.valve_open = false by meterbot: refused (no device "wm-404" in this site)',
      'command wm-101.valve_open = false by meterbot: refused (wm-101 reports over MQTT: the gateway sends commands to Modbus devices only)',
      'command wm-9.total_m3 = 0 by meterbot: refused (wm-9 (generic-water-meter) cannot be commanded to set "total_m3"; writable fields: valve_open)',
      'command wm-9.error_code = "x" by meterbot: refused (error_code: error_code: Invalid input: expected number, received string)',
      'command pump-9.run_command = true by meterbot: failed (pump-9 did not take the write of run_command to holding register 100: no answer from unit 1 within 1000 ms)',
    ]);
    expect(lines.filter((l) => l.command !== undefined).map((l) => l.level)).toEqual([40, 40, 40, 40, 40]);
  });

  it('a body that is not a command is a 400 naming the part, before anything is sent', async () => {
    const res = await send('wm-9', { field: 'valve_open', value: { open: false } }, meterbot);
    expect(res.statusCode).toBe(400);
    expect(json(res).message).toMatch(/^body\.value: /);
    const extra = await send('wm-9', { field: 'valve_open', value: false, force: true }, meterbot);
    expect(json(extra).message).toMatch(/^body: unrecognized key: "force"/i);
    expect(commands.calls).toEqual([]);
  });

  it('a write the device shows differently afterwards is answered as it is, and recorded as unconfirmed', async () => {
    const res = await send('pump-9', { field: 'fault', value: true }, meterbot);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ written: true, readBack: false, confirmed: false });
    expect(log.of('pump-9')[0]).toMatchObject({ outcome: 'unconfirmed', readBack: false, detail: 'read back false' });
  });

  it('keeps every command after authentication on disk; viewers list a device’s newest first', async () => {
    const otto = await session(t.app, 'otto');
    await send('wm-9', { field: 'valve_open', value: false, comment: '关阀 closing' }, otto);
    await send('wm-9', { field: 'total_m3', value: 1 }, meterbot);
    t.clock.advance(60_000);
    await send('wm-9', { field: 'valve_open', value: true }, otto);
    await send('wm-9', { field: 'valve_open', value: true }, viewer); // refused before authentication passed: not a command

    const res = await t.app.inject({ url: '/api/devices/wm-9/commands', headers: viewer });
    expect(res.statusCode).toBe(200);
    const body = json<{ device: string; commands: Record<string, unknown>[] }>(res);
    expect(body.device).toBe('wm-9');
    expect(body.commands.map((c) => [c.at, c.by, c.via, c.field, c.value, c.outcome])).toEqual([
      ['2025-01-15T08:01:00.000Z', 'otto', 'session', 'valve_open', true, 'done'],
      ['2025-01-15T08:00:00.000Z', 'meterbot', 'token', 'total_m3', 1, 'refused'],
      ['2025-01-15T08:00:00.000Z', 'otto', 'session', 'valve_open', false, 'done'],
    ]);
    expect(body.commands[1]).toMatchObject({
      error: 'not_writable',
      detail: expect.stringMatching(/writable fields: valve_open$/) as unknown,
    });
    expect(body.commands[2]).toMatchObject({ comment: '关阀 closing', readBack: false });
    expect(
      json<{ commands: unknown[] }>(await t.app.inject({ url: '/api/devices/wm-9/commands?limit=1', headers: viewer }))
        .commands,
    ).toHaveLength(1);
    expect((await t.app.inject({ url: '/api/devices/wm-404/commands', headers: viewer })).statusCode).toBe(404);
    expect(
      json<{ commands: unknown[] }>(await t.app.inject({ url: '/api/devices/pump-9/commands', headers: viewer }))
        .commands,
    ).toEqual([]);

    // The file is the record: a restarted gateway lists the same.
    const onDisk = readFileSync(file, 'utf8').trim().split('\n');
    expect(onDisk).toHaveLength(3);
    const again = new CommandLog(file);
    await again.open();
    expect(again.of('wm-9').map((r) => r.outcome)).toEqual(['done', 'refused', 'done']);
    await again.close();
  });
});

describe('a gateway without commands', () => {
  it('answers 503 with a readable message, and lists nothing', async () => {
    const t = await testApi();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/devices/wm-101/commands',
      headers: meterbot,
      payload: { field: 'valve_open', value: false },
    });
    expect(res.statusCode).toBe(503);
    expect(json(res)).toMatchObject({
      error: 'commands_unavailable',
      message: 'this gateway is not set up to send commands to devices',
    });
    expect(json(await t.app.inject({ url: '/api/devices/wm-101/commands', headers: viewer }))).toEqual({
      device: 'wm-101',
      commands: [],
    });
  });
});
