import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { projectPath } from '../gateway/files/paths.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { floorsOf } from '../gateway/config/schema.js';
import { startTestDemo } from './support/demo.js';
import { waitFor } from './support/site.js';

// What a newcomer sees after `npm run demo`: the whole simulated estate (over 200 devices,
// MQTT and Modbus) online in /api/devices with plausible values, the readings in InfluxDB,
// the MQTT traffic visible to an outside subscriber, and a drill's fault showing up at the
// gateway. Same code as the CLI; only the ports (any free one), the database (the test
// run's influxd) and the start time (a December evening, so the boilers are on) differ.

type DeviceJson = {
  id: string;
  kind: string;
  protocol: string;
  online: boolean;
  place: { building: string; unit?: string };
  lastReading: { ts: string; fields: Record<string, unknown> } | null;
  poll?: { lastOkAt: number | null; online: boolean };
};

const execFileP = promisify(execFile);
const MOSQUITTO_SUB = ['/usr/bin/mosquitto_sub', '/usr/local/bin/mosquitto_sub'].find((p) => existsSync(p));
const START = Date.parse('2026-12-01T18:00:00+08:00');
/** Ten times real time: the gateway, its Modbus poller and the devices share the scaled clock. */
const SPEED = 10;

/** The field each kind's checks below start from. */
const MAIN_FIELD: Record<string, string> = {
  electricity_meter: 'voltage_l1_v',
  water_meter: 'total_m3',
  lift: 'floor',
  pump: 'fault',
  boiler: 'supply_temp_c',
  leak_sensor: 'wet',
  level_sensor: 'high_float',
};

let demo: RunningDemo;
const auth = { authorization: `Bearer ${DEMO_LOGINS.apiToken}` };

async function devices(): Promise<DeviceJson[]> {
  const res = await fetch(`${demo.gateway.httpUrl}/api/devices`, { headers: auth });
  return ((await res.json()) as { devices: DeviceJson[] }).devices;
}

async function device(id: string): Promise<DeviceJson> {
  return (await devices()).find((d) => d.id === id)!;
}

beforeAll(async () => {
  demo = await startTestDemo({ influxUrl: inject('influxUrl'), speed: SPEED, start: START });
}, 60_000);

afterAll(async () => demo?.stop());

