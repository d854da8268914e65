import { useEffect, useState } from 'preact/hooks';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { t, time, tx, type Text, type Word } from '../i18n.js';

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
type Outcome = 'met' | 'sensor' | 'late' | 'missed';
type Tally = Record<Outcome, number> & { open: number; total: number };
interface Report {
  injected: { at: number; lateS: number; what: Text }[];
  alarms: { kind: string; device: string; dueBy: number | null; raisedAt: number | null; met: boolean | null }[];
  acks: { alarmId: string; kind: string; device: string; incident?: string; raisedAt: number; acknowledgedAt: number | null; by?: string; ackAfterS: number | null; targetS: number; outcome: Outcome | null }[];
  responses: { incident: string; step: string; title: Text; targetMin?: number; doneAfterMin?: number; by?: string; recordedBy?: string; skipped?: Text; outcome: Outcome | null }[];
  tasks: { incident: string; task: string; title: Text; openedAt: number; reopened: number; targetMin?: number; doneAfterMin?: number; by?: string; outcome: Outcome | null }[];
  score: { alarmsInTime: number; alarmsExpected: number; acks: Tally; steps: Tally; tasks: Tally };
}

const mark = (met: boolean | null) => (met === true ? '✔' : met === false ? '✘' : '…');

const OUTCOME_WORD = { met: 'outcomeMet', sensor: 'outcomeSensor', late: 'outcomeLate', missed: 'outcomeMissed' } as const satisfies Record<Outcome, Word>;

/** The outcome in words, never a bare symbol: a sensor closing a step must not read as the team's success. */
function outcome(o: Outcome | null, ack = false, untimed = false) {
  const word = o === null ? t(untimed ? 'outcomeOpenUntimed' : 'outcomeOpen') : ack && o === 'met' ? t('outcomeAckMet') : ack && o === 'missed' ? t('outcomeAckMissed') : t(OUTCOME_WORD[o]);
  return html`<span class=${`outcome ${o ?? 'open'}`} data-outcome=${o ?? 'open'}>${word}</span>`;
}

/** "3/5 on time by people · 1 closed by a sensor · 1 late · 1 missed": the team's count first, the sensors' apart. */
function tally(x: Tally, what: Word) {
  return html`<li><b>${x.met}/${x.total}</b> ${t(what)}${x.sensor ? html` · ${x.sensor} ${t('scoreSensorApart')}` : ''}${x.late ? ` · ${x.late} ${t('outcomeLate')}` : ''}${x.missed ? ` · ${x.missed} ${t('outcomeMissed')}` : ''}${x.open ? ` · ${x.open} ${t('outcomeOpen')}` : ''}</li>`;
}

