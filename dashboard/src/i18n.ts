// zh-CN and English for everything on the page; the default follows the browser, the
// choice is kept. Times are shown in the site's time zone, not the browser's.

export type Lang = 'zh' | 'en';
export type Text = { zh: string; en: string };

const WORDS = {
  title: { zh: '工程值班室', en: 'Duty room' },
  alarms: { zh: '告警', en: 'Alarms' },
  estate: { zh: '楼宇', en: 'Estate' },
  incidents: { zh: '事件', en: 'Incidents' },
  drills: { zh: '演练', en: 'Drills' },
  reports: { zh: '报表', en: 'Reports' },
  login: { zh: '登录', en: 'Log in' },
  logout: { zh: '退出', en: 'Log out' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  badLogin: { zh: '用户名或密码错误', en: 'Wrong username or password' },
  mute: { zh: '静音', en: 'Mute' },
  unmute: { zh: '取消静音', en: 'Unmute' },
  wall: { zh: '大屏', en: 'Wall' },
  drillRunning: { zh: '演练进行中 — 非真实告警', en: 'DRILL IN PROGRESS — not real alarms' },
  noAlarms: { zh: '当前无告警', en: 'No active alarms' },
  severity: { zh: '级别', en: 'Severity' },
  alarm: { zh: '告警', en: 'Alarm' },
  where: { zh: '位置', en: 'Where' },
  evidence: { zh: '依据', en: 'Evidence' },
  since: { zh: '持续', en: 'Since' },
  owner: { zh: '负责人', en: 'Owner' },
  acknowledge: { zh: '确认', en: 'Acknowledge' },
  comment: { zh: '备注', en: 'Comment' },
  inhibitedBy: { zh: '被抑制（原因）', en: 'Inhibited by' },
  inhibited: { zh: '已抑制的告警', en: 'Inhibited alarms' },
  silenced: { zh: '已静默', en: 'Silenced' },
  cleared: { zh: '已恢复', en: 'Cleared' },
  online: { zh: '在线', en: 'Online' },
  offline: { zh: '离线', en: 'Offline' },
  power: { zh: '供电', en: 'Power' },
  powerOk: { zh: '正常', en: 'normal' },
  powerLost: { zh: '停电', en: 'lost' },
  lifts: { zh: '电梯', en: 'Lifts' },
  supplies: { zh: '进线与支路', en: 'Incomer and feeders' },
  plant: { zh: '水泵、集水井、锅炉', en: 'Pumps, sump pits, boilers' },
  escalated: { zh: '已升级', en: 'escalated' },
  handOver: { zh: '移交给', en: 'Hand over to' },
  open: { zh: '处理中', en: 'Open' },
  closed: { zh: '已关闭', en: 'Closed' },
  noIncidents: { zh: '暂无事件', en: 'No incidents' },
  steps: { zh: '处置步骤', en: 'Steps' },
  tasks: { zh: '任务', en: 'Tasks' },
  timeline: { zh: '时间线', en: 'Timeline' },
  done: { zh: '完成', en: 'Done' },
  report: { zh: '打印报告', en: 'Printable report' },
  closeIncident: { zh: '关闭事件', en: 'Close incident' },
  due: { zh: '剩余', en: 'due in' },
  overdue: { zh: '已超时', en: 'overdue by' },
  history: { zh: '历史曲线', en: 'History' },
  range: { zh: '时间范围', en: 'Range' },
  noDrills: { zh: '此网关未接入模拟楼宇，无法演练', en: 'This gateway has no simulated estate to drill on' },
  start: { zh: '开始', en: 'Start' },
  stop: { zh: '停止', en: 'Stop' },
  handover: { zh: '交接班报告', en: 'Shift handover' },
  meterReports: { zh: '表计异常报表', en: 'Meter-anomaly reports' },
  notYet: { zh: '表计异常报表功能尚未上线', en: 'Meter-anomaly reports are not available yet' },
  openCases: { zh: '未结事件', en: 'Open cases' },
  linkLost: { zh: '与网关的连接已断开 — 画面可能不是最新，正在重连…', en: 'Connection to the gateway lost — this screen may be out of date; reconnecting…' },
} satisfies Record<string, Text>;

export type Word = keyof typeof WORDS;

let lang: Lang = (localStorage.getItem('lang') as Lang | null) ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en');

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(w: Word): string {
  return WORDS[w][lang];
}

/** A bilingual text from the server, or a plain string. */
export function tx(x: Text | string | undefined): string {
  if (x === undefined) return '';
  return typeof x === 'string' ? x : x[lang];
}

let zone = 'Asia/Shanghai';
export function setZone(z: string): void {
  zone = z;
}

export function time(ms: number | string): string {
  const d = new Date(ms);
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: zone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

/** The gateway's clock minus the browser's (the demo runs on a simulated clock). */
let skew = 0;
export function setServerNow(serverNow: number): void {
  skew = serverNow - Date.now();
}
export function serverNow(): number {
  return Date.now() + skew;
}

export function ago(ms: number, now = serverNow()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const parts = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return parts;
}
