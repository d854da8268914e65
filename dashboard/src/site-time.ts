import { instantOf, localStamp } from '../../rules/local-time.js';
import { siteZone } from './i18n.js';

// Times people type are the site's wall clock, 24-hour ("2026-12-02 18:05"), whatever the
// browser's zone or locale (a phone set to 12-hour English shows the same). The conversions
// are the server's own (rules/local-time.ts), so a time typed here is the one a report prints.

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/;

/** `YYYY-MM-DD HH:mm` at the site. */
export function siteStamp(ms: number): string {
  return localStamp(ms, siteZone());
}

/** The instant (ISO 8601) of a site wall time, or null when it is not one. */
export function fromSiteStamp(s: string): string | null {
  const m = STAMP.exec(s.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return new Date(instantOf({ year, month, day, hour, minute }, siteZone())).toISOString();
}
