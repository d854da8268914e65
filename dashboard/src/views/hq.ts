import { useEffect, useState } from 'preact/hooks';
import { api, stream } from '../api.js';
import { html } from '../html.js';
import { SEVERITY_WORD, t, time, tx, type Text } from '../i18n.js';
import type { SiteView } from '../../../rules/hq/site-view.js';

// The head-office console (`dutyroom hq`): one card per site, its link (unreachable since …),
// its open alarms and incidents with overdue steps, drills marked, the escalations addressed
// to head office, and events known missing. Read-only.

/** The site id the head-office console's /api/site answers with: the page shows this view alone. */
export const HQ_SITE_ID = 'head-office';

/** What the HQ API sends: epoch ms, as the board holds them. */
type Site = SiteView & { name: Text | string };

function useSites(): Site[] | undefined {
  const [sites, setSites] = useState<Site[] | undefined>(undefined);
  useEffect(() => {
    // One request at a time: a burst of changes while one is on its way costs one more, not one each.
    let busy = false;
    let again = false;
    const load = (): void => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      void api<{ sites: Site[] }>('/api/hq/sites')
        .then((r) => setSites(r.sites))
        .catch(() => undefined)
        .finally(() => {
          busy = false;
          if (again) {
            again = false;
            load();
          }
        });
    };
    load();
    return stream('/api/hq/stream', 'site', load);
  }, []);
  return sites;
}

function linkLine(s: Site) {
  const l = s.link;
  if (l.state === 'unreachable')
    return html`<p class="hq-link down" data-testid="hq-link">
      <strong>${t('hqUnreachable')}</strong> ${t('hqSince')} ${time(l.since)} · ${t(`hqWhy_${l.why}`)}
    </p>`;
  if (l.state === 'reachable') return html`<p class="hq-link up" data-testid="hq-link">${t('hqReachable')}</p>`;
  return html`<p class="hq-link muted" data-testid="hq-link">${t('hqUnknown')}</p>`;
}

const drillTag = (drill: string | null) => drill !== null && html` <span class="drill-tag">${t('hqDrill')}</span>`;

function overdueSteps(i: Site['incidents'][number]) {
  const late = [
    ...i.steps.filter((s) => s.overdue).map((s) => ({ id: s.step, title: s.title as Text, dueAt: s.dueAt })),
    ...i.tasks.filter((x) => x.overdue).map((x) => ({ id: x.task, title: x.title as Text, dueAt: x.dueAt })),
  ];
  if (!late.length) return null;
  return html`<ul class="hq-overdue">
    ${late.map(
      (s) => html`<li key=${s.id}>${t('hqOverdue')}: ${tx(s.title)}${s.dueAt ? html` (${time(s.dueAt)})` : ''}</li>`,
    )}
  </ul>`;
}

function SiteCard({ s }: { s: Site }) {
  const down = s.link.state === 'unreachable';
  return html`<section class=${`card hq-site ${down ? 'unreachable' : ''}`} data-testid=${`hq-site-${s.site}`}>
    <h2>${tx(s.name)}</h2>
    ${linkLine(s)}
    ${
      s.missing.length > 0 &&
      html`<p class="hq-missing" data-testid="hq-missing">
      ${t('hqMissing')}: ${s.missing.map((m) => (m.from === m.to ? `#${m.from}` : `#${m.from}–${m.to}`)).join(', ')}
    </p>`
    }
    <h3>${t('alarms')} (${s.counts.realAlarms}${s.counts.drillAlarms ? ` + ${s.counts.drillAlarms} ${t('hqDrill')}` : ''})</h3>
    ${
      s.alarms.length === 0
        ? html`<p class="muted">${t('noAlarms')}</p>`
        : html`<ul class="hq-alarms">
          ${s.alarms.map(
            (a) => html`<li key=${a.alarmId} class=${a.drill !== null ? 'drill' : ''}>
              <span class=${`sev ${a.severity}`}>${t(SEVERITY_WORD[a.severity])}</span> ${`${tx(a.title)} · ${tx(a.place.text)} · ${time(a.since)}`}${drillTag(a.drill)}
            </li>`,
          )}
        </ul>`
    }
    <h3>${t('incidents')} (${s.counts.realIncidents})</h3>
    ${
      s.incidents.length === 0
        ? html`<p class="muted">${t('hqNoIncidents')}</p>`
        : html`<ul class="hq-incidents">
          ${s.incidents.map(
            (i) => html`<li key=${i.incidentId}>
              <span class=${`sev ${i.severity}`}>${t(SEVERITY_WORD[i.severity])}</span> ${`${tx(i.title)} · ${time(i.raisedAt)}`}${drillTag(i.drill)} ${overdueSteps(i)}
            </li>`,
          )}
        </ul>`
    }
    ${
      s.toHeadOffice.length > 0 &&
      html`<h3>${t('hqToHeadOffice')}</h3>
      <ul class="hq-escalations">
        ${s.toHeadOffice
          .slice(-5)
          .reverse()
          .map(
            (e) =>
              html`<li key=${e.seq}>${time(e.at)} · ${e.source === 'incident' ? tx(e.text) : ''}${drillTag(e.drill)}</li>`,
          )}
      </ul>`
    }
  </section>`;
}

export function HqView() {
  const sites = useSites();
  if (!sites) return html`<p class="loading">…</p>`;
  return html`<div class="hq-grid" data-testid="hq">${sites.map((s) => html`<${SiteCard} key=${s.site} s=${s} />`)}</div>`;
}
