import { html } from '../../html.js';
import { t, time, type Word } from '../../i18n.js';
import type { Device } from '../../types.js';
import { deviceState, isStale, type EstateModel } from './model.js';
import { describe, idTail } from './names.js';

// A lift as its shaft: the floors it serves, the car at its floor (between two floors when
// it stopped out of the door zone), its direction, its doors, someone inside, a mode other
// than normal above the shaft. A car whose terminal is not live is drawn as a dashed ghost
// at its last known floor, never as a live position.

export const SHAFT = 30;

export interface Rows {
  /** Top of a floor's row by its level (B2 = -2), undefined when the building has no such floor. */
  y(level: number): number | undefined;
  height: number;
  top: number;
  bottom: number;
}

/** A lift's letter over its shaft: t1-lift-a → A; a lone "lift" gets its place in the row. */
function letter(d: Device, index: number): string {
  const tail = idTail(d).split('-').pop() ?? '';
  return tail.length <= 2 ? tail.toUpperCase() : String(index + 1);
}

export function LiftShaft({
  m,
  d,
  x,
  rows,
  index,
}: {
  m: EstateModel;
  d: Device;
  x: number;
  rows: Rows;
  index: number;
}) {
  const state = deviceState(m, d.id);
  const stale = isStale(d);
  const f = d.lastReading?.fields ?? {};
  const range = m.topo.get(d.id)?.floorRange;
  const top = (range && rows.y(range.highest)) ?? rows.top;
  const bottomRow = range && rows.y(range.lowest);
  const bottom = bottomRow !== undefined ? bottomRow + rows.height : rows.bottom;
  const floor = typeof f.floor === 'number' ? f.floor : undefined;
  const rowY = floor !== undefined ? rows.y(floor) : undefined;
  const notLevel = f.in_door_zone === false && f.direction !== 'up' && f.direction !== 'down';
  const h = rows.height - 6;
  const w = SHAFT - 8;
  const carY = rowY === undefined ? undefined : Math.min(bottom - h - 1, rowY + 3 + (notLevel ? rows.height / 2 : 0));
  const mode = typeof f.mode === 'string' && f.mode !== 'normal' ? f.mode : undefined;
  const door = f.door === 'open' ? 10 : f.door === 'opening' || f.door === 'closing' ? 5 : 0;
  const cx = x + SHAFT / 2;
  const lines = [describe(m, d)];
  if (floor !== undefined) lines.push(`${floor} ${t('estFloor')}${notLevel ? ` (${t('estNotLevel')})` : ''}`);
  if (f.direction === 'up' || f.direction === 'down') lines.push(t(f.direction === 'up' ? 'estUp' : 'estDown'));
  lines.push(t(f.door === 'open' ? 'estDoorOpen' : f.door === 'closed' ? 'estDoorClosed' : 'estDoorMoving'));
  lines.push(t(f.occupied === true ? 'estOccupied' : 'estEmpty'));
  if (mode) lines.push(t(`estMode_${mode}` as Word));
  if (stale && d.lastReading) lines.push(time(d.lastReading.ts));

  return html`<a href=${`#/devices/${d.id}`} data-lift=${d.id} data-state=${state} data-stale=${stale ? 'yes' : 'no'}>
    <title>${lines.join(' · ')}</title>
    <text class="shaft-label" x=${cx} y=${rows.top - 18} text-anchor="middle">${letter(d, index)}</text>
    ${mode && html`<text class="shaft-mode" x=${cx} y=${rows.top - 6} text-anchor="middle" data-mode=${mode}>${t(`estMode_${mode}` as Word)}</text>`}
    <rect class=${`shaft st-${state === 'nopower' ? 'nopower' : 'shaft'}`} x=${x} y=${top} width=${SHAFT} height=${bottom - top} />
    ${
      carY !== undefined &&
      html`<g class=${`car st-${stale ? 'ghost' : state}`} data-car-floor=${floor} data-level=${notLevel ? 'no' : 'yes'} data-door=${String(f.door ?? '')} data-occupied=${f.occupied === true ? 'yes' : 'no'}>
      <rect class="car-body" x=${x + 4} y=${carY} width=${w} height=${h} rx="2" />
      ${
        stale
          ? html`<text class="glyph-text dark" x=${cx} y=${carY + h / 2 + 4} text-anchor="middle">?</text>`
          : html`
          ${door ? html`<rect class="car-door-gap" x=${cx - door / 2} y=${carY + 2} width=${door} height=${h - 4} />` : html`<line class="car-door" x1=${cx} y1=${carY + 2} x2=${cx} y2=${carY + h - 2} />`}
          ${f.occupied === true && html`<g class="car-person"><circle cx=${cx} cy=${carY + 6} r="3" /><rect x=${cx - 3} y=${carY + 10} width="6" height=${h - 12} rx="2" /></g>`}
          ${f.direction === 'up' && html`<path class="car-dir" d=${`M${cx - 6} ${carY - 2} L${cx} ${carY - 9} L${cx + 6} ${carY - 2} Z`} />`}
          ${f.direction === 'down' && html`<path class="car-dir" d=${`M${cx - 6} ${carY + h + 2} L${cx} ${carY + h + 9} L${cx + 6} ${carY + h + 2} Z`} />`}`
      }
    </g>`
    }
  </a>`;
}
