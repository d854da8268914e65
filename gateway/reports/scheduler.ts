import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { writeFileDurably } from '../files/durable-file.js';
import { join } from 'node:path';
import { addDays, localDate, localTime } from '../../rules/reports/calendar.js';
import type { MeterReport } from '../../rules/reports/meter-report.js';
import { ANOMALY_KINDS, ANOMALY_KIND_NAMES } from '../../rules/reports/meter-model.js';
import type { Clock, Timers } from '../ports/clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { AnnouncementSender } from '../incidents/notify.js';
import type { MeterReportRequest } from './run-meter-report.js';

// Scheduled meter-anomaly reports: every day at `reports.daily_at` (08:00, before the shift
// handover) the report of the day before, and on `reports.monthly_day` the month before.
// Each is kept as JSON under <data_dir>/reports (the API renders it as a page or CSV) and
// announced on the channels of `reports.notify_roles`. A gateway that was down at that time
// makes the missing reports when it starts; a database that is down is retried every 10 min.
// Periods that began before the gateway first ran here (<dir>/since.json) are not made:
// there is nothing to report on yet, only gaps.

export type Schedule = 'daily' | 'monthly';

export interface StoredReportInfo {
  name: string;
  schedule: Schedule;
  from: string;
  to: string;
  generatedAt: number;
  anomalies: number;
  /** The period includes a drill. */
  drill: boolean;
}

export interface SchedulerOptions {
  config: SiteConfig;
  dir: string;
  clock: Clock;
  timers: Timers;
  run: (req: MeterReportRequest) => Promise<MeterReport>;
  announce?: AnnouncementSender;
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void };
  /** Where people open the stored report (the dashboard), for the announcement. */
  link?: (name: string) => string;
}

const RETRY_MS = 10 * 60_000;
const NAME = /^meters-(daily|monthly)-(\d{4}-\d{2}(?:-\d{2})?)$/;

export function isReportName(name: string): boolean {
  return NAME.test(name);
}

