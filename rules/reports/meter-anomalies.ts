import type { Thresholds } from '../thresholds.js';
import { addDays, localStamp } from './calendar.js';
import type { MeterReportSettings } from './settings.js';
import {
  ANOMALY_KINDS,
  METER_COUNTER,
  type AnomalyKind,
  type DailyUse,
  type MeterAnomaly,
  type MeterDrop,
  type MeterHistory,
  type Rollover,
} from './types.js';

// Judges one meter's aggregated history (DOMAIN.md §5, utility VEE practice). Pure: the
// database did the aggregating, the caller passes the period, the zone and the settings.

export interface ReportPeriod {
  /** Local dates, both inclusive. */
  from: string;
  to: string;
  /** Epoch ms: local midnight of `from`, and the end of `to` or now, whichever is first. */
  start: number;
  end: number;
  timeZone: string;
}

export interface MeterJudgement {
  anomalies: MeterAnomaly[];
  rollovers: Rollover[];
  /** Use per day of the period (the chart and the totals). */
  days: DailyUse[];
  /** Use over the period; null when no reading arrived in it. */
  total: number | null;
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * The value where the counter wraps: the meter's known span, else the power of ten just above
 * the last value (mechanical-style registers such as 99 999.999 m³). A drop is a rollover when
 * the counter was near that span and restarted near zero; anything else is a rollback.
 */
export function classifyDrop(
  drop: MeterDrop,
  span: number | undefined,
  share: number,
): { rollover: boolean; span: number } {
  const s = span ?? 10 ** Math.ceil(Math.log10(Math.max(drop.before, 1) * (1 + 1e-12)));
  const rollover = drop.before >= share * s && drop.before < s && drop.after <= (1 - share) * s;
  return { rollover, span: s };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function judgeMeter(
  h: MeterHistory,
  period: ReportPeriod,
  settings: MeterReportSettings,
  thresholds: Thresholds,
): MeterJudgement {
  const m = h.meter;
  const counter = METER_COUNTER[m.kind];
  const unit = counter.unit;
  const tz = period.timeZone;
  const at = (ts: number) => localStamp(ts, tz);
  const anomalies: MeterAnomaly[] = [];
  const add = (
    kind: AnomalyKind,
    from: number,
    to: number,
    zh: string,
    en: string,
    values: Record<string, number | string>,
    severity = ANOMALY_KINDS[kind].severity,
  ) => {
    anomalies.push({
      meter: m.id,
      meterKind: m.kind,
      building: m.building,
      ...(m.unit ? { unit: m.unit } : {}),
      kind,
      severity,
      from,
      to: Math.min(to, period.end),
      evidence: { zh, en },
      values,
    });
  };
  const inPeriod = (date: string) => date >= period.from && date <= period.to;

  // Drops: wraps are corrected (the meter really counted span − before + after); rollbacks
  // add nothing (the counter restarts from its new value) and are anomalies.
  const rollovers: Rollover[] = [];
  const correction = new Map<string, number>();
  const dayOf = (ts: number) =>
    h.days.find((d, i) => ts >= d.start && (i + 1 >= h.days.length || ts < h.days[i + 1]!.start))?.date;
  for (const drop of h.drops) {
    const { rollover, span } = classifyDrop(drop, m.span, settings.rollover_share);
    const date = dayOf(drop.ts);
    if (date === undefined) continue;
    correction.set(date, (correction.get(date) ?? 0) + (rollover ? span : drop.before - drop.after));
    if (rollover) {
      rollovers.push({ meter: m.id, ts: drop.ts, before: drop.before, after: drop.after, span });
    } else if (drop.ts >= period.start && drop.ts < period.end) {
      const fell = round(drop.before - drop.after);
      add(
        'counter_rollback',
        drop.ts,
        drop.ts,
        `${at(drop.ts)} 读数由 ${drop.before} 降至 ${drop.after} ${unit}（倒退 ${fell}，非满量程回零）`,
        `${at(drop.ts)} the counter fell from ${drop.before} to ${drop.after} ${unit} (back ${fell}; not a wrap at the register's end)`,
        { before: drop.before, after: drop.after, fell },
      );
    }
  }

  // Daily use: each day's last reading minus the day before's last, corrected for drops.
  const uses: DailyUse[] = [];
  const byDate = new Map(h.days.map((d) => [d.date, d]));
  let prevLast: number | undefined;
  let prevDate: string | undefined;
  const allDays: string[] = [];
  if (h.days.length > 0) {
    for (let d = h.days[0]!.date; d <= period.to; d = addDays(d, 1)) allDays.push(d);
  }
  for (const date of allDays) {
    const day = byDate.get(date);
    if (!day || day.count === 0 || day.last === undefined || day.first === undefined) {
      uses.push({ date, use: null });
      continue;
    }
    const base = prevLast ?? day.first;
    const use = Math.max(0, round(day.last - base + (correction.get(date) ?? 0), 6));
    const afterGap = prevDate !== undefined && prevDate !== addDays(date, -1);
    uses.push({ date, use, ...(afterGap ? { afterGap } : {}) });
    prevLast = day.last;
    prevDate = date;
  }
  const gapDates = new Set<string>();
  for (const g of h.gaps)
    for (const d of allDays)
      if (byDate.get(d) && g.from < byDate.get(d)!.start + 86_400_000 && g.to > byDate.get(d)!.start) gapDates.add(d);

  // Gaps: missing readings, told apart from zero use (zero use still sends readings).
  // A meter the database has no day for at all is silent over the whole period (the
  // gaps of a meter with some days are the database's answer).
  const gaps = [...h.gaps];
  if (!h.days.some((d) => d.count > 0)) gaps.push({ from: period.start, to: period.end });
  for (const g of gaps) {
    const from = Math.max(g.from, period.start);
    const to = Math.min(g.to, period.end);
    const hours = (to - from) / 3_600_000;
    if (hours < settings.gap_min_h) continue;
    add(
      'data_gap',
      from,
      to,
      `${at(from)} 至 ${at(to)} 无读数（${round(hours, 1)} 小时；离线，不是零用量）`,
      `no readings from ${at(from)} to ${at(to)} (${round(hours, 1)} h; offline, not zero use)`,
      { hours: round(hours, 1) },
      hours >= 24 ? 'major' : ANOMALY_KINDS.data_gap.severity,
    );
  }

  const periodUses = uses.filter((u) => inPeriod(u.date));
  const res = counter.resolution;

  // Vacant units: any real use (the seed rule S000 §5: close the valve before it floods).
  if (m.vacant) {
    const limit = m.kind === 'water_meter' ? settings.vacant_water_m3_day : settings.vacant_energy_kwh_day;
    const used = periodUses.filter((u) => u.use !== null && u.use > limit);
    if (used.length > 0) {
      const total = round(used.reduce((s, u) => s + u.use!, 0));
      const kind = m.kind === 'water_meter' ? 'vacant_unit_flow' : 'vacant_unit_power';
      const from = byDate.get(used[0]!.date)!.start;
      const to = byDate.get(used.at(-1)!.date)!.start + 86_400_000;
      add(
        kind,
        from,
        to,
        `空置房 ${m.unit ?? ''} 有 ${used.length} 天用量，共 ${total} ${unit}（${used.map((u) => `${u.date.slice(5)}: ${round(u.use!)}`).join('，')}）`,
        `vacant unit ${m.unit ?? ''} used ${total} ${unit} on ${used.length} day(s) (${used.map((u) => `${u.date.slice(5)}: ${round(u.use!)}`).join(', ')})`,
        { days: used.length, total },
      );
    }
  }

  // Stuck: readings keep coming but the counter does not move, day after day, where someone lives.
  if (!m.vacant) {
    let run: DailyUse[] = [];
    const flush = () => {
      if (run.length >= settings.stuck_days && run.some((u) => inPeriod(u.date))) {
        const from = byDate.get(run[0]!.date)!.start;
        const to = byDate.get(run.at(-1)!.date)!.start + 86_400_000;
        const value = byDate.get(run.at(-1)!.date)!.last!;
        add(
          'stuck_meter',
          from,
          to,
          `${run[0]!.date} 至 ${run.at(-1)!.date} 连续 ${run.length} 天读数不变（${value} ${unit}），住户在住`,
          `reading unchanged at ${value} ${unit} for ${run.length} days (${run[0]!.date} to ${run.at(-1)!.date}) in an occupied unit`,
          { days: run.length, value },
          run.length >= 30 ? 'major' : ANOMALY_KINDS.stuck_meter.severity,
        );
      }
      run = [];
    };
    for (const u of uses) {
      if (u.use !== null && u.use < res / 2 && !u.afterGap) run.push(u);
      else flush();
    }
    flush();
  }

  // Spikes: a day far above the median of the days before it.
  const excess = m.kind === 'water_meter' ? settings.spike_min_excess_m3 : settings.spike_min_excess_kwh;
  for (let i = 0; i < uses.length; i++) {
    const u = uses[i]!;
    if (m.vacant || !inPeriod(u.date) || u.use === null || u.afterGap || gapDates.has(u.date)) continue;
    // Days without use (the family away) say nothing about a usual day.
    const before = uses
      .slice(Math.max(0, i - settings.spike_baseline_days), i)
      .filter((b) => b.use !== null && b.use >= res && !b.afterGap && !gapDates.has(b.date))
      .map((b) => b.use!);
    if (before.length < settings.spike_min_baseline_days) continue;
    const med = median(before);
    if (u.use > settings.spike_factor * med && u.use - med >= excess) {
      const ratio = med > 0 ? round(u.use / med, 1) : Infinity;
      const start = byDate.get(u.date)!.start;
      add(
        'consumption_spike',
        start,
        start + 86_400_000,
        `${u.date} 用量 ${round(u.use)} ${unit}，为前 ${before.length} 天中位数 ${round(med)} 的 ${ratio} 倍`,
        `${u.date} used ${round(u.use)} ${unit}, ${ratio}× the median ${round(med)} of the ${before.length} days before`,
        { use: round(u.use), median: round(med), ratio: Number.isFinite(ratio) ? ratio : 'inf' },
        ratio >= 2 * settings.spike_factor ? 'major' : ANOMALY_KINDS.consumption_spike.severity,
      );
    }
  }

  if (m.kind === 'water_meter') {
    // Continuous flow: a whole day whose flow never fell to zero (Kamstrup LEAK logic, 24 h). Only
    // a unit's meter: a building main always flows; its leaks show as a higher night minimum.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 0) {
        const from = byDate.get(run[0]!)!.start;
        const to = byDate.get(run.at(-1)!)!.start + 86_400_000;
        const least = round(Math.min(...run.map((d) => byDate.get(d)!.minFlow!)));
        add(
          'continuous_flow',
          from,
          to,
          `${run[0]} 至 ${run.at(-1)} 共 ${run.length} 天流量从未归零（最小 ${least} m³/h），疑似漏水`,
          `flow never fell to zero on ${run.length} day(s), ${run[0]} to ${run.at(-1)} (least: ${least} m³/h): suspected leak`,
          { days: run.length, least_flow_m3h: least },
        );
      }
      run = [];
    };
    for (const day of h.days) {
      // A day still under way (a report made at noon) is not judged: its flow may yet stop.
      const whole =
        day.count > 0 && !gapDates.has(day.date) && day.minFlow !== undefined && day.start + 86_400_000 <= period.end;
      if (m.unit !== undefined && inPeriod(day.date) && whole && day.minFlow! > 0) run.push(day.date);
      else flush();
    }
    flush();

    // Night flow: the night's minimum flow well above this meter's usual nights (DOMAIN.md §2).
    const nights = h.nights.filter((n) => n.minFlow !== undefined);
    let flagged: { date: string; use: number; baseline: number }[] = [];
    const flushNights = () => {
      if (flagged.length >= settings.night_flow_nights && flagged.some((n) => inPeriod(n.date))) {
        const first = flagged[0]!;
        const last = flagged.at(-1)!;
        const from = byDate.get(first.date)?.start ?? period.start;
        const to = (byDate.get(last.date)?.start ?? period.start) + 86_400_000;
        const least = round(Math.min(...flagged.map((n) => n.use)));
        const w = `${String(thresholds.night_start_h).padStart(2, '0')}:00–${String(thresholds.night_end_h).padStart(2, '0')}:00`;
        add(
          'night_flow_high',
          from,
          to,
          `${first.date} 至 ${last.date} 连续 ${flagged.length} 晚 ${w} 最小流量 ${least} m³/h（平常夜间 ${round(first.baseline)} m³/h）`,
          `${flagged.length} nights in a row (${first.date} to ${last.date}) with a minimum flow of ${least} m³/h ${w} (usual night: ${round(first.baseline)} m³/h)`,
          { nights: flagged.length, least_flow_m3h: least, baseline_m3h: round(first.baseline) },
          flagged.length >= 7 ? 'major' : ANOMALY_KINDS.night_flow_high.severity,
        );
      }
      flagged = [];
    };
    // The baseline is the median of the usual nights before (flagged ones do not raise it).
    const usual: number[] = [];
    for (const n of nights) {
      const recent = usual.slice(-28);
      if (recent.length < 3) {
        usual.push(n.minFlow!);
        continue;
      }
      const baseline = median(recent);
      if (n.minFlow! > baseline * thresholds.night_flow_factor + thresholds.night_flow_margin_m3h) {
        flagged.push({ date: n.date, use: n.minFlow!, baseline });
      } else {
        flushNights();
        usual.push(n.minFlow!);
      }
    }
    flushNights();
  }

  const counted = periodUses.filter((u) => u.use !== null);
  const total = counted.length ? round(counted.reduce((s, u) => s + u.use!, 0)) : null;
  anomalies.sort((a, b) => a.from - b.from);
  return { anomalies, rollovers, days: periodUses, total };
}
