import { z } from 'zod';
import { ALARM_KINDS, isAlarmKind, type Severity } from '../alarms/kinds.js';
import type { Incident } from '../incidents/incident.js';
import { DUTY_ROLES } from '../incidents/playbook.js';
import { addDays, isDate, localStamp, localTime } from './calendar.js';

// The daily heating report to head office (S000 篇八 四.2(4), 供热零报告制度): every day of the
// heating season, by 13:00, a report of how the heating ran — sent even when nothing happened
// (a "zero report", 零报告), so that silence never stands for "all is well" and nothing is left
// out or hidden (不漏报、不瞒报). Built here from the heating-outage incidents and the boiler
// alarms; pure: the period and everything in it are given, no clock is read.

type Text = { zh: string; en: string };

/** The playbook whose incidents are heating faults (rules/playbooks/heating-outage.yaml). */
export const HEATING_PLAYBOOK = 'heating_outage';

const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** A day of the year, MM-DD, that every year has (02-29 would leave three years in four without it). */
const monthDay = z
  .string()
  .regex(MONTH_DAY, 'a day of the year as MM-DD, e.g. "11-15"')
  .superRefine((md, ctx) => {
    if (MONTH_DAY.test(md) && (md === '02-29' || !isDate(`2025-${md}`)))
      ctx.addIssue({ code: 'custom', message: `"${md}" is not a day every year has (use e.g. 02-28 or 03-01)` });
  });

/**
 * The site file's `heating` key. The season by default is the statutory heating season of
 * northern Chinese cities (Beijing, Tianjin: 15 November – 15 March); the seed's own campaign
 * ran from mid-October to the end of April (S000 篇八 三、时间安排) because it includes the
 * preparation and the review. Cities move the dates in a cold autumn or spring: a site sets its own.
 */
export const heatingSettingsShape = z.strictObject({
  /** First and last day of the heating season, MM-DD, both included; it may span the new year (11-15 → 03-15). */
  season: z.strictObject({ from: monthDay.default('11-15'), to: monthDay.default('03-15') }).prefault({}),
  /** Local time of the daily report to head office (S000 篇八 四.2(4): by 13:00 every day); null: none. */
  daily_report_at: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM')
    .nullable()
    .default('13:00'),
  /** Escalation roles whose channels receive the daily report. */
  notify_roles: z.array(z.enum(DUTY_ROLES)).min(1).default(['head_office']),
});

export type HeatingSettings = z.infer<typeof heatingSettingsShape>;
export const DEFAULT_HEATING_SETTINGS: HeatingSettings = heatingSettingsShape.parse({});

/** Is the local date (YYYY-MM-DD) within the season, both ends included? */
export function inSeason(date: string, season: HeatingSettings['season']): boolean {
  const md = date.slice(5);
  return season.from <= season.to ? md >= season.from && md <= season.to : md >= season.from || md <= season.to;
}

/** The first day of the season that `date` is in (a season over the new year began the year before). */
export function seasonStart(date: string, season: HeatingSettings['season']): string {
  const year = Number(date.slice(0, 4));
  const thisYear = `${year}-${season.from}`;
  return thisYear <= date ? thisYear : `${year - 1}-${season.from}`;
}

/** The report instant on a local date: `at` (HH:MM) in the site's zone. */
export function reportTime(date: string, at: string, timeZone: string): number {
  const [hh, mm] = at.split(':').map(Number) as [number, number];
  return localTime(date, hh, timeZone) + mm * 60_000;
}

/** The period of the report of `date`: from the report time the day before to the one on that day (24 h, 23/25 across a DST change). */
export function heatingPeriod(date: string, at: string, timeZone: string): { from: number; to: number } {
  return { from: reportTime(addDays(date, -1), at, timeZone), to: reportTime(date, at, timeZone) };
}

/** A heating fault as the report lists it: what, where, who has it, and the estimates recorded on its steps. */
export interface HeatingCase {
  id: string;
  title: Text;
  building?: string;
  deviceId?: string;
  /** A drill's case: listed, marked, never counted as a fault. */
  drill?: string;
  owner?: string;
  raisedAt: number;
  /** When it closed, if before the end of the period. */
  closedAt?: number;
  needsShutdown?: boolean;
  repairHours?: number;
  households?: number;
  /** When head office was told (the 20-minute report), as recorded. */
  reportedAt?: string;
  residentsNotifiedAt?: string;
  restoredAt?: string;
}

