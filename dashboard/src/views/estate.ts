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
    // Meters in switch rooms are the building's incomer and its feeders; flats' meters are not supplies.
    const supplies = inB.filter((d) => d.kind === 'electricity_meter' && d.place.room !== undefined);
    const plant = inB.filter((d) => d.kind === 'pump' || d.kind === 'level_sensor' || d.kind === 'boiler');
    const floors = [...b.floors].reverse().filter((f) => inB.some((d) => d.place.floor === f.id));
    return html`<section class="card" data-building=${b.id}>
      <h3>${tx(b.name)}</h3>
      <p>${t('power')}: ${powered === undefined ? '—' : html`<span class=${powered ? 'power-ok' : 'power-lost'}>${powered ? t('powerOk') : t('powerLost')}</span>`}${typeof volts === 'number' ? html` <span class="muted">${volts} V</span>` : ''}</p>
      ${lifts.length > 0 && html`<p><b>${t('lifts')}</b>: ${lifts.map((l) => {
        const f = l.lastReading?.fields ?? {};
        return html`<div class="muted" data-lift=${l.id}>${l.id}: ${f.floor ?? '?'}F ${f.direction === 'up' ? '↑' : f.direction === 'down' ? '↓' : '■'} ${f.door ?? ''} ${f.occupied ? '👤' : ''} ${f.mode && f.mode !== 'normal' ? f.mode : ''}</div>`;
      })}</p>`}
      ${supplies.length > 0 && html`<p><b>${t('supplies')}</b>: ${supplies.map((m) => {
        const v = m.lastReading?.fields.voltage_l1_v;
        const ok = typeof v === 'number' && v > 187;
        return html`<span class=${`dev ${ok ? 'online' : 'alarm'}`} data-supply=${m.id}>${m.id} ${typeof v === 'number' ? `${v} V` : '—'}</span>`;
      })}</p>`}
      ${plant.length > 0 && html`<p><b>${t('plant')}</b>: ${plant.map((d) => html`<div class="muted" data-plant=${d.id}>${d.id}: ${keyValues(d)}</div>`)}</p>`}
      ${floors.map((f) => html`<div><span class="muted">${f.id}</span> ${inB.filter((d) => d.place.floor === f.id).map((d) => html`<a class=${`dev ${state(d)}`} href=${`#/devices/${d.id}`} title=${`${d.kind} · ${state(d)}`}>${d.id}</a>`)}</div>`)}
    </section>`;
  })}</div>`;
}

/** The values a duty engineer checks first, per kind of plant. */
function keyValues(d: Device): string {
  const f = d.lastReading?.fields ?? {};
  const on = (b: unknown, yes: string, no: string) => (b === true ? yes : b === false ? no : '?');
  if (!d.online) return t('offline');
  switch (d.kind) {
    case 'pump':
      return [on(f.running, '▶', '■'), f.fault === true ? '⚠ fault' : '', f.pressure_kpa !== undefined ? `${f.pressure_kpa} kPa` : '', f.flow_m3h !== undefined ? `${f.flow_m3h} m³/h` : ''].filter(Boolean).join(' ');
    case 'level_sensor':
      return [f.level_pct !== undefined ? `${f.level_pct} %` : '', f.high_float === true ? '⚠ high' : ''].filter(Boolean).join(' ');
    case 'boiler':
      return [f.supply_temp_c !== undefined ? `${f.supply_temp_c}/${f.return_temp_c ?? '?'} °C` : '', f.pressure_kpa !== undefined ? `${f.pressure_kpa} kPa` : '', on(f.burner_on, '🔥', 'off'), f.fault === true ? '⚠ fault' : ''].filter(Boolean).join(' ');
    default:
      return '';
  }
}
