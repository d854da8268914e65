import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { ago, t, time, tx, type Text, type Word } from '../i18n.js';
import { every, serverNow } from '../clock.js';

// The gateway's own parts, live (GET /health every 5 s): the duty room must see when the
// monitor itself is blind. A part that cannot be asked is shown as unknown, never as the
// last answer: nothing is called healthy on stale evidence.

type Status = 'ok' | 'degraded' | 'down';
type Component = { status: Status; detail?: string; [k: string]: unknown };
export interface Health {
  status: Status;
  components: Record<string, Component>;
}
/** The last answer, when it came, and whether the last try failed. */
export interface HealthState {
  health: Health | null;
  at: number | null;
  unreachable: boolean;
}

const PERIOD_MS = 5000;

/** Polls /health (public; answers 503 while a part is degraded or down, with the same body). */
export function useHealth(): HealthState {
  const [state, setState] = useState<HealthState>({ health: null, at: null, unreachable: false });
  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const res = await fetch('/health', { credentials: 'same-origin' });
        const body = (await res.json()) as Health;
        if (!stopped) setState({ health: body, at: serverNow(), unreachable: false });
      } catch {
        if (!stopped) setState((s) => ({ ...s, unreachable: true }));
      }
    };
    void load();
    const stop = every(PERIOD_MS, () => void load());
    return () => {
      stopped = true;
      stop();
    };
  }, []);
  return state;
}

/** The colour a part or the whole shows: its status, or unknown when the gateway does not answer. */
export function shownStatus(s: HealthState, status: Status | undefined): Status | 'unknown' {
  return s.unreachable || status === undefined ? 'unknown' : status;
}

const RANK: Record<Status, number> = { ok: 0, degraded: 1, down: 2 };
const STATUS_WORD: Record<Status | 'unknown', Word> = {
  ok: 'statusOk',
  degraded: 'statusDegraded',
  down: 'statusDown',
  unknown: 'statusUnknown',
};

/** The parts in the order readings flow through them. */
const PARTS: { id: string; title: Text }[] = [
  { id: 'broker', title: { zh: 'MQTT 服务', en: 'MQTT broker' } },
  { id: 'mqtt', title: { zh: 'MQTT 接入', en: 'MQTT intake' } },
  { id: 'modbus', title: { zh: 'Modbus 轮询', en: 'Modbus polling' } },
  { id: 'rules', title: { zh: '告警规则', en: 'Alarm rules' } },
  { id: 'incidents', title: { zh: '事件与预案', en: 'Incidents and playbooks' } },
  { id: 'store', title: { zh: '数据库写入', en: 'Database writes' } },
  { id: 'spool', title: { zh: '本地暂存', en: 'Spool (readings waiting for the database)' } },
  { id: 'influxd', title: { zh: '本地数据库进程', en: 'Local InfluxDB process' } },
  { id: 'reports', title: { zh: '定时报表', en: 'Scheduled reports' } },
  { id: 'heating_reports', title: { zh: '供热日报（报总公司）', en: 'Daily heating report (to head office)' } },
];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}
function duration(s: number): string {
  return ago(serverNow() - s * 1000);
}

/** Everything the broker turned away: refused and throttled logins and connections, publishes, subscribes, oversized packets. */
function refusedTotal(c: Component): number {
  return [
    'refusedLogins',
    'throttledLogins',
    'refusedConnections',
    'cutBeforeLogin',
    'refusedPublishes',
    'refusedSubscribes',
    'oversized',
  ].reduce((n, k) => n + (num(c[k]) ?? 0), 0);
}

/** The spool's figures: its depth, the room it uses, how long the oldest reading has waited. */
function spoolFigures(c: Component, add: (w: Word, v: string | undefined) => void) {
  add('depth', num(c.depth)?.toString());
  const b = num(c.bytes);
  const max = num(c.maxBytes);
  if (b !== undefined && max !== undefined)
    add('used', `${bytes(b)} / ${bytes(max)} (${((100 * b) / max).toFixed(0)} %)`);
  const age = num(c.oldestAgeS);
  if (age !== undefined) add('oldestWaiting', duration(age));
}

