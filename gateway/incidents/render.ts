import type { DutyRole } from '../../rules/incidents/playbook.js';
import { roleText, type IncidentReport } from '../../rules/incidents/report.js';
import { localStamp } from '../../rules/local-time.js';
import { escapeHtml, toCsv } from '../text-formats.js';

// The incident report as a printable page (HTML with print CSS, both languages, times in
// the site's zone) and as CSV (one row per step) for spreadsheets.

const esc = escapeHtml;

/** Times on the printed page: the site's wall clock, to the second. */
export function timeIn(timeZone: string): (ms: number) => string {
  return (ms) => localStamp(ms, timeZone, { seconds: true });
}

type Text = { zh: string; en: string };

/** Hours and minutes: 1 h 05 min. */
function duration(min: number): string {
  const m = Math.round(min);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * `place` names where a device is (building, floor, unit or room, device: placeOf), and
 * `building` a building, for the page's heading; both default to the ids.
 */
export function reportHtml(
  r: IncidentReport,
  timeZone: string,
  siteName: string,
  words: { place?: (deviceId: string) => Text; building?: (id: string) => Text } = {},
): string {
  const t = timeIn(timeZone);
  const place = words.place ?? ((id: string) => ({ zh: id, en: id }));
  const building = r.building ? (words.building?.(r.building) ?? { zh: r.building, en: r.building }) : undefined;
  const places = r.devices.map((d) => place(d));
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(r.id)} ${esc(r.title.zh)} ${esc(r.title.en)}</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;font-size:.9em}
th{background:#eee}small{color:#555}.late td{background:#fde8e8}.missing{color:#b00}.drill{border:3px solid #d80;padding:.5em;font-weight:bold;color:#d80}
.time{white-space:nowrap}.photos{display:flex;flex-wrap:wrap;gap:8px}.photos figure{margin:0;width:48%;page-break-inside:avoid}.photos img{width:100%;max-height:80mm;object-fit:contain;border:1px solid #999}.facts{width:auto}.facts th{text-align:left;white-space:nowrap}
.signoff{margin-top:2em;page-break-inside:avoid}.signoff th{width:30%;text-align:left}.signoff td{height:3em;vertical-align:bottom;color:#777;font-size:.8em}
@page{size:A4;margin:15mm}@media print{body{margin:0}a{display:none}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
</style></head><body>
${r.drill ? `<p class="drill">演练 DRILL ${esc(r.drill)} — 非真实事件 not a real incident</p>` : ''}
<h1>${esc(r.title.zh)} ${esc(r.title.en)} · ${esc(r.id)}</h1>
<table class="facts">
<tr><th>地点 Place</th><td data-field="place">${esc(siteName)}${building ? ` · ${esc(building.zh)}${building.en !== building.zh ? ` / ${esc(building.en)}` : ''}` : ''}${places.map((p) => `<br>${esc(p.zh)}${p.en !== p.zh ? ` <small>${esc(p.en)}</small>` : ''}`).join('')}</td></tr>
<tr><th>设备 Devices</th><td data-field="devices">${r.devices.length ? r.devices.map(esc).join(', ') : '—'}</td></tr>
<tr><th>发生 Raised</th><td>${esc(t(r.raisedAt))}</td></tr>
<tr><th>${r.closedAt !== undefined ? '关闭 Closed' : '状态 Status'}</th><td>${r.closedAt !== undefined ? esc(t(r.closedAt)) : '处理中 open'}</td></tr>
<tr><th>总时长 Duration</th><td data-field="duration">${duration(r.durationMin)}${r.closedAt === undefined ? ' (至今 so far)' : ''}</td></tr>
<tr><th>负责人 Owner</th><td>${esc(r.owner ?? '—')}${r.acknowledgedAfterS !== undefined ? ` · 接警用时 acknowledged after ${r.acknowledgedAfterS} s` : ''}</td></tr>
</table>
${r.missing.length ? `<p class="missing">缺少必填记录 Missing required records: ${r.missing.map(esc).join(', ')}</p>` : ''}
<h2>步骤与时限 Steps against targets</h2>
<table><tr><th>步骤 Step</th><th>角色 Role</th><th>时限 (min)</th><th>完成 (min)</th><th>达标 Target</th><th>执行 By</th><th>记录 Records</th></tr>
${stepRows(r)}
</table>
${r.tasks.length ? `<h2>任务 Tasks</h2><ul>${taskItems(r)}</ul>` : ''}
${r.photos.length ? `<h2>现场照片 Photos</h2><div class="photos">${r.photos.map((p) => `<figure><img src="photos/${esc(p.name)}" alt="${esc(p.caption ?? p.name)}"><figcaption>${esc(t(p.at))} · ${esc(p.by)}${p.caption ? ` · ${esc(p.caption)}` : ''}</figcaption></figure>`).join('')}</div>` : ''}
<h2>时间线 Timeline</h2>
<table>${timelineRows(r, t)}</table>
<table class="signoff" data-testid="signoff">
<tr><th>值班工程师 Duty engineer</th><td>签名 Signature</td><td>日期 Date</td></tr>
<tr><th>值班经理 Duty manager</th><td>签名 Signature</td><td>日期 Date</td></tr>
</table>
</body></html>`;
}

function stepRows(r: IncidentReport): string {
  return r.steps
    .map(
      (s) =>
        `<tr class="${s.met === false ? 'late' : ''}"><td>${esc(s.title.zh)}<br><small>${esc(s.title.en)}</small></td><td>${esc(roleText(s.role as DutyRole).zh)}<br><small>${esc(roleText(s.role as DutyRole).en)}</small></td><td>${s.deadlineMin ?? '—'}</td><td>${s.doneAfterMin ?? '—'}</td><td>${s.met === undefined ? '—' : s.met ? '✔ 达标 met' : '✘ 超时 late'}</td><td>${s.evidence ? `传感器（非人工）sensors, not a person<br><small>${esc(s.evidence.zh)} / ${esc(s.evidence.en)}</small>${s.recordedBy ? `<br>记录 records: ${esc(s.recordedBy)}` : ''}` : esc(s.by ?? '')}</td><td>${s.skipped ? `<i>不适用 not applicable: ${esc(s.skipped.zh)}<br><small>${esc(s.skipped.en)}</small></i>` : ''}${s.fields.map((f) => `${esc(f.label.zh)} ${esc(f.label.en)}: <b>${f.text === undefined ? (f.required ? '<span class="missing">未填 missing</span>' : '—') : `${esc(f.text.zh)}${f.text.en !== f.text.zh ? `<br><small>${esc(f.text.en)}</small>` : ''}`}</b>`).join('<br>')}</td></tr>`,
    )
    .join('\n');
}

function taskItems(r: IncidentReport): string {
  return r.tasks
    .map(
      (k) =>
        `<li>${k.done ? '☑' : '☐'} ${esc(k.title.zh)} / ${esc(k.title.en)}${k.evidence ? ` — 传感器（非人工）sensors, not a person: ${esc(k.evidence.zh)} / ${esc(k.evidence.en)}` : k.by ? ` — ${esc(k.by)}` : ''}${k.reopened ? ` (重新打开 re-opened ×${k.reopened})` : ''}${k.doneAfterMin !== undefined ? ` (+${k.doneAfterMin} min)` : ''}</li>`,
    )
    .join('\n');
}

function timelineRows(r: IncidentReport, t: (ms: number) => string): string {
  return r.timeline
    .map(
      (e) =>
        `<tr><td class="time">${esc(t(e.at))}</td><td>${esc(e.text.zh)}<br><small>${esc(e.text.en)}</small></td></tr>`,
    )
    .join('\n');
}

export function reportCsv(r: IncidentReport): string {
  const rows = [
    [
      'incident',
      'step',
      'title_zh',
      'title_en',
      'role',
      'deadline_min',
      'done_after_min',
      'met',
      'by',
      'recorded_by',
      'escalated',
      'records',
    ],
  ];
  for (const s of r.steps) {
    rows.push([
      r.id,
      s.step,
      s.title.zh,
      s.title.en,
      s.role,
      String(s.deadlineMin ?? ''),
      String(s.doneAfterMin ?? ''),
      s.met === undefined ? '' : String(s.met),
      s.by ?? '',
      s.recordedBy ?? '',
      String(s.escalated),
      s.skipped ? `not applicable: ${s.skipped.en}` : s.fields.map((f) => `${f.name}=${f.text?.en ?? ''}`).join('; '),
    ]);
  }
  return toCsv(rows);
}
