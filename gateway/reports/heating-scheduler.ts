import { mkdir, readdir, readFile } from 'node:fs/promises';
import { writeFileDurably } from '../files/durable-file.js';
import { join } from 'node:path';
import type { Incident } from '../../rules/incidents/incident.js';
import type { DutyRole } from '../../rules/incidents/playbook.js';
import { addDays, isDate, localDate, localStamp } from '../../rules/reports/calendar.js';
import {
  heatingPeriod,
  heatingStatusReport,
  inSeason,
  reportTime,
  seasonStart,
  type HeatingAlarmInput,
  type HeatingStatusReport,
} from '../../rules/reports/heating-status.js';
import type { Clock, Timers } from '../ports/clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { AnnouncementSender } from '../incidents/notify.js';

// The daily heating report to head office (S000 篇八 四.2(4), the "zero report" rule): at
// `heating.daily_report_at` (13:00) on every day of the heating season, the report of the last
// 24 h is made from the heating-outage incidents and the heating alarms — also when nothing
// happened — kept as <dir>/heating-YYYY-MM-DD.json and announced on the channels of
// `heating.notify_roles` (head office).
//
// Durable first, then told: the report is on disk (temp file + rename) before it is announced,
// and what the announcement reached is written back into it. A gateway that was down at 13:00
// makes the report when it starts later that day, marked late; one that stopped between
// making and announcing announces on start (at least once: a crash right after sending and
// before writing the outcome sends it again). A channel that did not take it — after the
// announcer's own retries with backoff — is retried alone every 10 min, logged each time and
// shown on /health, until the next report replaces it. Days the gateway was down entirely are
// folded into the next report's period, so nothing that happened is left out (不漏报).

const RETRY_MS = 10 * 60_000;
/** Longest single timer: setTimeout cannot wait months (out of season), and a clock change is noticed within this. */
const MAX_WAIT_MS = 6 * 3_600_000;
const DAY_MS = 24 * 3_600_000;
/** Made this long after its time, a report is marked late (it was caught up). */
const LATE_MS = 5 * 60_000;
const FILE = /^heating-(\d{4}-\d{2}-\d{2})\.json$/;

export interface DeliveryChannel {
  channel: string;
  sent: boolean;
  at: number;
  detail?: string;
}

export interface HeatingDelivery {
  roles: DutyRole[];
  /**
   * pending: kept, not announced yet; sent: every channel took it; failed: some did not (retried
   * every 10 min while it is the latest); no_channel: no channel reaches the roles (send it by hand).
   */
  status: 'pending' | 'sent' | 'failed' | 'no_channel';
  channels: DeliveryChannel[];
  /** Announcement rounds so far (the first and each retry). */
  rounds: number;
}

export interface StoredHeatingReport {
  version: 1;
  generatedAt: number;
  /** Made after its time: the gateway was not running then. */
  late: boolean;
  report: HeatingStatusReport;
  delivery: HeatingDelivery;
}

export interface StoredHeatingInfo {
  date: string;
  period: { from: number; to: number };
  status: HeatingStatusReport['status'];
  zero: boolean;
  faults: number;
  open: number;
  drills: number;
  generatedAt: number;
  late: boolean;
  delivery: HeatingDelivery['status'];
}

export interface HeatingSchedule {
  season: { from: string; to: string };
  dailyReportAt: string | null;
  notifyRoles: DutyRole[];
  /** Today (local) is a day of the season. */
  inSeason: boolean;
  nextRunAt?: number;
}

export interface HeatingSchedulerOptions {
  config: SiteConfig;
  /** <data_dir>/reports */
  dir: string;
  clock: Clock;
  timers: Timers;
  /** The incident runtime's incidents (all: the report picks the heating outages). */
  incidents: () => readonly Incident[];
  /** Alarms now (the rule engine's): heating alarms firing without a case show too. */
  alarms?: () => readonly HeatingAlarmInput[];
  announce?: AnnouncementSender;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** Where people open the stored report, for the announcement. */
  link?: (date: string) => string;
}

export class HeatingReportScheduler implements HealthSource {
  readonly component = 'heating_reports';
  private timer: unknown;
  private stopped = false;
  private running: Promise<unknown> = Promise.resolve();
  /** The latest report made or looked at, for /health. */
  private last: { date: string; at: number; error?: string; delivery?: HeatingDelivery } | undefined;
  /** When the gateway first ran with this data directory (read once). */
  private sinceAt: number | undefined;

