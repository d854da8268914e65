import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../rules/incidents/incident.js';
import { localTime } from '../../rules/reports/calendar.js';
import type { Timers } from '../ports/clock.js';
import { ManualClock } from '../ports/manual-clock.js';
import { ConfigError, parseConfig } from '../config/load.js';
import type { SiteConfig } from '../config/schema.js';
import { createAnnouncer } from '../incidents/notify.js';
import { HeatingReportScheduler, type StoredHeatingReport } from './heating-scheduler.js';
import { testIncidentRuntime } from '../incidents/runtime.testing.js';

const TZ = 'Asia/Shanghai';
const at = (date: string, hh: number, mm = 0) => localTime(date, hh, TZ) + mm * 60_000;
const MIN = 60_000;
const H = 60 * MIN;

function site(extra = ''): SiteConfig {
  return parseConfig(
    `
site: { id: s1, name: { zh: 测试小区, en: Test estate }, timezone: ${TZ} }
buildings:
  - { id: t1, name: Tower 1, floors: { lowest: -1, highest: 18 }, rooms: [{ id: br, floor: B1, type: boiler_room }] }
devices:
  - { id: boiler-1, kind: boiler, protocol: mqtt, place: { building: t1, room: br } }
notifications:
  channels:
    - { name: hq, type: webhook, url: "http://hooks.test/hq", roles: [head_office] }
    - { name: hq-robot, type: wecom, url: "http://hooks.test/wecom", roles: [head_office] }
    - { name: dm, type: webhook, url: "http://hooks.test/dm", roles: [duty_manager] }
${extra}`,
    'site.yaml',
    { env: {} },
  );
}

/** Webhooks that answer 200, or 500 for the URLs in `failing`. */
function hooks() {
  const sent: { url: string; body: Record<string, unknown> }[] = [];
  const failing = new Set<string>();
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const u = String(url);
    if (failing.has(u)) return new Response('down for maintenance', { status: 500 });
    sent.push({ url: u, body: JSON.parse(String(init?.body)) as Record<string, unknown> });
    return new Response('{}', { status: 200 });
  }) as typeof globalThis.fetch;
  return { sent, failing, fetch, to: (url: string) => sent.filter((s) => s.url === url) };
}