export class MeterReportScheduler implements HealthSource {
  readonly component = 'reports';
  private timer: unknown;
  /** The last report made or failed, for /health. */
  private last: { at: number; report: string; error?: string } | undefined;
  private stopped = false;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: SchedulerOptions) {}

  private get tz(): string {
    return this.o.config.site.timezone;
  }

  /** The next instant at daily_at, local; undefined when no report is scheduled. */
  nextRun(now: number): number | undefined {
    const at = this.o.config.reports.daily_at;
    if (at === null) return undefined;
    const [hh, mm] = at.split(':').map(Number) as [number, number];
    const today = localDate(now, this.tz);
    const t = localTime(today, hh, this.tz) + mm * 60_000;
    return t > now ? t : localTime(addDays(today, 1), hh, this.tz) + mm * 60_000;
  }

  /** The reports that should exist by `now` (the latest daily and monthly ones), by name. */
  due(now: number): { name: string; schedule: Schedule; from: string; to: string }[] {
    const r = this.o.config.reports;
    if (r.daily_at === null) return [];
    const [hh, mm] = r.daily_at.split(':').map(Number) as [number, number];
    const today = localDate(now, this.tz);
    const passed = now >= localTime(today, hh, this.tz) + mm * 60_000;
    // Before today's run time, the last run was yesterday's, covering the day before that.
    const runDay = passed ? today : addDays(today, -1);
    const out: { name: string; schedule: Schedule; from: string; to: string }[] = [];
    const day = addDays(runDay, -1);
    out.push({ name: `meters-daily-${day}`, schedule: 'daily', from: day, to: day });
    if (r.monthly_day !== null) {
      // The month whose report ran most recently: this month's run day if passed, else last month's.
      const [y, mo, d] = runDay.split('-').map(Number) as [number, number, number];
      const runMonth = d >= r.monthly_day ? new Date(Date.UTC(y, mo - 1, 1)) : new Date(Date.UTC(y, mo - 2, 1));
      const first = new Date(Date.UTC(runMonth.getUTCFullYear(), runMonth.getUTCMonth() - 1, 1))
        .toISOString()
        .slice(0, 10);
      const last = addDays(runMonth.toISOString().slice(0, 10), -1);
      out.push({ name: `meters-monthly-${first.slice(0, 7)}`, schedule: 'monthly', from: first, to: last });
    }
    return out;
  }

  start(): void {
    this.stopped = false;
    this.running = this.runDue().finally(() => this.arm());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private arm(delay?: number): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const next = this.nextRun(now);
    if (next === undefined) return;
    this.timer = this.o.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.running = this.runDue().then(
          (failed) => this.arm(failed ? RETRY_MS : undefined),
          () => this.arm(RETRY_MS),
        );
      },
      delay ?? next - now,
    );
  }

  /** Makes every due report that is not stored yet; resolves true when one failed (retry later). */
  async runDue(): Promise<boolean> {
    await mkdir(this.o.dir, { recursive: true });
    const since = await this.since();
    let failed = false;
    for (const d of this.due(this.o.clock.now())) {
      if (existsSync(join(this.o.dir, `${d.name}.json`))) continue;
      if (localTime(d.from, 0, this.tz) < since) continue;
      try {
        const report = await this.o.run({ from: d.from, to: d.to });
        await this.save(d.name, report);
        this.o.log.info({ report: d.name, anomalies: report.anomalies.length }, `meter report ${d.name} made`);
        this.last = { at: this.o.clock.now(), report: d.name };
        await this.announce(d.name, d.schedule, report);
      } catch (err) {
        failed = true;
        this.last = { at: this.o.clock.now(), report: d.name, error: (err as Error).message };
        this.o.log.error(
          { report: d.name, err: (err as Error).message },
          `meter report ${d.name} failed; retrying in 10 min`,
        );
      }
    }
    return failed;
  }

  /** Scheduled: when the next report is made, and how the last one went (a failed one is retried every 10 min). */
  health(): ComponentHealth {
    const next = this.nextRun(this.o.clock.now());
    const figures = {
      ...(next !== undefined ? { nextRunAt: next } : {}),
      ...(this.last ? { lastReport: this.last.report, lastRunAt: this.last.at } : {}),
    };
    if (this.last?.error)
      return {
        status: 'degraded',
        detail: `meter report ${this.last.report} failed: ${this.last.error}; retried every 10 min`,
        ...figures,
      };
    return {
      status: 'ok',
      ...(next === undefined ? { detail: 'no reports scheduled (reports.daily_at is null)' } : {}),
      ...figures,
    };
  }

  /** When this gateway first ran with this data directory (written on the first start). */
  private async since(): Promise<number> {
    const file = join(this.o.dir, 'since.json');
    try {
      return (JSON.parse(await readFile(file, 'utf8')) as { since: number }).since;
    } catch {
      const since = this.o.clock.now();
      await writeFileDurably(file, JSON.stringify({ since }));
      return since;
    }
  }

  private async save(name: string, report: MeterReport): Promise<void> {
    const file = join(this.o.dir, `${name}.json`);
    await writeFileDurably(file, JSON.stringify({ schedule: name.split('-')[1], report }));
  }

  private async announce(name: string, schedule: Schedule, r: MeterReport): Promise<void> {
    if (!this.o.announce) return;
    const roles = this.o.config.reports.notify_roles;
    const major = r.anomalies.filter((a) => a.severity === 'major' || a.severity === 'critical').length;
    const kinds = ANOMALY_KIND_NAMES.filter((k) => r.counts[k] > 0).map(
      (k) => `${ANOMALY_KINDS[k].title.zh} ${ANOMALY_KINDS[k].title.en}: ${r.counts[k]}`,
    );
    const drill = r.drills.length > 0;
    const lines = [
      `${r.from === r.to ? r.from : `${r.from} – ${r.to}`}: ${r.anomalies.length} 项异常 anomalies（${major} 项重要 major）`,
      ...(kinds.length ? [kinds.join('；')] : ['无异常 none found']),
      ...(drill ? [`本期含演练 includes a drill: ${r.drills.map((d) => d.id).join(', ')}`] : []),
      ...(this.o.link ? [this.o.link(name)] : []),
    ];
    const title =
      schedule === 'daily'
        ? { zh: '表具异常日报', en: 'Daily meter-anomaly report' }
        : { zh: '表具异常月报', en: 'Monthly meter-anomaly report' };
    const results = await this.o.announce({
      kind: 'meter_report',
      roles,
      title,
      lines,
      data: { report: name, from: r.from, to: r.to, anomalies: r.anomalies.length, major, drill },
    });
    for (const x of results.filter((y) => !y.sent))
      this.o.log.error(
        { report: name, channel: x.channel, detail: x.detail },
        `meter report ${name} not announced on ${x.channel}`,
      );
  }

  async list(): Promise<StoredReportInfo[]> {
    if (!existsSync(this.o.dir)) return [];
    const out: StoredReportInfo[] = [];
    for (const file of (await readdir(this.o.dir))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .reverse()) {
      const name = file.slice(0, -5);
      const m = NAME.exec(name);
      if (!m) continue;
      const r = await this.read(name);
      if (!r) continue;
      out.push({
        name,
        schedule: m[1] as Schedule,
        from: r.from,
        to: r.to,
        generatedAt: r.generatedAt,
        anomalies: r.anomalies.length,
        drill: r.drills.length > 0,
      });
    }
    return out;
  }

  async read(name: string): Promise<MeterReport | undefined> {
    if (!isReportName(name)) return undefined;
    try {
      return (JSON.parse(await readFile(join(this.o.dir, `${name}.json`), 'utf8')) as { report: MeterReport }).report;
    } catch {
      return undefined;
    }
  }
}
