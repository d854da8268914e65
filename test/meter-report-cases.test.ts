import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, json, testApi, TOKENS } from '../gateway/http/testing.js';
import { createAnnouncer } from '../gateway/incidents/notify.js';
import { MeterReportScheduler } from '../gateway/reports/scheduler.js';
import { parseConfig } from '../gateway/config/load.js';
import { reportCommand } from '../app/report-cli.js';
import { runMeterReport, type MeterReportRequest } from '../gateway/reports/run-meter-report.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import type { Point } from '../gateway/store/driver.js';
import { writePoints } from '../gateway/store/write-points.js';
import { addDays, localTime } from '../rules/reports/calendar.js';
import type { MeterReport } from '../rules/reports/meter-report.js';
import { influxql, uniqueDb } from './store-support.js';

// Hand-made meter histories in the run's real influxd, one meter per case, each telling one
// thing the report must get right: local days and nights in Asia/Shanghai (UTC+8, so a
// local night 02:00–05:00 is 18:00–21:00 UTC the day before), rollover against rollback,
// an offline gap against zero use, a vacant unit against an occupied one.

const url = inject('influxUrl');
const database = uniqueDb('meter_cases');
const TZ = 'Asia/Shanghai';
const units = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10'];
const vacant = new Set(['u2', 'u5']);
const config = parseConfig(
  `
site: { id: cases, name: Cases, timezone: ${TZ} }
storage: { url: ${url}, database: ${database} }
buildings:
  - id: b1
    name: Block 1
    floors: { lowest: 1, highest: 3 }
    units: [${units.map((u) => `{ id: ${u}, floor: "1"${vacant.has(u) ? ', vacant: true' : ''} }`).join(', ')}]
  - { id: b2, name: Block 2, floors: { lowest: 1, highest: 3 } }
devices:
${units.map((u) => `  - { id: wm-${u}, kind: water_meter, protocol: mqtt, publish_interval_s: 900, place: { building: b1, unit: ${u} } }`).join('\n')}
  - { id: em-u1, kind: electricity_meter, protocol: mqtt, publish_interval_s: 900, place: { building: b1, unit: u1 } }
`,
  'cases.yaml',
  { env: {} },
);
const driver = new Influx1Driver({ url, database });
const FIRST = '2026-11-01';
const LAST = '2026-11-20';
const at = (date: string, hh: number, mm = 0) => localTime(date, hh, TZ) + mm * 60_000;

/** Readings every 15 min over FIRST..LAST; `step` says the use and flow of each one, or null for none. */
function meter(
  id: string,
  kind: 'water_meter' | 'electricity_meter',
  start: number,
  step: (date: string, hh: number, mm: number, ts: number) => { use: number; flow?: number; set?: number } | null,
): Point[] {
  const out: Point[] = [];
  let total = start;
  for (let date = FIRST; date <= LAST; date = addDays(date, 1)) {
    for (let q = 0; q < 96; q++) {
      const hh = Math.floor(q / 4);
      const mm = (q % 4) * 15;
      const ts = at(date, hh, mm);
      const s = step(date, hh, mm, ts);
      if (s === null) continue;
      total = s.set ?? total + s.use;
      const unit = id.replace(/^\w+-/, '');
      const fields: Record<string, number> =
        kind === 'water_meter'
          ? { total_m3: Math.round(total * 1000) / 1000, flow_m3h: s.flow ?? 0 }
          : { energy_import_kwh: Math.round(total * 100) / 100 };
      out.push({
        measurement: kind,
        tags: { site: 'cases', building: 'b1', unit, device: id },
        fields,
        tsUs: ts * 1000,
      });
    }
  }
  return out;
}

/** An ordinary household: water from 07:00 to 22:00, none at night. */
const ordinary = (_d: string, hh: number) => (hh >= 7 && hh < 22 ? { use: 0.01, flow: 0.04 } : { use: 0, flow: 0 });

let report: MeterReport;
const of = (id: string) => report.anomalies.filter((a) => a.meter === id);

