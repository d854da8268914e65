import { backoffDelay } from '../../rules/backoff.js';
import type { IncidentEvent } from '../../rules/incidents/incident.js';
import type { DutyRole } from '../../rules/incidents/playbook.js';
import { roleText } from '../../rules/incidents/report.js';
import type { Notice, NoticeSender } from './runtime.js';
import { realTimers, type Timers } from '../ports/clock.js';

// Incidents leave the gateway through notification channels: a generic JSON webhook, and
// the group-robot webhooks of WeCom (企业微信) and DingTalk (钉钉), whose message formats are
// documented by those platforms (msgtype markdown). Two notices: an alert when a critical
// incident opens (to the site's `on_open` roles, at once) and an escalation when a step runs
// late. Each attempt is a timeline event; a failed one is retried with backoff; an incident of
// a drill is never sent anywhere real (its record says so instead).

export interface Channel {
  name: string;
  type: 'webhook' | 'wecom' | 'dingtalk';
  url: string;
  /** Roles this channel reaches. */
  roles: DutyRole[];
}

export interface NotifierOptions {
  channels: Channel[];
  /** Attempts per message (default 3). */
  attempts?: number;
  /** First retry after this; doubles each time (default 1000 ms). */
  backoffMs?: number;
  timeoutMs?: number;
  now: () => number;
  /** Waits between attempts: on these timers (default real ones), or by `sleep` when given. */
  timers?: Timers;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Where a device is, in words (building, floor, unit or room); the device id when unknown. */
  placeOf?: (deviceId: string) => { zh: string; en: string };
}

const both = (t: { zh: string; en: string }) => (t.zh === t.en ? t.zh : `${t.zh} ${t.en}`);
const placeText = (t: { zh: string; en: string }) => (t.zh === t.en ? t.zh : `${t.zh}（${t.en}）`);

/** The message in the channel's own format. */
export function formatMessage(
  type: Channel['type'],
  n: Notice,
  placeOf: NotifierOptions['placeOf'] = (id) => ({ zh: id, en: id }),
): unknown {
  const { incident } = n;
  const place = incident.deviceId
    ? placeOf(incident.deviceId)
    : incident.building
      ? { zh: incident.building, en: incident.building }
      : { zh: '未指明', en: 'not given' };
  const common: MessageCommon = {
    incident: incident.id,
    playbook: incident.playbook,
    building: incident.building ?? null,
    device: incident.deviceId ?? null,
    place,
    owner: incident.owner ?? null,
    drill: incident.drill ?? null,
    title: incident.title,
  };
  const { event } = n;
  return event.type === 'alerted' ? openingMessage(type, n, event, common) : escalationMessage(type, n, event, common);
}

/** What every message says: which incident, where, whose. */
interface MessageCommon {
  incident: string;
  playbook: string;
  building: string | null;
  device: string | null;
  place: { zh: string; en: string };
  owner: string | null;
  drill: string | null;
  title: { zh: string; en: string };
}

type NoticeEvent<T extends Notice['event']['type']> = Extract<Notice['event'], { type: T }>;

/** A critical incident opened: its place, playbook and first step. */
function openingMessage(
  type: Channel['type'],
  { incident, playbook }: Notice,
  event: NoticeEvent<'alerted'>,
  common: MessageCommon,
): unknown {
  const first = playbook.steps[0]!;
  const title = `【${incident.drill ? '演练 DRILL ' : ''}紧急事件 Incident】${both(incident.title)}`;
  const lines = [
    `**${title}**`,
    `地点 Where: ${placeText(common.place)}`,
    `预案 Playbook: ${both(playbook.title)}`,
    `第一步 First step: ${first.title.zh} / ${first.title.en}`,
    `事件 Incident: ${incident.id}`,
    `负责人 Owner: ${incident.owner ?? '未认领 nobody yet'}`,
  ];
  const text = lines.join('\n\n');
  if (type !== 'webhook') return robotMarkdown(type, title, text);
  return {
    kind: 'incident_opened',
    ...common,
    severity: incident.severity,
    to: event.to,
    first_step: { id: first.id, title: first.title },
    text,
  };
}

/** A late step, or a late task (a lift's check): named by its title either way. */
function escalationMessage(
  type: Channel['type'],
  { incident, playbook }: Notice,
  event: NoticeEvent<'escalated' | 'task_escalated'>,
  common: MessageCommon,
): unknown {
  const step =
    event.type === 'escalated'
      ? (playbook.steps.find((s) => s.id === event.step)?.title ?? { zh: event.step, en: event.step })
      : (incident.tasks[event.task]?.title ?? { zh: event.task, en: event.task });
  const title = `【${incident.drill ? '演练 DRILL ' : ''}升级 Escalation】${both(incident.title)}`;
  const lines = [
    `**${title}**`,
    `地点 Where: ${placeText(common.place)}`,
    event.type === 'escalated'
      ? `超时步骤 Overdue step: ${step.zh} / ${step.en}`
      : `超时任务 Overdue task: ${step.zh} / ${step.en}`,
    `升级至 To: ${roleText(event.to).zh} ${roleText(event.to).en} (level ${event.level})`,
    `事件 Incident: ${incident.id}`,
    `负责人 Owner: ${incident.owner ?? '未认领 nobody yet'}`,
  ];
  const text = lines.join('\n\n');
  if (type !== 'webhook') return robotMarkdown(type, title, text);
  return {
    kind: 'escalation',
    ...common,
    ...(event.type === 'escalated' ? { step: event.step, step_title: step } : { task: event.task, task_title: step }),
    level: event.level,
    to: event.to,
    text,
  };
}

