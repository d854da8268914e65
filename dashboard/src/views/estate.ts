import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { t, tx } from '../i18n.js';
import type { Device, Site } from '../types.js';
import { useAlarms } from './alarms.js';

/** Buildings → floors → devices with their state; power per building; every lift live. */
export function EstateView({ site }: { site: Site }) {
  const [devices, setDevices] = useState<Device[]>([]);
  const { alarms } = useAlarms();
  useEffect(() => {
    const load = () => void api<{ devices: Device[] }>('/api/devices').then((r) => setDevices(r.devices));
    load();
    const id = setInterval(load, 5000);
    return () => clearInterval(id);
  }, []);
  const state = (d: Device) => {
    const mine = alarms.filter((a) => a.deviceId === d.id);
    if (mine.some((a) => !a.inhibitedBy)) return 'alarm';
    if (mine.length) return 'inhibited';
    return d.online ? 'online' : 'offline';
  };
  return html`<div class="grid">${site.buildings.map((b) => {
    const inB = devices.filter((d) => d.place.building === b.id);
    const incomer = inB.find((d) => d.kind === 'electricity_meter' && d.place.room?.includes('switch') && d.id.endsWith('incomer'));
    const volts = incomer?.lastReading?.fields.voltage_l1_v;
    const powered = typeof volts === 'number' ? volts > 187 : undefined;
    const lifts = inB.filter((d) => d.kind === 'lift');
    const floors = [...b.floors].reverse().filter((f) => inB.some((d) => d.place.floor === f.id));
    return html`<section class="card" data-building=${b.id}>
      <h3>${tx(b.name)}</h3>
      <p>${t('power')}: ${powered === undefined ? '—' : html`<span class=${powered ? 'power-ok' : 'power-lost'}>${powered ? t('powerOk') : t('powerLost')}</span>`}${typeof volts === 'number' ? html` <span class="muted">${volts} V</span>` : ''}</p>
      ${lifts.length > 0 && html`<p><b>${t('lifts')}</b>: ${lifts.map((l) => {
        const f = l.lastReading?.fields ?? {};
        return html`<div class="muted" data-lift=${l.id}>${l.id}: ${f.floor ?? '?'}F ${f.direction === 'up' ? '↑' : f.direction === 'down' ? '↓' : '■'} ${f.door ?? ''} ${f.occupied ? '👤' : ''} ${f.mode && f.mode !== 'normal' ? f.mode : ''}</div>`;
      })}</p>`}
      ${floors.map((f) => html`<div><span class="muted">${f.id}</span> ${inB.filter((d) => d.place.floor === f.id).map((d) => html`<a class=${`dev ${state(d)}`} href=${`#/devices/${d.id}`} title=${`${d.kind} · ${state(d)}`}>${d.id}</a>`)}</div>`)}
    </section>`;
  })}</div>`;
}
