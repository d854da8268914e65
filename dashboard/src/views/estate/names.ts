import { t, tx, time, type Word } from '../../i18n.js';
import type { Device } from '../../types.js';
import { deviceState, isStale, lossOf, type CellState, type EstateModel } from './model.js';

// What the picture calls things, in the chosen language: short labels that fit a cell, and
// the longer line a tooltip gives (state, live value or why there is none).

export const STATE_WORD: Record<CellState, Word> = {
  alarm: 'estAlarm',
  nopower: 'estNopower',
  offline: 'estOffline',
  inhibited: 'estInhibited',
  vacant: 'estVacant',
  normal: 'estNormal',
};

const KIND = new Set(['water_meter', 'electricity_meter', 'leak_sensor', 'pump', 'boiler', 'level_sensor', 'lift']);

/** One or two characters for a device drawn as a small square. */
export function glyphLetter(d: Device): string {
  return KIND.has(d.kind) ? t(`estGlyph_${d.kind}` as Word) : d.kind.slice(0, 1).toUpperCase();
}

export function kindWord(d: Device): string {
  return KIND.has(d.kind) ? t(`estKind_${d.kind}` as Word) : d.kind;
}

/** A unit's number as its door shows it: t1-0201 → 0201, c3-s101 → S101. */
export function unitLabel(building: string, unit: string): string {
  return (unit.startsWith(`${building}-`) ? unit.slice(building.length + 1) : unit).toUpperCase();
}

/** A device's id without its building's prefix (t1-lift-circuit → lift-circuit): what the equipment's label says. */
export function idTail(d: Device): string {
  const b = `${d.place.building}-`;
  return d.id.startsWith(b) ? d.id.slice(b.length) : d.id;
}

/** The name a load gets on the single-line: its own name, its role, or its id on the equipment. */
export function loadLabel(m: EstateModel, d: Device): string {
  if (d.name !== undefined) return tx(d.name);
  const role = m.topo.get(d.id)?.role;
  if (d.kind === 'pump' && role) return `${t(`estRole_${role}` as Word)} ${d.place.floor ?? ''}`.trim();
  if (d.kind === 'boiler') return `${kindWord(d)} ${/-(\d+)$/.exec(d.id)?.[1] ?? '1'}`;
  if (d.kind === 'lift') {
    const room = m.site.buildings.find((b) => b.id === d.place.building)?.rooms.find((r) => r.id === d.place.room);
    if (room?.name !== undefined) return tx(room.name);
  }
  return idTail(d);
}

/** Approximate drawn width of a label at 11px: CJK characters are about twice as wide. */
export function textWidth(s: string, px = 11): number {
  let w = 0;
  for (const ch of s) w += ch.codePointAt(0)! > 0x2e80 ? px : px * 0.6;
  return w;
}

/** Cut a label to fit `width` at `px`. */
export function fit(s: string, width: number, px = 11): string {
  if (textWidth(s, px) <= width) return s;
  let out = '';
  for (const ch of s) {
    if (textWidth(`${out}${ch}…`, px) > width) break;
    out += ch;
  }
  return out ? `${out}…` : '';
}

/** The tooltip of a device: what it is, its state and why (no supply from where, stale since when). */
export function describe(m: EstateModel, d: Device): string {
  const state = deviceState(m, d.id);
  const parts = [`${kindWord(d)} ${d.id}`, t(STATE_WORD[state])];
  const loss = lossOf(m, d.id);
  if (loss) parts.push(`${t('estNoSupply')}: ${loss.root} — ${tx(loss.why)}`);
  for (const a of m.alarms.get(d.id) ?? []) parts.push(tx(m.kinds[a.kind]?.title ?? a.kind));
  if (isStale(d)) parts.push(d.lastSeen ? `${t('estStale')} (${time(d.lastSeen)})` : t('estStale'));
  return parts.join(' · ');
}
