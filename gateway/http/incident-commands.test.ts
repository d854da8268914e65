import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../rules/incidents/incident.js';
import type { FieldValue } from '../../rules/model/reading.js';
import { CommandError, type CommandResult } from '../adapters/modbus/command.js';
import type { JournalEntry } from '../alarms/journal.js';
import type { AlarmListener } from '../alarms/runtime.js';
import { CommandLog } from '../commands-log.js';
import { EventLog } from '../files/event-log.js';
import { loadPlaybooks } from '../incidents/playbooks.js';
import { IncidentRuntime, type IncidentRecord } from '../incidents/runtime.js';
import type { CommandService } from './commands.js';
import type { DeviceDirectory, DeviceStatus } from './deps.js';
import { API_T0, TOKENS, bearer, json, session, testApi, testSite } from './testing.js';
import { ManualClock } from '../ports/manual-clock.js';

// The valve command from an incident over HTTP, against the real incident runtime (its event
// log in a temporary folder) and a stand-in for the Modbus adapter whose answers each test
// chooses: confirmed, a valve reading back open, a device that never answers, a Modbus
// exception. What may be refused before anything is sent records nothing; anything sent is on
// the timeline twice (out, then the answer) and in the device's command record. The real
// Modbus path, the simulated meter and the page are in test/incident-valve.test.ts.

const viewer = bearer(TOKENS.dashboard);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Answer = (value: FieldValue, at: number) => CommandResult | CommandError;

class FakeModbus implements CommandService {
  readonly calls: string[] = [];
  answer: Answer = (value, at) => ({
    deviceId: 'wm-9',
    field: 'valve_open',
    written: value,
    readBack: value,
    confirmed: true,
    at,
  });
  constructor(
    readonly log: CommandLog,
    private readonly clock: ManualClock,
  ) {}
  writable(id: string): string[] {
    return id.startsWith('wm-') && id !== 'wm-101' ? ['valve_open'] : [];
  }
  async run(deviceId: string, field: string, value: FieldValue): Promise<CommandResult> {
    this.calls.push(`${deviceId}.${field}=${JSON.stringify(value)}`);
    // The device takes a moment: the answer is recorded at its own time.
    this.clock.advance(1500);
    const a = this.answer(value, this.clock.now());
    if (a instanceof CommandError) throw a;
    return a;
  }
}

/** The test site's devices plus two Modbus water meters in vacant flats (wm-9, wm-8). */
function withModbus(base: () => DeviceDirectory): DeviceDirectory {
  const meter = (id: string): DeviceStatus => ({
    id,
    kind: 'water_meter',
    protocol: 'modbus',
    place: { building: 'b1' },
    online: true,
    lastSeen: null,
    lastReading: null,
    intervalSeconds: 30,
    offlineAfterSeconds: 90,
  });
  const extra = new Map([
    ['wm-9', meter('wm-9')],
    ['wm-8', meter('wm-8')],
  ]);
  return { list: () => [...base().list(), ...extra.values()], get: (id) => extra.get(id) ?? base().get(id) };
}