describe('npm run demo', () => {
  it('brings all 200+ devices of the simulated estate online, MQTT and Modbus, with plausible values', async () => {
    // A first Modbus poll on a loaded machine may come back partial (one block timed out,
    // the coil answered: quality "uncertain"), so wait for each device's main field.
    const all = await waitFor(
      async () => {
        const list = await devices();
        return list.every((d) => d.online && d.lastReading && MAIN_FIELD[d.kind]! in d.lastReading.fields)
          ? list
          : null;
      },
      'every demo device online with its main field',
      45_000,
    );
    const { config } = demo.gateway;
    expect(all.length).toBe(config.devices.length);
    expect(all.length).toBeGreaterThanOrEqual(200);
    const modbus = all.filter((d) => d.protocol === 'modbus');
    expect(modbus.length).toBeGreaterThanOrEqual(60);
    for (const d of modbus) expect(d.poll?.lastOkAt, d.id).toBeGreaterThan(0);
    expect(demo.gateway.modbus.health().status).toBe('ok');

    const vacant = new Set(config.buildings.flatMap((b) => b.units.filter((u) => u.vacant).map((u) => u.id)));
    const levels = new Map(config.buildings.map((b) => [b.id, floorsOf(b).map((f) => f.level)]));
    const between = (v: unknown, lo: number, hi: number, what: string) => {
      expect(Number(v), what).toBeGreaterThanOrEqual(lo);
      expect(Number(v), what).toBeLessThanOrEqual(hi);
    };
    for (const d of all) {
      const f = d.lastReading!.fields;
      const role = config.devices.find((c) => c.id === d.id)!.role;
      switch (d.kind) {
        case 'electricity_meter':
          between(f.voltage_l1_v, 209, 231, `${d.id} L1`); // 220 V ± 5 %
          if ('voltage_l3_v' in f) between(f.voltage_l3_v, 209, 231, `${d.id} L3`);
          between(f.frequency_hz, 49.8, 50.2, `${d.id} Hz`);
          if (d.place.unit && vacant.has(d.place.unit)) expect(f.power_kw, `${d.id} in a vacant unit`).toBe(0);
          else between(f.power_kw, 0, 2000, `${d.id} kW`);
          break;
        case 'water_meter':
          expect(Number(f.total_m3), d.id).toBeGreaterThan(0);
          if (d.place.unit && vacant.has(d.place.unit)) expect(f.flow_m3h, `${d.id} in a vacant unit`).toBe(0);
          else between(f.flow_m3h, 0, 60, `${d.id} flow`);
          break;
        case 'lift':
          expect(levels.get(d.place.building), d.id).toContain(f.floor);
          expect(['normal', 'maintenance'], d.id).toContain(f.mode);
          expect(f.alarm_button, d.id).toBe(false);
          break;
        case 'pump':
          expect(f.fault, d.id).toBe(false);
          if (role === 'secondary_water') between(f.pressure_kpa, 380, 460, `${d.id} pressure`);
          if (role === 'heating_circulation') expect(f.running, d.id).toBe(true);
          break;
        case 'boiler':
          between(f.supply_temp_c, 60, 80, `${d.id} supply`);
          between(f.pressure_kpa, 100, 350, `${d.id} pressure`);
          expect(f.fault, d.id).toBe(false);
          break;
        case 'leak_sensor':
          expect(f.wet, d.id).toBe(false);
          between(f.battery_pct, 1, 100, `${d.id} battery`);
          break;
        case 'level_sensor':
          expect(f.high_float, d.id).toBe(false);
          if ('level_pct' in f) between(f.level_pct, 0, 79, `${d.id} level`);
          break;
      }
    }
    // The incomer of a tower carries its flats and its lift and pump circuits.
    const power = (id: string) => Number(all.find((d) => d.id === id)!.lastReading!.fields.power_kw);
    expect(power('t1-incomer')).toBeGreaterThan(power('t1-lift-circuit') + power('t1-pump-circuit'));
  });

  it('stores the readings of both protocols in InfluxDB, on the simulated clock', async () => {
    const { driver } = demo.gateway.store;
    const now = demo.clock.now();
    expect(now).toBeGreaterThanOrEqual(START);
    for (const [measurement, deviceId] of [
      ['pump', 't1-booster-pump'],
      ['lift', 't1-lift-a'],
      ['electricity_meter', 't2-em-0201'],
    ] as const) {
      const rows = await waitFor(async () => {
        const r = await driver.query({
          measurement,
          deviceId,
          from: START - 60_000,
          to: demo.clock.now() + 60_000,
          limit: 5,
        });
        return r.length ? r : null;
      }, `${deviceId} rows in InfluxDB`);
      expect(Object.keys(rows[0]!.fields).length).toBeGreaterThan(2);
      expect(Date.parse(rows[0]!.time)).toBeGreaterThanOrEqual(START);
    }
  });

  it('mosquitto_sub, logged in as the read-only BMS account, sees the devices publishing through the embedded broker', async () => {
    if (!MOSQUITTO_SUB)
      throw new Error(
        'mosquitto_sub is not installed: run `npm run setup` (it installs the Debian packages mosquitto-clients and mbpoll)',
      );
    const port = new URL(demo.gateway.brokerUrl).port;
    const { stdout } = await execFileP(MOSQUITTO_SUB, [
      ...['-h', '127.0.0.1', '-p', port, '-u', 'bms-screen', '-P', DEMO_LOGINS.accounts['bms-screen']!],
      // The devices' readings (the gateway's own alarm and incident topics share the prefix).
      ...['-t', 'dutyroom/huayuan/+/reading', '-v', '-C', '40', '-W', '30'],
    ]);
    const messages = stdout
      .trim()
      .split('\n')
      .map((line) => {
        const space = line.indexOf(' ');
        return { topic: line.slice(0, space), payload: JSON.parse(line.slice(space + 1)) as Record<string, unknown> };
      });
    expect(messages).toHaveLength(40);
    const ids = new Set(messages.map((m) => m.topic.split('/')[2]));
    expect(ids.size).toBeGreaterThanOrEqual(5);
    for (const m of messages) {
      expect(m.topic).toMatch(/^dutyroom\/huayuan\/[^/]+\/reading$/);
      expect(typeof m.payload.ts).toBe('number');
      expect(Math.abs(Number(m.payload.ts) - demo.clock.now())).toBeLessThan(120_000);
    }
  });

  it('a drill fault injected into the estate shows at the gateway: a wet sensor, a cut pump circuit, its pumps silent; cleared, all return', async () => {
    const { estate } = demo;
    estate.inject('t1-leak-pump-room', { type: 'leak' });
    estate.inject('t1-pump-circuit', { type: 'power_cut' });
    await waitFor(
      async () => (await device('t1-leak-pump-room')).lastReading?.fields.wet === true,
      't1-leak-pump-room wet',
    );
    await waitFor(
      async () => (await device('t1-pump-circuit')).lastReading?.fields.voltage_l1_v === 0,
      't1-pump-circuit at 0 V',
      30_000,
    );
    await waitFor(
      async () => (await device('t1-booster-pump')).poll?.online === false,
      't1-booster-pump not answering',
      30_000,
    );
    expect(Number((await device('t1-incomer')).lastReading!.fields.voltage_l1_v)).toBeGreaterThan(200);

    estate.clearAll();
    await waitFor(
      async () => (await device('t1-booster-pump')).poll?.online === true,
      't1-booster-pump answering again',
      45_000,
    );
    await waitFor(
      async () => (await device('t1-leak-pump-room')).lastReading?.fields.wet === false,
      't1-leak-pump-room dry again',
    );
  }, 120_000);

  it('dutyroom drill start grid-outage: the outage as the gateway sees it, every alarm and incident tagged as the drill', async () => {
    const login = await fetch(`${demo.gateway.httpUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty', password: 'dutyroom-duty' }),
    });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const post = (path: string, body: unknown) =>
      fetch(`${demo.gateway.httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, origin: demo.gateway.httpUrl, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const get = async <T>(path: string) =>
      (await (await fetch(`${demo.gateway.httpUrl}${path}`, { headers: auth })).json()) as T;

    const started = await post('/api/drills', { scenario: 'grid-outage' });
    expect(started.status).toBe(201);
    const drill = (await started.json()) as { id: string };
    expect((await post('/api/drills', { scenario: 'flood-basement' })).status).toBe(409);

    type AlarmJson = { kind: string; deviceId: string; drill?: string; inhibitedBy?: unknown };
    const alarms = await waitFor(
      async () => {
        const list = (await get<{ alarms: AlarmJson[] }>('/api/alarms?drill=true')).alarms;
        const cut = list.find((a) => a.kind === 'power_cut_external' && a.deviceId === 't1-incomer');
        const trapped = list
          .filter((a) => a.kind === 'lift_entrapment')
          .map((a) => a.deviceId)
          .sort();
        return cut && trapped.includes('t1-lift-b') ? list : null;
      },
      'the grid outage and a trapped lift raised as drill alarms',
      60_000,
    );
    expect(alarms.every((a) => a.drill === drill.id)).toBe(true);
    type IncidentJson = { playbook: string; drill?: string; tasks: Record<string, unknown> };
    const incidents = await waitFor(async () => {
      const list = (await get<{ incidents: IncidentJson[] }>('/api/incidents?drill=true')).incidents;
      return list.some((i) => i.playbook === 'power_cut') && list.some((i) => i.playbook === 'trapped_lift')
        ? list
        : null;
    }, 'the power-cut and trapped-lift incidents of the drill');
    const cut = incidents.find((i) => i.playbook === 'power_cut')!;
    expect(cut.drill).toBe(drill.id);
    expect(Object.keys(cut.tasks).filter((t) => t.startsWith('check_lift:')).length).toBeGreaterThanOrEqual(2);

    // The duty-room screen during the drill (Chromium): the DRILL banner, a trapped lift on
    // top, one power-cut alarm, the dark devices' offline alarms folded under their cause.
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const ctx = await browser.newContext({ locale: 'en-US', extraHTTPHeaders: auth });
      const p = await ctx.newPage();
      await p.goto(demo.gateway.httpUrl);
      await p.waitForSelector('.drill-banner');
      await p.waitForSelector('[data-testid=alarm-board] tr[data-alarm^="power_cut_external"]');
      // Real alarms (the leak injected by the test before) sort above the drill's; among the drill's, a trapped lift first.
      const firstDrillRow = await p
        .locator('[data-testid=alarm-board] tr.drill[data-alarm]')
        .first()
        .getAttribute('data-alarm');
      expect(firstDrillRow).toMatch(/^lift_entrapment:/);
      expect(await p.locator('[data-testid=alarm-board] tr[data-alarm^="power_cut_external"]').count()).toBe(1);
      await p.waitForSelector('details summary >> text=Inhibited alarms');
      expect(Number(/\((\d+)\)/.exec((await p.textContent('details summary')) ?? '')?.[1])).toBeGreaterThan(2);
      await p.screenshot({ path: projectPath('test-results', 'screenshots', 'drill-grid-outage.png'), fullPage: true });

      // The live scorecard: each critical alarm's acknowledgement, each step and each lift's
      // check against its target, the outcome in words (people, sensors, late, missed).
      await p.goto(`${demo.gateway.httpUrl}/#/drills`);
      const card = p.locator('[data-testid=scorecard]');
      await card.waitFor();
      await p.waitForSelector('[data-testid=drill-tasks] tr[data-task^="check_lift:"]');
      await p.waitForSelector('[data-testid=drill-acks] tr[data-alarm^="power_cut_external:t1-incomer"]');
      for (const table of ['drill-acks', 'drill-steps', 'drill-tasks']) {
        const heads = await p.locator(`[data-testid=${table}] th`).allTextContents();
        expect(heads, table).toEqual(expect.arrayContaining(['Outcome', 'Target', 'Took', 'By']));
      }
      const words = [
        'met by people',
        'closed by a sensor',
        'late',
        'missed',
        'open, not due yet',
        'open (no target)',
        'acknowledged in time',
        'not acknowledged',
        'does not apply (not scored)',
      ];
      for (const o of await p.locator('[data-testid=scorecard] [data-outcome]').allTextContents())
        expect(words, o).toContain(o);
      expect(await p.textContent('[data-testid=score]')).toContain(
        'per-lift checks and other tasks met by people on time',
      );
      expect(await p.locator('[data-testid=drill-tasks] tr[data-task^="check_lift:"] td').nth(4).textContent()).toBe(
        '5 min',
      );
      await p.screenshot({ path: projectPath('test-results', 'screenshots', 'drill-scorecard.png'), fullPage: true });
    } finally {
      await browser.close();
    }

    // The scorecard while it runs: the outage alarms came in time; the duty room has not answered yet.
    type Tally = { met: number; sensor: number; late: number; missed: number; open: number; total: number };
    type ReportJson = {
      alarms: { kind: string; device: string; raisedAt: number | null; met: boolean | null }[];
      acks: { kind: string; device: string; raisedAt: number; targetS: number; outcome: string | null }[];
      responses: { playbook: string; step: string }[];
      tasks: { task: string; targetMin?: number; outcome: string | null }[];
      score: { alarmsInTime: number; acks: Tally; steps: Tally; tasks: Tally };
    };
    const report = await get<ReportJson>(`/api/drills/${drill.id}/report`);
    expect(report.alarms.find((a) => a.kind === 'power_cut_external')).toMatchObject({
      device: 't1-incomer',
      met: true,
    });
    expect(report.score.alarmsInTime).toBeGreaterThanOrEqual(2);
    expect(report.responses.some((r) => r.playbook === 'power_cut' && r.step === 'planned_or_not')).toBe(true);
    // Nobody has acknowledged the cut: timed against 30 s (S000 §2), it is open or already missed, never met.
    expect(report.acks.find((a) => a.kind === 'power_cut_external' && a.device === 't1-incomer')).toMatchObject({
      targetS: 30,
    });
    expect(report.acks.every((a) => a.outcome !== 'met')).toBe(true);
    // One check per lift on the lost supply, each with its own 5-minute deadline; a lift the sensors showed safe is theirs, not the team's.
    const checks = report.tasks.filter((x) => x.task.startsWith('check_lift:'));
    expect(checks.length).toBeGreaterThanOrEqual(2);
    expect(checks.every((x) => x.targetMin === 5 && x.outcome !== 'met')).toBe(true);
    expect(report.score.tasks.met).toBe(0);
    for (const x of [report.score.acks, report.score.steps, report.score.tasks])
      expect(x.met + x.sensor + x.late + x.missed + x.open).toBe(x.total);

    const stopped = await post('/api/drills/stop', {});
    expect(stopped.status).toBe(200);
    await waitFor(
      async () => Number((await device('t1-incomer')).lastReading?.fields.voltage_l1_v) > 200,
      'power back once the drill is stopped',
      30_000,
    );
  }, 120_000);

  it('every shipped scenario, started through the API, raises its early expected alarms through the real pipeline, tagged as its drill', async () => {
    const login = await fetch(`${demo.gateway.httpUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty', password: 'dutyroom-duty' }),
    });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const post = (path: string, body: unknown) =>
      fetch(`${demo.gateway.httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, origin: demo.gateway.httpUrl, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const get = async <T>(path: string) =>
      (await (await fetch(`${demo.gateway.httpUrl}${path}`, { headers: auth })).json()) as T;
    type Expect = { kind: string; device: string; dueBy: number | null; season?: string };
    type DrillJson = { id: string; expects: { alarms: Expect[] } };
    const { scenarios } = await get<{ scenarios: { name: string }[] }>('/api/drills/scenarios');
    expect(scenarios.map((x) => x.name).sort()).toEqual([
      'boiler-failure',
      'flood-basement',
      'grid-outage',
      'internal-circuit-fault',
      'lift-entrapment',
      'vacant-unit-leak',
    ]);
    // Four simulated minutes of each (24 s at this speed): long enough for the first act of every scenario.
    const WINDOW_MS = 4 * 60_000;
    for (const { name } of scenarios) {
      const started = await post('/api/drills', { scenario: name });
      expect(started.status, name).toBe(201);
      const startedAt = demo.clock.now();
      const early = async () =>
        ((await get<{ current: DrillJson }>('/api/drills')).current.expects.alarms ?? []).filter(
          (a) => a.dueBy !== null && a.dueBy <= startedAt + WINDOW_MS,
        );
      await waitFor(
        async () => demo.clock.now() > startedAt + WINDOW_MS - 60_000 || null,
        `${name}: its first act`,
        60_000,
      );
      const expected = await early();
      expect(expected.length, `${name} expects alarms in its first minutes`).toBeGreaterThan(0);
      const drillId = (await get<{ current: DrillJson }>('/api/drills')).current.id;
      await waitFor(
        async () => {
          const all = (
            await get<{ alarms: { kind: string; deviceId: string; drill?: string }[] }>('/api/alarms?drill=true')
          ).alarms;
          const raised = all.filter((a) => a.drill === drillId);
          const missing = expected.filter((e) => !raised.some((a) => a.kind === e.kind && a.deviceId === e.device));
          if (missing.length === 0) return true;
          // Named in the timeout's message: what is missing, and what those devices hold instead.
          const there = all.filter((a) => missing.some((e) => e.device === a.deviceId));
          throw new Error(
            `missing ${missing.map((e) => `${e.kind}@${e.device}`).join(', ')}; on those devices: ${
              there.map((a) => `${a.kind}@${a.deviceId} (${a.drill ?? 'real'})`).join(', ') || 'nothing'
            }`,
          );
        },
        `${name}: ${expected.map((e) => `${e.kind}@${e.device}`).join(', ')}`,
        60_000,
      );
      expect((await post('/api/drills/stop', {})).status, name).toBe(200);
    }
  }, 600_000);
});
