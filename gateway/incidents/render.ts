import type { IncidentReport } from '../../rules/incidents/report.js';
import { escapeHtml, toCsv } from '../text-formats.js';

// The incident report as a printable page (HTML with print CSS, both languages, times in
// the site's zone) and as CSV (one row per step) for spreadsheets.

const esc = escapeHtml;

export function timeIn(timeZone: string): (ms: number) => string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return (ms) => f.format(new Date(ms));
}

export function reportHtml(r: IncidentReport, timeZone: string, siteName: string): string {
  const t = timeIn(timeZone);
  const steps = r.steps
    .map(
      (s) => `<tr class="${s.met === false ? 'late' : ''}"><td>${esc(s.title.zh)}<br><small>${esc(s.title.en)}</small></td><td>${esc(s.role)}</td><td>${s.deadlineMin ?? '—'}</td><td>${s.doneAfterMin ?? '—'}</td><td>${s.met === undefined ? '—' : s.met ? '✔ 达标 met' : '✘ 超时 late'}</td><td>${s.evidence ? `传感器（非人工）sensors, not a person<br><small>${esc(s.evidence.zh)} / ${esc(s.evidence.en)}</small>${s.recordedBy ? `<br>记录 records: ${esc(s.recordedBy)}` : ''}` : esc(s.by ?? '')}</td><td>${s.fields.map((f) => `${esc(f.label.zh)} ${esc(f.label.en)}: <b>${f.value === undefined ? (f.required ? '<span class="missing">未填 missing</span>' : '—') : esc(f.value)}</b>`).join('<br>')}</td></tr>`,
    )
    .join('\n');
  const tasks = r.tasks.map((k) => `<li>${k.done ? '☑' : '☐'} ${esc(k.title.zh)} / ${esc(k.title.en)}${k.evidence ? ` — 传感器（非人工）sensors, not a person: ${esc(k.evidence.zh)} / ${esc(k.evidence.en)}` : k.by ? ` — ${esc(k.by)}` : ''}${k.reopened ? ` (重新打开 re-opened ×${k.reopened})` : ''}${k.doneAfterMin !== undefined ? ` (+${k.doneAfterMin} min)` : ''}</li>`).join('\n');
  const timeline = r.timeline.map((e) => `<tr><td class="time">${esc(t(e.at))}</td><td>${esc(e.text.zh)}<br><small>${esc(e.text.en)}</small></td></tr>`).join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(r.id)} ${esc(r.title.zh)} ${esc(r.title.en)}</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;font-size:.9em}
th{background:#eee}small{color:#555}.late td{background:#fde8e8}.missing{color:#b00}.drill{border:3px solid #d80;padding:.5em;font-weight:bold;color:#d80}
.time{white-space:nowrap}@media print{body{margin:1cm}a{display:none}}
</style></head><body>
${r.drill ? `<p class="drill">演练 DRILL ${esc(r.drill)} — 非真实事件 not a real incident</p>` : ''}
<h1>${esc(r.title.zh)} ${esc(r.title.en)} · ${esc(r.id)}</h1>
<p>${esc(siteName)}${r.building ? ` · ${esc(r.building)}` : ''} · 发生 raised ${esc(t(r.raisedAt))}${r.closedAt !== undefined ? ` · 关闭 closed ${esc(t(r.closedAt))}` : ` · ${r.status === 'open' ? '处理中 open' : ''}`}
 · 负责人 owner ${esc(r.owner ?? '—')}${r.acknowledgedAfterS !== undefined ? ` · 接警用时 acknowledged after ${r.acknowledgedAfterS} s` : ''}</p>
${r.missing.length ? `<p class="missing">缺少必填记录 Missing required records: ${r.missing.map(esc).join(', ')}</p>` : ''}
<h2>步骤与时限 Steps against targets</h2>
<table><tr><th>步骤 Step</th><th>角色 Role</th><th>时限 (min)</th><th>完成 (min)</th><th>达标 Target</th><th>执行 By</th><th>记录 Records</th></tr>
${steps}
</table>
${tasks ? `<h2>任务 Tasks</h2><ul>${tasks}</ul>` : ''}
<h2>时间线 Timeline</h2>
<table>${timeline}</table>
</body></html>`;
}

export function reportCsv(r: IncidentReport): string {
  const rows = [['incident', 'step', 'title_zh', 'title_en', 'role', 'deadline_min', 'done_after_min', 'met', 'by', 'recorded_by', 'escalated', 'records']];
  for (const s of r.steps) {
    rows.push([r.id, s.step, s.title.zh, s.title.en, s.role, String(s.deadlineMin ?? ''), String(s.doneAfterMin ?? ''), s.met === undefined ? '' : String(s.met), s.by ?? '', s.recordedBy ?? '', String(s.escalated), s.fields.map((f) => `${f.name}=${f.value ?? ''}`).join('; ')]);
  }
  return toCsv(rows);
}