function incident(o: { id: string; raisedAt: number; closedAt?: number; drill?: string; owner?: string }): Incident {
  return {
    id: o.id,
    playbook: 'heating_outage',
    title: { zh: '供热故障', en: 'Heating outage' },
    severity: 'critical',
    status: o.closedAt === undefined ? 'open' : 'closed',
    raisedAt: o.raisedAt,
    building: 't1',
    ...(o.closedAt !== undefined ? { closedAt: o.closedAt } : {}),
    ...(o.drill ? { drill: o.drill } : {}),
    ...(o.owner ? { owner: o.owner } : {}),
    alarms: [],
    steps: {},
    tasks: {},
    timeline: [],
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The clock's timers, keeping every wait asked for (none may be longer than a setTimeout can keep). */
function recordingTimers(time: ManualClock): { timers: Timers; waits: number[] } {
  const waits: number[] = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => (waits.push(ms), time.setTimeout(fn, ms)),
    clearTimeout: (h) => time.clearTimeout(h),
  };
  return { timers, waits };
}

function memoryLog() {
  const logs: { level: string; msg: string }[] = [];
  const log = {
    info: (_o: object, msg: string) => logs.push({ level: 'info', msg }),
    warn: (_o: object, msg: string) => logs.push({ level: 'warn', msg }),
    error: (_o: object, msg: string) => logs.push({ level: 'error', msg }),
  };
  return { log, logs };
}

/** The real announcer on stub webhooks; `throwOnce` makes its first call crash. */
function announcerFor(config: SiteConfig, time: ManualClock, fetch: typeof globalThis.fetch, throwOnce: boolean) {
  const announcer = createAnnouncer({
    channels: config.notifications.channels,
    attempts: 2,
    now: () => time.now(),
    fetch,
    sleep: async () => undefined,
  });
  let thrown = false;
  const announce: typeof announcer = async (a) => {
    if (throwOnce && !thrown) {
      thrown = true;
      throw new Error('announcer crashed');
    }
    return announcer(a);
  };
  return announce;
}

function harness(
  opts: {
    start: number;
    config?: SiteConfig;
    dir?: string;
    incidents?: () => readonly Incident[];
    watchedSince?: number;
    announce?: 'none' | 'throw-once';
  } = { start: 0 },
) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'heating-'));
  // The gateway has run here long before (unless the test says otherwise).
  mkdirSync(dir, { recursive: true });
  if (opts.watchedSince !== undefined && !existsSync(join(dir, 'heating-since.json')))
    writeFileSync(join(dir, 'heating-since.json'), JSON.stringify({ since: opts.watchedSince }));
  const time = new ManualClock(opts.start);
  const { timers, waits } = recordingTimers(time);
  const web = hooks();
  const { log, logs } = memoryLog();
  const config = opts.config ?? site();
  const announce = announcerFor(config, time, web.fetch, opts.announce === 'throw-once');
  const list: Incident[] = [];
  const scheduler = new HeatingReportScheduler({
    config,
    dir,
    clock: time,
    timers,
    incidents: opts.incidents ?? (() => list),
    ...(opts.announce === 'none' ? {} : { announce }),
    log,
    link: (date) => `/api/reports/heating/${date}?format=html`,
  });
  cleanups.push(() => scheduler.stop());
  const stored = (date: string) => {
    const f = join(dir, `heating-${date}.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as StoredHeatingReport) : undefined;
  };
  const start = async () => {
    scheduler.start();
    await scheduler.settled();
  };
  const advance = (to: number) => time.advanceAsync(to - time.now(), () => scheduler.settled());
  return {
    dir,
    time,
    waits,
    web,
    logs,
    scheduler,
    list,
    stored,
    start,
    advance,
    reports: () =>
      readdirSync(dir)
        .filter((f) => /^heating-\d/.test(f))
        .sort(),
  };
}

describe('the daily heating report (S000 篇八 四.2(4))', () => {
  it('at 13:00 in the season sends a zero report to head office when nothing happened', async () => {
    const h = harness({ start: at('2026-12-10', 9), watchedSince: at('2026-11-01', 0) });
    await h.start();
    expect(h.reports()).toEqual([]);
    expect(h.scheduler.health()).toMatchObject({ status: 'ok', inSeason: true, nextRunAt: at('2026-12-10', 13) });
    await h.advance(at('2026-12-10', 12, 59));
    expect(h.reports()).toEqual([]);
    await h.advance(at('2026-12-10', 13, 1));
    expect(h.reports()).toEqual(['heating-2026-12-10.json']);
    const s = h.stored('2026-12-10')!;
    expect(s).toMatchObject({
      generatedAt: at('2026-12-10', 13),
      late: false,
      report: {
        date: '2026-12-10',
        status: 'normal',
        zero: true,
        faults: 0,
        open: [],
        period: { from: at('2026-12-09', 13), to: at('2026-12-10', 13) },
      },
    });
    expect(s.delivery).toMatchObject({
      roles: ['head_office'],
      status: 'sent',
      rounds: 1,
      channels: [
        expect.objectContaining({ channel: 'hq', sent: true }),
        expect.objectContaining({ channel: 'hq-robot', sent: true }),
      ],
    });
    // Head office's channels, not the duty manager's.
    expect(h.web.to('http://hooks.test/dm')).toEqual([]);
    const [msg] = h.web.to('http://hooks.test/hq');
    expect(msg!.body).toMatchObject({
      kind: 'heating_report',
      date: '2026-12-10',
      status: 'normal',
      zero: true,
      faults: 0,
      late: false,
      title: {
        zh: '供热日报 2026-12-10 · 正常（零报告）',
        en: 'Daily heating report 2026-12-10 · normal (zero report)',
      },
    });
    expect(msg!.body.text).toContain('供热运行平稳，无故障（零报告）');
    expect(msg!.body.text).toContain('Heating ran normally, no faults (zero report)');
    expect(msg!.body.text).toContain('/api/reports/heating/2026-12-10?format=html');
    const robot = h.web.to('http://hooks.test/wecom')[0]!.body as { msgtype: string; markdown: { content: string } };
    expect(robot.msgtype).toBe('markdown');
    expect(robot.markdown.content).toContain('零报告');
    // Once: the next runs do not send it again; the next is tomorrow at 13:00.
    expect(await h.scheduler.runDue()).toBe(false);
    expect(h.web.sent.length).toBe(2);
    expect(h.scheduler.health()).toMatchObject({
      status: 'ok',
      lastReport: '2026-12-10',
      delivery: 'sent',
      nextRunAt: at('2026-12-11', 13),
    });
    await h.advance(at('2026-12-11', 13));
    expect(h.reports()).toEqual(['heating-2026-12-10.json', 'heating-2026-12-11.json']);
    expect(h.web.to('http://hooks.test/hq').length).toBe(2);
  });

  it('a day with a heating outage sends "faults" listing it, from the incident runtime, with owner and estimates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heating-rt-'));
    const config = site();
    let clockT = at('2026-12-10', 9);
    const clock = { now: () => clockT };
    const rt = await testIncidentRuntime({ config, clock, dir, file: 'incidents.jsonl' });
    cleanups.push(() => rt.stop());
    const h = harness({
      start: clockT,
      dir: join(dir, 'reports'),
      watchedSince: at('2026-11-01', 0),
      incidents: () => rt.list(),
    });
    await h.start();
    // A boiler fails at 10:00; the duty engineer takes it and records the estimate.
    clockT = at('2026-12-10', 10);
    h.time.setTime(clockT);
    const inc = await rt.raise('otto', 'heating_outage', 't1', 'boiler 1 tripped');
    await rt.command(inc.id, { type: 'complete_step', step: 'assess', by: 'otto', fields: { needs_shutdown: true } });
    await rt.command(inc.id, {
      type: 'complete_step',
      step: 'estimate',
      by: 'otto',
      fields: { repair_hours: 6, households: 40 },
    });
    // And a drill in the same day: listed, not counted.
    await rt.raise('max', 'heating_outage', 't1', 'drill', 'D-7');
    await h.advance(at('2026-12-10', 13));
    const r = h.stored('2026-12-10')!.report;
    expect(r).toMatchObject({ status: 'faults', zero: false, faults: 1, drills: 1 });
    expect(r.open.find((c) => !c.drill)).toMatchObject({
      id: inc.id,
      owner: 'otto',
      building: 't1',
      raisedAt: at('2026-12-10', 10),
      needsShutdown: true,
      repairHours: 6,
      households: 40,
    });
    expect(r.open.find((c) => c.drill)).toMatchObject({ drill: 'D-7' });
    const msg = h.web.to('http://hooks.test/hq')[0]!.body;
    expect(msg).toMatchObject({
      status: 'faults',
      zero: false,
      faults: 1,
      open: 1,
      drills: 1,
      title: {
        zh: '供热日报 2026-12-10 · 故障 1 起，未恢复 1 起',
        en: 'Daily heating report 2026-12-10 · faults: 1, still open: 1',
      },
    });
    expect(msg.text).toContain(
      `未恢复 ${inc.id} 供热故障，t1，负责人 otto，开始 2026-12-10 10:00，预计修复 6 小时，影响 40 户，需停炉`,
    );
    expect(msg.text).toContain('演练 1 起（非真实故障，不计入）');
  });

  it('sends nothing outside the season, and starts and ends with it', async () => {
    const h = harness({ start: at('2026-07-01', 9), watchedSince: at('2026-06-01', 0) });
    await h.start();
    expect(h.scheduler.health()).toMatchObject({ status: 'ok', inSeason: false, nextRunAt: at('2026-11-15', 13) });
    await h.advance(at('2026-11-15', 12));
    expect(h.reports()).toEqual([]);
    expect(h.web.sent).toEqual([]);
    // Months away, yet no timer waits longer than 6 h (setTimeout cannot wait that long).
    expect(Math.max(...h.waits)).toBeLessThanOrEqual(6 * H);
    expect(h.time.pending()).toBe(1);
    await h.advance(at('2026-11-15', 13));
    expect(h.reports()).toEqual(['heating-2026-11-15.json']);
    // The last day of the season, then nothing.
    const end = harness({ start: at('2027-03-15', 9), watchedSince: at('2026-11-01', 0) });
    await end.start();
    await end.advance(at('2027-03-20', 15));
    expect(end.reports()).toEqual(['heating-2027-03-15.json']);
    expect(end.scheduler.nextRun(end.time.now())).toBe(at('2027-11-15', 13));
  });

  it("catches up today's report on start when the gateway was down at 13:00 (marked late; nothing after 13:00 in it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heating-'));
    const before = harness({ start: at('2026-12-10', 9), dir, watchedSince: at('2026-11-01', 0) });
    await before.start();
    await before.advance(at('2026-12-10', 12));
    await before.scheduler.stop();
    // Down from 12:00 to 15:30; a fault at 14:00 belongs to tomorrow's report.
    const list = [
      incident({ id: 'inc-1', raisedAt: at('2026-12-10', 11), closedAt: at('2026-12-10', 12) }),
      incident({ id: 'inc-2', raisedAt: at('2026-12-10', 14) }),
    ];
    const after = harness({ start: at('2026-12-10', 15, 30), dir, incidents: () => list });
    await after.start();
    const s = after.stored('2026-12-10')!;
    expect(s).toMatchObject({
      generatedAt: at('2026-12-10', 15, 30),
      late: true,
      report: { status: 'faults', faults: 1, closed: [{ id: 'inc-1' }], open: [] },
    });
    const msg = after.web.to('http://hooks.test/hq')[0]!.body;
    expect(msg).toMatchObject({ late: true });
    expect(msg.text).toContain('补报：13:00 时网关未运行，本报告于 2026-12-10 15:30 生成');
    expect(after.scheduler.nextRun(after.time.now())).toBe(at('2026-12-11', 13));
    await after.advance(at('2026-12-11', 13));
    expect(after.stored('2026-12-11')!.report).toMatchObject({ opened: [{ id: 'inc-2' }], open: [{ id: 'inc-2' }] });
  });

  it('days the gateway was down entirely are folded into the next report: nothing left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heating-'));
    const first = harness({ start: at('2026-12-09', 12), dir, watchedSince: at('2026-11-01', 0) });
    await first.start();
    await first.advance(at('2026-12-09', 14));
    await first.scheduler.stop();
    // Down from 12-09 14:00 to 12-12 15:00; a fault opened and closed on 12-10.
    const list = [incident({ id: 'inc-1', raisedAt: at('2026-12-10', 8), closedAt: at('2026-12-10', 20) })];
    const later = harness({ start: at('2026-12-12', 15), dir, incidents: () => list });
    await later.start();
    expect(later.reports()).toEqual(['heating-2026-12-09.json', 'heating-2026-12-12.json']);
    expect(later.stored('2026-12-12')!.report).toMatchObject({
      period: { from: at('2026-12-09', 13), to: at('2026-12-12', 13) },
      faults: 1,
      closed: [{ id: 'inc-1' }],
    });
  });

  it('before its first 13:00 the gateway claims nothing; after part of a day it says how much it watched', async () => {
    // First ever start at 15:00: today's period is over and was never watched — no report today.
    const late = harness({ start: at('2026-12-10', 15) });
    await late.start();
    expect(late.reports()).toEqual([]);
    await late.advance(at('2026-12-11', 13));
    expect(late.stored('2026-12-11')!.report.watchedFrom).toBe(at('2026-12-10', 15));
    expect(late.stored('2026-12-11')!.report.summary.zh).toContain('本系统自 2026-12-10 15:00 起才开始监测');
  });

  it('a channel that does not take it is retried alone every 10 min (logged, /health degraded) until it does; once to each channel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heating-'));
    const h = harness({ start: at('2026-12-10', 12), dir, watchedSince: at('2026-11-01', 0) });
    h.web.failing.add('http://hooks.test/hq');
    await h.start();
    await h.advance(at('2026-12-10', 13));
    expect(h.stored('2026-12-10')!.delivery).toMatchObject({
      status: 'failed',
      rounds: 1,
      channels: [
        expect.objectContaining({ channel: 'hq', sent: false, detail: expect.stringContaining('HTTP 500') }),
        expect.objectContaining({ channel: 'hq-robot', sent: true }),
      ],
    });
    expect(h.scheduler.health()).toMatchObject({
      status: 'degraded',
      detail: expect.stringMatching(/heating report 2026-12-10 not delivered on hq \(HTTP 500.*retried every 10 min/),
    });
    expect(h.logs.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'heating report 2026-12-10 not delivered on hq; retrying in 10 min',
    ]);
    await h.advance(at('2026-12-10', 13, 10));
    expect(h.stored('2026-12-10')!.delivery).toMatchObject({ status: 'failed', rounds: 2 });
    // The webhook is back: the next retry reaches it; the robot heard it once.
    h.web.failing.clear();
    await h.advance(at('2026-12-10', 13, 20));
    expect(h.stored('2026-12-10')!.delivery).toMatchObject({ status: 'sent', rounds: 3 });
    expect(h.web.to('http://hooks.test/hq').length).toBe(1);
    expect(h.web.to('http://hooks.test/wecom').length).toBe(1);
    expect(h.scheduler.health().status).toBe('ok');
    await h.advance(at('2026-12-10', 16));
    expect(h.web.sent.length).toBe(2);
  });

  it('a restart resumes a delivery that failed, and one that never began (kept, then the announcer crashed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heating-'));
    const h = harness({ start: at('2026-12-10', 12), dir, watchedSince: at('2026-11-01', 0), announce: 'throw-once' });
    await h.start();
    await h.advance(at('2026-12-10', 13));
    expect(h.stored('2026-12-10')!.delivery).toMatchObject({ status: 'pending', rounds: 0 });
    expect(h.scheduler.health()).toMatchObject({
      status: 'degraded',
      detail: expect.stringContaining('announcer crashed'),
    });
    await h.scheduler.stop();
    const again = harness({ start: at('2026-12-10', 13, 5), dir });
    again.web.failing.add('http://hooks.test/wecom');
    await again.start();
    expect(again.stored('2026-12-10')!.delivery).toMatchObject({ status: 'failed', rounds: 1 });
    // Generated once: the report on disk is the one made at 13:00.
    expect(again.stored('2026-12-10')!.generatedAt).toBe(at('2026-12-10', 13));
    await again.scheduler.stop();
    const third = harness({ start: at('2026-12-10', 13, 30), dir });
    await third.start();
    expect(third.stored('2026-12-10')!.delivery).toMatchObject({ status: 'sent', rounds: 2 });
    expect(third.web.sent.map((s) => s.url)).toEqual(['http://hooks.test/wecom']);
  });

  it('without a channel for head office the report is kept and /health says to send it by hand', async () => {
    const h = harness({
      start: at('2026-12-10', 12),
      watchedSince: at('2026-11-01', 0),
      config: site('heating: { notify_roles: [engineering_manager] }'),
    });
    await h.start();
    await h.advance(at('2026-12-10', 13));
    expect(h.stored('2026-12-10')!.delivery).toMatchObject({
      roles: ['engineering_manager'],
      status: 'no_channel',
      channels: [],
    });
    expect(h.scheduler.health()).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('no notification channel reaches engineering_manager'),
    });
    expect(h.logs.some((l) => l.level === 'warn' && l.msg.includes('send it by hand'))).toBe(true);
    expect(h.time.pending()).toBe(1);
    expect(await h.scheduler.runDue()).toBe(false);
  });

  it('follows the site file: its season and time, or none', async () => {
    const h = harness({
      start: at('2026-10-20', 9),
      watchedSince: at('2026-10-01', 0),
      config: site('heating: { season: { from: "10-15", to: "04-30" }, daily_report_at: "12:30" }'),
    });
    await h.start();
    await h.advance(at('2026-10-20', 12, 30));
    expect(h.stored('2026-10-20')!.report.period).toEqual({
      from: at('2026-10-19', 12, 30),
      to: at('2026-10-20', 12, 30),
    });
    const off = harness({
      start: at('2026-12-10', 9),
      watchedSince: at('2026-10-01', 0),
      config: site('heating: { daily_report_at: null }'),
    });
    await off.start();
    await off.advance(at('2026-12-12', 9));
    expect(off.reports()).toEqual([]);
    expect(off.time.pending()).toBe(0);
    expect(off.scheduler.health()).toMatchObject({
      status: 'ok',
      detail: 'no heating report scheduled (heating.daily_report_at is null)',
    });
  });

  it('refuses a season day that does not exist, naming its path and line', () => {
    try {
      site('heating:\n  season: { from: "11-31" }\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const p = (err as ConfigError).problems;
      expect(p).toEqual([
        expect.objectContaining({
          path: 'heating.season.from',
          message: '"11-31" is not a day every year has (use e.g. 02-28 or 03-01)',
        }),
      ]);
      expect(p[0]!.line).toBeGreaterThan(1);
    }
    expect(() => site('heating: { season: { to: "3-15" } }')).toThrow(ConfigError);
    expect(() => site('heating: { daily_report_at: "1pm" }')).toThrow(ConfigError);
    expect(() => site('heating: { notify_roles: [] }')).toThrow(ConfigError);
    expect(site().heating).toEqual({
      season: { from: '11-15', to: '03-15' },
      daily_report_at: '13:00',
      notify_roles: ['head_office'],
    });
  });
});
