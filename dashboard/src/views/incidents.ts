import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canAct, stream, type Me } from '../api.js';
import { html } from '../html.js';
import { ago, getLang, SEVERITY_WORD, t, time, tx, type Text } from '../i18n.js';
import type { Incident, Playbook, RecordFieldDef } from '../types.js';
import { IncidentAlarms } from './incident-alarms.js';
import { PhotoForm } from './photo-form.js';
import { StepForm } from './record-form.js';
import { every, serverNow } from '../clock.js';

export function IncidentsView() {
  const [list, setList] = useState<Incident[] | null>(null);
  useEffect(() => {
    const load = () => void api<{ incidents: Incident[] }>('/api/incidents').then((r) => setList(r.incidents));
    load();
    return stream('/api/incidents/stream', 'incident', load);
  }, []);
  if (!list) return html`<p class="loading">…</p>`;
  if (list.length === 0) return html`<p class="empty">${t('noIncidents')}</p>`;
  return html`<table data-testid="incidents">${list.map(
    (i) =>
      html`<tr class=${i.drill ? 'drill' : ''}><td><a href=${`#/incidents/${i.id}`}>${i.id}</a></td><td><span class=${`sev ${i.severity}`}>${t(SEVERITY_WORD[i.severity])}</span> ${tx(i.title)}${i.drill ? html` <b class="drill-tag">${t('drillWord')}</b>` : ''}</td><td>${i.building ?? ''} ${i.deviceId ?? ''}</td><td>${i.status === 'open' ? t('open') : t('closed')}</td><td>${i.owner ?? '—'}</td><td>${ago(i.raisedAt)}</td></tr>`,
  )}</table>`;
}

/** The alarm kinds' titles, for the incident's alarms. */
function useAlarmKinds() {
  const [kinds, setKinds] = useState<Record<string, { title: Text }>>({});
  useEffect(
    () =>
      void api<{ kinds: Record<string, { title: Text }> }>('/api/alarms/kinds').then(
        (r) => setKinds(r.kinds),
        () => undefined,
      ),
    [],
  );
  return kinds;
}

/** The incident's page and the device commands it offers, read again on each change; redrawn every second for the countdowns. */
function useIncident(id: string) {
  const [data, setData] = useState<IncidentPage | null>(null);
  const [offers, setOffers] = useState<{ id: string; commands: OfferedCommand[] }>({ id, commands: [] });
  const [, tick] = useState(0);
  // The case on screen now. An answer about the case shown before (a slow one, or a refresh it
  // asked for) can come after this one's; drawn, it would put the other case's steps under this
  // case's id, and the buttons act on this id.
  const shown = useRef(id);
  shown.current = id;
  const load = () => {
    const asked = id;
    const still =
      <T>(apply: (v: T) => void) =>
      (v: T) => {
        if (shown.current === asked) apply(v);
      };
    void api<IncidentPage>(`/api/incidents/${encodeURIComponent(id)}`).then(still(setData));
    // The device commands this case may send (a writable valve on one of its meters).
    void api<{ commands: OfferedCommand[] }>(`/api/incidents/${encodeURIComponent(id)}/device-commands`).then(
      still((r) => setOffers({ id: asked, commands: r.commands })),
      still(() => setOffers({ id: asked, commands: [] })),
    );
  };
  useEffect(() => {
    load();
    const close = stream('/api/incidents/stream', 'incident', load);
    const stop = every(1000, () => tick((n) => n + 1));
    return () => {
      close();
      stop();
    };
  }, [id]);
  // Until this case's answer comes, nothing rather than the case shown before.
  return { data: data?.incident.id === id ? data : null, offers: offers.id === id ? offers.commands : [], load };
}

type Act = (body: Record<string, unknown>) => Promise<void>;
type Step = Playbook['steps'][number];

/** What the workspace needs to draw a step: the case, who may act, and how to act. */
interface StepContext {
  id: string;
  data: IncidentPage;
  offers: OfferedCommand[];
  editable: boolean;
  act: Act;
  load: () => void;
}

