import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { t, tx } from '../i18n.js';
import type { Device, Site } from '../types.js';
import { useAlarms } from './alarms.js';
import { buildModel, lossOf, STATES, type EstateModel } from './estate/model.js';
import { STATE_WORD } from './estate/names.js';
import { PowerLine } from './estate/power.js';
import { Section } from './estate/section.js';
import { every } from '../clock.js';

// The estate as a duty room looks at it: each building in section (floors, flats, plant
// rooms, lifts) above its power single-line, coloured by state; the whole demo estate on one
// wall screen. Every cell, car and supply links to its device.

export function EstateView({ site }: { site: Site }) {
  const [devices, setDevices] = useState<Device[]>([]);
  const { alarms, kinds } = useAlarms();
  // Devices every 5 s, and again whenever the alarms change, so a cut and the dark devices it
  // explains are drawn together rather than one refresh apart.
  useEffect(() => {
    const load = () => void api<{ devices: Device[] }>('/api/devices').then((r) => setDevices(r.devices));
    load();
    return every(5000, load);
  }, [alarms]);
  if (!devices.length) return html`<p class="loading">…</p>`;
  const m = buildModel(site, devices, alarms, kinds);
  return html`<div class="estate-view" data-testid="estate">
    <${Legend} />
    <div class="estate">${site.buildings.map((b) => html`<${BuildingCard} m=${m} b=${b} />`)}</div>
  </div>`;
}

/** The colours, then the symbols of plant and lifts, in words. */
function Legend() {
  const item = (shape: unknown, word: Parameters<typeof t>[0]) =>
    html`<span class="legend-item"><svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">${shape}</svg>${t(word)}</span>`;
  return html`<div class="estate-legend">
    ${STATES.map((s) => item(html`<rect class=${`cell st-${s}`} x="2" y="2" width="12" height="12" rx="2" />`, STATE_WORD[s]))}
    ${item(html`<circle class="pump-run" cx="8" cy="8" r="7" /><path class="pump-mark" fill="#fff" d="M6 4.5 L11.5 8 L6 11.5 Z" />`, 'estRunning')}
    ${item(html`<circle class="pump-stop" cx="8" cy="8" r="7" /><rect fill="#546e7a" x="5.5" y="5.5" width="5" height="5" />`, 'estStopped')}
    ${item(html`<circle class="pump-fault" cx="8" cy="8" r="7" /><text class="glyph-text" x="8" y="12" text-anchor="middle">!</text>`, 'estFault')}
    ${item(html`<g class="car"><rect class="car-body" x="2" y="1" width="12" height="14" rx="2" /><g class="car-person"><circle cx="8" cy="5" r="2.5" /><rect x="5.5" y="8" width="5" height="6" rx="1.5" /></g></g>`, 'estOccupied')}
    ${item(html`<line class="wire lost" x1="0" y1="8" x2="16" y2="8" />`, 'estLost')}
  </div>`;
}

function BuildingCard({ m, b }: { m: EstateModel; b: Site['buildings'][number] }) {
  const mine = [...m.devices.values()].filter((d) => d.place.building === b.id);
  // Each lost supply once, at its cause, with how many devices hang from it: the reason the grey is grey.
  const roots = new Map<string, { why: string; count: number }>();
  for (const d of mine) {
    const loss = lossOf(m, d.id);
    if (!loss) continue;
    const r = roots.get(loss.root) ?? { why: tx(loss.why), count: 0 };
    r.count += 1;
    roots.set(loss.root, r);
  }
  const incomer = mine.find((d) => m.topo.get(d.id)?.circuit === 'incomer');
  const powerLost = incomer !== undefined && m.lost.has(incomer.id);
  return html`<section class="card estate-building" data-building=${b.id}>
    <h3>${tx(b.name)} ${incomer && html`<span class=${`pill ${powerLost ? 'down' : 'ok'}`} data-power-state=${powerLost ? 'lost' : 'ok'}>${t('power')}: ${powerLost ? t('powerLost') : t('powerOk')}</span>`}</h3>
    ${[...roots].map(([root, r]) => html`<p class="no-supply" data-no-supply-root=${root}>${t('estNoSupply')}: ${root} — ${r.why} · ${r.count} ${t('estDevicesNoPower')}</p>`)}
    <div class="estate-scroll"><${Section} m=${m} b=${b} /></div>
    <div class="estate-scroll"><${PowerLine} m=${m} building=${b.id} /></div>
  </section>`;
}
