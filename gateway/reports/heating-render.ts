import type { HeatingCase } from '../../rules/reports/heating-status.js';
import { localStamp } from '../../rules/reports/calendar.js';
import { escapeHtml as esc } from '../text-formats.js';
import type { StoredHeatingReport } from './heating-scheduler.js';

// The daily heating report as a printable page (供热日报, S000 篇八 四.2(4)): kept with the duty
// room's papers and faxed or handed to head office where no robot channel reaches it. Both
// languages, times in the site's zone, A4, with a line for the duty manager to sign.

const DELIVERY: Record<StoredHeatingReport['delivery']['status'], string> = {
  pending: '待发送 not sent yet',
  sent: '已发送 sent',
  failed: '发送失败，重试中 not delivered, being retried',
  no_channel: '无通知渠道，需人工报送 no channel: send it by hand',
};

export function heatingReportHtml(s: StoredHeatingReport, siteName: string): string {
  const r = s.report;
  const t = (ms: number) => localStamp(ms, r.timeZone);
  const dash = '—';
  const row = (c: HeatingCase) =>
    `<tr${c.drill ? ' class="drill-row"' : ''} data-case="${esc(c.id)}"><td>${esc(c.id)}${c.drill ? '<br><b class="drill-tag">演练 DRILL</b>' : ''}</td><td>${esc(c.title.zh)}<br><small>${esc(c.title.en)}</small></td><td>${esc(c.building ?? c.deviceId ?? dash)}</td><td>${esc(c.owner ?? '未认领 nobody yet')}</td><td class="time">${esc(t(c.raisedAt))}</td><td class="time">${c.closedAt !== undefined ? esc(t(c.closedAt)) : '<b>未恢复 open</b>'}</td><td>${c.needsShutdown === undefined ? dash : c.needsShutdown ? '是 yes' : '否 no'}</td><td>${c.repairHours ?? dash}</td><td>${c.households ?? dash}</td><td>${esc(c.reportedAt ?? dash)}</td></tr>`;
  // Every case once: the open ones first, then those that ended during the period.
  const cases = [...r.open, ...r.closed];
  const alarms = r.alarms
    .map(
      (a) =>
        `<tr${a.drill ? ' class="drill-row"' : ''}><td>${esc(a.title.zh)}<br><small>${esc(a.title.en)}</small>${a.drill ? '<br><b class="drill-tag">演练 DRILL</b>' : ''}</td><td>${esc(a.deviceId)}</td><td>${esc(a.severity)}</td><td class="time">${esc(t(a.since))}</td></tr>`,
    )
    .join('\n');
  const status = r.zero ? '正常 · 零报告 Normal · zero report' : `故障 Faults: ${r.faults}`;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>供热日报 Daily heating report ${esc(r.date)}</title>
<style>
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;font-size:.9em}
th{background:#eee;text-align:left}small{color:#555}.facts{width:auto}.time{white-space:nowrap}.late{color:#b00}
.status-faults{color:#b00;font-weight:bold}.status-normal{color:#070;font-weight:bold}.summary{white-space:pre-wrap;border:1px solid #999;padding:.5em}
.drill-row td{background:#fff4e0}.drill-tag{color:#d80}
.signoff{margin-top:2em;page-break-inside:avoid}.signoff th{width:30%}.signoff td{height:3em;vertical-align:bottom;color:#777;font-size:.8em}
@page{size:A4;margin:15mm}@media print{body{margin:0}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
</style></head><body>
<h1>供热日报 Daily heating report · ${esc(r.date)}</h1>
<table class="facts">
<tr><th>项目 Site</th><td>${esc(siteName)}</td></tr>
<tr><th>报告期 Period</th><td data-field="period">${esc(t(r.period.from))} – ${esc(t(r.period.to))}</td></tr>
<tr><th>状态 Status</th><td data-field="status" class="status-${r.status}">${esc(status)}</td></tr>
<tr><th>生成时间 Made</th><td>${esc(t(s.generatedAt))}${s.late ? ' <span class="late">（补报 sent late: the gateway was not running at the report time）</span>' : ''}</td></tr>
<tr><th>报送 Sent to</th><td data-field="delivery">${esc(s.delivery.roles.join(', '))} · ${esc(DELIVERY[s.delivery.status])}${s.delivery.channels.length ? `<br><small>${s.delivery.channels.map((c) => `${esc(c.channel)}: ${c.sent ? 'OK' : esc(c.detail ?? 'failed')}`).join('; ')}</small>` : ''}</td></tr>
${r.watchedFrom !== undefined ? `<tr><th>监测起始 Monitored since</th><td class="late">${esc(t(r.watchedFrom))}</td></tr>` : ''}
</table>
<h2>摘要 Summary</h2>
<div class="summary" data-field="summary-zh">${esc(r.summary.zh)}</div>
<div class="summary" data-field="summary-en">${esc(r.summary.en)}</div>
<h2>供热故障 Heating faults (${r.faults}${r.drills ? ` · 演练 drills ${r.drills}` : ''})</h2>
${cases.length ? `<table data-testid="cases"><tr><th>编号 Case</th><th>事件 Incident</th><th>位置 Where</th><th>负责人 Owner</th><th>开始 Started</th><th>恢复 Ended</th><th>需停炉 Shutdown</th><th>预计小时 Repair h</th><th>影响户数 Households</th><th>上报总部 Head office told</th></tr>\n${cases.map(row).join('\n')}\n</table>` : '<p>无 none</p>'}
<h2>当前供热报警 Heating alarms now (${r.alarms.length})</h2>
${alarms ? `<table data-testid="alarms"><tr><th>报警 Alarm</th><th>设备 Device</th><th>级别 Severity</th><th>开始 Since</th></tr>\n${alarms}\n</table>` : '<p>无 none</p>'}
<table class="signoff" data-testid="signoff">
<tr><th>值班经理 Duty manager</th><td>签名 Signature</td><td>日期 Date</td></tr>
</table>
</body></html>`;
}
