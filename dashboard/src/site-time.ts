import { siteZone } from './i18n.js';

// Times people type are the site's wall clock, 24-hour ("2026-12-02 18:05"), whatever the
// browser's zone or locale (a phone set to 12-hour English shows the same). Converted with
// Intl only: the zone's offset at that wall time, settled twice across a daylight-saving change.

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/;

function parts(ms: number): number[] {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: siteZone(),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return [p.year!, p.month!, p.day!, p.hour!, p.minute!];
}

/** `YYYY-MM-DD HH:mm` at the site. */
export function siteStamp(ms: number): string {
  const [y, mo, d, h, mi] = parts(ms).map((n) => String(n).padStart(2, '0'));
  return `${y}-${mo}-${d} ${h}:${mi}`;
}

/** The instant (ISO 8601) of a site wall time, or null when it is not one. */
export function fromSiteStamp(s: string): string | null {
  const m = STAMP.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const offset = (ts: number) => {
    const [py, pmo, pd, ph, pmi] = parts(ts);
    return Date.UTC(py!, pmo! - 1, pd!, ph!, pmi!) - Math.floor(ts / 60_000) * 60_000;
  };
  let ts = wall - offset(wall);
  ts = wall - offset(ts);
  return new Date(ts).toISOString();
}