/** One checklist step: its role, countdown, how it was closed, its device commands and its form. */
function stepCard(s: Step, { id, data, offers, editable, act, load }: StepContext) {
  const inc = data.incident;
  const st = inc.steps[s.id]!;
  const dueAt = s.deadline_min !== undefined ? inc.raisedAt + s.deadline_min * 60_000 : undefined;
  const closed = st.status === 'done' || st.status === 'skipped';
  const late = dueAt !== undefined && !closed && serverNow() > dueAt;
  return html`<div class=${`step ${st.status === 'done' ? 'done' : st.status === 'skipped' ? 'skipped' : late ? 'late' : ''}`} data-step=${s.id}>
        <b>${tx(s.title)}</b> <span class="muted">${tx(data.roles?.[s.role]) || s.role}</span>${st.escalated > 0 ? html` <span class="countdown late">⬆ ${t('escalated')} ${st.escalated}</span>` : ''}
        ${st.status === 'skipped' && html`<div class="muted" data-skipped>⤼ ${t('notApplicable')}: ${tx(st.skipped)}</div>`}
        ${dueAt !== undefined && !closed ? html` <span class=${`countdown ${late ? 'late' : ''}`}>${late ? t('overdue') : t('due')} ${ago(Math.min(dueAt, serverNow()), Math.max(dueAt, serverNow()))}</span>` : ''}
        ${st.status === 'done' && html`<div class="muted" data-closed-by=${st.evidence ? 'sensor' : 'person'}>✔ ${st.evidence ? t('bySensor') : st.by} ${st.doneAt ? time(st.doneAt) : ''} ${st.evidence ? tx(st.evidence) : ''}${st.recordedBy ? ` · ${t('recordsBy')}: ${st.recordedBy}` : ''} ${recordsText(s, st.fields)}</div>`}
        ${st.status !== 'done' && st.evidenceSeenAt !== undefined && html`<div class="muted" data-evidence-seen>ⓘ ${t('sensorsShow')} (${time(st.evidenceSeenAt)})</div>`}
        ${offers.filter((o) => o.step === s.id).map((o) => html`<${DeviceCommand} incidentId=${id} offer=${o} incident=${inc} canSend=${editable && st.status !== 'done'} onDone=${load} />`)}
        ${editable && st.status !== 'skipped' && (st.status !== 'done' || (st.evidence && s.record.some((f) => f.required && st.fields[f.name] === undefined))) && html`<${StepForm} step=${s} onDone=${(fields: Record<string, unknown>) => act({ type: 'complete_step', step: s.id, fields })} />`}
      </div>`;
}

