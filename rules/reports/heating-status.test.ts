import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Incident, StepState } from '../incidents/incident.js';
import {
  DEFAULT_HEATING_SETTINGS,
  heatingPeriod,
  heatingSettingsShape,
  heatingStatusReport,
  inSeason,
  seasonStart,
  type HeatingAlarmInput,
} from './heating-status.js';

const TZ = 'Asia/Shanghai';
const H = 3_600_000;
const period = heatingPeriod('2026-12-10', '13:00', TZ);

function step(fields: StepState['fields'] = {}): StepState {
  return { status: Object.keys(fields).length ? 'done' : 'pending', fields, escalated: 0 };
}

function incident(o: {
  id: string;
  raisedAt: number;
  closedAt?: number;
  drill?: string;
  playbook?: string;
  owner?: string;
  building?: string;
  fields?: Record<string, StepState['fields']>;
}): Incident {
  return {
    id: o.id,
    playbook: o.playbook ?? 'heating_outage',
    title: { zh: '供热故障', en: 'Heating outage' },
    severity: 'critical',
    status: o.closedAt === undefined ? 'open' : 'closed',
    raisedAt: o.raisedAt,
    ...(o.building ? { building: o.building } : {}),
    ...(o.drill ? { drill: o.drill } : {}),
    ...(o.owner ? { owner: o.owner } : {}),
    ...(o.closedAt !== undefined ? { closedAt: o.closedAt } : {}),
    alarms: [],
    steps: Object.fromEntries(Object.entries(o.fields ?? {}).map(([k, f]) => [k, step(f)])),
    tasks: {},
    timeline: [],
  };
}

afterEach(() => vi.restoreAllMocks());

describe('heating season and period', () => {
  it('the default season is 15 November to 15 March, both days included, across the new year', () => {
    const s = DEFAULT_HEATING_SETTINGS.season;
    expect(
      ['2026-11-14', '2026-11-15', '2026-12-31', '2027-01-01', '2027-03-15', '2027-03-16', '2026-07-01'].map((d) =>
        inSeason(d, s),
      ),
    ).toEqual([false, true, true, true, true, false, false]);
    expect(seasonStart('2027-02-01', s)).toBe('2026-11-15');
    expect(seasonStart('2026-12-01', s)).toBe('2026-11-15');
    // A season within one year.
    expect(inSeason('2026-06-01', { from: '05-01', to: '09-30' })).toBe(true);
    expect(inSeason('2026-10-01', { from: '05-01', to: '09-30' })).toBe(false);
    expect(DEFAULT_HEATING_SETTINGS).toEqual({
      season: { from: '11-15', to: '03-15' },
      daily_report_at: '13:00',
      notify_roles: ['head_office'],
    });
  });

  it('a period is the 24 h up to 13:00 local', () => {
    expect(new Date(period.from).toISOString()).toBe('2026-12-09T05:00:00.000Z');
    expect(new Date(period.to).toISOString()).toBe('2026-12-10T05:00:00.000Z');
  });

  it('refuses days that are not days of every year', () => {
    for (const bad of ['11-31', '13-01', '2-1', '02-29', '1115'])
      expect(heatingSettingsShape.safeParse({ season: { from: bad } }).success, bad).toBe(false);
    expect(heatingSettingsShape.safeParse({ daily_report_at: '25:00' }).success).toBe(false);
    expect(heatingSettingsShape.parse({ daily_report_at: null }).daily_report_at).toBeNull();
  });
});

