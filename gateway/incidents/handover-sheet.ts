import type { Handover, HandoverReport } from '../../rules/incidents/handover.js';
import { escapeHtml as esc } from '../text-formats.js';
import { timeIn } from './render.js';

// The handover sheet (值班交接记录, S003 §3.6 "written handover notes"): what the shift saw,
// what the next shift inherits (drills marked as drills), the note, and lines for both people
// to sign. Both languages, times in the site's zone, A4.

type Text = { zh: string; en: string };
const both = (t: Text) => `${esc(t.zh)}<br><small>${esc(t.en)}</small>`;

const STATUS: Record<Handover['status'], string> = {
  pending: '待接班人确认 waiting for the incoming person to confirm',
  confirmed: '已确认 confirmed',
  cancelled: '已撤销 cancelled',
};

export function handoverSheetHtml(
  h: Handover,
  shift: HandoverReport,
  timeZone: string,
  siteName: string,
  name: (username: string) => string,
): string {
  const t = timeIn(timeZone);
  const cases = h.cases
    .map(
      (c) =>
        `<tr${c.drill ? ' class="drill-row"' : ''}><td>${esc(c.id)}${c.drill ? `<br><b class="drill-tag">演练 DRILL</b>` : ''}</td><td>${both(c.title)}</td><td>${esc(c.owner ? name(c.owner) : '— 无人接手 nobody')}${c.moves ? `<br><small>→ ${esc(name(h.to))}</small>` : ''}</td><td>${c.overdue.length ? c.overdue.map((o) => `<span class="late">${esc(o.title.zh)} / ${esc(o.title.en)} (${esc(t(o.dueAt))})</span>`).join('<br>') : '—'}</td><td>${c.openTasks}</td></tr>`,
    )
    .join('\n');
  const events = [
    ...shift.opened.map((o) => ({
      at: o.at,
      text: `发生 opened ${o.id} ${o.title.zh} / ${o.title.en}${o.drill ? ' (演练 DRILL)' : ''}`,
    })),
    ...shift.closed.map((c) => ({ at: c.at, text: `关闭 closed ${c.id} ${c.title.zh} / ${c.title.en}` })),
  ]
    .sort((a, b) => a.at - b.at)
    .map((e) => `<tr><td class="time">${esc(t(e.at))}</td><td>${esc(e.text)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>值班交接 Shift handover ${esc(h.id)}</title>
<style>
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;font-size:.9em}
th{background:#eee;text-align:left}small{color:#555}.facts{width:auto}.late{color:#b00}.time{white-space:nowrap}
.drill-row td{background:#fff4e0}.drill-tag{color:#d80}.note{white-space:pre-wrap;border:1px solid #999;padding:.5em;min-height:3em}
.signoff{margin-top:2em;page-break-inside:avoid}.signoff th{width:30%}.signoff td{height:3em;vertical-align:bottom;color:#777;font-size:.8em}
@page{size:A4;margin:15mm}@media print{body{margin:0}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
</style></head><body>
<h1>值班交接记录 Shift handover · ${esc(h.id)}</h1>
<table class="facts">
<tr><th>项目 Site</th><td>${esc(siteName)}</td></tr>
<tr><th>班次 Shift</th><td data-field="shift">${esc(h.shift.name.zh)} / ${esc(h.shift.name.en)} · ${esc(t(h.shift.from))} – ${esc(t(h.shift.to))}</td></tr>
<tr><th>交班人 Outgoing</th><td data-field="from">${esc(name(h.from))}</td></tr>
<tr><th>接班人 Incoming</th><td data-field="to">${esc(name(h.to))}</td></tr>
<tr><th>交班时间 Handed over</th><td>${esc(t(h.at))}${h.inWindow ? '' : ' <span class="late">（不在交接时段内 outside the handover window）</span>'}</td></tr>
<tr><th>状态 Status</th><td data-field="status">${STATUS[h.status]}${h.confirmedAt !== undefined ? ` · ${esc(t(h.confirmedAt))}` : ''}${h.cancelledAt !== undefined ? ` · ${esc(t(h.cancelledAt))}` : ''}</td></tr>
</table>
<h2>交接事项 Note</h2>
<div class="note" data-field="note">${esc(h.note ?? '—')}</div>
<h2>移交的未结事件 Open cases handed on (${h.cases.length})</h2>
${h.cases.length ? `<table data-testid="cases"><tr><th>编号 Case</th><th>事件 Incident</th><th>负责人 Owner</th><th>超时步骤 Overdue steps</th><th>未完成任务 Open tasks</th></tr>\n${cases}\n</table>` : '<p>无 none</p>'}
<h2>本班事件 This shift</h2>
${events ? `<table>${events}</table>` : '<p>无 none</p>'}
<table class="signoff" data-testid="signoff">
<tr><th>交班人 Outgoing</th><td>签名 Signature</td><td>日期 Date</td></tr>
<tr><th>接班人 Incoming</th><td>签名 Signature</td><td>日期 Date</td></tr>
</table>
</body></html>`;
}
