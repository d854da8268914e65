import { html } from '../../html.js';
import { t } from '../../i18n.js';
import type { Device } from '../../types.js';
import { deviceState, live, type EstateModel } from './model.js';
import { describe, glyphLetter } from './names.js';

// One device drawn small inside a cell of the section, as a link to its page. Pumps show
// running or faulted, a sump pit's level sensor shows the level; both only from live values.

export const GLYPH = 18;

/** The drawn width of a device's glyph (a pit level takes room for its percentage). */
export function glyphWidth(d: Device): number {
  return d.kind === 'level_sensor' ? 40 : GLYPH;
}

export function Glyph({ m, d, x, y }: { m: EstateModel; d: Device; x: number; y: number }) {
  const state = deviceState(m, d.id);
  const tip = describe(m, d);
  let body;
  if (d.kind === 'pump') body = pump(d, state);
  else if (d.kind === 'level_sensor') body = pit(d, state);
  else
    body = html`<rect class=${`glyph st-${state}`} width=${GLYPH} height=${GLYPH} rx="3" /><text class="glyph-text" x=${GLYPH / 2} y=${GLYPH / 2 + 4} text-anchor="middle">${glyphLetter(d)}</text>`;
  const plant = d.kind === 'pump' || d.kind === 'level_sensor' || d.kind === 'boiler' ? d.id : undefined;
  return html`<a href=${`#/devices/${d.id}`} data-device=${d.id} data-plant=${plant} data-state=${state} transform=${`translate(${x} ${y})`}><title>${tip}</title>${body}</a>`;
}

/** A pump: ▶ running, ■ stopped, ! faulted; grey and ? when its state is not live. */
function pump(d: Device, state: string) {
  const running = live(d, 'running');
  const fault = live(d, 'fault');
  const r = GLYPH / 2;
  const cls =
    fault === true ? 'pump-fault' : running === true ? 'pump-run' : running === false ? 'pump-stop' : `st-${state}`;
  const mark =
    fault === true
      ? html`<text class="glyph-text" x=${r} y=${r + 4} text-anchor="middle">!</text>`
      : running === true
        ? html`<path class="pump-mark" d=${`M${r - 3} ${r - 5} L${r + 5} ${r} L${r - 3} ${r + 5} Z`} />`
        : running === false
          ? html`<rect class="pump-mark" x=${r - 3.5} y=${r - 3.5} width="7" height="7" />`
          : html`<text class="glyph-text" x=${r} y=${r + 4} text-anchor="middle">?</text>`;
  const status = fault === true ? 'fault' : running === true ? 'running' : running === false ? 'stopped' : 'unknown';
  return html`<g data-pump=${status}><circle class=${`glyph ${cls}`} cx=${r} cy=${r} r=${r} />${mark}</g>`;
}

/** A sump pit: the water level as a filled column and its percentage; high float in red. */
function pit(d: Device, state: string) {
  const level = live(d, 'level_pct');
  const high = live(d, 'high_float');
  const pct = typeof level === 'number' ? Math.max(0, Math.min(100, level)) : high === true ? 100 : undefined;
  const h = GLYPH + 4;
  const fill = pct === undefined ? 0 : (pct / 100) * (h - 2);
  const label =
    typeof level === 'number'
      ? `${Math.round(level)}%`
      : high === true
        ? t('estHighFloat')
        : high === false
          ? '<80%'
          : '?';
  const alarmy = high === true || (typeof level === 'number' && level >= 80);
  return html`<g data-level=${pct ?? ''}>
    <rect class=${`pit st-${state}`} x="0" y="-2" width="12" height=${h} />
    <rect class=${alarmy ? 'pit-water high' : 'pit-water'} x="1" y=${h - 3 - fill} width="10" height=${fill} />
    <text class="glyph-text dark" x="15" y=${GLYPH / 2 + 4}>${label}</text>
  </g>`;
}