  constructor(private readonly o: HeatingSchedulerOptions) {}

  private get settings() {
    return this.o.config.heating;
  }

  private get tz(): string {
    return this.o.config.site.timezone;
  }

  /** The next report time after `now` on a day of the season; undefined when none is scheduled. */
  nextRun(now: number): number | undefined {
    const at = this.settings.daily_report_at;
    if (at === null) return undefined;
    let date = localDate(now, this.tz);
    for (let n = 0; n < 400; n++, date = addDays(date, 1)) {
      if (!inSeason(date, this.settings.season)) continue;
      const t = reportTime(date, at, this.tz);
      if (t > now) return t;
    }
    return undefined;
  }

  /**
   * Today's report, once its time has passed on a day of the season: made then, or when the
   * gateway starts later that day. An earlier day missed entirely is not made late on its own:
   * the next report's period reaches back to cover it (see make).
   */
  due(now: number): { date: string; at: number } | undefined {
    const l = this.latest(now);
    return l && l.date === localDate(now, this.tz) ? l : undefined;
  }

  /** The latest report time of the season within the last 24 h (today's, or yesterday's before 13:00): its delivery is still retried. */
  private latest(now: number): { date: string; at: number } | undefined {
    const at = this.settings.daily_report_at;
    if (at === null) return undefined;
    const today = localDate(now, this.tz);
    for (const date of [today, addDays(today, -1)]) {
      const t = reportTime(date, at, this.tz);
      if (t <= now) return now - t < DAY_MS && inSeason(date, this.settings.season) ? { date, at: t } : undefined;
    }
    return undefined;
  }

  schedule(): HeatingSchedule {
    const now = this.o.clock.now();
    const next = this.nextRun(now);
    return {
      season: this.settings.season,
      dailyReportAt: this.settings.daily_report_at,
      notifyRoles: this.settings.notify_roles,
      inSeason: inSeason(localDate(now, this.tz), this.settings.season),
      ...(next !== undefined ? { nextRunAt: next } : {}),
    };
  }

