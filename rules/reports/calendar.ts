// Calendar arithmetic on dates (YYYY-MM-DD) for reports. Days and nights are the site's, not
// UTC's (a night window 02:00–05:00 in Asia/Shanghai is 18:00–21:00 UTC the day before): the
// zone conversions are ../local-time.ts's, re-exported here for the reports that use both.

export { localDate, localMidnight, localStamp, localTime } from '../local-time.js';

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
