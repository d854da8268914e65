import { localStamp } from '../../rules/reports/calendar.js';
import type { MeterReport, MeterRow } from '../../rules/reports/meter-report.js';
import {
  ANOMALY_KINDS,
  ANOMALY_KIND_NAMES,
  METER_COUNTER,
  type MeterAnomaly,
} from '../../rules/reports/meter-model.js';
import { escapeHtml as esc, toCsv } from '../text-formats.js';

// The meter-anomaly report for people: CSV tables for spreadsheets (the anomalies, the
// totals per building, every meter's daily use) and one printable page (both languages,
// times in the site's zone, a small daily-use chart for each flagged meter).

export const CSV_TABLES = ['anomalies', 'totals', 'daily'] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

const KIND_TEXT = { water_meter: { zh: '水表', en: 'water' }, electricity_meter: { zh: '电表', en: 'electricity' } };
const SEVERITY_TEXT = { critical: '紧急 critical', major: '重要 major', minor: '一般 minor', warning: '提示 warning' };

export function meterReportCsv(r: MeterReport, table: CsvTable = 'anomalies'): string {
  if (table === 'totals') return totalsCsv(r);
  if (table === 'daily') return dailyCsv(r);
  return anomaliesCsv(r);
}

function totalsCsv(r: MeterReport): string {
  return toCsv([
    ['building', 'meter_kind', 'unit', 'meters', 'reporting', 'total', 'anomalies', 'from', 'to'],
    ...r.totals.map((t) => [
      t.building,
      t.meterKind,
      t.unit,
      t.meters,
      t.reporting,
      t.total,
      t.anomalies,
      r.from,
      r.to,
    ]),
  ]);
}

function dailyCsv(r: MeterReport): string {
  const dates = r.meters[0]?.days.map((d) => d.date) ?? [];
  return toCsv([
    ['meter', 'meter_kind', 'building', 'unit', 'vacant', 'unit_of_use', ...dates, 'total'],
    ...r.meters.map((m) => [
      m.id,
      m.kind,
      m.building,
      m.unit ?? '',
      m.vacant,
      METER_COUNTER[m.kind].unit,
      ...dates.map((d) => m.days.find((x) => x.date === d)?.use ?? ''),
      m.total ?? '',
    ]),
  ]);
}

function anomaliesCsv(r: MeterReport): string {
  const at = (ms: number) => localStamp(ms, r.timeZone);
  return toCsv([
    [
      'severity',
      'anomaly',
      'anomaly_zh',
      'building',
      'unit',
      'meter',
      'meter_kind',
      'from',
      'to',
      'evidence_zh',
      'evidence_en',
      'values',
    ],
    ...r.anomalies.map((a) => [
      a.severity,
      a.kind,
      ANOMALY_KINDS[a.kind].title.zh,
      a.building,
      a.unit ?? '',
      a.meter,
      a.meterKind,
      at(a.from),
      at(a.to),
      a.evidence.zh,
      a.evidence.en,
      Object.entries(a.values)
        .map(([k, v]) => `${k}=${v}`)
        .join('; '),
    ]),
  ]);
}

/** Daily use as bars (SVG, no script: it prints); flagged days in red. */
function chart(m: MeterRow, flagged: Set<string>): string {
  const w = 240;
  const hgt = 48;
  const values = m.days.map((d) => d.use ?? 0);
  const max = Math.max(...values, METER_COUNTER[m.kind].resolution);
  const bw = w / Math.max(1, m.days.length);
  const bars = m.days
    .map((d, i) => {
      if (d.use === null)
        return `<rect x="${(i * bw).toFixed(1)}" y="${hgt - 2}" width="${Math.max(1, bw - 1).toFixed(1)}" height="2" fill="#bbb"><title>${d.date}: 无数据 no data</title></rect>`;
      const h = Math.max(1, (d.use / max) * (hgt - 4));
      return `<rect x="${(i * bw).toFixed(1)}" y="${(hgt - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${flagged.has(d.date) ? '#c62828' : '#1565c0'}"><title>${d.date}: ${d.use} ${METER_COUNTER[m.kind].unit}</title></rect>`;
    })
    .join('');
  return `<svg class="chart" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}" role="img" aria-label="${esc(m.id)} daily use">${bars}</svg>`;
}

export function meterReportHtml(r: MeterReport): string {
  const at = (ms: number) => localStamp(ms, r.timeZone);
  const site = r.siteName ? `${r.siteName.zh} ${r.siteName.en === r.siteName.zh ? '' : r.siteName.en}` : r.site;
  const counts = ANOMALY_KIND_NAMES.filter((k) => r.counts[k] > 0)
    .map((k) => `<li>${esc(ANOMALY_KINDS[k].title.zh)} ${esc(ANOMALY_KINDS[k].title.en)}: <b>${r.counts[k]}</b></li>`)
    .join('');
  const rollovers = r.meters.flatMap((m) => m.rollovers);
  const drills = drillList(r);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>表具异常报告 Meter-anomaly report ${esc(r.from)} – ${esc(r.to)}</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:4px 8px;font-size:.9em}
