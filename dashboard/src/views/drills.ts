import type { Ref } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { getLang, t, time, tx, type Text, type Word } from '../i18n.js';
import { every } from '../clock.js';
import { useLoad } from '../load.js';
import type { DrillReport as Report, Outcome, Tally } from '../../../rules/incidents/drill-report.js';

/** A scenario as GET /api/drills/scenarios lists it (simulators/drill/controller.ts ScenarioInfo). */
interface Scenario {
  name: string;
  title: Text;
  description: Text;
  /** Seconds of simulated time. */
  duration: number;
  devices: string[];
  /** Offsets in seconds from the start; `what` is the server's words for the step (the same as the drill log's). */
  steps: { id?: string; at: number; inject?: { device: string } }[];
  timeline: { at: number; id?: string; action: 'inject' | 'clear' | 'note'; what: Text; note?: Text }[];
  expects: {
    alarms: { kind: string; device: string; after?: string; within: number; inhibited?: boolean; season?: string }[];
    playbooks: string[];
  };
  playbookTitles: Record<string, Text>;
  fits: boolean;
}
interface DrillJson {
  id: string;
  scenario: string;
  title: Text;
  status: string;
  startedAt: number;
}
/** Whether an expected alarm came in time, in words (a bare ✔ or … says little on a wall screen). */
const mark = (met: boolean | null) =>
  html`<span class=${`outcome ${met === true ? 'met' : met === false ? 'missed' : 'open'}`} data-met=${String(met)}>${t(met === true ? 'alarmInTime' : met === false ? 'alarmNotInTime' : 'alarmWaiting')}</span>`;

const OUTCOME_WORD = {
  met: 'outcomeMet',
  sensor: 'outcomeSensor',
  late: 'outcomeLate',
  missed: 'outcomeMissed',
} as const satisfies Record<Outcome, Word>;

/** The outcome in words, never a bare symbol: a sensor closing a step must not read as the team's success. */
function outcome(o: Outcome | null, ack = false, untimed = false) {
  const word =
    o === null
      ? t(untimed ? 'outcomeOpenUntimed' : 'outcomeOpen')
      : ack && o === 'met'
        ? t('outcomeAckMet')
        : ack && o === 'missed'
          ? t('outcomeAckMissed')
          : t(OUTCOME_WORD[o]);
  return html`<span class=${`outcome ${o ?? 'open'}`} data-outcome=${o ?? 'open'}>${word}</span>`;
}

/** "3/5 on time by people · 1 closed by a sensor · 1 late · 1 missed": the team's count first, the sensors' apart. */
function tally(x: Tally, what: Word) {
  return html`<li><b>${x.met}/${x.total}</b> ${t(what)}${x.sensor ? html` · ${x.sensor} ${t('scoreSensorApart')}` : ''}${x.late ? ` · ${x.late} ${t('outcomeLate')}` : ''}${x.missed ? ` · ${x.missed} ${t('outcomeMissed')}` : ''}${x.open ? ` · ${x.open} ${t('outcomeOpen')}` : ''}</li>`;
}

const mins = (m: number | undefined) => (m === undefined ? '—' : `${m} ${t('minutesShort')}`);

