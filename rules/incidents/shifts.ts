import { z } from 'zod';
import { addDays, localDate, localTime } from '../reports/calendar.js';

// The duty rota (S003 §4.8–4.9: the day shift hands over to the night shift and back, with
// a handover of half an hour at 08:30–09:00 and 18:00–18:30). The site file names the rota;
// this is the default. Which shift an instant falls in is computed in the site's time zone,
// from the instant alone: no clock is read here.

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM');
const text = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });

export const shiftSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
  name: text,
  /** Local time the shift begins (and its handover window opens). */
  start: hhmm,
  /** Local time it ends: the next shift's start. Before `start` means the next day. */
  end: hhmm,
  /** Minutes from `start` in which the outgoing and incoming person hand over. */
  handover_min: z.number().int().min(0).max(120).default(30),
});
export type ShiftDef = z.infer<typeof shiftSchema>;

const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
const length = (s: ShiftDef) => (minutes(s.end) - minutes(s.start) + 1440) % 1440 || 1440;

/** Shifts in order, each ending where the next begins, covering the day once. */
export const rotaSchema = z
  .array(shiftSchema)
  .min(1)
  .superRefine((rota, ctx) => {
    const ids = new Set<string>();
    rota.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate shift "${s.id}"` });
      ids.add(s.id);
      const next = rota[(i + 1) % rota.length]!;
      if (s.end !== next.start)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'end'],
          message: `shift "${s.id}" ends at ${s.end} but the next one ("${next.id}") starts at ${next.start}: the rota must leave no gap`,
        });
      if (s.handover_min >= length(s))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'handover_min'],
          message: `the handover of shift "${s.id}" is longer than the shift`,
        });
    });
    const total = rota.reduce((n, s) => n + length(s), 0);
    if (total !== 1440)
      ctx.addIssue({ code: 'custom', path: [], message: `the shifts cover ${Math.round(total / 6) / 10} h, not 24 h` });
  });

export const DEFAULT_ROTA: ShiftDef[] = [
  { id: 'day', name: { zh: '白班', en: 'Day shift' }, start: '08:30', end: '18:00', handover_min: 30 },
  { id: 'night', name: { zh: '夜班', en: 'Night shift' }, start: '18:00', end: '08:30', handover_min: 30 },
];

export interface Shift {
  id: string;
  name: { zh: string; en: string };
  /** The local date the shift began on. */
  date: string;
  from: number;
  to: number;
  /** Its handover window (the incoming person takes over): from its start. */
  handover: { from: number; to: number };
}

function occurrence(s: ShiftDef, date: string, timeZone: string): Shift {
  const at = (d: string, t: string) => localTime(d, Number(t.slice(0, 2)), timeZone) + Number(t.slice(3, 5)) * 60_000;
  const from = at(date, s.start);
  const to = at(minutes(s.end) > minutes(s.start) ? date : addDays(date, 1), s.end);
  return { id: s.id, name: s.name, date, from, to, handover: { from, to: from + s.handover_min * 60_000 } };
}

/** The shift `ts` falls in. */
export function shiftAt(rota: readonly ShiftDef[], ts: number, timeZone: string): Shift {
  const today = localDate(ts, timeZone);
  for (const date of [today, addDays(today, -1)])
    for (const s of rota) {
      const o = occurrence(s, date, timeZone);
      if (o.from <= ts && ts < o.to) return o;
    }
  // A validated rota covers every minute of the day; a daylight-saving gap may leave an hour unowned.
  return occurrence(rota[0]!, today, timeZone);
}

/** The shift before `shift`. */
export function shiftBefore(rota: readonly ShiftDef[], shift: Shift, timeZone: string): Shift {
  return shiftAt(rota, shift.from - 1, timeZone);
}