th{background:#eee}td.n{text-align:right}small{color:#555}.drill{border:3px solid #d80;padding:.5em;font-weight:bold;color:#d80}
.meter{break-inside:avoid;border-top:1px solid #ccc;padding:.4em 0}.meter h3{font-size:1em;margin:.3em 0}.meter ul{margin:.3em 0}
.major .sev,.critical .sev{color:#b00}.chart{border-bottom:1px solid #999}@media print{body{margin:1cm}}
</style></head><body>
${drills ? `<p class="drill">本期含演练 THIS PERIOD INCLUDES A DRILL: ${drills} — 演练期间的读数为模拟事件 readings during a drill are simulated events</p>` : ''}
<h1>表具异常报告 Meter-anomaly report</h1>
<p>${esc(site)}${r.building ? ` · ${esc(r.building)}` : ''} · ${esc(r.from)} – ${esc(r.to)} (${esc(r.timeZone)}) · 数据截至 data to ${esc(at(r.end))} · 生成 made ${esc(at(r.generatedAt))}</p>
<h2>各楼用量 Totals per building</h2>
<table><tr><th>楼栋 Building</th><th>表类 Meters</th><th>表数 Count</th><th>有数据 Reporting</th><th>用量 Use</th><th>异常 Anomalies</th></tr>
${totalsRows(r)}
</table>
<h2>异常 Anomalies: ${r.anomalies.length}</h2>
${counts ? `<ul>${counts}</ul>` : '<p>无异常 None found.</p>'}
${flaggedMeters(r)}
${rollovers.length ? `<h2>满量程回零（非异常）Counter wraps (not anomalies)</h2><ul>${rollovers.map((o) => `<li>${esc(o.meter)} ${esc(at(o.ts))}: ${o.before} → ${o.after} (span ${o.span})</li>`).join('')}</ul>` : ''}
</body></html>`;
}

function totalsRows(r: MeterReport): string {
  return r.totals
    .map(
      (t) =>
        `<tr><td>${esc(t.buildingName?.zh ?? t.building)} <small>${esc(t.buildingName?.en ?? '')}</small></td><td>${KIND_TEXT[t.meterKind].zh} ${KIND_TEXT[t.meterKind].en}</td><td class="n">${t.meters}</td><td class="n">${t.reporting}</td><td class="n">${t.total} ${esc(t.unit)}</td><td class="n">${t.anomalies}</td></tr>`,
    )
    .join('\n');
}

/** Per meter, the days an anomaly covers (a gap has no use to show in red). */
function flaggedDays(r: MeterReport, rows: Map<string, MeterRow>): Map<string, Set<string>> {
  const at = (ms: number) => localStamp(ms, r.timeZone);
  const days = new Map<string, Set<string>>();
  for (const a of r.anomalies) {
    const set = days.get(a.meter) ?? new Set<string>();
    const first = at(a.from).slice(0, 10);
    const last = at(Math.max(a.from, a.to - 1)).slice(0, 10);
    for (const d of rows.get(a.meter)?.days ?? [])
      if (a.kind !== 'data_gap' && first <= d.date && d.date <= last) set.add(d.date);
    days.set(a.meter, set);
  }
  return days;
}

/** One section per flagged meter: what it is, its daily use, its anomalies. */
function flaggedMeters(r: MeterReport): string {
  const rows = new Map(r.meters.map((m) => [m.id, m]));
  const days = flaggedDays(r, rows);
  const byMeter = new Map<string, MeterAnomaly[]>();
  for (const a of r.anomalies) byMeter.set(a.meter, [...(byMeter.get(a.meter) ?? []), a]);
  return [...byMeter.entries()]
    .map(([id, list]) => {
      const m = rows.get(id);
      const head = `${esc(id)} · ${esc(m?.building ?? '')}${m?.unit ? ` · ${esc(m.unit)}` : ''}${m?.vacant ? ' · 空置 vacant' : ''} · ${m ? KIND_TEXT[m.kind].zh + ' ' + KIND_TEXT[m.kind].en : ''}`;
      const items = list
        .map(
          (a) =>
            `<li class="${a.severity}"><b>${esc(ANOMALY_KINDS[a.kind].title.zh)} ${esc(ANOMALY_KINDS[a.kind].title.en)}</b> <span class="sev">${SEVERITY_TEXT[a.severity]}</span><br>${esc(a.evidence.zh)}<br><small>${esc(a.evidence.en)}</small></li>`,
        )
        .join('');
      return `<section class="meter"><h3>${head}</h3>${m ? chart(m, days.get(id) ?? new Set()) : ''}<ul>${items}</ul>${m?.total !== null && m ? `<small>期间用量 use in period: ${m.total} ${METER_COUNTER[m.kind].unit}</small>` : ''}</section>`;
    })
    .join('\n');
}

function drillList(r: MeterReport): string {
  const at = (ms: number) => localStamp(ms, r.timeZone);
  return r.drills
    .map(
      (d) =>
        `${esc(d.title?.zh ?? d.scenario)} ${esc(d.title?.en ?? '')} (${esc(at(d.from))}${d.to !== undefined ? ` – ${esc(at(d.to))}` : ''})`,
    )
    .join('; ');
}
