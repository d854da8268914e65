// The one time-zone helper: the site's wall clock for an instant, and the instant of a wall
// time. Night windows, daily totals, reports, shift handovers, printed incident times and the
// dashboard's times all go through it, so they agree on what "02:00 at the site" means. Intl
// only, which is deterministic for an instant and a zone: no clock is read here. Pure and
// browser-safe (no imports), so the dashboard uses it too.

/** Local wall-clock fields of an instant. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at `ts` (epoch ms). */
export function wallTime(ts: number, timeZone: string): WallTime {
  const out: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(new Date(ts))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out as unknown as WallTime;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Offset of the zone from UTC at `ts`, ms (Asia/Shanghai: +8 h). */
function offsetAt(ts: number, timeZone: string): number {
  const f = wallTime(ts, timeZone);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - Math.floor(ts / 1000) * 1000;
}

/** The instant (epoch ms) a wall clock in `timeZone` shows the given fields (month 1–12). */
export function instantOf(w: Omit<WallTime, 'second'> & { second?: number }, timeZone: string): number {
  const wall = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0);
  // Two rounds settle a guess made across a daylight-saving change.
  let ts = wall - offsetAt(wall, timeZone);
  ts = wall - offsetAt(ts, timeZone);
  return ts;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant of local `hour`:00 on `date` (YYYY-MM-DD) in `timeZone` (epoch ms). */
export function localTime(date: string, hour: number, timeZone: string): number {
  const m = DATE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return instantOf({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour, minute: 0 }, timeZone);
}

export function localMidnight(date: string, timeZone: string): number {
  return localTime(date, 0, timeZone);
}

/** Local date of an instant, YYYY-MM-DD. */
export function localDate(ts: number, timeZone: string): string {
  const f = wallTime(ts, timeZone);
  return `${f.year}-${pad(f.month)}-${pad(f.day)}`;
}

/** `YYYY-MM-DD HH:mm`, local: how a duty engineer reads a time on paper (with `:ss` when asked). */
export function localStamp(ts: number, timeZone: string, opts: { seconds?: boolean } = {}): string {
  const f = wallTime(ts, timeZone);
  const stamp = `${f.year}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}`;
  return opts.seconds ? `${stamp}:${pad(f.second)}` : stamp;
}

const MEMO_LIMIT = 20_000;
const MINUTE = 60_000;
/** Liberia, the last zone with an offset in seconds, moved to UTC on 1972-05-01. */
const WHOLE_MINUTE_OFFSETS = Date.UTC(1972, 4, 1);

/**
 * Local date and hour in one zone, remembered: the rules ask about the same few hundred hour
 * starts over and over.
 */
export class LocalTime {
  private readonly memo = new Map<number, { date: string; hour: number }>();

  constructor(readonly timeZone: string) {}

  parts(ts: number): { date: string; hour: number } {
    // By the minute: since 1972 every zone's offset is whole minutes and changes on a whole
    // minute, so the instants of one UTC minute share their local date and hour. The rules ask
    // about "now" at every check, a new millisecond each time.
    const key = ts >= WHOLE_MINUTE_OFFSETS ? ts - (((ts % MINUTE) + MINUTE) % MINUTE) : ts;
    const known = this.memo.get(key);
    if (known) return known;
    const f = wallTime(key, this.timeZone);
    const parts = { date: `${f.year}-${pad(f.month)}-${pad(f.day)}`, hour: f.hour };
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(key, parts);
    return parts;
  }
}
