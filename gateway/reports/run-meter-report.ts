import { addDays, daysBetween, isDate, localMidnight } from '../../rules/reports/calendar.js';
import type { ReportPeriod } from '../../rules/reports/meter-anomalies.js';
import { buildMeterReport, type MeterReport, type ReportDrill } from '../../rules/reports/meter-report.js';
import {
  METER_COUNTER,
  METER_KINDS,
  type MeterFacts,
  type MeterHistory,
  type MeterKind,
  type Text,
} from '../../rules/reports/meter-model.js';
import { resolveThresholds } from '../../rules/thresholds.js';
import type { DeviceConfig, SiteConfig } from '../config/schema.js';
import { loadRegisterProfiles } from '../profiles/profile.js';
import type { RegisterProfile } from '../profiles/profile.js';
import type { StoreDriver } from '../store/driver.js';
import { queryMeterHistories } from './queries.js';

/** A request the report cannot answer as asked (bad dates, unknown building): the caller's mistake, 400 / exit 2. */
export class ReportRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportRequestError';
  }
}

/** The longest period one report covers: a year (a bigger question is many reports). */
export const MAX_REPORT_DAYS = 366;

export interface MeterReportRequest {
  /** Local dates YYYY-MM-DD, both inclusive. */
  from: string;
  to: string;
  building?: string;
}

export interface RunMeterReportOptions extends MeterReportRequest {
  config: SiteConfig;
  driver: StoreDriver;
  now: number;
  drills?: ReportDrill[];
  /** Register profiles (counter widths); loaded from gateway/profiles when absent. */
  profiles?: Map<string, RegisterProfile>;
}

/** Checks a request against the site; throws ReportRequestError with words a person can act on. */
export function reportPeriod(config: SiteConfig, req: MeterReportRequest, now: number): ReportPeriod {
  const tz = config.site.timezone;
  for (const [name, v] of [
    ['from', req.from],
    ['to', req.to],
  ] as const) {
    if (typeof v !== 'string' || !isDate(v))
      throw new ReportRequestError(
        `${name} 须为日期 YYYY-MM-DD / ${name} must be a date YYYY-MM-DD (site time zone ${tz}), got ${JSON.stringify(v ?? null)}`,
      );
  }
  if (req.to < req.from)
    throw new ReportRequestError(`开始日期晚于结束日期，请对调 / from ${req.from} is after to ${req.to}: swap them`);
  const days = daysBetween(req.from, req.to) + 1;
  if (days > MAX_REPORT_DAYS)
    throw new ReportRequestError(
      `一份报告最多 ${MAX_REPORT_DAYS} 天 / ${days} days asked: a report covers at most ${MAX_REPORT_DAYS} days; ask for shorter periods`,
    );
  const start = localMidnight(req.from, tz);
  if (start >= now)
    throw new ReportRequestError(`开始日期尚未到来 / from ${req.from} is in the future (site time zone ${tz})`);
  if (req.building !== undefined && !config.buildings.some((b) => b.id === req.building)) {
    throw new ReportRequestError(
      `没有楼栋 "${req.building}" / unknown building "${req.building}"; this site has ${config.buildings.map((b) => b.id).join(', ')}`,
    );
  }
  return { from: req.from, to: req.to, start, end: Math.min(localMidnight(addDays(req.to, 1), tz), now), timeZone: tz };
}

let shippedProfiles: Map<string, RegisterProfile> | undefined;

/** Where a Modbus meter's counter wraps: 2^bits × scale of its register (a uint32 of litres wraps at 4 294 967.296 m³). */
function profileSpan(device: DeviceConfig, profiles: Map<string, RegisterProfile>, field: string): number | undefined {
  if (device.protocol !== 'modbus') return undefined;
  const def = profiles.get(device.profile)?.fields[field];
  if (!def || def.add) return undefined;
  const bits = { uint16: 16, uint32: 32, int16: 15, int32: 31 }[def.type as string];
  return bits === undefined ? undefined : 2 ** bits * Math.abs(def.scale);
}

export function meterFacts(
  config: SiteConfig,
  building?: string,
  profiles?: Map<string, RegisterProfile>,
): MeterFacts[] {
  const vacant = new Set(config.buildings.flatMap((b) => b.units.filter((u) => u.vacant).map((u) => u.id)));
  const out: MeterFacts[] = [];
  for (const d of config.devices) {
    if (!(METER_KINDS as readonly string[]).includes(d.kind)) continue;
    if (building !== undefined && d.place.building !== building) continue;
    const kind = d.kind as MeterKind;
    let span = d.counter_span;
    if (span === undefined && d.protocol === 'modbus')
      span = profileSpan(d, profiles ?? (shippedProfiles ??= loadRegisterProfiles()), METER_COUNTER[kind].field);
    out.push({
      id: d.id,
      kind,
      building: d.place.building,
      ...(d.place.unit ? { unit: d.place.unit } : {}),
      vacant: d.place.unit !== undefined && vacant.has(d.place.unit),
      ...(d.name ? { name: bothLanguages(d.name) } : {}),
      ...(span !== undefined ? { span } : {}),
    });
  }
  return out;
}

/** A name as the site file gives it (one string, or zh and en) as both languages. */
function bothLanguages(name: string | Text): Text {
  return typeof name === 'string' ? { zh: name, en: name } : name;
}

function intervalS(d: DeviceConfig): number {
  return d.protocol === 'modbus' ? d.poll_interval_s : d.publish_interval_s;
}

export async function runMeterReport(opts: RunMeterReportOptions): Promise<MeterReport> {
  const { config } = opts;
  const period = reportPeriod(config, opts, opts.now);
  const settings = config.reports.meters;
  const siteThresholds = resolveThresholds(config.thresholds, { id: '', kind: 'water_meter', building: '' });
  const meters = meterFacts(config, opts.building, opts.profiles);
  const histories: MeterHistory[] = [];
  const byKind = await Promise.all(
    METER_KINDS.map((kind) => {
      const ofKind = meters.filter((m) => m.kind === kind);
      if (ofKind.length === 0) return Promise.resolve([]);
      const ids = new Set(ofKind.map((m) => m.id));
      const longest = Math.max(...config.devices.filter((d) => ids.has(d.id)).map(intervalS));
      return queryMeterHistories({
        driver: opts.driver,
        kind,
        meters: ofKind,
        period,
        ...(opts.building ? { building: opts.building } : {}),
        baselineDays: settings.spike_baseline_days,
        nightStartH: siteThresholds.night_start_h,
        nightEndH: siteThresholds.night_end_h,
        gapBucketH: Math.max(1, Math.ceil((2 * longest) / 3600)),
      });
    }),
  );
  for (const h of byKind) histories.push(...h);
  const devices = new Map(config.devices.map((d) => [d.id, d]));
  return buildMeterReport({
    site: config.site.id,
    siteName: bothLanguages(config.site.name),
    buildingNames: Object.fromEntries(config.buildings.map((b) => [b.id, bothLanguages(b.name)])),
    period,
    ...(opts.building ? { building: opts.building } : {}),
    histories,
    settings,
    thresholds: (id) => {
      const d = devices.get(id)!;
      return resolveThresholds(config.thresholds, { id, kind: d.kind, building: d.place.building });
    },
    drills: opts.drills ?? [],
    generatedAt: opts.now,
  });
}
