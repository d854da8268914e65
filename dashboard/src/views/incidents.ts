import { useEffect, useState } from 'preact/hooks';
import { api, canAct, stream, type Me } from '../api.js';
import { html } from '../html.js';
import { ago, serverNow, t, time, tx, type Text } from '../i18n.js';
import type { Incident, Playbook } from '../types.js';

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
    (i) => html`<tr class=${i.drill ? 'drill' : ''}><td><a href=${`#/incidents/${i.id}`}>${i.id}</a></td><td><span class=${`sev ${i.severity}`}>${i.severity}</span> ${tx(i.title)}${i.drill ? ' DRILL' : ''}</td><td>${i.building ?? ''} ${i.deviceId ?? ''}</td><td>${i.status === 'open' ? t('open') : t('closed')}</td><td>${i.owner ?? '—'}</td><td>${ago(i.raisedAt)}</td></tr>`,
  )}</table>`;
}

/** The incident workspace: checklist with countdowns, the forms each step must record, tasks, timeline. */
export function IncidentView({ id, me }: { id: string; me: Me }) {
  const [data, setData] = useState<{ incident: Incident; playbook: Playbook; timeline: { at: number; type: string; text: Text }[] } | null>(null);
  const [error, setError] = useState('');
  const [, tick] = useState(0);
  const load = () => void api<{ incident: Incident; playbook: Playbook; timeline: { at: number; type: string; text: Text }[] }>(`/api/incidents/${encodeURIComponent(id)}`).then(setData);
  useEffect(() => {
    load();
    const close = stream('/api/incidents/stream', 'incident', load);
    const clock = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      close();
      clearInterval(clock);
    };
  }, [id]);
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
  return html`<div>
    ${inc.drill && html`<div class="drill-banner">${t('drillIncident')} · ${inc.drill}${inc.closedReason === 'drill_ended' ? html` · ${t('drillEnded')}` : ''}</div>`}
    <h2>${tx(inc.title)} · ${inc.id} <span class="muted">${inc.building ?? ''} ${inc.deviceId ?? ''} · ${inc.status === 'open' ? t('open') : t('closed')} · ${t('owner')}: ${inc.owner ?? '—'}</span></h2>
    <p><a href=${`/api/incidents/${encodeURIComponent(id)}/report`} target="_blank">${t('report')}</a></p>
    ${error && html`<p class="error" data-testid="incident-error">${error}</p>`}
    <h3>${t('steps')}</h3>
    ${playbook.steps.map((s) => {
      const st = inc.steps[s.id]!;
      const dueAt = s.deadline_min !== undefined ? inc.raisedAt + s.deadline_min * 60_000 : undefined;
      const late = dueAt !== undefined && st.status !== 'done' && serverNow() > dueAt;
      return html`<div class=${`step ${st.status === 'done' ? 'done' : late ? 'late' : ''}`} data-step=${s.id}>
        <b>${tx(s.title)}</b> <span class="muted">${s.role}</span>${st.escalated > 0 ? html` <span class="countdown late">⬆ ${t('escalated')} ${st.escalated}</span>` : ''}
        ${dueAt !== undefined && st.status !== 'done' ? html` <span class=${`countdown ${late ? 'late' : ''}`}>${late ? t('overdue') : t('due')} ${ago(Math.min(dueAt, serverNow()), Math.max(dueAt, serverNow()))}</span>` : ''}
        ${st.status === 'done' && html`<div class="muted" data-closed-by=${st.evidence ? 'sensor' : 'person'}>✔ ${st.evidence ? t('bySensor') : st.by} ${st.doneAt ? time(st.doneAt) : ''} ${st.evidence ? tx(st.evidence) : ''}${st.recordedBy ? ` · ${t('recordsBy')}: ${st.recordedBy}` : ''} ${Object.entries(st.fields).map(([k, v]) => `${k}: ${String(v)}`).join(' · ')}</div>`}
        ${st.status !== 'done' && st.evidenceSeenAt !== undefined && html`<div class="muted" data-evidence-seen>ⓘ ${t('sensorsShow')} (${time(st.evidenceSeenAt)})</div>`}
        ${editable && (st.status !== 'done' || (st.evidence && s.record.some((f) => f.required && st.fields[f.name] === undefined))) && html`<${StepForm} step=${s} onDone=${(fields: Record<string, unknown>) => act({ type: 'complete_step', step: s.id, fields })} />`}
      </div>`;
    })}
    ${Object.keys(inc.tasks).length > 0 && html`<h3>${t('tasks')}</h3><ul>${Object.entries(inc.tasks).map(([k, task]) => html`<li data-task=${k}>${task.done ? '☑' : '☐'} ${tx(task.title)} ${task.deviceId ? html`<a href=${`#/devices/${task.deviceId}`}>${task.deviceId}</a>` : ''} ${!task.done && task.reopened > 0 ? html`<span class="countdown late">${t('reopenedTask')}</span>` : ''} ${!task.done && editable ? html`<button onClick=${() => act({ type: 'complete_task', task: k })}>${t('done')}</button>` : task.by ? html`<span class="muted">${task.evidence ? `${t('bySensor')}: ${tx(task.evidence)}` : task.by}</span>` : ''}</li>`)}</ul>`}
    ${editable &&
    html`<form class="inline case-actions" data-testid="case-actions" onSubmit=${(e: Event) => {
      e.preventDefault();
      const f = new FormData(e.target as HTMLFormElement);
      const to = String(f.get('to') ?? '');
      const note = String(f.get('note') ?? '').trim();
      if (to) void act({ type: 'hand_over', to, ...(note ? { note } : {}) });
    }}>
      <input name="to" placeholder=${t('username')} /><button type="submit">${t('handOver')}</button>
      <input name="note" placeholder=${t('reasonIfNotYours')} />
      <button type="button" onClick=${(e: Event) => {
        const note = String(new FormData((e.target as HTMLButtonElement).form!).get('note') ?? '').trim();
        void act({ type: 'close', ...(note ? { note } : {}) });
      }}>${t('closeIncident')}</button>
    </form>`}
    <h3>${t('timeline')}</h3>
    <table data-testid="timeline">${data.timeline.map((e) => html`<tr data-event=${e.type}><td class="muted">${time(e.at)}</td><td>${tx(e.text)}</td></tr>`)}</table>
  </div>`;
}

function StepForm({ step, onDone }: { step: Playbook['steps'][number]; onDone: (fields: Record<string, unknown>) => void }) {
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const fields: Record<string, unknown> = {};
    for (const f of step.record) {
      const raw = form.get(f.name);
      if (f.type === 'bool') fields[f.name] = raw === 'on';
      else if (raw === null || raw === '') continue;
      else if (f.type === 'number') fields[f.name] = Number(raw);
      else if (f.type === 'time') fields[f.name] = new Date(String(raw)).toISOString();
      else fields[f.name] = String(raw);
    }
    onDone(fields);
  };
  const input = (f: Playbook['steps'][number]['record'][number]) =>
    f.type === 'bool' ? html`<input type="checkbox" name=${f.name} />` : html`<input name=${f.name} type=${f.type === 'time' ? 'datetime-local' : f.type === 'number' ? 'number' : 'text'} required=${f.required} />`;
  return html`<form class="inline" onSubmit=${submit}>${step.record.map((f) => html`<label>${tx(f.label)}${f.required ? '*' : ''} ${input(f)}</label> `)}<button class="primary" type="submit">${t('done')}</button></form>`;
}