beforeAll(async () => {
  await driver.connect();
  const points = [
    ...meter('wm-u1', 'water_meter', 100, ordinary),
    // Night flow from the night of 11-15 on, 02:00–05:00 local (18:00–21:00 UTC the day before).
    ...meter('wm-u3', 'water_meter', 200, (d, hh) =>
      d >= '2026-11-15' && hh >= 2 && hh < 5 ? { use: 0.0075, flow: 0.03 } : ordinary(d, hh),
    ),
    // Flow every day 10:00–13:00 local = 02:00–05:00 UTC: a UTC night window would take it for night flow.
    ...meter('wm-u4', 'water_meter', 300, (_d, hh) =>
      hh >= 10 && hh < 13 ? { use: 0.0075, flow: 0.03 } : { use: 0, flow: 0 },
    ),
    // Vacant, used on 11-18 only.
    ...meter('wm-u2', 'water_meter', 50, (d, hh) =>
      d === '2026-11-18' && hh >= 9 && hh < 14 ? { use: 0.0025, flow: 0.01 } : { use: 0, flow: 0 },
    ),
    // Vacant and quiet: nothing to report.
    ...meter('wm-u5', 'water_meter', 60, () => ({ use: 0, flow: 0 })),
    // Occupied but the counter never moves while readings keep coming: stuck, not a gap.
    ...meter('wm-u6', 'water_meter', 70, () => ({ use: 0, flow: 0 })),
    // Offline from 11-16 10:00 to 11-17 04:00 local: a gap, not zero use.
    ...meter('wm-u7', 'water_meter', 80, (d, hh, mm, ts) =>
      ts >= at('2026-11-16', 10) && ts < at('2026-11-17', 4) ? null : ordinary(d, hh),
    ),
    // Near the end of a 5-digit register: wraps to 0 on 11-16 (a rollover, not an anomaly).
    ...meter('wm-u8', 'water_meter', 9999.2, (d, hh) => ordinary(d, hh)),
    // Use only around midnight: 0.2 m³ at 23:45 on 11-17, 0.3 m³ at 00:15 on 11-18 (both 11-17 in UTC).
    ...meter('wm-u9', 'water_meter', 400, (d, hh, mm) =>
      d === '2026-11-17' && hh === 23 && mm === 45
        ? { use: 0.2 }
        : d === '2026-11-18' && hh === 0 && mm === 15
          ? { use: 0.3 }
          : { use: 0 },
    ),
    // Electricity wound back from ~5 000 to 4 000 kWh on 11-16 12:00.
    ...meter('em-u1', 'electricity_meter', 4900, (d, hh, mm, ts) =>
      ts === at('2026-11-16', 12) ? { use: 0, set: 4000 } : { use: 0.1 },
    ),
  ].map((p) => {
    // The wrap: the register shows the total modulo 10 000.
    const v = p.fields.total_m3;
    return p.tags.device === 'wm-u8' && typeof v === 'number'
      ? { ...p, fields: { ...p.fields, total_m3: Math.round((v % 10_000) * 1000) / 1000 } }
      : p;
  });
  for (let i = 0; i < points.length; i += 5000) await writePoints(driver, points.slice(i, i + 5000));
  report = await runMeterReport({ config, driver, from: '2026-11-08', to: LAST, now: at(addDays(LAST, 1), 8) });
}, 60_000);

afterAll(async () => {
  await influxql(url, database, `DROP DATABASE "${database}"`).catch(() => undefined);
});

describe('meter report: local days and nights (Asia/Shanghai)', () => {
  it('a daily total across local midnight goes to the local day', () => {
    const days = report.meters.find((m) => m.id === 'wm-u9')!.days;
    expect(days.find((d) => d.date === '2026-11-17')!.use).toBeCloseTo(0.2, 6);
    expect(days.find((d) => d.date === '2026-11-18')!.use).toBeCloseTo(0.3, 6);
    expect(days.filter((d) => d.date !== '2026-11-17' && d.date !== '2026-11-18').every((d) => d.use === 0)).toBe(true);
  });

  it('the night window is 02:00–05:00 local: night flow found from the right night, day flow at 02:00 UTC is not', () => {
    const night = of('wm-u3').filter((a) => a.kind === 'night_flow_high');
    expect(night).toHaveLength(1);
    expect(night[0]!.from).toBe(at('2026-11-15', 0));
    expect(night[0]!.values.least_flow_m3h).toBe(0.03);
    expect(of('wm-u4').filter((a) => a.kind === 'night_flow_high')).toEqual([]);
    expect(of('wm-u1')).toEqual([]);
  });
});

