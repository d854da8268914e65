import { useEffect, useState } from 'preact/hooks';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { t, time, tx, type Text } from '../i18n.js';

interface Scenario {
  name: string;
  title: Text;
  fits: boolean;
}
interface DrillJson {
  id: string;
  scenario: string;
  title: Text;
  status: string;
  startedAt: number;
}
interface Report {
  injected: { at: number; lateS: number; what: Text }[];
  alarms: { kind: string; device: string; dueBy: number | null; raisedAt: number | null; met: boolean | null }[];
  responses: { incident: string; step: string; title: Text; targetMin?: number; doneAfterMin?: number; by?: string; met: boolean | null }[];
  score: { alarmsInTime: number; alarmsExpected: number; stepsOnTime: number; stepsWithTarget: number };
}

const mark = (met: boolean | null) => (met === true ? '✔' : met === false ? '✘' : '…');

/** Start and stop a scenario (operators); the live scorecard of the running drill, and past drills' reports. */
export function DrillsView({ me }: { me: Me }) {
  const [scenarios, setScenarios] = useState<Scenario[] | null>(null);
  const [status, setStatus] = useState<{ available: boolean; current: DrillJson | null; history: DrillJson[] } | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState('');
  const load = () => {
    api<{ scenarios: Scenario[] }>('/api/drills/scenarios').then((r) => setScenarios(r.scenarios), () => setScenarios([]));
    api<NonNullable<typeof status>>('/api/drills').then(setStatus, () => setStatus(null));
  };
  useEffect(() => {
    load();
    const id = setInterval(load, 3000);
    return () => clearInterval(id);
  }, []);
  const reportOf = status?.current?.id ?? shown;
  useEffect(() => {
    if (!reportOf) return;
    const get = () => void api<Report>(`/api/drills/${encodeURIComponent(reportOf)}/report`).then(setReport, () => setReport(null));
    get();
    const id = setInterval(get, 3000);
    return () => clearInterval(id);
  }, [reportOf]);
  const act = async (path: string, body: unknown) => {
    try {
      setError('');
      await api(path, { method: 'POST', body });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (scenarios === null) return html`<p class="loading">…</p>`;
  if (!status?.available) return html`<p class="empty">${t('noDrills')}</p>`;
  return html`<div>
    ${status.current && html`<div class="drill-banner">${t('drillRunning')} · ${tx(status.current.title)} · ${status.current.id}</div>`}
    ${error && html`<p class="error">${error}</p>`}
    <table data-testid="scenarios">${scenarios.map((s) => html`<tr><td>${s.name}</td><td>${tx(s.title)}</td><td>${canAct(me) && !status.current && s.fits ? html`<button class="primary" onClick=${() => act('/api/drills', { scenario: s.name })}>${t('start')}</button>` : ''}</td></tr>`)}</table>
    ${canAct(me) && status.current && html`<p><button onClick=${() => act('/api/drills/stop', {})}>${t('stop')}</button></p>`}
    ${report &&
    html`<section class="card" data-testid="scorecard"><h3>${reportOf} · ${report.score.alarmsInTime}/${report.score.alarmsExpected} ${t('alarms')} · ${report.score.stepsOnTime}/${report.score.stepsWithTarget} ${t('steps')}</h3>
      <table>${report.injected.map((i) => html`<tr><td class="muted">${time(i.at)}</td><td>${tx(i.what)}</td><td class="muted">${i.lateS ? `+${i.lateS}s` : ''}</td></tr>`)}</table>
      <table>${report.alarms.map((a) => html`<tr><td>${mark(a.met)}</td><td>${a.kind}</td><td>${a.device}</td><td class="muted">${a.dueBy ? time(a.dueBy) : '—'}</td><td>${a.raisedAt ? time(a.raisedAt) : '—'}</td></tr>`)}</table>
      <table>${report.responses.map((r) => html`<tr><td>${mark(r.met)}</td><td>${r.incident}</td><td>${tx(r.title)}</td><td class="muted">${r.targetMin ?? '—'} min</td><td>${r.doneAfterMin ?? '—'}</td><td>${r.by ?? ''}</td></tr>`)}</table>
    </section>`}
    <ul>${status.history.map((d) => html`<li><a href="#/drills" onClick=${() => setShown(d.id)}>${d.id}</a> ${tx(d.title)} · ${d.status} · ${time(d.startedAt)}</li>`)}</ul>
  </div>`;
}