/** An alarm as the report needs it (the rule engine's AlarmView fits). */
export interface HeatingAlarmInput {
  id: string;
  kind: string;
  deviceId: string;
  severity: Severity;
  status: string;
  since: number;
  raisedAt?: number;
  drill?: string;
}

export interface HeatingAlarmLine {
  id: string;
  kind: string;
  title: Text;
  deviceId: string;
  severity: Severity;
  since: number;
  drill?: string;
}

export interface HeatingReportInput {
  /** The local date of the report (the day its period ends). */
  date: string;
  period: { from: number; to: number };
  timeZone: string;
  /** Incidents (any playbook: only heating outages are read). */
  incidents: readonly Incident[];
  /** Alarms firing at the end of the period; heating kinds, and pump failures of the pumps in `heatingPumps`, are read. */
  alarms?: readonly HeatingAlarmInput[];
  /** Heating circulation pumps: their pump_failure is a heating fault too. */
  heatingPumps?: readonly string[];
  /** When the gateway began watching, if after the period began: the report says it saw only that much. */
  watchedFrom?: number;
}

export interface HeatingStatusReport {
  date: string;
  timeZone: string;
  period: { from: number; to: number };
  /** `faults`: a real heating fault during the period, or a real heating alarm firing at its end. Drills never make it. */
  status: 'normal' | 'faults';
  /** Nothing happened: the zero report (零报告), sent all the same. */
  zero: boolean;
  /** Cases raised during the period. */
  opened: HeatingCase[];
  /** Cases closed during the period. */
  closed: HeatingCase[];
  /** Cases still open at the end of the period (raised during it or before). */
  open: HeatingCase[];
  /** Heating alarms firing at the end of the period. */
  alarms: HeatingAlarmLine[];
  /** Real faults during the period (drills left out): the count head office reads. */
  faults: number;
  /** Drill cases during the period (listed, not counted). */
  drills: number;
  /** The gateway watched only since then (it first ran during the period). */
  watchedFrom?: number;
  summary: Text;
}

/** The heating status report of one period. */
export function heatingStatusReport(input: HeatingReportInput): HeatingStatusReport {
  const { from, to } = input.period;
  // As things stood at the end of the period, [from, to): a case closed at `to` or later was
  // still open then, and shows as closed in the next report; so each close is told exactly once.
  const closedInTime = (i: Incident) => i.closedAt !== undefined && i.closedAt < to;
  const overlaps = input.incidents
    .filter((i) => i.playbook === HEATING_PLAYBOOK && i.raisedAt < to && (!closedInTime(i) || i.closedAt! >= from))
    .sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id));
  const opened = overlaps.filter((i) => i.raisedAt >= from).map((i) => caseOf(i, to));
  const closed = overlaps.filter(closedInTime).map((i) => caseOf(i, to));
  const open = overlaps.filter((i) => !closedInTime(i)).map((i) => caseOf(i, to));

  const pumps = new Set(input.heatingPumps ?? []);
  const alarms: HeatingAlarmLine[] = (input.alarms ?? [])
    .filter(
      (a) =>
        a.status === 'firing' &&
        (a.raisedAt ?? a.since) < to &&
        isAlarmKind(a.kind) &&
        (ALARM_KINDS[a.kind].category === 'heating' || (a.kind === 'pump_failure' && pumps.has(a.deviceId))),
    )
    .sort((a, b) => a.since - b.since || a.id.localeCompare(b.id))
    .map((a) => ({
      id: a.id,
      kind: a.kind,
      title: isAlarmKind(a.kind) ? ALARM_KINDS[a.kind].title : { zh: a.kind, en: a.kind },
      deviceId: a.deviceId,
      severity: a.severity,
      since: a.since,
      ...(a.drill ? { drill: a.drill } : {}),
    }));

  const faults = overlaps.filter((i) => !i.drill).length;
  const drills = overlaps.length - faults;
  const status = faults > 0 || alarms.some((a) => !a.drill) ? 'faults' : 'normal';
  const watchedFrom = input.watchedFrom !== undefined && input.watchedFrom > from ? input.watchedFrom : undefined;
  const report: Omit<HeatingStatusReport, 'summary'> = {
    date: input.date,
    timeZone: input.timeZone,
    period: { from, to },
    status,
    zero: status === 'normal',
    opened,
    closed,
    open,
    alarms,
    faults,
    drills,
    ...(watchedFrom !== undefined ? { watchedFrom } : {}),
  };
  return { ...report, summary: summaryOf(report) };
}

