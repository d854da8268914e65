import { html } from '../../html.js';
import { t, tx } from '../../i18n.js';
import type { Device } from '../../types.js';
import { deviceState, isStale, live, lossOf, LOST_BELOW, type EstateModel } from './model.js';
import { describe, fit, idTail, loadLabel, textWidth } from './names.js';
import { WIDTH } from './section.js';

// A building's power single-line: its incomer, the feeders under it, and what each feeds.
// A lost supply is drawn red and broken; everything under it grey. A meter's voltage is
// printed only while it is live: a feeder that went dark shows "no live value", never the
// 221 V it last sent.

const RH = 24;
const BOX = 180;
const BUS = 10;
const LOADS_X = BUS + 14 + BOX + 10;
const CHIP_H = 18;

interface Row {
  key: string;
  /** The feeder meter of the row, or none for a group of loads hanging on the incomer. */
  meter?: Device;
  label?: string;
  loads: Device[];
  /** Unit meters: one small square each instead of a named chip. */
  squares?: boolean;
}

/**
 * A meter's reading for the diagram: live volts, or words when there are none. On a lost
 * supply only a voltage that shows the loss is printed: a normal one there was read before
 * the cut (the page's last poll, a meter not yet timed out) and is not the supply's state.
 */
function volts(m: EstateModel, d: Device): { text: string; lost: boolean } {
  const v = live(d, 'voltage_l1_v');
  const lost = m.lost.has(d.id);
  if (!lost) return { text: typeof v === 'number' ? `${Math.round(v)} V` : t('estStale'), lost };
  const low = typeof v === 'number' && v < LOST_BELOW * (m.topo.get(d.id)?.nominalVoltage ?? 220);
  return { text: low ? `${Math.round(v)} V ${t('estLost')}` : t('estLost'), lost };
}

/** Lays chips left to right, wrapping: their x, y (row offsets) and the height used. */
function flow(
  widths: number[],
  x0: number,
  right: number,
  gap: number,
  lineH: number,
): { pos: { x: number; y: number }[]; height: number } {
  let x = x0;
  let y = 0;
  const pos = widths.map((w) => {
    if (x + w > right && x > x0) {
      x = x0;
      y += lineH;
    }
    const p = { x, y };
    x += w + gap;
    return p;
  });
  return { pos, height: y + lineH };
}

/** The rows under one incomer: its feeder meters, the loads it feeds directly, the unit meters. */
function supplyRows(inc: Device, fedBy: (id: string) => Device[]): Row[] {
  const under = fedBy(inc.id);
  const rows: Row[] = [];
  for (const f of under.filter((d) => d.kind === 'electricity_meter' && !d.place.unit))
    rows.push({ key: f.id, meter: f, loads: fedBy(f.id) });
  const direct = under.filter((d) => d.kind !== 'electricity_meter');
  if (direct.length) rows.push({ key: `${inc.id}-direct`, label: t('estDirect'), loads: direct });
  const units = under.filter((d) => d.kind === 'electricity_meter' && d.place.unit);
  if (units.length)
    rows.push({
      key: `${inc.id}-units`,
      label: `${t('estUnitMeters')} ×${units.length}`,
      loads: units,
      squares: true,
    });
  return rows;
}