  start(): void {
    this.stopped = false;
    this.running = this.runDue().then(
      (failed) => this.arm(failed),
      () => this.arm(true),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves once the run in progress (and any it armed meanwhile) is over: tests on virtual time wait on it. */
  async settled(): Promise<void> {
    let r: Promise<unknown>;
    do {
      r = this.running;
      await r;
    } while (r !== this.running);
  }

  private arm(retry: boolean): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const next = this.nextRun(now);
    if (next === undefined && !retry) return;
    const waits = [MAX_WAIT_MS, ...(next !== undefined ? [next - now] : []), ...(retry ? [RETRY_MS] : [])];
    this.timer = this.o.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.running = this.runDue().then(
          (failed) => this.arm(failed),
          () => this.arm(true),
        );
      },
      Math.max(0, Math.min(...waits)),
    );
  }

  /** Makes the due report if it is not kept yet, and announces what has not reached its channels; resolves true when something must be retried. */
  async runDue(): Promise<boolean> {
    const now = this.o.clock.now();
    const d = this.latest(now);
    try {
      // When the gateway first ran here is kept from its first start, season or not.
      const since = await this.since(now);
      if (!d) return false;
      let stored = await this.read(d.date);
      if (!stored) {
        if (d.date !== localDate(now, this.tz)) return false;
        // The gateway first ran after this period ended: it saw nothing of it, and a "zero" would be a guess.
        if (since >= d.at) return false;
        stored = await this.make(d.date, since, now);
        await this.save(stored);
        this.o.log.info(
          { report: d.date, status: stored.report.status, faults: stored.report.faults, late: stored.late },
          `heating report ${d.date} made`,
        );
      }
      this.last = { date: d.date, at: now, delivery: stored.delivery };
      if (stored.delivery.status === 'pending' || stored.delivery.status === 'failed') {
        stored = await this.deliver(stored);
        this.last = { date: d.date, at: this.o.clock.now(), delivery: stored.delivery };
      }
      return stored.delivery.status === 'failed';
    } catch (err) {
      const date = d?.date ?? localDate(now, this.tz);
      this.last = { date, at: this.o.clock.now(), error: (err as Error).message };
      this.o.log.error(
        { report: date, err: (err as Error).message },
        `heating report ${date} could not be made, kept or announced; retrying in 10 min`,
      );
      return true;
    }
  }

  private async make(date: string, since: number, now: number): Promise<StoredHeatingReport> {
    const at = this.settings.daily_report_at!;
    const period = heatingPeriod(date, at, this.tz);
    // Days the gateway was down entirely (no report kept for them) are told now: the period
    // reaches back to the end of the last report kept this season.
    const before = (await this.dates()).filter((x) => x < date && x >= seasonStart(date, this.settings.season));
    const prev = before.length ? await this.read(before[0]!) : undefined;
    if (prev && prev.report.period.to < period.from) period.from = prev.report.period.to;
    const pumps = this.o.config.devices
      .filter((d) => d.kind === 'pump' && d.role === 'heating_circulation')
      .map((d) => d.id);
    const report = heatingStatusReport({
      date,
      period,
      timeZone: this.tz,
      incidents: this.o.incidents(),
      ...(this.o.alarms ? { alarms: this.o.alarms() } : {}),
      heatingPumps: pumps,
      watchedFrom: since,
    });
    return {
      version: 1,
      generatedAt: now,
      late: now - period.to > LATE_MS,
      report,
      delivery: { roles: this.settings.notify_roles, status: 'pending', channels: [], rounds: 0 },
    };
  }

  /** Announces to every channel not reached yet, and writes down what each did. */
  private async deliver(stored: StoredHeatingReport): Promise<StoredHeatingReport> {
    const { report } = stored;
    const d = stored.delivery;
    const failed = d.channels.filter((c) => !c.sent).map((c) => c.channel);
    const retry = d.status === 'failed' && failed.length > 0;
    const results = this.o.announce ? await this.o.announce(this.announcement(stored, retry ? failed : undefined)) : [];
    const at = this.o.clock.now();
    const channels = new Map(d.channels.map((c) => [c.channel, c]));
    for (const r of results)
      channels.set(r.channel, { channel: r.channel, sent: r.sent, at, ...(r.detail ? { detail: r.detail } : {}) });
    const all = [...channels.values()];
    const status: HeatingDelivery['status'] =
      all.length === 0 ? 'no_channel' : all.every((c) => c.sent) ? 'sent' : 'failed';
    const next: StoredHeatingReport = { ...stored, delivery: { ...d, status, channels: all, rounds: d.rounds + 1 } };
    await this.save(next);
    if (status === 'no_channel')
      this.o.log.warn(
        { report: report.date, roles: d.roles },
        `heating report ${report.date} kept, but no notification channel reaches ${d.roles.join(', ')}: send it by hand`,
      );
    for (const c of all.filter((x) => !x.sent))
      this.o.log.error(
        { report: report.date, channel: c.channel, detail: c.detail },
        `heating report ${report.date} not delivered on ${c.channel}; retrying in 10 min`,
      );
    if (status === 'sent')
      this.o.log.info(
        { report: report.date, channels: all.map((c) => c.channel) },
        `heating report ${report.date} announced`,
      );
    return next;
  }

  private announcement(stored: StoredHeatingReport, only: string[] | undefined): Parameters<AnnouncementSender>[0] {
    const r = stored.report;
    const t = (ms: number) => localStamp(ms, this.tz);
    const state = r.zero
      ? { zh: '正常（零报告）', en: 'normal (zero report)' }
      : {
          zh: `故障 ${r.faults} 起，未恢复 ${r.open.filter((c) => !c.drill).length} 起`,
          en: `faults: ${r.faults}, still open: ${r.open.filter((c) => !c.drill).length}`,
        };
    const lines = [
      ...r.summary.zh.split('\n'),
      ...r.summary.en.split('\n'),
      ...(stored.late
        ? [
            `补报：${this.settings.daily_report_at} 时网关未运行，本报告于 ${t(stored.generatedAt)} 生成 / Sent late: the gateway was not running at ${this.settings.daily_report_at}; made ${t(stored.generatedAt)}`,
          ]
        : []),
      ...(this.o.link ? [this.o.link(r.date)] : []),
    ];
    return {
      kind: 'heating_report',
      roles: stored.delivery.roles,
      ...(only ? { only } : {}),
      title: { zh: `供热日报 ${r.date} · ${state.zh}`, en: `Daily heating report ${r.date} · ${state.en}` },
      lines,
      // The report is real even in a drill (drill cases inside it are marked): as the incident messages say, `drill: null`.
      data: {
        report: `heating-${r.date}`,
        date: r.date,
        from: r.period.from,
        to: r.period.to,
        status: r.status,
        zero: r.zero,
        faults: r.faults,
        open: r.open.filter((c) => !c.drill).length,
        drills: r.drills,
        late: stored.late,
        drill: null,
        device: null,
      },
    };
  }

  /** Scheduled: the next report, the last one and whether it reached head office. */
  health(): ComponentHealth {
    const now = this.o.clock.now();
    const next = this.nextRun(now);
    const figures = {
      inSeason: inSeason(localDate(now, this.tz), this.settings.season),
      ...(next !== undefined ? { nextRunAt: next } : {}),
      ...(this.last
        ? {
            lastReport: this.last.date,
            lastRunAt: this.last.at,
            ...(this.last.delivery ? { delivery: this.last.delivery.status } : {}),
          }
        : {}),
    };
    if (this.settings.daily_report_at === null)
      return { status: 'ok', detail: 'no heating report scheduled (heating.daily_report_at is null)', ...figures };
    if (this.last?.error)
      return {
        status: 'degraded',
        detail: `heating report ${this.last.date} could not be made: ${this.last.error}; retried every 10 min`,
        ...figures,
      };
    const d = this.last?.delivery;
    if (d?.status === 'failed') {
      const bad = d.channels.filter((c) => !c.sent);
      return {
        status: 'degraded',
        detail: `heating report ${this.last!.date} not delivered on ${bad.map((c) => `${c.channel} (${c.detail ?? 'failed'})`).join(', ')}; retried every 10 min`,
        ...figures,
      };
    }
    // Not a fault of the gateway: the site has not named a channel. Said, not alarmed.
    if (d?.status === 'no_channel')
      return {
        status: 'ok',
        detail: `no notification channel reaches ${d.roles.join(', ')}: heating reports are kept (GET /api/reports/heating) and must be sent by hand`,
        ...figures,
      };
    return { status: 'ok', ...figures };
  }

  /** When this gateway first ran with this data directory (written on the first run). */
  private async since(now: number): Promise<number> {
    if (this.sinceAt !== undefined) return this.sinceAt;
    await mkdir(this.o.dir, { recursive: true });
    const file = join(this.o.dir, 'heating-since.json');
    try {
      this.sinceAt = (JSON.parse(await readFile(file, 'utf8')) as { since: number }).since;
    } catch {
      await this.writeAtomic(file, JSON.stringify({ since: now }));
      this.sinceAt = now;
    }
    return this.sinceAt;
  }

  private async save(stored: StoredHeatingReport): Promise<void> {
    await this.writeAtomic(join(this.o.dir, `heating-${stored.report.date}.json`), JSON.stringify(stored));
  }

  /** A reader never sees half a file: write aside, then rename over (atomic within a directory). */
  private async writeAtomic(file: string, text: string): Promise<void> {
    await writeFileDurably(file, text);
  }

  /** Dates of the kept reports, newest first. */
  private async dates(): Promise<string[]> {
    let files: string[];
    try {
      files = await readdir(this.o.dir);
    } catch {
      return [];
    }
    return files
      .map((f) => FILE.exec(f)?.[1])
      .filter((d): d is string => d !== undefined && isDate(d))
      .sort()
      .reverse();
  }

  async list(): Promise<StoredHeatingInfo[]> {
    const out: StoredHeatingInfo[] = [];
    for (const date of await this.dates()) {
      const s = await this.read(date);
      if (!s) continue;
      const r = s.report;
      out.push({
        date,
        period: r.period,
        status: r.status,
        zero: r.zero,
        faults: r.faults,
        open: r.open.filter((c) => !c.drill).length,
        drills: r.drills,
        generatedAt: s.generatedAt,
        late: s.late,
        delivery: s.delivery.status,
      });
    }
    return out;
  }

  async read(date: string): Promise<StoredHeatingReport | undefined> {
    if (!isDate(date)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.o.dir, `heating-${date}.json`), 'utf8')) as StoredHeatingReport;
    } catch {
      return undefined;
    }
  }
}