async function withIncident() {
  const clock = new ManualClock(API_T0);
  const dir = mkdtempSync(join(tmpdir(), 'api-incident-commands-'));
  let emit: AlarmListener | undefined;
  const incidents = new IncidentRuntime({
    config: await testSite(),
    clock,
    log: new EventLog<IncidentRecord>(join(dir, 'events.jsonl')),
    playbooks: loadPlaybooks(),
    alarms: { subscribe: (l) => ((emit = l), () => undefined) },
    live: () => undefined,
    logger: pino({ level: 'silent' }),
    tickMs: 3_600_000,
  });
  await incidents.start();
  cleanups.push(() => incidents.stop());
  // Water running in two vacant flats: one incident per meter (the vacant-unit playbook groups by device).
  let seq = 0;
  const fire = (deviceId: string) =>
    emit!({
      seq: ++seq,
      at: clock.now(),
      type: 'firing',
      alarm: { id: `vacant_unit_flow:${deviceId}:1`, kind: 'vacant_unit_flow', deviceId, severity: 'critical' },
    } as unknown as JournalEntry);
  fire('wm-9');
  fire('wm-101');
  await incidents.settled();
  const valveCase = incidents.list().find((i) => i.deviceId === 'wm-9');
  const mqttCase = incidents.list().find((i) => i.deviceId === 'wm-101');
  expect(valveCase && mqttCase && valveCase.id !== mqttCase.id).toBe(true);

  const commandLog = new CommandLog(join(dir, 'commands', 'commands.jsonl'));
  await commandLog.open();
  cleanups.push(() => commandLog.close());
  const modbus = new FakeModbus(commandLog, clock);
  const made: { registry?: DeviceDirectory } = {};
  const t = await testApi({ incidents, clock, commands: modbus, devices: withModbus(() => made.registry!) });
  made.registry = t.registry;
  cleanups.push(() => t.app.close());
  const otto = await session(t.app, 'otto');
  const post = (id: string, payload: object, headers: Record<string, string> = otto) =>
    t.app.inject({ method: 'POST', url: `/api/incidents/${id}/device-command`, headers, payload });
  const timeline = async (id: string) =>
    json<{ timeline: { type: string; text: { zh: string; en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${id}`, headers: viewer }),
    ).timeline.filter((e) => e.type === 'device_command');
  const events = (id: string) => incidents.get(id).incident.timeline.filter((e) => e.type === 'device_command');
  return {
    t,
    clock,
    incidents,
    modbus,
    commandLog,
    dir,
    otto,
    post,
    timeline,
    events,
    valveCase: valveCase!.id,
    mqttCase: mqttCase!.id,
  };
}

describe('POST /api/incidents/:id/device-command', () => {
  it('offers the valve command on the close_valve step for the writable meter only; viewers see it but may not send it', async () => {
    const c = await withIncident();
    const offered = json<{ commands: unknown[] }>(
      await c.t.app.inject({ url: `/api/incidents/${c.valveCase}/device-commands`, headers: viewer }),
    );
    expect(offered.commands).toEqual([
      {
        deviceId: 'wm-9',
        command: 'close_valve',
        field: 'valve_open',
        value: false,
        step: 'close_valve',
        title: { zh: '关阀', en: 'close the valve' },
      },
    ]);
    expect(
      json<{ commands: unknown[] }>(
        await c.t.app.inject({ url: `/api/incidents/${c.mqttCase}/device-commands`, headers: viewer }),
      ).commands,
    ).toEqual([]);
    expect((await c.t.app.inject({ url: '/api/incidents/inc-99/device-commands', headers: viewer })).statusCode).toBe(
      404,
    );
    const res = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true }, viewer);
    expect(res.statusCode).toBe(403);
    expect(c.modbus.calls).toEqual([]);
  });

  it('closes the valve after confirmation: the command and its confirmed read-back on the timeline, in words, and in the command record', async () => {
    const c = await withIncident();
    const sentAt = c.clock.now();
    const res = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({
      device: 'wm-9',
      command: 'close_valve',
      outcome: 'confirmed',
      readBack: false,
      by: 'otto',
      at: new Date(sentAt + 1500).toISOString(),
    });
    expect(c.modbus.calls).toEqual(['wm-9.valve_open=false']);
    expect(c.events(c.valveCase)).toEqual([
      {
        type: 'device_command',
        deviceId: 'wm-9',
        command: 'close_valve',
        by: 'otto',
        step: 'close_valve',
        outcome: 'sent',
        at: sentAt,
      },
      {
        type: 'device_command',
        deviceId: 'wm-9',
        command: 'close_valve',
        by: 'otto',
        step: 'close_valve',
        outcome: 'confirmed',
        readBack: false,
        at: sentAt + 1500,
      },
    ]);
    expect((await c.timeline(c.valveCase)).map((e) => e.text)).toEqual([
      { zh: 'otto 远程下发指令：关阀（wm-9）', en: 'otto sent a command to wm-9: close the valve' },
      {
        zh: 'wm-9 回读确认：已关阀（valve_open = false）',
        en: 'wm-9 read back: close the valve confirmed (valve_open = false)',
      },
    ]);
    // The first to act on the case owns it (S003 §3.5); the step stays what the people or the
    // sensors make it: the meter's no-flow reading, or a person's record.
    expect(c.incidents.get(c.valveCase).incident.owner).toBe('otto');
    expect(c.incidents.get(c.valveCase).incident.steps.close_valve!.status).toBe('pending');
    expect(c.commandLog.of('wm-9')).toEqual([
      expect.objectContaining({
        by: 'otto',
        field: 'valve_open',
        value: false,
        outcome: 'done',
        readBack: false,
        comment: `incident ${c.valveCase}: close_valve`,
      }),
    ]);
    // On disk before it is announced: a restart folds the same two events back.
    const logged = readFileSync(join(c.dir, 'events.jsonl'), 'utf8');
    expect(logged.match(/"device_command"/g)).toHaveLength(2);
  });

  it('records a valve that reads back open as refused, and a device that does not answer as no answer (502, both on the timeline)', async () => {
    const c = await withIncident();
    c.modbus.answer = (value, at) => ({
      deviceId: 'wm-9',
      field: 'valve_open',
      written: value,
      readBack: true,
      confirmed: false,
      at,
    });
    const stuck = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true });
    expect(stuck.statusCode).toBe(502);
    expect(json(stuck)).toMatchObject({
      error: 'device_refused',
      outcome: 'refused',
      readBack: true,
      text: { zh: 'wm-9：关阀——设备拒绝或未执行' },
    });

    c.modbus.answer = () =>
      new CommandError(
        'device_error',
        'wm-9 did not take the write of valve_open to coil 0 (it may have been carried out all the same: check the next reading): no answer from unit 13 within 1000 ms',
        'wm-9 未接受',
        'timeout',
      );
    const silent = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true });
    expect(silent.statusCode).toBe(502);
    expect(json(silent)).toMatchObject({ error: 'no_answer', outcome: 'no_answer' });

    c.modbus.answer = () =>
      new CommandError(
        'device_error',
        'wm-9 did not take the write of valve_open to coil 0: Modbus exception 4 (slave device failure)',
        'wm-9 未接受',
        'exception',
      );
    const no = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true });
    expect(json(no)).toMatchObject({ error: 'device_refused', outcome: 'refused' });

    expect(c.events(c.valveCase).map((e) => e.type === 'device_command' && e.outcome)).toEqual([
      'sent',
      'refused',
      'sent',
      'no_answer',
      'sent',
      'refused',
    ]);
    const words = (await c.timeline(c.valveCase)).map((e) => e.text.en);
    expect(words[1]).toBe(
      'wm-9 refused or did not carry out: close the valve (the device took the write but reads back valve_open = true)',
    );
    expect(words[3]).toMatch(
      /^no answer from wm-9: not known whether it did close the valve; check on site \(wm-9 did not take the write/,
    );
    expect((await c.timeline(c.valveCase))[3]!.text.zh).toMatch(/^wm-9 无应答，无法确认是否已关阀，请到现场确认/);
    expect(c.commandLog.of('wm-9').map((r) => r.outcome)).toEqual(['failed', 'failed', 'unconfirmed']);
  });

  it('refuses, naming the problem and recording nothing: no confirmation, a device not in the incident, an MQTT meter, an unknown command or device, a closed incident', async () => {
    const c = await withIncident();
    const refusals: [string, object, number, string, RegExp][] = [
      [
        c.valveCase,
        { device: 'wm-9', command: 'close_valve' },
        400,
        'confirm_required',
        /^body\.confirm: close the valve on wm-9 needs confirm: true/,
      ],
      [
        c.valveCase,
        { device: 'wm-9', command: 'close_valve', confirm: false },
        400,
        'confirm_required',
        /needs confirm: true/,
      ],
      [
        c.valveCase,
        { device: 'wm-8', command: 'close_valve', confirm: true },
        409,
        'not_in_incident',
        /^wm-8 is not a device of incident inc-\d+ \(its devices: wm-9\)$/,
      ],
      [
        c.mqttCase,
        { device: 'wm-101', command: 'close_valve', confirm: true },
        409,
        'not_writable',
        /^wm-101 cannot be commanded to close the valve: the gateway cannot write its valve_open \(writable: nothing\); it reports over MQTT/,
      ],
      [
        c.valveCase,
        { device: 'wm-9', command: 'open_sesame', confirm: true },
        400,
        'unknown_command',
        /^no device command "open_sesame" \(commands: close_valve\)$/,
      ],
      [
        c.valveCase,
        { device: 'wm-77', command: 'close_valve', confirm: true },
        400,
        'bad_request',
        /^body\.device: no device "wm-77" in this site$/,
      ],
      ['inc-99', { device: 'wm-9', command: 'close_valve', confirm: true }, 404, 'not_found', /^no incident "inc-99"$/],
    ];
    for (const [id, body, status, error, message] of refusals) {
      const res = await c.post(id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(json(res).error).toBe(error);
      expect(json(res).message).toMatch(message);
    }
    const garbled = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: 'yes' });
    expect(garbled.statusCode).toBe(400);
    expect(c.modbus.calls).toEqual([]);
    expect(c.events(c.valveCase)).toEqual([]);
    expect(c.events(c.mqttCase)).toEqual([]);
    expect(c.incidents.get(c.valveCase).incident.owner).toBeUndefined();

    // A closed case takes no more commands.
    await c.incidents.record(c.valveCase, [{ type: 'closed', by: 'otto', at: c.clock.now() }]);
    const closed = await c.post(c.valveCase, { device: 'wm-9', command: 'close_valve', confirm: true });
    expect(closed.statusCode).toBe(409);
    expect(json(closed)).toMatchObject({ error: 'closed' });
    expect(
      json<{ commands: unknown[] }>(
        await c.t.app.inject({ url: `/api/incidents/${c.valveCase}/device-commands`, headers: viewer }),
      ).commands,
    ).toEqual([]);
    expect(c.modbus.calls).toEqual([]);
    const inc: Incident = c.incidents.get(c.valveCase).incident;
    expect(inc.timeline.some((e) => e.type === 'device_command')).toBe(false);
  });
});