/** A row's feeder box (or its group's name) on the bus. */
function feederBox(m: EstateModel, r: Row, rowTop: number, mid: number, lost: boolean) {
  if (!r.meter) return html`<text class="supply-text group" x=${BUS + 20} y=${mid + 4}>${r.label}</text>`;
  const reading = volts(m, r.meter);
  return html`<a href=${`#/devices/${r.meter.id}`} data-supply=${r.meter.id} data-state=${lost ? 'lost' : isStale(r.meter) ? 'stale' : 'live'}>
              <title>${describe(m, r.meter)}</title>
              <rect class=${`supply ${lost ? 'lost' : isStale(r.meter) ? 'stale' : 'ok'}`} x=${BUS + 14} y=${rowTop + 2} width=${BOX} height=${RH - 4} rx="3" />
              <text class="supply-text" x=${BUS + 20} y=${mid + 4}>${fit(idTail(r.meter), BOX - 62)}</text>
              <text class="supply-text value" x=${BUS + 14 + BOX - 6} y=${mid + 4} text-anchor="end">${reading.text}</text>
            </a>`;
}

/** One load: a named chip, or a small square for a unit meter. */
function loadChip(m: EstateModel, d: Device, p: { x: number; y: number }, width: number, cy: number, square?: boolean) {
  const state = deviceState(m, d.id);
  return html`<a href=${`#/devices/${d.id}`} data-load=${d.id} data-state=${state} data-no-supply=${lossOf(m, d.id) ? 'yes' : 'no'}>
            <title>${describe(m, d)}</title>
            ${
              square
                ? html`<rect class=${`cell st-${state}`} x=${p.x} y=${cy + 4} width="12" height="12" rx="2" />`
                : html`<rect class=${`cell st-${state}`} x=${p.x} y=${cy} width=${width} height=${CHIP_H} rx="3" /><text class="chip-text" x=${p.x + 6} y=${cy + 13}>${fit(loadLabel(m, d), width - 10)}</text>`
            }
          </a>`;
}

/** One row drawn from rowTop: the wire, the feeder and its loads; and the height it takes. */
function drawRow(m: EstateModel, inc: Device, r: Row, rowTop: number) {
  const widths = r.loads.map((d) => (r.squares ? 12 : Math.min(150, textWidth(loadLabel(m, d)) + 12)));
  const laid = flow(widths, LOADS_X, WIDTH - 2, r.squares ? 3 : 5, r.squares ? 15 : CHIP_H + 4);
  const mid = rowTop + RH / 2;
  const lost = r.meter ? m.lost.has(r.meter.id) : m.lost.has(inc.id);
  const node = html`<g data-supply-row=${r.key}>
        <line class=${lost ? 'wire lost' : 'wire'} x1=${BUS} y1=${mid} x2=${BUS + 14} y2=${mid} />
        ${feederBox(m, r, rowTop, mid, lost)}
        <line class=${lost ? 'wire lost' : 'wire'} x1=${BUS + 14 + BOX} y1=${mid} x2=${LOADS_X - 2} y2=${mid} />
        ${r.loads.map((d, i) => loadChip(m, d, laid.pos[i]!, widths[i]!, rowTop + 2 + laid.pos[i]!.y, r.squares))}
      </g>`;
  return { node, height: Math.max(RH, laid.height + 4) };
}

/** An incomer's box and bus at top, with its rows drawn (rowsDrawn) down to busEnd. */
function drawIncomer(m: EstateModel, inc: Device, top: number, busEnd: number, named: boolean, rowsDrawn: unknown[]) {
  const head = volts(m, inc);
  return html`<g data-incomer=${inc.id}>
      <a href=${`#/devices/${inc.id}`} data-supply=${inc.id} data-state=${head.lost ? 'lost' : isStale(inc) ? 'stale' : 'live'}>
        <title>${describe(m, inc)}</title>
        <rect class=${`supply incomer ${head.lost ? 'lost' : isStale(inc) ? 'stale' : 'ok'}`} x="0" y=${top} width=${BOX + 24} height=${RH - 2} rx="3" />
        <text class="supply-text" x="6" y=${top + RH / 2 + 3}>${t('estIncomer')}${named ? ` ${fit(idTail(inc), 70)}` : ''}</text>
        <text class="supply-text value" x=${BOX + 18} y=${top + RH / 2 + 3} text-anchor="end">${head.text}</text>
      </a>
      ${head.lost && html`<text class="lost-reason" x=${BOX + 32} y=${top + RH / 2 + 3}>${fit(`${t('estNoSupply')}: ${tx(m.lost.get(inc.id)!.why)}`, WIDTH - BOX - 36)}</text>`}
      <line class=${head.lost ? 'wire lost' : 'wire'} x1=${BUS} y1=${top + RH - 2} x2=${BUS} y2=${busEnd} />
      ${rowsDrawn}
    </g>`;
}

export function PowerLine({ m, building }: { m: EstateModel; building: string }) {
  const mine = [...m.devices.values()].filter((d) => d.place.building === building);
  const fedBy = (id: string) => mine.filter((d) => m.topo.get(d.id)?.supplies[0] === id);
  const incomers = mine.filter((d) => m.topo.get(d.id)?.circuit === 'incomer');
  if (!incomers.length) return null;

  let y = 4;
  const drawn = incomers.map((inc) => {
    const rows = supplyRows(inc, fedBy);
    const top = y;
    y += RH;
    const rowsDrawn = rows.map((r) => {
      const row = drawRow(m, inc, r, y);
      y += row.height;
      return row.node;
    });
    return drawIncomer(m, inc, top, y - RH / 2, incomers.length > 1, rowsDrawn);
  });
  return html`<svg class="power-line" viewBox=${`0 0 ${WIDTH} ${y + 2}`} data-power=${building} role="img" aria-label=${t('estPowerLine')}>${drawn}</svg>`;
}
