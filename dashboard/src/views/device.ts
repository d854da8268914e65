import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../api.js';
import { html } from '../html.js';
import { serverNow, t, time } from '../i18n.js';
import type { Device } from '../types.js';

const RANGES = { '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 } as const;

/** One device: live values and a history chart from InfluxDB over a chosen range. */
export function DeviceView({ id }: { id: string }) {
  const [device, setDevice] = useState<Device | null>(null);
  const [range, setRange] = useState<keyof typeof RANGES>('1h');
  const chart = useRef<HTMLDivElement>(null);
  useEffect(() => {
    void api<Device>(`/api/devices/${encodeURIComponent(id)}`).then(setDevice);
  }, [id]);
  useEffect(() => {
    if (!device || !chart.current) return;
    const numeric = Object.entries(device.lastReading?.fields ?? {}).filter(([, v]) => typeof v === 'number').map(([k]) => k).slice(0, 4);
    if (numeric.length === 0) return;
    const to = serverNow();
    let plot: uPlot | undefined;
    void api<{ rows: { time: string; fields: Record<string, unknown> }[] }>(`/api/devices/${encodeURIComponent(id)}/readings?from=${new Date(to - RANGES[range]).toISOString()}&to=${new Date(to).toISOString()}&fields=${numeric.join(',')}&limit=5000`).then((r) => {
      const xs = r.rows.map((row) => Date.parse(row.time) / 1000);
      const series = numeric.map((f) => r.rows.map((row) => (typeof row.fields[f] === 'number' ? (row.fields[f] as number) : null)));
      chart.current!.innerHTML = '';
      plot = new uPlot({ width: Math.min(900, chart.current!.clientWidth || 900), height: 300, series: [{}, ...numeric.map((f, i) => ({ label: f, stroke: ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a'][i] }))] }, [xs, ...series] as uPlot.AlignedData, chart.current!);
    });
    return () => plot?.destroy();
  }, [device, range]);
  if (!device) return html`<p class="loading">…</p>`;
  return html`<div>
    <h2>${device.id} <span class="muted">${device.kind} · ${device.online ? t('online') : t('offline')}</span></h2>
    <div class="card"><table>${Object.entries(device.lastReading?.fields ?? {}).map(([k, v]) => html`<tr><td>${k}</td><td><b>${String(v)}</b></td></tr>`)}</table>
      <p class="muted">${device.lastReading ? time(device.lastReading.ts) : '—'}</p></div>
    <div class="card"><h3>${t('history')}</h3>
      <label>${t('range')} <select value=${range} onChange=${(e: Event) => setRange((e.target as HTMLSelectElement).value as keyof typeof RANGES)}>${Object.keys(RANGES).map((r) => html`<option value=${r}>${r}</option>`)}</select></label>
      <div ref=${chart} data-testid="chart"></div></div>
  </div>`;
}