function caseOf(i: Incident, to: number): HeatingCase {
  // Read by field name from whichever step records it: the playbook may move or split steps.
  const field = (name: string) => {
    for (const s of Object.values(i.steps)) if (s.fields[name] !== undefined) return s.fields[name] as unknown;
    return undefined;
  };
  const num = (name: string) => {
    const v = field(name);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const str = (name: string) => {
    const v = field(name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const shutdown = field('needs_shutdown');
  const repairHours = num('repair_hours');
  const households = num('households');
  const reportedAt = str('reported_at');
  const residentsNotifiedAt = str('residents_notified_at');
  const restoredAt = str('restored_at');
  return {
    id: i.id,
    title: i.title,
    ...(i.building ? { building: i.building } : {}),
    ...(i.deviceId ? { deviceId: i.deviceId } : {}),
    ...(i.drill ? { drill: i.drill } : {}),
    ...(i.owner ? { owner: i.owner } : {}),
    raisedAt: i.raisedAt,
    ...(i.closedAt !== undefined && i.closedAt < to ? { closedAt: i.closedAt } : {}),
    ...(typeof shutdown === 'boolean' ? { needsShutdown: shutdown } : {}),
    ...(repairHours !== undefined ? { repairHours } : {}),
    ...(households !== undefined ? { households } : {}),
    ...(reportedAt ? { reportedAt } : {}),
    ...(residentsNotifiedAt ? { residentsNotifiedAt } : {}),
    ...(restoredAt ? { restoredAt } : {}),
  };
}

function summaryOf(r: Omit<HeatingStatusReport, 'summary'>): Text {
  const t = (ms: number) => localStamp(ms, r.timeZone);
  const span = `${t(r.period.from)} – ${t(r.period.to)}`;
  const zh: string[] = [];
  const en: string[] = [];
  zh.push(`${r.date} 供热日报（${span}）`);
  en.push(`Daily heating report ${r.date} (${span})`);
  if (r.zero) {
    zh.push('供热运行平稳，无故障（零报告）。');
    en.push('Heating ran normally, no faults (zero report).');
  } else {
    const realOpened = r.opened.filter((c) => !c.drill).length;
    const realClosed = r.closed.filter((c) => !c.drill).length;
    const realOpen = r.open.filter((c) => !c.drill);
    zh.push(`供热故障 ${r.faults} 起：新发 ${realOpened} 起，已恢复 ${realClosed} 起，未恢复 ${realOpen.length} 起。`);
    en.push(`Heating faults: ${r.faults} (new ${realOpened}, restored ${realClosed}, still open ${realOpen.length}).`);
    for (const c of realOpen) {
      const where = c.building ?? c.deviceId;
      zh.push(
        [
          `未恢复 ${c.id} ${c.title.zh}`,
          ...(where ? [where] : []),
          `负责人 ${c.owner ?? '未认领'}`,
          `开始 ${t(c.raisedAt)}`,
          c.repairHours !== undefined ? `预计修复 ${c.repairHours} 小时` : '修复时长未估计',
          c.households !== undefined ? `影响 ${c.households} 户` : '影响户数未估计',
          ...(c.needsShutdown ? ['需停炉'] : []),
        ].join('，') + '。',
      );
      en.push(
        [
          `Open ${c.id} ${c.title.en}`,
          ...(where ? [where] : []),
          `owner ${c.owner ?? 'nobody yet'}`,
          `since ${t(c.raisedAt)}`,
          c.repairHours !== undefined ? `repair expected to take ${c.repairHours} h` : 'repair time not estimated',
          c.households !== undefined ? `${c.households} households affected` : 'households not estimated',
          ...(c.needsShutdown ? ['shutdown needed'] : []),
        ].join(', ') + '.',
      );
    }
    const real = r.alarms.filter((a) => !a.drill);
    if (real.length) {
      zh.push(`当前报警 ${real.length} 项：${real.map((a) => `${a.title.zh}（${a.deviceId}）`).join('、')}。`);
      en.push(`Alarms now: ${real.length}: ${real.map((a) => `${a.title.en} (${a.deviceId})`).join('; ')}.`);
    }
  }
  if (r.drills) {
    zh.push(`演练 ${r.drills} 起（非真实故障，不计入）。`);
    en.push(`Drills: ${r.drills} (not real faults, not counted).`);
  }
  if (r.watchedFrom !== undefined) {
    zh.push(`注：本系统自 ${t(r.watchedFrom)} 起才开始监测，此前情况未知。`);
    en.push(`Note: monitored only since ${t(r.watchedFrom)}; before that is not known.`);
  }
  return { zh: zh.join('\n'), en: en.join('\n') };
}
