import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Me } from '../api.js';
import { HandoverCard } from './handover.js';
import { html } from '../html.js';
import { ANOMALY_TITLES, SEVERITY_WORD, t, time, tx, type Word } from '../i18n.js';
import { localDate } from '../../../rules/local-time.js';
import { addDays } from '../../../rules/reports/calendar.js';
import type { MeterAnomaly, MeterKind, MeterReport, MeterRow, Site } from '../types.js';

interface StoredReport {
  name: string;
  schedule: 'daily' | 'monthly';
  from: string;
  to: string;
  generatedAt: number;
  anomalies: number;
  drill: boolean;
}

const KIND_WORD = { water_meter: 'waterMeter', electricity_meter: 'electricityMeter' } as const satisfies Record<
  MeterKind,
  Word
>;
const UNIT = { water_meter: 'm³', electricity_meter: 'kWh' } as const satisfies Record<MeterKind, string>;

/** A kind newer than this page is shown by its id rather than not at all. */
const anomalyTitle = (kind: string) => tx(ANOMALY_TITLES[kind]) || kind;

/** Where the shown report comes from; the CSV and printable links ask the same source. */
interface Source {
  path: string;
  query: Record<string, string>;
  /** A stored report's name, shown above it; an asked-for report is named by its period. */
  stored?: string;
}
const link = (s: Source, extra: Record<string, string>) =>
  `${s.path}?${new URLSearchParams({ ...s.query, ...extra }).toString()}`;

/** The shift handover, and the meter-anomaly reports: on demand for any period and building, and the scheduled ones kept by the gateway. */
export function ReportsView({ me }: { me: Me }) {
  const [site, setSite] = useState<Site | null>(null);
  useEffect(() => {
    // Fetched here (not the copy the page loaded at login) so "the last 7 days" start from the gateway's clock now.
    void api<Site>('/api/site').then(setSite, () => setSite(null));
  }, []);
  return html`<div>
    <${HandoverCard} me=${me} />
    ${site ? html`<${MeterReports} site=${site} />` : html`<p class="loading">…</p>`}
  </div>`;
}

/** The reports the gateway stored on its schedule, newest first; 'absent' when it keeps none. */
function useStoredReports() {
  const [stored, setStored] = useState<StoredReport[] | 'absent' | null>(null);
  const [storedError, setStoredError] = useState('');
  useEffect(() => {
    api<{ reports: StoredReport[] }>('/api/reports/meters/stored').then(
      (r) => setStored([...r.reports].sort((a, b) => b.generatedAt - a.generatedAt || b.name.localeCompare(a.name))),
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setStored('absent');
        else setStoredError((e as Error).message);
      },
    );
  }, []);
  return { stored, storedError };
}

/** The report shown and load(source) to ask for another; only the last one asked for is shown. */
function useMeterReport() {
  const [report, setReport] = useState<{ data: MeterReport; source: Source } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  // A slower answer to an earlier request must not replace the report asked for last.
  const asked = useRef(0);
  const load = async (source: Source) => {
    const n = ++asked.current;
    setBusy(true);
    setError('');
    // The old report goes at once: it must not be read as the answer to the new question.
    setReport(null);
    try {
      const data = await api<MeterReport>(link(source, {}));
      if (n === asked.current) setReport({ data, source });
    } catch (e) {
      if (n === asked.current) setError((e as Error).message);
    } finally {
      if (n === asked.current) setBusy(false);
    }
  };
  return { report, busy, error, load };
}

/** The stored reports, each with its printable link and a button to show it here. */
function storedReportsList(stored: StoredReport[] | null, storedError: string, load: (s: Source) => Promise<void>) {
  return storedError
    ? html`<p class="error">${storedError}</p>`
    : stored === null
      ? html`<p class="loading">…</p>`
      : stored.length === 0
        ? html`<p class="empty">${t('noStoredReports')}</p>`
        : html`<table>${stored.map(
            (s) => html`<tr data-stored=${s.name}>
                  <td>${t(s.schedule)}</td>
                  <td>${s.from === s.to ? s.from : `${s.from} – ${s.to}`}</td>
                  <td class="n">${t('anomalies')}: ${s.anomalies}</td>
                  <td>${s.drill ? html`<span class="drill-tag">${t('includesDrill')}</span>` : ''}</td>
                  <td class="muted">${t('generated')} ${time(s.generatedAt)}</td>
                  <td><a href=${`/api/reports/meters/stored/${encodeURIComponent(s.name)}?format=html`} target="_blank" rel="noopener">${t('report')}</a></td>
                  <td><button type="button" onClick=${() => load({ path: `/api/reports/meters/stored/${encodeURIComponent(s.name)}`, query: {}, stored: s.name })}>${t('show')}</button></td>
                </tr>`,
          )}</table>`;
}