/** "mm:ss" from the start (h:mm:ss from an hour on), as scenarios are written. */
function offset(seconds: number): string {
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h > 0
    ? `${h}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`
    : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

/** When an expected alarm is due, from the start: its cause step (`after`, else the first step injecting into its device) plus `within`. */
function dueFromStart(s: Scenario, a: Scenario['expects']['alarms'][number]): number | undefined {
  const cause =
    a.after !== undefined
      ? s.steps.find((st) => st.id === a.after)
      : s.steps.find((st) => st.inject?.device === a.device);
  return cause && cause.at + a.within;
}

const STATUS_WORD: Record<string, Word> = {
  running: 'drillStatusRunning',
  completed: 'drillStatusCompleted',
  stopped: 'drillStatusStopped',
  interrupted: 'drillStatusInterrupted',
};
const statusWord = (s: string) => (STATUS_WORD[s] ? t(STATUS_WORD[s]) : s);

/**
 * What one scenario will do, before anyone starts it: the story, each step in words with its
 * time, the devices, the alarms it should raise by when and the playbooks they open.
 */
function ScenarioCard({
  s,
  kinds,
  canStart,
  onStart,
}: {
  s: Scenario;
  kinds: Record<string, { title: Text }>;
  canStart: boolean;
  onStart: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  const startButton = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  // The confirmation takes the focus (keyboard users land on Start); Cancel gives it back. A
  // layout effect: the button has the focus the moment it is there, not a frame later (a key
  // pressed in between went nowhere).
  useLayoutEffect(() => {
    if (asking) yes.current?.focus();
    else if (wasAsking.current) startButton.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  const headId = `scenario-${s.name}`;
  return html`<section class="card scenario" data-scenario=${s.name} aria-labelledby=${headId}>
    <h3 id=${headId}>${tx(s.title)} <span class="muted">${s.name} · ${t('drillDuration')} ${offset(s.duration)}</span></h3>
    <p>${tx(s.description)}</p>
    <h4>${t('drillWhatItDoes')}</h4>
    <table class="compact" data-testid="scenario-timeline">
      <thead><tr><th scope="col">${t('colAt')}</th><th scope="col">${t('colWhat')}</th></tr></thead>
      <tbody>${s.timeline.map((st) => html`<tr data-action=${st.action}><td class="muted n">${offset(st.at)}</td><td>${tx(st.what)}${st.note ? html`<div class="muted">${tx(st.note)}</div>` : ''}</td></tr>`)}</tbody>
    </table>
    <p class="muted"><b>${t('drillDevices')}:</b> ${s.devices.join(', ')}</p>
    <h4>${t('expectedAlarms')}</h4>
    <table class="compact" data-testid="scenario-alarms">
      <thead><tr><th scope="col">${t('colKind')}</th><th scope="col">${t('colDevice')}</th><th scope="col">${t('colDueFromStart')}</th></tr></thead>
      <tbody>${s.expects.alarms.map((a) => {
        const due = dueFromStart(s, a);
        return html`<tr data-kind=${a.kind}><td>${tx(kinds[a.kind]?.title) || a.kind}${a.inhibited ? html` <span class="muted">(${t('expectMuted')})</span>` : ''}${a.season === 'heating' ? html` <span class="muted">(${t('expectHeating')})</span>` : ''}</td><td>${a.device}</td><td class="muted">${due === undefined ? '—' : offset(due)}</td></tr>`;
      })}</tbody>
    </table>
    <h4>${t('expectedPlaybooks')}</h4>
    <ul class="playbooks" data-testid="scenario-playbooks">${s.expects.playbooks.map((p) => html`<li data-playbook=${p}>${tx(s.playbookTitles[p]) || p}</li>`)}</ul>
    ${!s.fits && html`<p class="error">${t('drillDoesNotFit')}</p>`}
    ${canStart && s.fits && !asking && html`<button class="primary" ref=${startButton} data-testid="start-drill" onClick=${() => setAsking(true)}>${t('startDrill')}</button>`}
    ${
      canStart &&
      s.fits &&
      asking &&
      html`<div class="confirm-box" role="alertdialog" aria-labelledby=${`${headId}-ask`} aria-describedby=${`${headId}-note`} data-testid="confirm-drill" onKeyDown=${(e: KeyboardEvent) => e.key === 'Escape' && setAsking(false)}>
      <p id=${`${headId}-ask`}>${t('drillConfirmAsk')}${getLang() === 'zh' ? '：' : ': '}${tx(s.title)}</p>
      <p id=${`${headId}-note`} class="drill-note">${t('drillConfirmNote')}</p>
      <button class="primary" ref=${yes} data-testid="confirm-yes" onClick=${() => {
        setAsking(false);
        onStart();
      }}>${t('drillConfirmYes')}</button>
      <button type="button" data-testid="confirm-no" onClick=${() => setAsking(false)}>${t('commandCancel')}</button>
    </div>`
    }
  </section>`;
}

type DrillStatus = { available: boolean; current: DrillJson | null; history: DrillJson[] };
type Kinds = Record<string, { title: Text }>;

/** The alarm kinds' titles, for the scenarios' and reports' tables. */
function useKinds() {
  const [kinds, setKinds] = useState<Kinds>({});
  useEffect(
    () =>
      void api<{ kinds: Kinds }>('/api/alarms/kinds').then(
        (r) => setKinds(r.kinds),
        () => undefined,
      ),
    [],
  );
  return kinds;
}

/** The scenarios and the drills' status (the running one and the past ones), read every 3 s. */
function useDrills() {
  const [scenarios, setScenarios] = useState<Scenario[] | null>(null);
  const [status, setStatus] = useState<DrillStatus | null>(null);
  const load = () => {
    api<{ scenarios: Scenario[] }>('/api/drills/scenarios').then(
      (r) => setScenarios(r.scenarios),
      () => setScenarios([]),
    );
    api<DrillStatus>('/api/drills').then(setStatus, () => setStatus(null));
  };
  useEffect(() => {
    load();
    return every(3000, load);
  }, []);
  return { scenarios, status, load };
}

/**
 * The report on screen: the running drill's, else the past drill picked (setShown), read every
 * 3 s; scorecard is the section it is drawn in.
 */
function useDrillReport(status: DrillStatus | null) {
  const [shown, setShown] = useState<string | null>(null);
  const reportOf = status?.current?.id ?? shown;
  const report = useLoad<Report>(reportOf ? `/api/drills/${encodeURIComponent(reportOf)}/report` : null, 3000).data;
  const scorecard = useRef<HTMLElement>(null);
  // A past drill's report opens above the list it was picked from: bring it into view once.
  useEffect(() => {
    if (shown && report?.id === shown && !status?.current) scorecard.current?.scrollIntoView({ block: 'start' });
  }, [shown, report?.id]);
  // When the running drill ends, its report stays on screen, now final: the report afterwards.
  const lastCurrent = useRef<string | null>(null);
  useEffect(() => {
    const id = status?.current?.id ?? null;
    if (lastCurrent.current && !id) setShown(lastCurrent.current);
    lastCurrent.current = id;
  }, [status?.current?.id]);
  return { report, reportOf, setShown, scorecard };
}

/** The report's steps and tasks, each against its target. */
function responseTables(report: Report) {
  return html`<h4>${t('stepsAgainstTarget')}</h4>
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
      </table>`;
}

/** A drill's scorecard: the score, the faults injected, the alarms expected, the acknowledgements, steps and tasks. */
function Scorecard({
  report,
  reportOf,
  kindTitle,
  sectionRef,
}: {
  report: Report;
  reportOf: string | null;
  kindTitle: (k: string) => string;
  sectionRef: Ref<HTMLElement>;
}) {
  return html`<section class="card scorecard" data-testid="scorecard" ref=${sectionRef}>
      <h3>${t('scoreTitle')} · ${tx(report.title)} · ${statusWord(report.status)} <span class="muted">${reportOf} · ${t('startedBy')} ${report.startedBy}</span></h3>
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
        ${report.alarms.map((a) => html`<tr><td>${mark(a.met)}</td><td>${kindTitle(a.kind)}</td><td>${a.device}</td><td class="muted">${a.dueBy ? time(a.dueBy) : '—'}</td><td>${a.raisedAt ? time(a.raisedAt) : '—'}</td></tr>`)}
      </table>
      <h4>${t('ackTimes')}</h4>
      <table data-testid="drill-acks">
        <tr><th>${t('colOutcome')}</th><th>${t('colKind')}</th><th>${t('colDevice')}</th><th>${t('colRaisedAt')}</th><th>${t('colAckAt')}</th><th class="n">${t('colTook')}</th><th class="n">${t('colTarget')}</th><th>${t('colBy')}</th></tr>
        ${report.acks.map(
          (a) =>
            html`<tr data-alarm=${a.alarmId}><td>${outcome(a.outcome, true)}</td><td>${kindTitle(a.kind)}</td><td>${a.device}</td><td class="muted">${time(a.raisedAt)}</td><td>${a.acknowledgedAt ? time(a.acknowledgedAt) : '—'}</td><td class="n">${a.ackAfterS === null ? '—' : `${a.ackAfterS} ${t('secondsShort')}`}</td><td class="n muted">${a.targetS} ${t('secondsShort')}</td><td>${a.by ?? ''}</td></tr>`,
        )}
      </table>
      ${responseTables(report)}
    </section>`;
}

/** The past drills, each with a button to show its report (or a note that it is shown). */
function DrillHistory({
  history,
  reportOf,
  onShow,
}: {
  history: DrillJson[];
  reportOf: string | null;
  onShow: (id: string) => void;
}) {
  return history.length === 0
    ? html`<p class="muted">${t('noPastDrills')}</p>`
    : html`<ul class="drill-history" data-testid="drill-history">${history.map(
        (d) =>
          html`<li data-drill=${d.id}>${tx(d.title)} · <span data-status=${d.status}>${statusWord(d.status)}</span> · ${time(d.startedAt)} <span class="muted">${d.id}</span> ${
            d.status === 'running'
              ? ''
              : reportOf === d.id
                ? html`<span class="muted">(${t('reportShown')})</span>`
                : html`<button type="button" data-testid="show-report" onClick=${() => onShow(d.id)}>${t('showReport')}</button>`
          }</li>`,
      )}</ul>`;
}

/** Start and stop a scenario (operators); the live scorecard of the running drill, and past drills' reports. */
export function DrillsView({ me }: { me: Me }) {
  const [error, setError] = useState('');
  const kinds = useKinds();
  const { scenarios, status, load } = useDrills();
  const { report, reportOf, setShown, scorecard } = useDrillReport(status);
  const act = async (path: string, body: unknown) => {
    try {
      setError('');
      await api(path, { method: 'POST', body });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const kindTitle = (k: string) => tx(kinds[k]?.title) || k;
  if (scenarios === null) return html`<p class="loading">…</p>`;
  if (!status?.available) return html`<p class="empty">${t('noDrills')}</p>`;
  return html`<div>
    ${status.current && html`<div class="drill-banner">${t('drillRunning')} · ${tx(status.current.title)} · ${status.current.id}</div>`}
    ${error && html`<p class="error">${error}</p>`}
    ${canAct(me) && status.current && html`<p><button class="danger" data-testid="stop-drill" onClick=${() => act('/api/drills/stop', {})}>${t('stopDrill')}</button></p>`}
    ${report && html`<${Scorecard} report=${report} reportOf=${reportOf} kindTitle=${kindTitle} sectionRef=${scorecard} />`}
    <h2>${t('scenarios')}</h2>
    <div class="scenarios" data-testid="scenarios">${scenarios.map((s) => html`<${ScenarioCard} key=${s.name} s=${s} kinds=${kinds} canStart=${canAct(me) && !status.current} onStart=${() => act('/api/drills', { scenario: s.name })} />`)}</div>
    <h2>${t('pastDrills')}</h2>
    <${DrillHistory} history=${status.history} reportOf=${reportOf} onShow=${setShown} />
  </div>`;
}