/** The markdown message of a group robot (WeCom 企业微信, DingTalk 钉钉), as their webhook APIs document it. */
function robotMarkdown(type: 'wecom' | 'dingtalk', title: string, text: string): unknown {
  return type === 'wecom'
    ? { msgtype: 'markdown', markdown: { content: text } }
    : { msgtype: 'markdown', markdown: { title, text } };
}

interface Retry {
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  fetch: typeof fetch;
}

function retryOf(opts: NotifierOptions): Retry {
  return {
    attempts: opts.attempts ?? 3,
    backoffMs: opts.backoffMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 5000,
    sleep: opts.sleep ?? ((ms: number) => new Promise<void>((r) => void (opts.timers ?? realTimers).setTimeout(r, ms))),
    fetch: opts.fetch ?? fetch,
  };
}

/** Sends, retrying with doubling backoff; `record` sees every attempt. */
async function deliver(
  r: Retry,
  ch: Channel,
  body: unknown,
  record: (attempt: number, outcome: { ok: boolean; detail?: string }) => void,
): Promise<void> {
  for (let attempt = 1; attempt <= r.attempts; attempt++) {
    const outcome = await send(r.fetch, ch, body, r.timeoutMs);
    record(attempt, outcome);
    if (outcome.ok) return;
    // Doubling without a cap of its own: the few attempts bound it.
    if (attempt < r.attempts) await r.sleep(backoffDelay(attempt, r.backoffMs, Number.POSITIVE_INFINITY));
  }
}

export function createNotifier(opts: NotifierOptions): NoticeSender {
  const retry = retryOf(opts);

  return async (n) => {
    const events: IncidentEvent[] = [];
    const roles = n.event.type === 'alerted' ? n.event.to : [n.event.to];
    const step =
      n.event.type === 'escalated'
        ? { step: n.event.step }
        : n.event.type === 'task_escalated'
          ? { task: n.event.task }
          : {};
    // One message per channel: its first role among those the notice is for names it.
    for (const ch of opts.channels) {
      const to = roles.find((r) => ch.roles.includes(r));
      if (!to) continue;
      const base = { type: 'notification' as const, channel: ch.name, to, ...step };
      if (n.incident.drill) {
        events.push({
          ...base,
          attempt: 0,
          outcome: 'drill_not_sent',
          detail: `drill ${n.incident.drill}`,
          at: opts.now(),
        });
        continue;
      }
      await deliver(retry, ch, formatMessage(ch.type, n, opts.placeOf), (attempt, outcome) =>
        events.push({
          ...base,
          attempt,
          outcome: outcome.ok ? 'sent' : 'failed',
          ...(outcome.detail ? { detail: outcome.detail } : {}),
          at: opts.now(),
        }),
      );
    }
    return events;
  };
}

/** A notice that is not an escalation (a new meter-anomaly report, the daily heating report), for the channels of `roles`. */
export interface Announcement {
  kind: 'meter_report' | 'heating_report';
  roles: DutyRole[];
  /** Only these of those channels (by name): a retry of the ones that failed, without repeating it to the others. */
  only?: string[];
  title: { zh: string; en: string };
  lines: string[];
  /** Sent as is to plain webhooks. */
  data: Record<string, unknown>;
}

export type AnnouncementSender = (a: Announcement) => Promise<{ channel: string; sent: boolean; detail?: string }[]>;

export function formatAnnouncement(type: Channel['type'], a: Announcement): unknown {
  const title = `【${a.title.zh}】${a.title.en}`;
  const text = [`**${title}**`, ...a.lines].join('\n\n');
  return type === 'webhook' ? { kind: a.kind, title: a.title, text, ...a.data } : robotMarkdown(type, title, text);
}

export function createAnnouncer(opts: NotifierOptions): AnnouncementSender {
  const retry = retryOf(opts);
  return async (a) => {
    const out: { channel: string; sent: boolean; detail?: string }[] = [];
    for (const ch of opts.channels.filter(
      (c) => c.roles.some((r) => a.roles.includes(r)) && (!a.only || a.only.includes(c.name)),
    )) {
      let last: { ok: boolean; detail?: string } = { ok: false };
      await deliver(retry, ch, formatAnnouncement(ch.type, a), (_attempt, outcome) => (last = outcome));
      out.push({ channel: ch.name, sent: last.ok, ...(last.detail ? { detail: last.detail } : {}) });
    }
    return out;
  };
}

async function send(
  doFetch: typeof fetch,
  ch: Channel,
  body: unknown,
  timeoutMs: number,
): Promise<{ ok: boolean; detail?: string }> {
  try {
    const res = await doFetch(ch.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) return { ok: false, detail: `HTTP ${res.status} ${text.slice(0, 200)}` };
    // WeCom and DingTalk answer 200 with an error code in the body when they refuse.
    if (ch.type !== 'webhook') {
      const code = (JSON.parse(text || '{}') as { errcode?: number; errmsg?: string }).errcode;
      if (code !== undefined && code !== 0)
        return { ok: false, detail: `errcode ${code}: ${(JSON.parse(text) as { errmsg?: string }).errmsg ?? ''}` };
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}