/** Figures a duty engineer reads for each part, as [label, value] pairs. */
function figures(id: string, c: Component): [Word, string][] {
  const out: [Word, string][] = [];
  const add = (w: Word, v: string | undefined) => v !== undefined && out.push([w, v]);
  switch (id) {
    case 'broker': {
      add('clients', num(c.clients)?.toString());
      add('refused', String(refusedTotal(c)));
      add('notKept', num(c.notKept)?.toString());
      add('restarts', num(c.restarts)?.toString());
      break;
    }
    case 'mqtt':
      add('messages', num(c.messages)?.toString());
      break;
    case 'modbus': {
      const d = c.devices as { configured?: number; online?: number; backedOff?: number } | undefined;
      if (d?.configured !== undefined) add('devicesOnline', `${d.online ?? 0} / ${d.configured}`);
      if (d?.backedOff) add('backedOff', String(d.backedOff));
      break;
    }
    case 'rules':
      add('firingAlarms', num(c.firing)?.toString());
      break;
    case 'incidents':
      add('openIncidents', num(c.open)?.toString());
      add('overdueSteps', num(c.overdue)?.toString());
      break;
    case 'store':
      add('driver', typeof c.driver === 'string' ? c.driver : undefined);
      add('waiting', num(c.waiting)?.toString());
      if (num(c.downSince) !== undefined) add('failingFor', ago(num(c.downSince)!));
      break;
    case 'spool':
      spoolFigures(c, add);
      break;
    case 'influxd':
      add('restarts', num(c.restarts)?.toString());
      add('lastExit', typeof c.lastExit === 'string' ? c.lastExit : undefined);
      break;
    case 'reports':
    case 'heating_reports':
      if (num(c.nextRunAt) !== undefined) add('nextRun', time(num(c.nextRunAt)!));
      if (typeof c.lastReport === 'string')
        add('lastReport', `${c.lastReport}${num(c.lastRunAt) !== undefined ? ` · ${time(num(c.lastRunAt)!)}` : ''}`);
      break;
  }
  return out;
}

type Line = {
  endpoint: string;
  connected?: boolean;
  reachable?: boolean;
  devices?: number;
  online?: number;
  queued?: number;
  lastAnswerAt?: number;
};

function ModbusLines({ lines }: { lines: Line[] }) {
  return html`<table class="lines" data-testid="modbus-lines">
    <tr><th>${t('line')}</th><th>${t('status')}</th><th class="n">${t('devicesOnline')}</th><th class="n wide-only">${t('queued')}</th><th>${t('lastAnswer')}</th></tr>
    ${lines.map((l) => {
      const state: Status = !l.reachable
        ? 'down'
        : !l.connected || (l.online ?? 0) < (l.devices ?? 0)
          ? 'degraded'
          : 'ok';
      return html`<tr data-line=${l.endpoint}>
        <td>${l.endpoint}</td>
        <td><span class=${`pill ${state}`}>${t(STATUS_WORD[state])}</span></td>
        <td class="n">${l.online ?? '?'} / ${l.devices ?? '?'}</td>
        <td class="n wide-only">${l.queued ?? 0}</td>
        <td>${l.lastAnswerAt ? `${ago(l.lastAnswerAt)}` : '—'}</td>
      </tr>`;
    })}
  </table>`;
}

export function HealthView({ state }: { state: HealthState }) {
  const [, tick] = useState(0);
  useEffect(() => {
    return every(1000, () => tick((n) => n + 1));
  }, []);
  const { health, at, unreachable } = state;
  const overall = shownStatus(state, health?.status);
  const known = new Set(PARTS.map((p) => p.id));
  const parts = [
    ...PARTS,
    ...Object.keys(health?.components ?? {})
      .filter((id) => !known.has(id))
      .map((id) => ({ id, title: { zh: id, en: id } })),
  ];
  return html`<div data-testid="health">
    <p class="health-summary">
      <span class=${`pill big ${overall}`} data-testid="health-overall">${t(STATUS_WORD[overall])}</span>
      ${' '}${unreachable ? html`<b class="error">${t('healthUnreachable')}</b>` : t(overall === 'ok' ? 'healthAllOk' : 'healthSomeFail')}
      ${at !== null && html` <span class="muted">· ${t('asOf')} ${time(at)} (${ago(at)})</span>`}
      ${' '}<a href="#/alarms">${t('systemAlarmsOnBoard')}</a>
    </p>
    <div class="grid health-grid">
      ${parts
        .filter((p) => health?.components[p.id])
        // What fails first: the duty engineer reads the top of the page.
        .sort((a, b) => RANK[health!.components[b.id]!.status] - RANK[health!.components[a.id]!.status])
        .map((p) => {
          const c = health!.components[p.id]!;
          const s = shownStatus(state, c.status);
          return html`<section class=${`card part ${s}`} data-part=${p.id}>
            <h3><span class=${`pill ${s}`}>${t(STATUS_WORD[s])}</span> ${tx(p.title)}</h3>
            <dl>${figures(p.id, c).map(([w, v]) => html`<dt>${t(w)}</dt><dd>${v}</dd>`)}</dl>
            ${p.id === 'modbus' && Array.isArray(c.endpoints) && c.endpoints.length > 0 && html`<${ModbusLines} lines=${c.endpoints as Line[]} />`}
            ${c.detail && html`<p class="muted detail"><span class="detail-label">${t('technicalDetail')}:</span> ${c.detail}</p>`}
          </section>`;
        })}
    </div>
  </div>`;
}
