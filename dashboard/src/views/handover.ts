import { useEffect, useState } from 'preact/hooks';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { t, time, tx, type Text } from '../i18n.js';

// The shift handover (S003 §3.6, §4.8–4.9) as GET /api/handover answers it: the current shift,
// what the next shift inherits (drills marked), the handover waiting to be confirmed, and the
// buttons to hand over, to confirm taking over, and to print the sheet.

interface HandoverCase {
  id: string;
  title: Text;
  drill?: string;
  owner?: string;
  moves: boolean;
  overdue: { step: string; title: Text }[];
}
interface Handover {
  id: string;
  from: string;
  to: string;
  note?: string;
  at: number;
  inWindow: boolean;
  status: 'pending' | 'confirmed' | 'cancelled';
  confirmedAt?: number;
  cases: HandoverCase[];
}
interface ShiftReport {
  shift: { id: string; name: Text; from: number; to: number; handover: { from: number; to: number } };
  open: {
    id: string;
    title: Text;
    drill?: string;
    owner?: string;
    ownedForMin?: number;
    pending: { step: string; title: Text; overdue: boolean }[];
  }[];
  opened: { id: string; title: Text; at: number; drill?: string }[];
  closed: { id: string; title: Text; at: number }[];
  handovers: Handover[];
  people: { username: string; name?: Text }[];
}

const STATUS = { pending: 'handoverPending', confirmed: 'handoverConfirmed', cancelled: 'handoverCancelled' } as const;

/** The shift report (GET /api/handover), the last error, and act: post, then read the report again. */
function useHandover() {
  const [r, setR] = useState<ShiftReport | null>(null);
  const [error, setError] = useState('');
  const load = () => void api<ShiftReport>('/api/handover').then(setR, (e: Error) => setError(e.message));
  useEffect(load, []);
  const act = async (path: string, body: unknown) => {
    setError('');
    try {
      await api(path, { method: 'POST', body });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return { r, error, act };
}

type Act = (path: string, body: unknown) => Promise<void>;

/** A handover to me, waiting for me to confirm that I take over. */
function handoverToMe(h: Handover, who: (u: string) => string, act: Act) {
  return html`<div class="notice" data-testid="handover-for-me">
        ${t('handoverToYou')}: <b>${who(h.from)}</b> · ${time(h.at)} · ${h.cases.filter((c) => c.moves).length} ${t('casesMove')}
        ${h.note && html`<p class="note">${h.note}</p>`}
        <button class="primary" data-testid="confirm-handover" onClick=${() => act(`/api/handovers/${h.id}/confirm`, {})}>${t('confirmTakeOver')}</button>
        <a href=${`/api/handovers/${h.id}/sheet`} target="_blank">${t('printSheet')}</a>
      </div>`;
}

/** The open cases: each with its owner (and for how long) and its overdue steps. */
function openCasesTable(r: ShiftReport, who: (u: string) => string) {
  return html`<table class="compact">
      <tr><th>${t('incident')}</th><th>${t('owner')}</th><th>${t('overdueSteps')}</th></tr>
      ${r.open.map(
        (o) =>
          html`<tr class=${o.drill ? 'drill' : ''}><td><a href=${`#/incidents/${o.id}`}>${o.id}</a> ${tx(o.title)}${o.drill ? html` <span class="drill-tag">${t('drillWord')}</span>` : ''}</td><td>${o.owner ? who(o.owner) : '—'}${o.ownedForMin !== undefined ? html` <span class="muted">${o.ownedForMin} min</span>` : ''}</td><td>${
            o.pending
              .filter((p) => p.overdue)
              .map((p) => tx(p.title))
              .join('; ') || '—'
          }</td></tr>`,
      )}
    </table>`;
}

/** My handover waiting to be confirmed; else, for those who may act, the form to hand over. */
function myHandover(r: ShiftReport, me: Me, who: (u: string) => string, act: Act) {
  const mine = r.handovers.find((h) => h.status === 'pending' && h.from === me.username);
  return mine
    ? html`<div class="notice" data-testid="my-handover">${t('handoverWaiting')} <b>${who(mine.to)}</b> (${time(mine.at)}${mine.inWindow ? '' : `, ${t('outsideWindow')}`})
          <a href=${`/api/handovers/${mine.id}/sheet`} target="_blank">${t('printSheet')}</a>
          <button onClick=${() => act(`/api/handovers/${mine.id}/cancel`, {})}>${t('cancel')}</button></div>`
    : canAct(me) &&
        html`<form class="case-actions" data-testid="handover-form" onSubmit=${(e: Event) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          const note = String(f.get('note') ?? '').trim();
          void act('/api/handover', { to: String(f.get('to')), ...(note ? { note } : {}) });
        }}>
          <label>${t('handOverTo')} <select name="to" required>${r.people.filter((p) => p.username !== me.username).map((p) => html`<option value=${p.username}>${tx(p.name) || p.username}</option>`)}</select></label>
          <textarea name="note" rows="2" placeholder=${t('handoverNote')}></textarea>
          <button type="submit" class="primary">${t('handOverShift')}</button>
        </form>`;
}

export function HandoverCard({ me }: { me: Me }) {
  const { r, error, act } = useHandover();
  if (!r) return html`<section class="card"><h3>${t('handover')}</h3><p class="loading">${error || '…'}</p></section>`;
  const forMe = r.handovers.filter((h) => h.status === 'pending' && h.to === me.username);
  const who = (u: string) => tx(r.people.find((p) => p.username === u)?.name) || u;
  return html`<section class="card" data-testid="handover">
    <h3>${t('handover')} · ${tx(r.shift.name)} <span class="muted">${time(r.shift.from)} – ${time(r.shift.to)} · ${t('handoverWindow')} ${time(r.shift.handover.from)} – ${time(r.shift.handover.to)}</span></h3>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${forMe.map((h) => handoverToMe(h, who, act))}
    <p>${t('openCases')}: ${r.open.length}</p>
    ${openCasesTable(r, who)}
    <p class="muted">${t('thisShift')}: ${r.opened.length} ${t('openedWord')} · ${r.closed.length} ${t('closedWord')}</p>
    ${myHandover(r, me, who, act)}
    ${
      r.handovers.length > 0 &&
      html`<ul class="muted">${r.handovers.map((h) => html`<li>${h.id} · ${who(h.from)} → ${who(h.to)} · ${time(h.at)} · ${t(STATUS[h.status])} <a href=${`/api/handovers/${h.id}/sheet`} target="_blank">${t('printSheet')}</a></li>`)}</ul>`
    }
  </section>`;
}
