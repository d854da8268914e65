import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { t, time, tx, type Text } from '../i18n.js';

interface Handover {
  open: { id: string; title: Text; owner?: string; ownedForMin?: number; pending: { step: string; title: Text; overdue: boolean }[] }[];
  opened: { id: string; title: Text; at: number }[];
  closed: { id: string; title: Text; at: number }[];
}

/** The shift handover now; meter-anomaly reports show an empty state until they exist. */
export function ReportsView() {
  const [handover, setHandover] = useState<Handover | null>(null);
  const [meters, setMeters] = useState<'none' | 'yes'>('none');
  useEffect(() => {
    void api<Handover>('/api/handover').then(setHandover, () => setHandover(null));
    api('/api/reports/meters').then(() => setMeters('yes'), () => setMeters('none'));
  }, []);
  return html`<div>
    <section class="card"><h3>${t('handover')}</h3>
      ${handover
        ? html`<p>${t('openCases')}: ${handover.open.length}</p>
          <ul>${handover.open.map((o) => html`<li><a href=${`#/incidents/${o.id}`}>${o.id}</a> ${tx(o.title)} — ${t('owner')}: ${o.owner ?? '—'}${o.ownedForMin !== undefined ? ` (${o.ownedForMin} min)` : ''}; ${o.pending.filter((p) => p.overdue).map((p) => tx(p.title)).join('; ')}</li>`)}</ul>
          <p class="muted">${handover.opened.map((o) => `${o.id} ${time(o.at)}`).join(' · ')}</p>`
        : html`<p class="empty">—</p>`}
    </section>
    <section class="card"><h3>${t('meterReports')}</h3>${meters === 'none' ? html`<p class="empty">${t('notYet')}</p>` : ''}</section>
  </div>`;
}
