// Local calendar arithmetic for reports: days and nights are the site's, not UTC's
// (a night window 02:00–05:00 in Asia/Shanghai is 18:00–21:00 UTC the day before). Only
// Intl is used, which is deterministic for an instant and a zone; no clock is read.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** The calendar date `n` days after `date` (negative: before). */
export function addDays(date: string, n: number): string {
  const m = DATE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n)).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
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

function fields(ts: number, timeZone: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(new Date(ts))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** Offset of the zone from UTC at `ts`, ms (Asia/Shanghai: +8 h). */
function offsetAt(ts: number, timeZone: string): number {
  const f = fields(ts, timeZone);
  return Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!) - Math.floor(ts / 1000) * 1000;
}

/** The instant of local `hour`:00 on `date` in `timeZone` (epoch ms). */
export function localTime(date: string, hour: number, timeZone: string): number {
  const m = DATE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour);
  // Two rounds settle a guess made across a daylight-saving change.
  let ts = wall - offsetAt(wall, timeZone);
  ts = wall - offsetAt(ts, timeZone);
  return ts;
}

export function localMidnight(date: string, timeZone: string): number {
  return localTime(date, 0, timeZone);
}

/** Local date of an instant. */
export function localDate(ts: number, timeZone: string): string {
  const f = fields(ts, timeZone);
  return `${f.year}-${String(f.month).padStart(2, '0')}-${String(f.day).padStart(2, '0')}`;
}

/** `YYYY-MM-DD HH:mm`, local: how a duty engineer reads a time on paper. */
export function localStamp(ts: number, timeZone: string): string {
  const f = fields(ts, timeZone);
  const p = (n: number | undefined) => String(n).padStart(2, '0');
  return `${f.year}-${p(f.month)}-${p(f.day)} ${p(f.hour)}:${p(f.minute)}`;
}
