import { html } from '../../html.js';
import { t, tx, type Word } from '../../i18n.js';
import type { Device, Site } from '../../types.js';
import { Glyph, glyphWidth } from './glyph.js';
import { LiftShaft, SHAFT, type Rows } from './lift.js';
import { cellState, placed, type EstateModel } from './model.js';
import { fit, STATE_WORD, unitLabel } from './names.js';

// A building in section: one row per floor, top floor first (B2 … 18, as the site names
// them); on each floor its flats or shops, and its plant rooms (pumps, sump pits, switch and
// boiler rooms), each a cell coloured by the worst state of the devices in it; the lift
// shafts across the floors they serve.

export const WIDTH = 600;
export const ROW = 34;
const TOP = 34;
const LABEL = 34;
const GAP = 4;
const SHAFT_GAP = 6;

type Building = Site['buildings'][number];

interface Cell {
  key: string;
  kind: 'unit' | 'room';
  label: string;
  title: string;
  devices: Device[];
  vacant: boolean;
}

/** What sits on one floor: units, then plant rooms; the lift pits of a floor share one cell. */
function cellsOf(b: Building, floor: string, where: ReturnType<typeof placed>, lifts: Set<string>): Cell[] {
  const cells: Cell[] = [];
  for (const u of b.units.filter((x) => x.floor === floor)) {
    const label = unitLabel(b.id, u.id);
    cells.push({
      key: u.id,
      kind: 'unit',
      label,
      title: u.name !== undefined ? `${label} ${tx(u.name)}` : label,
      devices: where.byUnit.get(u.id) ?? [],
      vacant: u.vacant === true,
    });
  }
  const pits: Device[] = [];
  for (const r of b.rooms.filter((x) => x.floor === floor)) {
    const devices = where.byRoom.get(r.id) ?? [];
    if (r.type === 'lift_shaft') {
      // The car is drawn in its shaft; what else is in a shaft room (pit leak sensors) goes to the pits cell.
      pits.push(...devices.filter((d) => !lifts.has(d.id)));
      continue;
    }
    if (!devices.length) continue;
    const word =
      `estRoom_${['pump_room', 'sump_pit', 'switch_room', 'boiler_room'].includes(r.type) ? r.type : 'other'}` as Word;
    cells.push({
      key: r.id,
      kind: 'room',
      label: t(word),
      title: r.name !== undefined ? tx(r.name) : r.id,
      devices,
      vacant: false,
    });
  }
  const loose = where.byFloor.get(floor) ?? [];
  if (loose.length)
    cells.push({
      key: `${b.id}-floor-${floor}`,
      kind: 'room',
      label: t('estRoom_other'),
      title: `${floor} ${t('estRoom_other')}`,
      devices: loose,
      vacant: false,
    });
  if (pits.length)
    cells.push({
      key: `${b.id}-lift-pits-${floor}`,
      kind: 'room',
      label: t('estLiftPits'),
      title: t('estLiftPits'),
      devices: pits,
      vacant: false,
    });
  return cells;
}

/** How tall a building's section is drawn (the page sizes the columns by it). */
export function sectionHeight(b: Building): number {
  return TOP + b.floors.length * ROW + 4;
}

export function Section({ m, b }: { m: EstateModel; b: Building }) {
  const where = placed(m, b.id);
  const lifts = where.all.filter((d) => d.kind === 'lift').sort((x, y) => x.id.localeCompare(y.id));
  const liftIds = new Set(lifts.map((d) => d.id));
  const floors = [...b.floors].sort((x, y) => y.level - x.level);
  const byLevel = new Map(floors.map((f, i) => [f.level, TOP + i * ROW]));
  const rows: Rows = { y: (level) => byLevel.get(level), height: ROW, top: TOP, bottom: TOP + floors.length * ROW };
  // Shafts next to the floor numbers, flats to their right: on a phone that scrolls sideways
  // the lifts (where people get trapped) stay in view.
  const shaftsX = LABEL + GAP;
  const x0 = shaftsX + lifts.length * (SHAFT + SHAFT_GAP);
  const areaW = WIDTH - 2 - x0;
  const height = sectionHeight(b);

  return html`<svg class="section" viewBox=${`0 0 ${WIDTH} ${height}`} data-section=${b.id} role="img" aria-label=${tx(b.name)}>
    ${floors.map((f, i) => {
      const y = TOP + i * ROW;
      const cells = cellsOf(b, f.id, where, liftIds);
      // Each cell gets its glyphs' width plus an equal share of what is left for its words:
      // a plant room with five devices is not squeezed to the width of a flat with two.
      const glyphs = cells.map((c) => glyphsWidth(c.devices));
      const spare = cells.length
        ? (areaW - GAP * (cells.length - 1) - glyphs.reduce((a, g) => a + g, 0)) / cells.length
        : 0;
      let cx = x0;
      return html`<g data-floor-row=${f.id} data-level=${f.level}>
        <rect class=${f.level < 0 ? 'floor-band basement' : 'floor-band'} x="0" y=${y} width=${WIDTH} height=${ROW} />
        <text class="floor-label" x=${LABEL - 4} y=${y + ROW / 2 + 4} text-anchor="end">${f.id}</text>
        ${cells.map((c, j) => {
          const w = glyphs[j]! + spare;
          const cell = CellView({ m, c, x: cx, y: y + 2, w, h: ROW - 4 });
          cx += w + GAP;
          return cell;
        })}
      </g>`;
    })}
    ${lifts.map((d, i) => html`<${LiftShaft} m=${m} d=${d} x=${shaftsX + i * (SHAFT + SHAFT_GAP)} rows=${rows} index=${i} />`)}
  </svg>`;
}

function glyphsWidth(devices: Device[]): number {
  return devices.reduce((s, d) => s + glyphWidth(d) + 3, 0);
}

function CellView({ m, c, x, y, w, h }: { m: EstateModel; c: Cell; x: number; y: number; w: number; h: number }) {
  const ids = c.devices.map((d) => d.id);
  const state = cellState(m, ids, c.vacant);
  // Glyphs from the right edge; the label gets what is left, with the state in words when it is not normal.
  const glyphsW = glyphsWidth(c.devices);
  const room = w - glyphsW - 8;
  const words = state === 'normal' ? c.label : `${c.label} ${t(STATE_WORD[state])}`;
  let gx = x + w - glyphsW - 2;
  return html`<g data-unit=${c.kind === 'unit' ? c.key : undefined} data-room=${c.kind === 'room' ? c.key : undefined} data-state=${state}>
    <rect class=${`cell st-${state}`} x=${x} y=${y} width=${w} height=${h} rx="3"><title>${`${c.title} · ${t(STATE_WORD[state])}`}</title></rect>
    <text class="cell-label" x=${x + 5} y=${y + h / 2 + 4}>${fit(words, room)}</text>
    ${c.devices.map((d) => {
      const g = html`<${Glyph} m=${m} d=${d} x=${gx} y=${y + (h - 18) / 2} />`;
      gx += glyphWidth(d) + 3;
      return g;
    })}
  </g>`;
}