describe('the daily heating report', () => {
  it('with nothing happened: a zero report, in both languages', () => {
    const r = heatingStatusReport({ date: '2026-12-10', period, timeZone: TZ, incidents: [] });
    expect(r).toMatchObject({
      status: 'normal',
      zero: true,
      opened: [],
      closed: [],
      open: [],
      alarms: [],
      faults: 0,
      drills: 0,
    });
    expect(r.summary.zh).toContain('零报告');
    expect(r.summary.en).toContain('zero report');
    expect(r.summary.zh).toContain('2026-12-09 13:00 – 2026-12-10 13:00');
  });

  it('lists the faults: new, restored and still open, with owner and the estimates recorded on its steps', () => {
    const r = heatingStatusReport({
      date: '2026-12-10',
      period,
      timeZone: TZ,
      incidents: [
        incident({ id: 'inc-1', raisedAt: period.from + 2 * H, closedAt: period.from + 5 * H, building: 't1' }),
        incident({
          id: 'inc-2',
          raisedAt: period.to - 3 * H,
          owner: 'otto',
          building: 't2',
          fields: { assess: { needs_shutdown: true }, estimate: { repair_hours: 6, households: 40 } },
        }),
        // Long ago, closed long ago: not in this report.
        incident({ id: 'inc-0', raisedAt: period.from - 48 * H, closedAt: period.from - 30 * H }),
        // Another playbook.
        incident({ id: 'inc-9', raisedAt: period.from + H, playbook: 'water_leak' }),
      ],
    });
    expect(r.status).toBe('faults');
    expect(r.zero).toBe(false);
    expect(r.faults).toBe(2);
    expect(r.opened.map((c) => c.id)).toEqual(['inc-1', 'inc-2']);
    expect(r.closed.map((c) => c.id)).toEqual(['inc-1']);
    expect(r.open).toEqual([
      {
        id: 'inc-2',
        title: { zh: '供热故障', en: 'Heating outage' },
        building: 't2',
        owner: 'otto',
        raisedAt: period.to - 3 * H,
        needsShutdown: true,
        repairHours: 6,
        households: 40,
      },
    ]);
    expect(r.summary.zh).toContain('供热故障 2 起：新发 2 起，已恢复 1 起，未恢复 1 起');
    expect(r.summary.zh).toContain('负责人 otto，开始 2026-12-10 10:00，预计修复 6 小时，影响 40 户，需停炉');
    expect(r.summary.en).toContain(
      'owner otto, since 2026-12-10 10:00, repair expected to take 6 h, 40 households affected, shutdown needed',
    );
  });

  it('a drill is listed and marked, and does not make a fault', () => {
    const r = heatingStatusReport({
      date: '2026-12-10',
      period,
      timeZone: TZ,
      incidents: [incident({ id: 'inc-5', raisedAt: period.from + H, drill: 'D1' })],
      alarms: [
        {
          id: 'a1',
          kind: 'boiler_fault',
          deviceId: 'boiler-1',
          severity: 'critical',
          status: 'firing',
          since: period.from + H,
          drill: 'D1',
        },
      ],
    });
    expect(r).toMatchObject({
      status: 'normal',
      zero: true,
      faults: 0,
      drills: 1,
      open: [{ id: 'inc-5', drill: 'D1' }],
      alarms: [{ id: 'a1', drill: 'D1' }],
    });
    expect(r.summary.zh).toContain('演练 1 起');
  });

  it('a case closed at the end of the period is open in this report and closed in the next one; one raised after it is not in it', () => {
    const next = heatingPeriod('2026-12-11', '13:00', TZ);
    const incidents = [
      incident({ id: 'inc-1', raisedAt: period.from + H, closedAt: period.to }),
      incident({ id: 'inc-2', raisedAt: period.to + H }),
    ];
    const r = heatingStatusReport({ date: '2026-12-10', period, timeZone: TZ, incidents });
    expect([r.open.map((c) => c.id), r.closed.map((c) => c.id)]).toEqual([['inc-1'], []]);
    const r2 = heatingStatusReport({ date: '2026-12-11', period: next, timeZone: TZ, incidents });
    expect([r2.opened.map((c) => c.id), r2.closed.map((c) => c.id), r2.open.map((c) => c.id)]).toEqual([
      ['inc-2'],
      ['inc-1'],
      ['inc-2'],
    ]);
  });

  it('a boiler alarm firing without a case makes faults; a heating pump counts only when named', () => {
    const alarms: HeatingAlarmInput[] = [
      {
        id: 'hl',
        kind: 'heating_low',
        deviceId: 'boiler-1',
        severity: 'major',
        status: 'firing',
        since: period.to - H,
      },
      { id: 'pf', kind: 'pump_failure', deviceId: 'circ-1', severity: 'major', status: 'firing', since: period.to - H },
      {
        id: 'wl',
        kind: 'water_leak',
        deviceId: 'leak-1',
        severity: 'critical',
        status: 'firing',
        since: period.to - H,
      },
      {
        id: 'old',
        kind: 'boiler_fault',
        deviceId: 'boiler-2',
        severity: 'critical',
        status: 'cleared',
        since: period.to - 2 * H,
      },
    ];
    expect(
      heatingStatusReport({ date: '2026-12-10', period, timeZone: TZ, incidents: [], alarms }).alarms.map((a) => a.id),
    ).toEqual(['hl']);
    const r = heatingStatusReport({
      date: '2026-12-10',
      period,
      timeZone: TZ,
      incidents: [],
      alarms,
      heatingPumps: ['circ-1'],
    });
    expect(r.alarms.map((a) => a.id)).toEqual(['hl', 'pf']);
    expect(r).toMatchObject({ status: 'faults', zero: false, faults: 0 });
    expect(r.summary.zh).toContain('当前报警 2 项：供水温度偏低（boiler-1）、水泵故障（circ-1）');
  });

  it('says when the gateway watched only part of the period', () => {
    const r = heatingStatusReport({
      date: '2026-12-10',
      period,
      timeZone: TZ,
      incidents: [],
      watchedFrom: period.to - 2 * H,
    });
    expect(r.watchedFrom).toBe(period.to - 2 * H);
    expect(r.summary.zh).toContain('本系统自 2026-12-10 11:00 起才开始监测');
    expect(
      heatingStatusReport({ date: '2026-12-10', period, timeZone: TZ, incidents: [], watchedFrom: period.from - H })
        .watchedFrom,
    ).toBeUndefined();
  });

  it('over any set of cases and alarms: zero exactly when no real heating case overlapped the period and no real heating alarm fires; every real open case is listed; each close told once; no clock read', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the report must not read the clock');
    });
    const t = fc.integer({ min: period.from - 48 * H, max: period.to + 24 * H });
    const arbIncident = fc.record({
      raisedAt: t,
      length: fc.option(fc.integer({ min: 0, max: 72 * H }), { nil: undefined }),
      drill: fc.option(fc.constant('D1'), { nil: undefined }),
      heating: fc.boolean(),
    });
    const arbAlarm = fc.record({
      kind: fc.constantFrom('boiler_fault', 'heating_low', 'water_leak', 'pump_failure'),
      status: fc.constantFrom('firing', 'cleared'),
      since: t,
      drill: fc.option(fc.constant('D1'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(arbIncident, { maxLength: 12 }),
        fc.array(arbAlarm, { maxLength: 4 }),
        (specs, alarmSpecs) => {
          const incidents = specs.map((s, n) =>
            incident({
              id: `inc-${n}`,
              raisedAt: s.raisedAt,
              ...(s.length !== undefined ? { closedAt: s.raisedAt + s.length } : {}),
              ...(s.drill ? { drill: s.drill } : {}),
              ...(s.heating ? {} : { playbook: 'power_cut' }),
            }),
          );
          const alarms: HeatingAlarmInput[] = alarmSpecs.map((a, n) => ({
            id: `a${n}`,
            kind: a.kind,
            deviceId: `d${n}`,
            severity: 'critical',
            status: a.status,
            since: a.since,
            ...(a.drill ? { drill: a.drill } : {}),
          }));
          const r = heatingStatusReport({ date: '2026-12-10', period, timeZone: TZ, incidents, alarms });
          const real = incidents.filter((i) => i.playbook === 'heating_outage' && !i.drill);
          const overlapped = real.filter(
            (i) => i.raisedAt < period.to && (i.closedAt === undefined || i.closedAt >= period.from),
          );
          const realAlarm = alarms.some(
            (a) =>
              !a.drill &&
              a.status === 'firing' &&
              a.since < period.to &&
              (a.kind === 'boiler_fault' || a.kind === 'heating_low'),
          );
          expect(r.zero).toBe(overlapped.length === 0 && !realAlarm);
          expect(r.status).toBe(r.zero ? 'normal' : 'faults');
          expect(r.faults).toBe(overlapped.length);
          const openAtEnd = real
            .filter((i) => i.raisedAt < period.to && (i.closedAt === undefined || i.closedAt >= period.to))
            .map((i) => i.id);
          expect(
            r.open
              .filter((c) => !c.drill)
              .map((c) => c.id)
              .sort(),
          ).toEqual(openAtEnd.sort());
          // Next day's report: a case closed is told in exactly one of the two.
          const next = heatingStatusReport({
            date: '2026-12-11',
            period: heatingPeriod('2026-12-11', '13:00', TZ),
            timeZone: TZ,
            incidents,
          });
          for (const i of real.filter(
            (x) => x.closedAt !== undefined && x.closedAt >= period.from && x.closedAt < next.period.to,
          )) {
            expect(
              [r, next].filter((x) => x.closed.some((c) => c.id === i.id)),
              i.id,
            ).toHaveLength(1);
          }
          // Nothing is told of that had not begun by the end of the period.
          for (const c of [...r.opened, ...r.open, ...r.closed]) expect(c.raisedAt).toBeLessThan(period.to);
        },
      ),
    );
  });
});
