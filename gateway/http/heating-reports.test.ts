import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../rules/incidents/incident.js';
import { localTime } from '../../rules/reports/calendar.js';
import {
  HeatingReportScheduler,
  type StoredHeatingInfo,
  type StoredHeatingReport,
} from '../reports/heating-scheduler.js';
import { bearer, json, testApi, testSite, TOKENS } from './testing.js';

const TZ = 'Asia/Shanghai';
const at = (date: string, hh: number, mm = 0) => localTime(date, hh, TZ) + mm * 60_000;
const viewer = bearer(TOKENS.dashboard);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function incident(id: string, raisedAt: number, drill?: string): Incident {
  return {
    id,
    playbook: 'heating_outage',
    title: { zh: '供热故障', en: 'Heating outage' },
    severity: 'critical',
    status: 'open',
    raisedAt,
    building: 'b1',
    owner: 'otto',
    ...(drill ? { drill } : {}),
    alarms: [],
    steps: { estimate: { status: 'done', fields: { repair_hours: 10, households: 80 }, escalated: 0 } },
    tasks: {},
    timeline: [],
  };
}

/** Two kept reports: a zero one on 12-09, one with a fault (and a drill) on 12-10. */
async function withReports() {
  const config = await testSite();
  const clock = {
    t: at('2026-12-09', 13),
    now() {
      return this.t;
    },
  };
  const list: Incident[] = [];
  const scheduler = new HeatingReportScheduler({
    config,
    dir: mkdtempSync(join(tmpdir(), 'api-heating-')),
    clock,
    timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    incidents: () => list,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  // The gateway ran since before the 9th.
  clock.t = at('2026-12-01', 9);
  await scheduler.runDue();
  clock.t = at('2026-12-09', 13);
  await scheduler.runDue();
  list.push(incident('inc-7', at('2026-12-10', 7)), incident('inc-8', at('2026-12-10', 8), 'D-2'));
  clock.t = at('2026-12-10', 13);
  await scheduler.runDue();
  const t = await testApi({ heatingReports: scheduler });
  cleanups.push(() => t.app.close());
  return { ...t, scheduler };
}

describe('heating report API', () => {
  it('lists the kept reports with the season and the next run', async () => {
    const { app } = await withReports();
    const res = await app.inject({ method: 'GET', url: '/api/reports/heating', headers: viewer });
    expect(res.statusCode).toBe(200);
    const body = json<{
      season: unknown;
      dailyReportAt: string;
      notifyRoles: string[];
      inSeason: boolean;
      nextRunAt: number;
      reports: StoredHeatingInfo[];
    }>(res);
    expect(body).toMatchObject({
      season: { from: '11-15', to: '03-15' },
      dailyReportAt: '13:00',
      notifyRoles: ['head_office'],
      inSeason: true,
      nextRunAt: at('2026-12-11', 13),
    });
    expect(body.reports.map((r) => [r.date, r.status, r.zero, r.faults, r.open, r.drills, r.delivery])).toEqual([
      ['2026-12-10', 'faults', false, 1, 1, 1, 'no_channel'],
      ['2026-12-09', 'normal', true, 0, 0, 0, 'no_channel'],
    ]);
  });

  it('gives one report as JSON', async () => {
    const { app } = await withReports();
    const res = await app.inject({ method: 'GET', url: '/api/reports/heating/2026-12-10', headers: viewer });
    expect(res.statusCode).toBe(200);
    const s = json<StoredHeatingReport>(res);
    expect(s.report).toMatchObject({
      date: '2026-12-10',
      status: 'faults',
      open: [
        { id: 'inc-7', owner: 'otto', repairHours: 10, households: 80 },
        { id: 'inc-8', drill: 'D-2' },
      ],
    });
    expect(s.report.summary.en).toContain('Heating faults: 1');
  });

  it('prints one in both languages, drills marked, with a line to sign', async () => {
    const { app } = await withReports();
    const res = await app.inject({
      method: 'GET',
      url: '/api/reports/heating/2026-12-10?format=html',
      headers: viewer,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    for (const s of [
      '供热日报 Daily heating report · 2026-12-10',
      '2026-12-09 13:00 – 2026-12-10 13:00',
      '故障 Faults: 1',
      'data-case="inc-7"',
      '演练 DRILL',
      '值班经理 Duty manager',
      '无通知渠道，需人工报送 no channel: send it by hand',
      'Test estate',
    ])
      expect(res.body).toContain(s);
    const zero = await app.inject({
      method: 'GET',
      url: '/api/reports/heating/2026-12-09?format=html',
      headers: viewer,
    });
    expect(zero.body).toContain('正常 · 零报告 Normal · zero report');
    expect(zero.body).toContain('供热运行平稳，无故障（零报告）');
    expect(zero.body).toContain('Heating ran normally, no faults (zero report).');
  });

  it('refuses misuse with 4xx and words for people', async () => {
    const { app } = await withReports();
    const cases: [string, number, RegExp][] = [
      ['/api/reports/heating/2026-12-08', 404, /no heating report kept for 2026-12-08/],
      ['/api/reports/heating/2026-02-30', 400, /is not a date/],
      ['/api/reports/heating/yesterday', 400, /YYYY-MM-DD/],
      ['/api/reports/heating/2026-12-10?format=pdf', 400, /format/],
    ];
    for (const [url, status, message] of cases) {
      const res = await app.inject({ method: 'GET', url, headers: viewer });
      expect(res.statusCode, url).toBe(status);
      expect(json<{ message: string }>(res).message, url).toMatch(message);
    }
    expect((await app.inject({ method: 'GET', url: '/api/reports/heating' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/reports/heating/2026-12-10' })).statusCode).toBe(401);
  });

  it('is not there without the service', async () => {
    const t = await testApi();
    cleanups.push(() => t.app.close());
    expect((await t.app.inject({ method: 'GET', url: '/api/reports/heating', headers: viewer })).statusCode).toBe(404);
  });
});
