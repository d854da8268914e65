import { wallTime } from '../local-time.js';

// Times on the bus: ISO-8601 with the site's UTC offset (`2026-12-02T23:51:07.120+08:00`),
// so a consumer in another zone reads the same instant, and a person reads the site's wall
// clock. Pure: the instant comes in.

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

export function isoAt(ts: number, timeZone: string): string {
  const w = wallTime(ts, timeZone);
  const ms = ((ts % 1000) + 1000) % 1000;
  const offsetMin = Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (ts - ms)) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${pad(ms, 3)}${zone}`;
}