describe('meter report: what a drop, a silence and a vacancy mean', () => {
  it('a wrap at the register end is a rollover with ordinary use; a wind-back is a rollback', () => {
    const wrap = report.meters.find((m) => m.id === 'wm-u8')!;
    expect(wrap.rollovers).toHaveLength(1);
    expect(wrap.rollovers[0]!.span).toBe(10_000);
    expect(of('wm-u8')).toEqual([]);
    // 15 hours × 4 readings × 0.01 = 0.6 m³ a day, the wrap day too.
    expect(wrap.days.every((d) => Math.abs(d.use! - 0.6) < 1e-6)).toBe(true);
    const back = of('em-u1');
    expect(back.map((a) => a.kind)).toEqual(['counter_rollback']);
    expect(back[0]!.from).toBe(at('2026-11-16', 12));
    expect(back[0]!.values.after).toBe(4000);
    expect(report.meters.find((m) => m.id === 'em-u1')!.rollovers).toEqual([]);
  });

  it('an offline meter is a gap (with its local times), a still counter is a stuck meter', () => {
    const gap = of('wm-u7');
    expect(gap.map((a) => a.kind)).toEqual(['data_gap']);
    expect(gap[0]!.from).toBe(at('2026-11-16', 10));
    expect(gap[0]!.to).toBe(at('2026-11-17', 4));
    expect(gap[0]!.evidence.en).toContain('2026-11-16 10:00');
    // wm-u10 never sent anything: one gap over the whole period, and no use counted.
    const silent = of('wm-u10');
    expect(silent.map((a) => [a.kind, a.from, a.to])).toEqual([
      ['data_gap', at('2026-11-08', 0), at(addDays(LAST, 1), 0)],
    ]);
    expect(report.meters.find((m) => m.id === 'wm-u10')!.total).toBeNull();
    const stuck = of('wm-u6');
    expect(stuck.map((a) => a.kind)).toEqual(['stuck_meter']);
  });

  it('use in a vacant unit is flagged; a quiet vacant unit is not stuck', () => {
    const used = of('wm-u2');
    expect(used.map((a) => a.kind)).toEqual(['vacant_unit_flow']);
    expect(used[0]!.values.total).toBeCloseTo(0.05, 6);
    expect(of('wm-u5')).toEqual([]);
  });

  it('a building filter reports only that building', async () => {
    const r = await runMeterReport({
      config,
      driver,
      from: '2026-11-08',
      to: LAST,
      building: 'b2',
      now: at(addDays(LAST, 1), 8),
    });
    expect(r.meters).toEqual([]);
    expect(r.anomalies).toEqual([]);
  });
});