const mins = (m: number | undefined) => (m === undefined ? '—' : `${m} ${t('minutesShort')}`);

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
    html`<section class="card scorecard" data-testid="scorecard">
      <h3>${t('scoreTitle')} · ${reportOf}</h3>
      <ul class="score" data-testid="score">
        <li><b>${report.score.alarmsInTime}/${report.score.alarmsExpected}</b> ${t('scoreAlarms')}</li>
        ${tally(report.score.acks, 'scoreAcks')}
        ${tally(report.score.steps, 'scoreSteps')}
        ${tally(report.score.tasks, 'scoreTasks')}
      </ul>
      <h4>${t('injectedFaults')}</h4>
      <table data-testid="drill-injected">
        <tr><th>${t('colTime')}</th><th>${t('colWhat')}</th><th>${t('colDelay')}</th></tr>
        ${report.injected.map((i) => html`<tr><td class="muted">${time(i.at)}</td><td>${tx(i.what)}</td><td class="muted">${i.lateS ? `+${i.lateS} ${t('secondsShort')}` : ''}</td></tr>`)}
      </table>
      <h4>${t('expectedAlarms')}</h4>
      <table data-testid="drill-alarms">
        <tr><th>${t('colOutcome')}</th><th>${t('colKind')}</th><th>${t('colDevice')}</th><th>${t('colDueBy')}</th><th>${t('colRaisedAt')}</th></tr>
        ${report.alarms.map((a) => html`<tr><td>${mark(a.met)}</td><td>${a.kind}</td><td>${a.device}</td><td class="muted">${a.dueBy ? time(a.dueBy) : '—'}</td><td>${a.raisedAt ? time(a.raisedAt) : '—'}</td></tr>`)}
      </table>
      <h4>${t('ackTimes')}</h4>
      <table data-testid="drill-acks">
        <tr><th>${t('colOutcome')}</th><th>${t('colKind')}</th><th>${t('colDevice')}</th><th>${t('colRaisedAt')}</th><th>${t('colAckAt')}</th><th class="n">${t('colTook')}</th><th class="n">${t('colTarget')}</th><th>${t('colBy')}</th></tr>
        ${report.acks.map(
          (a) =>
            html`<tr data-alarm=${a.alarmId}><td>${outcome(a.outcome, true)}</td><td>${a.kind}</td><td>${a.device}</td><td class="muted">${time(a.raisedAt)}</td><td>${a.acknowledgedAt ? time(a.acknowledgedAt) : '—'}</td><td class="n">${a.ackAfterS === null ? '—' : `${a.ackAfterS} ${t('secondsShort')}`}</td><td class="n muted">${a.targetS} ${t('secondsShort')}</td><td>${a.by ?? ''}</td></tr>`,
        )}
      </table>
      <h4>${t('stepsAgainstTarget')}</h4>
      <table data-testid="drill-steps">
        <tr><th>${t('colOutcome')}</th><th>${t('incident')}</th><th>${t('colStep')}</th><th class="n">${t('colTarget')}</th><th class="n">${t('colTook')}</th><th>${t('colBy')}</th></tr>
        ${report.responses.map(
          (r) =>
            html`<tr data-step=${r.step}><td>${r.skipped ? html`<span class="outcome open" data-outcome="skipped">${t('stepSkipped')}</span>` : outcome(r.outcome, false, r.targetMin === undefined)}</td><td class="muted">${r.incident}</td><td>${tx(r.title)}${r.skipped ? html` <span class="muted">(${tx(r.skipped)})</span>` : ''}</td><td class="n muted">${mins(r.targetMin)}</td><td class="n">${mins(r.doneAfterMin)}</td><td>${r.by === 'sensor' ? t('bySensor') : (r.by ?? '')}${r.recordedBy ? html` <span class="muted">(${t('recordsBy')} ${r.recordedBy})</span>` : ''}</td></tr>`,
        )}
      </table>
      <h4>${t('tasksAgainstTarget')}</h4>
      <table data-testid="drill-tasks">
        <tr><th>${t('colOutcome')}</th><th>${t('incident')}</th><th>${t('colTask')}</th><th>${t('colOpenedAt')}</th><th class="n">${t('colTarget')}</th><th class="n">${t('colTook')}</th><th>${t('colBy')}</th></tr>
        ${report.tasks.map(
          (r) =>
            html`<tr data-task=${r.task}><td>${outcome(r.outcome, false, r.targetMin === undefined)}</td><td class="muted">${r.incident}</td><td>${tx(r.title)}</td><td class="muted">${time(r.openedAt)}${r.reopened ? ` · ${r.reopened} ${t('reopenedTimes')}` : ''}</td><td class="n muted">${mins(r.targetMin)}</td><td class="n">${mins(r.doneAfterMin)}</td><td>${r.by === 'sensor' ? t('bySensor') : (r.by ?? '')}</td></tr>`,
        )}
      </table>
    </section>`}
    <ul>${status.history.map((d) => html`<li><a href="#/drills" onClick=${() => setShown(d.id)}>${d.id}</a> ${tx(d.title)} · ${d.status} · ${time(d.startedAt)}</li>`)}</ul>
  </div>`;
}