/** The case's tasks, each done (by whom) or with its button. */
function tasksList(inc: Incident, editable: boolean, act: Act) {
  return (
    Object.keys(inc.tasks).length > 0 &&
    html`<h3>${t('tasks')}</h3><ul>${Object.entries(inc.tasks).map(([k, task]) => html`<li data-task=${k}>${task.done ? '☑' : '☐'} ${tx(task.title)} ${task.deviceId ? html`<a href=${`#/devices/${task.deviceId}`}>${task.deviceId}</a>` : ''} ${!task.done && task.reopened > 0 ? html`<span class="countdown late">${t('reopenedTask')}</span>` : ''} ${!task.done && editable ? html`<button onClick=${() => act({ type: 'complete_task', task: k })}>${t('done')}</button>` : task.by ? html`<span class="muted">${task.evidence ? `${t('bySensor')}: ${tx(task.evidence)}` : task.by}</span>` : ''}</li>`)}</ul>`
  );
}

/** Hand the case over to someone (with a reason if it is not yours) or close it. */
function caseActions(data: IncidentPage, act: Act) {
  return html`<form class="inline case-actions" data-testid="case-actions" onSubmit=${(e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const to = String(f.get('to') ?? '');
    const note = String(f.get('note') ?? '').trim();
    if (to) void act({ type: 'hand_over', to, ...(note ? { note } : {}) });
  }}>
      <button type="submit">${t('handOver')}</button><select name="to" data-testid="hand-over-to" aria-label=${t('handOver')}><option value="">—</option>${(data.people ?? []).filter((p) => p.username !== data.incident.owner).map((p) => html`<option value=${p.username}>${tx(p.name) || p.username}</option>`)}</select>
      <input name="note" placeholder=${t('reasonIfNotYours')} />
      <button type="button" onClick=${(e: Event) => {
        const note = String(new FormData((e.target as HTMLButtonElement).form!).get('note') ?? '').trim();
        void act({ type: 'close', ...(note ? { note } : {}) });
      }}>${t('closeIncident')}</button>
    </form>`;
}

/** The case's timeline as sentences, with its photos. */
function timelineTable(data: IncidentPage, id: string) {
  return html`<table data-testid="timeline">${data.timeline.map((e) => html`<tr data-event=${e.type}><td class="muted">${time(e.at)}</td><td>${tx(e.text)}${e.photo ? html`<br /><a href=${`/api/incidents/${encodeURIComponent(id)}/photos/${e.photo}`} target="_blank"><img class="photo" src=${`/api/incidents/${encodeURIComponent(id)}/photos/${e.photo}`} alt=${tx(e.text)} loading="lazy" /></a>` : ''}</td></tr>`)}</table>`;
}

/** The incident workspace: checklist with countdowns, the forms each step must record, tasks, timeline. */
export function IncidentView({ id, me }: { id: string; me: Me }) {
  const [error, setError] = useState('');
  const kinds = useAlarmKinds();
  const { data, offers, load } = useIncident(id);
  if (!data) return html`<p class="loading">…</p>`;
  const { incident: inc, playbook } = data;
  const act = async (body: Record<string, unknown>) => {
    try {
      setError('');
      await api(`/api/incidents/${encodeURIComponent(id)}/commands`, { method: 'POST', body });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const editable = canAct(me) && inc.status === 'open';
  const nameOf = (u: string | undefined) =>
    u === undefined ? '—' : tx(data.people?.find((p) => p.username === u)?.name) || u;
  const context: StepContext = { id, data, offers, editable, act, load };
  return html`<div>
    ${inc.drill && html`<div class="drill-banner">${t('drillIncident')} · ${inc.drill}${inc.closedReason === 'drill_ended' ? html` · ${t('drillEnded')}` : ''}</div>`}
    <h2>${tx(inc.title)} · ${inc.id} <span class="muted">${inc.building ?? ''} ${inc.deviceId ?? ''} · ${inc.status === 'open' ? t('open') : t('closed')} · ${t('owner')}: ${nameOf(inc.owner)}</span></h2>
    <p><a href=${`/api/incidents/${encodeURIComponent(id)}/report`} target="_blank">${t('report')}</a></p>
    ${error && html`<p class="error" data-testid="incident-error">${error}</p>`}
    <h3>${t('steps')}</h3>
    ${playbook.steps.map((s) => stepCard(s, context))}
    ${tasksList(inc, editable, act)}
    ${editable && caseActions(data, act)}
    <${IncidentAlarms} ids=${inc.alarms.map((a) => a.alarmId)} kinds=${kinds} />
    ${editable && html`<${PhotoForm} incidentId=${id} onDone=${load} />`}
    <h3>${t('timeline')}</h3>
    ${timelineTable(data, id)}
  </div>`;
}

/** A device command the server offers on this case (GET /api/incidents/:id/device-commands). */
interface OfferedCommand {
  deviceId: string;
  command: string;
  step?: string;
  title: Text;
}

const OUTCOME_WORD = {
  sent: 'commandSent',
  confirmed: 'commandConfirmed',
  refused: 'commandRefused',
  no_answer: 'commandNoAnswer',
} as const;

/**
 * "Close valve" on its step: asked a second time in the page (not a browser dialog, which a
 * wall screen or a phone may hide), then sent; the device's last answer stays next to it
 * (the timeline has every one, in words).
 */
function DeviceCommand({
  incidentId,
  offer,
  incident,
  canSend,
  onDone,
}: {
  incidentId: string;
  offer: OfferedCommand;
  incident: Incident;
  canSend: boolean;
  onDone: () => void;
}) {
  const [stage, setStage] = useState<'idle' | 'asking' | 'sending'>('idle');
  const [error, setError] = useState('');
  const last = incident.timeline
    .filter((e) => e.type === 'device_command' && e.deviceId === offer.deviceId && e.command === offer.command)
    .at(-1) as { at: number; by: string; outcome: keyof typeof OUTCOME_WORD } | undefined;
  const label = offer.command === 'close_valve' ? t('closeValve') : tx(offer.title);
  const send = async () => {
    setStage('sending');
    setError('');
    try {
      await api(`/api/incidents/${encodeURIComponent(incidentId)}/device-command`, {
        method: 'POST',
        body: { device: offer.deviceId, command: offer.command, confirm: true },
      });
    } catch (e) {
      setError((e as Error).message);
    }
    setStage('idle');
    onDone();
  };
  return html`<div class="device-command" data-command=${offer.command} data-device=${offer.deviceId}>
    ${canSend && stage === 'idle' && html`<button class="danger" data-testid="device-command" onClick=${() => setStage('asking')}>${label} · ${offer.deviceId}</button>`}
    ${
      canSend &&
      stage === 'asking' &&
      html`<div class="confirm-box" role="alertdialog" data-testid="confirm-command">
      <p><b>${offer.deviceId}</b> · ${offer.command === 'close_valve' ? t('closeValveAsk') : label}</p>
      <button class="danger" data-testid="confirm-yes" onClick=${() => void send()}>${offer.command === 'close_valve' ? t('closeValveYes') : label}</button>
      <button type="button" data-testid="confirm-no" onClick=${() => setStage('idle')}>${t('commandCancel')}</button>
    </div>`
    }
    ${stage === 'sending' && html`<span class="muted">${t('commandSending')}</span>`}
    ${last && stage !== 'sending' && html`<span class=${`command-outcome ${last.outcome}`} data-outcome=${last.outcome}>${label}${getLang() === 'zh' ? '：' : ': '}${t(OUTCOME_WORD[last.outcome])} · ${last.by} ${time(last.at)}</span>`}
    ${error && html`<p class="error" data-testid="command-error">${error}</p>`}
  </div>`;
}

/** What was recorded, in words: labels, a choice by its label, a group item by item. */
function recordsText(step: Playbook['steps'][number], fields: Record<string, unknown>): string {
  const one = (f: RecordFieldDef, v: unknown): string =>
    f.type === 'choice'
      ? tx(f.options?.find((o) => o.value === v)?.label) || String(v)
      : f.type === 'bool'
        ? v
          ? '✔'
          : '✘'
        : f.type === 'time' && typeof v === 'string'
          ? time(v)
          : String(v);
  return step.record
    .filter((f) => fields[f.name] !== undefined)
    .map((f) => {
      const v = fields[f.name];
      const text = Array.isArray(v)
        ? v
            .map(
              (item: Record<string, unknown>, i) =>
                `${i + 1}. ${(f.fields ?? [])
                  .filter((g) => item[g.name] !== undefined)
                  .map((g) => `${tx(g.label)} ${one(g, item[g.name])}`)
                  .join(', ')}`,
            )
            .join('; ')
        : one(f, v);
      return `${tx(f.label)}: ${text}`;
    })
    .join(' · ');
}

/** GET /api/incidents/:id: the incident, its playbook, duty roles and people in words, the timeline as sentences. */
interface IncidentPage {
  incident: Incident;
  playbook: Playbook;
  roles?: Record<string, Text>;
  people?: { username: string; name?: Text }[];
  timeline: { at: number; type: string; text: Text; photo?: string }[];
}