describe('meter report: bad requests', () => {
  const now = at(addDays(LAST, 1), 8);
  const refused = (req: { from: string; to: string; building?: string }) =>
    runMeterReport({ config, driver, ...req, now });
  it('refuses inverted, huge, malformed and future ranges and unknown buildings, saying why', async () => {
    await expect(refused({ from: '2026-11-20', to: '2026-11-01' })).rejects.toThrow(/after to.*swap/);
    await expect(refused({ from: '2020-01-01', to: '2026-11-01' })).rejects.toThrow(/at most 366 days/);
    await expect(refused({ from: '2026-02-30', to: '2026-03-01' })).rejects.toThrow(/from must be a date YYYY-MM-DD/);
    await expect(refused({ from: '2027-01-01', to: '2027-01-02' })).rejects.toThrow(/in the future/);
    await expect(refused({ from: '2026-11-01', to: '2026-11-02', building: 'b9' })).rejects.toThrow(
      /unknown building "b9"; this site has b1, b2/,
    );
  });

  it('the CLI says why and exits 2', async () => {
    const lines: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
      now: () => now,
      env: { INFLUX_URL: url },
    };
    expect(await reportCommand(['meters', '--from', '2026-11-01'], io)).toBe(2);
    expect(lines.join('\n')).toContain('--to');
    lines.length = 0;
    expect(await reportCommand(['meters', '--from', '2026-11-09', '--to', '2026-11-01'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/refused: .*from 2026-11-09 is after to 2026-11-01/);
  });
});

describe('meter report: API and scheduled reports', () => {
  const now = at(addDays(LAST, 1), 9);
  let api: Awaited<ReturnType<typeof testApi>>;
  let scheduler: MeterReportScheduler;
  const received: Record<string, unknown>[] = [];
  let hook: Server;
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-reports-'));

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    const clock = { now: () => now };
    const run = (req: MeterReportRequest) =>
      runMeterReport({
        ...req,
        config,
        driver,
        now: clock.now(),
        drills: [{ id: 'D1', scenario: 'water-leak', from: at('2026-11-20', 15), to: at('2026-11-20', 16) }],
      });
    // The gateway has run here since the history began.
    writeFileSync(join(dir, 'since.json'), JSON.stringify({ since: at(FIRST, 0) }));
    scheduler = new MeterReportScheduler({
      config: { ...config, reports: { ...config.reports, monthly_day: 21 } },
      dir,
      clock,
      timers: { setTimeout: () => 0, clearTimeout: () => undefined },
      run,
      announce: createAnnouncer({
        channels: [
          { name: 'ops-hook', type: 'webhook', url: `http://127.0.0.1:${port}/hook`, roles: ['duty_manager'] },
        ],
        now: clock.now,
      }),
      log: { info: () => undefined, error: () => undefined },
    });
    api = await testApi({ reports: { run, stored: () => scheduler.list(), read: (n) => scheduler.read(n) } });
  });

  afterAll(async () => {
    await api.app.close();
    await new Promise((r) => hook.close(r));
  });

  const get = (url: string, auth = true) =>
    api.app.inject({ method: 'GET', url, headers: auth ? bearer(TOKENS.dashboard) : {} });

  it('answers JSON, CSV tables and a printable page', async () => {
    const res = await get('/api/reports/meters?from=2026-11-08&to=2026-11-20');
    expect(res.statusCode).toBe(200);
    const body = json<MeterReport>(res);
    expect(body.anomalies.some((a) => a.meter === 'wm-u7' && a.kind === 'data_gap')).toBe(true);
    expect(body.drills.map((d) => d.id)).toEqual(['D1']);
    const csv = await get('/api/reports/meters?from=2026-11-08&to=2026-11-20&format=csv&table=totals');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe('\uFEFFbuilding,meter_kind,unit,meters,reporting,total,anomalies,from,to');
    expect(csv.body).toMatch(/\r\nb1,water_meter,m³,10,9,[\d.]+,\d+,2026-11-08,2026-11-20\r\n/);
    const page = await get('/api/reports/meters?from=2026-11-08&to=2026-11-20&format=html&building=b1');
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Meter-anomaly report');
    expect(page.body).toContain('THIS PERIOD INCLUDES A DRILL');
  });

  it('refuses misuse with 4xx and a readable message', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/reports/meters?from=2026-11-08', 400, /from and to dates are needed/],
      ['/api/reports/meters?from=2026-11-20&to=2026-11-08', 400, /swap them/],
      ['/api/reports/meters?from=2020-01-01&to=2026-11-08', 400, /at most 366 days/],
      ['/api/reports/meters?from=2026-13-01&to=2026-11-08', 400, /from must be a date/],
      ['/api/reports/meters?from=2026-11-01&to=2026-11-08&building=b9', 400, /unknown building "b9"/],
      ['/api/reports/meters?from=2026-11-01&to=2026-11-08&format=pdf', 400, /format/],
      ['/api/reports/meters/stored/nope', 404, /no stored report "nope"/],
    ];
    for (const [url, status, message] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(json<{ message: string }>(res).message, url).toMatch(message);
    }
    expect((await get('/api/reports/meters?from=2026-11-01&to=2026-11-08', false)).statusCode).toBe(401);
  });

  it('makes the daily and monthly reports once, keeps and announces them (saying a drill was in the period)', async () => {
    expect(scheduler.due(now).map((d) => d.name)).toEqual(['meters-daily-2026-11-20', 'meters-monthly-2026-10']);
    expect(scheduler.health()).toEqual({ status: 'ok', nextRunAt: scheduler.nextRun(now) });
    expect(await scheduler.runDue()).toBe(false);
    // The health panel shows the schedule: the last report made and the next run.
    expect(scheduler.health()).toEqual({
      status: 'ok',
      nextRunAt: scheduler.nextRun(now),
      lastReport: 'meters-daily-2026-11-20',
      lastRunAt: now,
    });
    expect(await scheduler.runDue()).toBe(false);
    // October is before the history began here: only the daily one is made.
    const list = json<{ reports: { name: string; drill: boolean; anomalies: number }[] }>(
      await get('/api/reports/meters/stored'),
    ).reports;
    expect(list.map((r) => r.name)).toEqual(['meters-daily-2026-11-20']);
    expect(list[0]!.drill).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ kind: 'meter_report', report: 'meters-daily-2026-11-20', drill: true });
    expect(String(received[0]!.text)).toContain('includes a drill: D1');
    const page = await get('/api/reports/meters/stored/meters-daily-2026-11-20?format=html');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('2026-11-20 – 2026-11-20');
  });

  it('schedules the next run at daily_at, local time', () => {
    expect(scheduler.nextRun(at('2026-11-21', 7, 59))).toBe(at('2026-11-21', 8));
    expect(scheduler.nextRun(at('2026-11-21', 8))).toBe(at('2026-11-22', 8));
  });
});