function MeterReports({ site }: { site: Site }) {
  // The last 7 full days in the site's time zone: yesterday and the six days before it.
  const today = localDate(site.now, site.timezone);
  const [from, setFrom] = useState(addDays(today, -7));
  const [to, setTo] = useState(addDays(today, -1));
  const [building, setBuilding] = useState('');
  const { report, busy, error, load } = useMeterReport();
  const { stored, storedError } = useStoredReports();
  const submit = (e: Event) => {
    e.preventDefault();
    void load({ path: '/api/reports/meters', query: { from, to, ...(building ? { building } : {}) } });
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

  if (stored === 'absent')
    return html`<section class="card"><h3>${t('meterReports')}</h3><p class="empty" data-testid="reports-unavailable">${t('reportsUnavailable')}</p></section>`;
  return html`<div>
    <section class="card" data-testid="meter-reports"><h3>${t('meterReports')}</h3>
      <form class="inline report-form" onSubmit=${submit}>
        <label>${t('fromDate')} <input type="date" name="from" required value=${from} onInput=${value(setFrom)} /></label>
        <label>${t('toDate')} <input type="date" name="to" required value=${to} onInput=${value(setTo)} /></label>
        <label>${t('building')} <select name="building" value=${building} onChange=${value(setBuilding)}>
          <option value="">${t('allBuildings')}</option>
          ${site.buildings.map((b) => html`<option value=${b.id}>${tx(b.name)} (${b.id})</option>`)}
        </select></label>
        <button class="primary" type="submit" disabled=${busy}>${busy ? t('making') : t('makeReport')}</button>
      </form>
      ${error && html`<p class="error" data-testid="report-error">${t('reportFailed')}: ${error}</p>`}
      ${report && html`<${ReportBody} report=${report.data} source=${report.source} />`}
    </section>
    <section class="card" data-testid="stored-reports"><h3>${t('storedReports')}</h3>
      ${storedReportsList(stored, storedError, load)}
    </section>
  </div>`;
}

function ReportBody({ report: r, source }: { report: MeterReport; source: Source }) {
  const rows = new Map(r.meters.map((m) => [m.id, m]));
  const byMeter = new Map<string, MeterAnomaly[]>();
  for (const a of r.anomalies) byMeter.set(a.meter, [...(byMeter.get(a.meter) ?? []), a]);
  const counted = Object.entries(r.counts).filter(([, n]) => n > 0);
  const rollovers = r.meters.flatMap((m) => m.rollovers);
  const csv = (table: string, word: Word) =>
    html`<a href=${link(source, { format: 'csv', table })} data-csv=${table}>${t(word)}</a>`;
  return html`<div data-testid="meter-report">
    ${r.drills.length > 0 && html`<div class="drill-banner" data-testid="report-drill">${t('reportDrill')} · ${r.drills.map((d) => tx(d.title) || d.scenario).join(', ')}</div>`}
    <p class="muted">${source.stored ? `${source.stored} · ` : ''}${t('period')} ${r.from} – ${r.to} (${r.timeZone})${r.building ? ` · ${r.building}` : ''} · ${t('dataTo')} ${time(r.end)} · ${t('generated')} ${time(r.generatedAt)}</p>
    <p class="downloads">${t('download')}: ${csv('anomalies', 'csvAnomalies')} ${csv('totals', 'csvTotals')} ${csv('daily', 'csvDaily')}
      <a href=${link(source, { format: 'html' })} target="_blank" rel="noopener" data-testid="report-printable">${t('report')}</a></p>
    <h4>${t('totalsPerBuilding')}</h4>
    <table data-testid="report-totals">
      <tr><th>${t('building')}</th><th>${t('meterKind')}</th><th class="n">${t('meterCount')}</th><th class="n">${t('reporting')}</th><th class="n">${t('use')}</th><th class="n">${t('anomalies')}</th></tr>
      ${r.totals.map(
        (x) => html`<tr data-building=${x.building} data-kind=${x.meterKind}>
          <td>${tx(x.buildingName) || x.building}</td><td>${t(KIND_WORD[x.meterKind])}</td><td class="n">${x.meters}</td><td class="n">${x.reporting}</td>
          <td class="n">${x.total} ${x.unit}</td><td class="n">${x.anomalies}</td></tr>`,
      )}
    </table>
    <h4>${t('anomalies')}: ${r.anomalies.length}</h4>
    ${
      counted.length === 0
        ? html`<p class="empty">${t('noAnomalies')}</p>`
        : html`<ul class="counts" data-testid="report-counts">${counted.map(([kind, n]) => html`<li data-count=${kind}>${anomalyTitle(kind)}: <b>${n}</b></li>`)}</ul>`
    }
    <div class="grid meters">${[...byMeter].map(([id, list]) => {
      const m = rows.get(id);
      const first = list[0]!;
      return html`<section class="meter-anomalies" data-meter=${id}>
        <h4>${id} <span class="muted">· ${first.building}${first.unit ? ` · ${first.unit}` : ''}${m?.vacant ? ` · ${t('vacant')}` : ''} · ${t(KIND_WORD[first.meterKind])}</span></h4>
        ${m && html`<${UseChart} meter=${m} flagged=${flaggedDays(list, r.timeZone)} />`}
        <ul>${list.map(
          (a) => html`<li data-anomaly=${a.kind}>
            <b class="anomaly-title">${anomalyTitle(a.kind)}</b> <span class=${`sev ${a.severity}`}>${t(SEVERITY_WORD[a.severity])}</span>
            <div class="muted">${time(a.from)} – ${time(a.to)}</div>
            <div class="evidence">${tx(a.evidence)}</div>
          </li>`,
        )}</ul>
        ${m && m.total !== null && html`<p class="muted">${t('useInPeriod')}: ${m.total} ${UNIT[m.kind]}</p>`}
      </section>`;
    })}</div>
    ${rollovers.length > 0 && html`<h4>${t('counterWraps')}</h4><ul>${rollovers.map((o) => html`<li>${o.meter} ${time(o.ts)}: ${o.before} → ${o.after} (${o.span})</li>`)}</ul>`}
  </div>`;
}

/** The days an anomaly covers, drawn red; a data gap is a missing reading, not a day's use, so its days are not. */
function flaggedDays(list: MeterAnomaly[], timeZone: string): Set<string> {
  const out = new Set<string>();
  for (const a of list) {
    if (a.kind === 'data_gap') continue;
    const last = localDate(Math.max(a.from, a.to - 1), timeZone);
    for (let d = localDate(a.from, timeZone); d <= last; d = addDays(d, 1)) out.add(d);
  }
  return out;
}

/** Daily use as bars (flagged days red, days without readings a grey stub): the shape a reader checks the evidence against. */
function UseChart({ meter, flagged }: { meter: MeterRow; flagged: Set<string> }) {
  const w = 240;
  const h = 48;
  const max = Math.max(...meter.days.map((d) => d.use ?? 0), 1e-9);
  const bw = w / Math.max(1, meter.days.length);
  const width = Math.max(1, bw - 1).toFixed(1);
  return html`<div class="use-chart"><svg width=${w} height=${h} viewBox=${`0 0 ${w} ${h}`} role="img" aria-label=${`${meter.id} ${t('dailyUse')}`}>
    ${meter.days.map((d, i) => {
      const x = (i * bw).toFixed(1);
      if (d.use === null)
        return html`<rect x=${x} y=${h - 2} width=${width} height="2" class="none"><title>${d.date}: ${t('noData')}</title></rect>`;
      const bar = Math.max(1, (Math.max(0, d.use) / max) * (h - 4));
      return html`<rect x=${x} y=${(h - bar).toFixed(1)} width=${width} height=${bar.toFixed(1)} class=${flagged.has(d.date) ? 'flagged' : 'normal'}><title>${d.date}: ${d.use} ${UNIT[meter.kind]}</title></rect>`;
    })}
  </svg><div class="muted axis"><span>${meter.days[0]?.date ?? ''}</span><span>${meter.days.at(-1)?.date ?? ''}</span></div></div>`;
}
